"""What the engine does beyond a bare loop of Keras's training steps.

One network of issue 22's grid (breast_cancer's 283 rows of a fold, (32,) with
dropout 0.1 and alpha 1e-4, Adam, 50 epochs, batch 32, no early stopping, no
validation).  Timed interleaved, medians of ``--repeats``:

* ``fit_model``: the engine's whole fit (data to tensors, worker check-out,
  weights and optimizer state copied in and out, the compiled run, history);
* ``worker.run``: the compiled run alone (shuffling, minibatch gathers, loss
  bookkeeping in float64, the per-epoch finiteness check);
* ``bare loop``: the same Keras step (model call, compiled loss, gradients,
  ``apply_gradients``) on the same worker, contiguous minibatches, nothing else;
* ``load + unload``: the copies in and out of the cached worker.

    python benchmarks/bench_step.py
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from _bare_loop import minibatch_loop  # noqa: E402

EPOCHS, BATCH = 50, 32


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)

    import skdense
    from skdense._backend import load_tf
    from skdense._training import cache, engine

    tf = load_tf()
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)[:283]
    y = y[:283]
    est = skdense.DenseClassifier((32,), alpha=1e-4, epochs=EPOCHS, batch_size=BATCH,
                                  early_stopping=False, n_ensemble=1, random_state=0)
    cache.clear_cache()
    est.fit(X, y)  # traces the worker
    user = est.model_
    (pool,) = cache._WORKERS.values()
    worker = pool.idle[0]
    yf = y.astype(np.float32)[:, None]
    data = engine._engine_data(tf, X, yf, None, None, np.float32)
    i64 = lambda v: tf.constant(v, tf.int64)  # noqa: E731
    loop = engine.LoopArgs(i64(BATCH), i64(0), i64(EPOCHS), i64(0), tf.constant(True),
                           tf.constant(False))
    stop = engine.StopArgs(i64(0), tf.constant(0.0, tf.float64), tf.constant(False))
    variant = engine.Variant(stop_rule=False, validate=False)

    m = worker.model
    opt, tvars = m.optimizer, m.trainable_variables
    compute_loss = getattr(m, "_compute_loss", m.compute_loss)

    def bare(x, yy, w):
        def step(lo, hi):
            xb, yb, wb = x[lo:hi], yy[lo:hi], w[lo:hi]
            with tf.GradientTape() as tape:
                pred = m(xb, training=True)
                loss = compute_loss(x=xb, y=yb, y_pred=pred, sample_weight=wb, training=True)
            opt.apply_gradients(zip(tape.gradient(loss, tvars), tvars))

        return minibatch_loop(tf, tf.shape(x)[0], EPOCHS, BATCH, step)

    bare_fn = tf.function(bare, autograph=False)
    bare_fn(data.x, data.y, data.w)
    from skdense._training import TrainingRun, fit_model

    run = TrainingRun(epochs=EPOCHS, batch_size=BATCH, stop=None, seed=0)
    user_vars = list(user.trainable_variables) + list(user.non_trainable_variables)

    def copies():
        worker.load(user_vars, user.optimizer.variables)
        worker.unload(user_vars, user.optimizer.variables)

    pool.idle.clear()  # fit_model below makes and uses its own worker
    cases = {
        "fit_model": lambda: fit_model(user, X, yf, run),
        "worker.run": lambda: worker.run(variant, data, loop, stop)[2].numpy(),
        "bare loop": lambda: bare_fn(data.x, data.y, data.w),
        "load + unload": copies,
    }
    for fn in cases.values():
        fn()
    times = {k: [] for k in cases}
    for _ in range(args.repeats):
        for name, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"load {os.getloadavg()[0]:.2f}; medians of {args.repeats}, interleaved")
    for name, t in med.items():
        print(f"  {name:<14} {t * 1e3:8.2f} ms")
    print(f"  worker.run / bare loop: {med['worker.run'] / med['bare loop']:.3f}; "
          f"fit_model - worker.run: {(med['fit_model'] - med['worker.run']) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
