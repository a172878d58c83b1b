"""Cost of an efficient ensemble (skdense._ensemble) against the plain MLP, per epoch.

The prototype for issue 11: what do k members trained in one Keras model cost
next to the single network skdense trains today?  Same data (3,000 x 20,
make_classification), same batch size (64), plain ``model.fit``; the first
epoch (tracing) is left out and the median of the others is reported, as wall
and CPU seconds (``time.process_time``: every thread of the process).

Run::

    OMP_NUM_THREADS=1 python benchmarks/bench_ensemble_proto.py
    OMP_NUM_THREADS=1 python benchmarks/bench_ensemble_proto.py --hidden 256 256 --k 1 8 32

Rows: ``plain`` is ``keras.layers.Dense`` layers as skdense's network builds
them; ``<adapters> k=<k>`` is ``build_ensemble_network`` compiled with
``MemberMeanLoss``.

Measured (OMP_NUM_THREADS=1, 2 cores shared with other jobs, so wall times
were noisy; CPU ms per epoch of 47 steps, and the ratio to ``plain``):

==================  =========  ==========  ==========  ==========
hidden, mode        plain      k=8 mini    k=16 mini   k=32 mini
==================  =========  ==========  ==========  ==========
(100,), model.fit   49         56 (1.14)   64 (1.31)
(100,), in-graph    37 / 34    44 (1.18)   48 (1.28)   67 (1.98)
(256, 256), fit     63         137 (2.19)  217 (3.47)  366 (5.84)
(256, 256), graph   44         103 (2.35)              313 (7.12)
==================  =========  ==========  ==========  ==========

``full`` adapters cost a little more than ``mini`` at (100,): k=8 1.20
(model.fit) / 1.28 (in-graph), k=16 1.39 / 1.31, k=32 1.92 (in-graph).  At
skdense's default width a step is mostly fixed overhead (optimizer updates,
op dispatch), so k members cost far less than k networks; the ratio grows
toward k as the hidden layers widen.
"""

import argparse
import time

import numpy as np


def _timed_fit(model, X, y, epochs, batch_size):
    from skdense._backend import load_keras

    keras = load_keras()
    marks = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = (time.perf_counter(), time.process_time())

        def on_epoch_end(self, epoch, logs=None):
            wall, cpu = self.start
            marks.append((time.perf_counter() - wall, time.process_time() - cpu))

    model.fit(X, y, epochs=epochs + 1, batch_size=batch_size, verbose=0, callbacks=[Clock()])
    wall, cpu = np.median(np.array(marks[1:]), axis=0)  # epoch 0 traces the step
    return wall, cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", nargs="+", type=int, default=[1, 8, 16])
    parser.add_argument("--adapters", nargs="+", default=["mini", "full"])
    parser.add_argument("--hidden", nargs="+", type=int, default=[100])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=8, help="timed epochs (after one untimed)")
    parser.add_argument(
        "--in-graph", action="store_true",
        help="run a whole epoch per compiled call (steps_per_execution), close to skdense's "
             "in-graph engine, which has no per-step Python overhead",
    )
    args = parser.parse_args(argv)

    from sklearn.datasets import make_classification

    from skdense._backend import load_keras
    from skdense._ensemble import MemberMeanLoss, build_ensemble_network

    keras = load_keras()
    X, y = make_classification(n_samples=args.rows, n_features=args.features, random_state=0)
    X, y = X.astype("float32"), y.astype("float32")[:, None]
    hidden = tuple(args.hidden)
    compile_kw = {}
    if args.in_graph:
        compile_kw["steps_per_execution"] = -(-args.rows // args.batch_size)

    rows = []
    inputs = keras.Input(shape=(args.features,))
    h = inputs
    for i, units in enumerate(hidden, start=1):
        h = keras.layers.Dense(units, activation="relu",
                               kernel_initializer=keras.initializers.GlorotUniform(seed=i))(h)
    plain = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
    plain.compile(optimizer="adam", loss="binary_crossentropy", **compile_kw)
    rows.append(("plain", plain.count_params(), *_timed_fit(plain, X, y, args.epochs, args.batch_size)))
    for adapters in args.adapters:
        for k in args.k:
            model = build_ensemble_network(args.features, 1, "sigmoid", hidden, "relu", 0.0, k, 0,
                                           adapters=adapters)
            model.compile(optimizer="adam", loss=MemberMeanLoss("binary_crossentropy"), **compile_kw)
            rows.append((f"{adapters} k={k}", model.count_params(),
                         *_timed_fit(model, X, y, args.epochs, args.batch_size)))

    base_wall, base_cpu = rows[0][2], rows[0][3]
    print(f"{args.rows} x {args.features}, hidden {hidden}, batch {args.batch_size}, "
          f"median of {args.epochs} epochs after the first"
          + (", one compiled call per epoch" if args.in_graph else ""))
    print(f"{'model':12s} {'params':>8s} {'wall ms':>8s} {'cpu ms':>8s} {'wall x':>7s} {'cpu x':>7s}")
    for name, n_params, wall, cpu in rows:
        print(f"{name:12s} {n_params:8d} {1000 * wall:8.1f} {1000 * cpu:8.1f} "
              f"{wall / base_wall:7.2f} {cpu / base_cpu:7.2f}")


if __name__ == "__main__":
    main()
