"""Would a shape-free trace (one per depth, any width) pay?  A measurement in raw TensorFlow.

A trace whose weights are variables of unknown shape (``shape=TensorShape(None)``)
and whose input signature is ``[None, None]`` could serve every width of one
depth, so issue 22's grid would trace 2 functions instead of 4.  This script
trains the same one-hidden-layer MLP (matmul, bias, relu, sigmoid
cross-entropy, L2, Adam written out; 50 epochs of breast_cancer's 283 rows of a
fold, batch 32) from the same initial weights with both kinds of trace, and
prints the time to trace, the first call, the median run, and how far the
trained weights differ.  Interleaved, ``--repeats`` runs each.

    python benchmarks/bench_shape_free.py
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _bare_loop import minibatch_loop  # noqa: E402

EPOCHS, BATCH = 50, 32


def make(tf, initial, shape_free, n_features):
    shape = (lambda v: tf.TensorShape(None)) if shape_free else (lambda v: v.shape)
    W = [tf.Variable(v, shape=shape(v)) for v in initial]
    M = [tf.Variable(np.zeros_like(v), shape=shape(v)) for v in initial]
    V = [tf.Variable(np.zeros_like(v), shape=shape(v)) for v in initial]
    t = tf.Variable(0.0)

    def run(x, y):
        def step(lo, hi):
            xb, yb = x[lo:hi], y[lo:hi]
            with tf.GradientTape() as tape:
                h = tf.nn.relu(tf.matmul(xb, W[0]) + W[1])
                p = tf.clip_by_value(tf.sigmoid(tf.matmul(h, W[2]) + W[3]), 1e-7, 1 - 1e-7)
                loss = -tf.reduce_mean(yb * tf.math.log(p) + (1 - yb) * tf.math.log(1 - p))
                loss += 1e-4 * (tf.reduce_sum(tf.square(W[0])) + tf.reduce_sum(tf.square(W[2])))
            grads = tape.gradient(loss, W)
            t.assign_add(1.0)
            lr = 1e-3 * tf.sqrt(1 - tf.pow(0.999, t)) / (1 - tf.pow(0.9, t))
            for w, m, v, g in zip(W, M, V, grads):
                m.assign_add((g - m) * 0.1)
                v.assign_add((tf.square(g) - v) * 0.001)
                w.assign_sub(m * lr / (tf.sqrt(v) + 1e-7))

        minibatch_loop(tf, tf.shape(x)[0], EPOCHS, BATCH, step)
        return tf.constant(0)

    dims = [None, None] if shape_free else [None, n_features]
    spec = [tf.TensorSpec(dims, tf.float32), tf.TensorSpec([None, None] if shape_free else [None, 1])]
    fn = tf.function(run, input_signature=spec, autograph=False)

    def reset():
        for var, value in zip(W, initial):
            var.assign(value)
        for var in M + V:
            var.assign(tf.zeros_like(var))
        t.assign(0.0)

    return fn, W, reset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--width", type=int, default=32)
    args = parser.parse_args(argv)
    import tensorflow as tf

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)[:283]
    y = y[:283].astype(np.float32)[:, None]
    rng = np.random.default_rng(0)
    h = args.width
    initial = [rng.normal(0, 0.1, (X.shape[1], h)).astype(np.float32), np.zeros(h, np.float32),
               rng.normal(0, 0.1, (h, 1)).astype(np.float32), np.zeros(1, np.float32)]
    kinds = {"fixed shapes": False, "shape-free": True}
    made, stats = {}, {}
    for name, free in kinds.items():
        fn, W, reset = make(tf, initial, free, X.shape[1])
        t0 = time.perf_counter()
        fn.get_concrete_function()
        t_trace = time.perf_counter() - t0
        reset()
        t0 = time.perf_counter()
        fn(X, y)
        stats[name] = {"trace": t_trace, "first": time.perf_counter() - t0, "runs": []}
        made[name] = (fn, W, reset)
    for _ in range(args.repeats):
        for name, (fn, _, reset) in made.items():
            reset()
            t0 = time.perf_counter()
            fn(X, y)
            stats[name]["runs"].append(time.perf_counter() - t0)
    weights = {}
    for name, (fn, W, reset) in made.items():
        reset()
        fn(X, y)
        weights[name] = [w.numpy() for w in W]
    print(f"load {os.getloadavg()[0]:.2f}; width {h}; medians of {args.repeats}, interleaved")
    for name, s in stats.items():
        print(f"  {name:<13} trace {s['trace'] * 1e3:6.0f} ms  first call {s['first'] * 1e3:6.0f} ms  "
              f"run {statistics.median(s['runs']) * 1e3:7.1f} ms")
    a, b = weights["fixed shapes"], weights["shape-free"]
    diff = max(float(np.max(np.abs(u - v))) for u, v in zip(a, b))
    rel = max(float(np.max(np.abs(u - v) / np.maximum(np.abs(v), 1e-3))) for u, v in zip(a, b))
    same = all(np.array_equal(u, v) for u, v in zip(a, b))
    ratio = statistics.median(stats["shape-free"]["runs"]) / statistics.median(stats["fixed shapes"]["runs"])
    print(f"  shape-free / fixed run time {ratio:.2f}x; trained weights identical: {same}, "
          f"max abs difference {diff:.2e}, max relative {rel:.2e}")


if __name__ == "__main__":
    main()
