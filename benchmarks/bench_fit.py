"""Fit and predict time of skdense vs scikit-learn's MLP vs plain scikeras.

Same network (Input -> Dense(32, relu) -> Dense(32, relu) -> output), Adam at
1e-3, same epochs and batch size, no early stopping, standardised features;
every fit is on a fresh (cloned) estimator, as in a grid search.  Reports the
median of ``--repeats`` runs and the ratios, side by side in one process.

    python benchmarks/bench_fit.py            # full table (several minutes)
    python benchmarks/bench_fit.py --quick    # smoke run (small data, 1 repeat)
    python benchmarks/bench_fit.py --memory   # RSS over 500 fits (flat = no leak)
    python benchmarks/bench_fit.py --njobs    # GridSearchCV n_jobs=1 vs 2

The first fit in a process pays for importing TensorFlow and tracing; a warm-up
fit per library runs before timing so the table shows the steady state (the
first-fit cost is printed separately).
"""

import argparse
import gc
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))

import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, ParameterGrid, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

HIDDEN = (32, 32)


# --------------------------------------------------------------------------
# The three estimators, configured alike
# --------------------------------------------------------------------------


def make_skdense(epochs, batch_size):
    import skdense

    return skdense.DenseClassifier(
        hidden_layer_sizes=HIDDEN, epochs=epochs, batch_size=batch_size,
        early_stopping=False, n_ensemble=1, random_state=0,  # one network: equal work
    )


def make_sklearn(epochs, batch_size):
    # n_iter_no_change=epochs and tol=0: run every epoch like the Keras nets.
    return MLPClassifier(
        hidden_layer_sizes=HIDDEN, max_iter=epochs, batch_size=batch_size,
        learning_rate_init=1e-3, early_stopping=False, n_iter_no_change=epochs,
        tol=0.0, random_state=0,
    )


def _scikeras_model(meta, hidden=HIDDEN, learning_rate=1e-3):
    import keras

    n_classes = meta["n_classes_"]
    inputs = keras.Input((meta["n_features_in_"],))
    x = inputs
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, activation="relu",
                               kernel_initializer=keras.initializers.GlorotUniform(seed=i))(x)
    if n_classes == 2:
        out, loss = keras.layers.Dense(1, activation="sigmoid")(x), "binary_crossentropy"
    else:
        out = keras.layers.Dense(n_classes, activation="softmax")(x)
        loss = "sparse_categorical_crossentropy"
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    return model


def make_scikeras(epochs, batch_size):
    from skdense._backend import load_tf

    load_tf()  # same quiet TF set-up as skdense
    from scikeras.wrappers import KerasClassifier

    # No random_state: scikeras would switch on TF op determinism process-wide.
    return KerasClassifier(
        model=_scikeras_model, model__hidden=HIDDEN, model__learning_rate=1e-3,
        epochs=epochs, batch_size=batch_size, verbose=0,
    )


MAKERS = {"skdense": make_skdense, "sklearn MLP": make_sklearn, "scikeras": make_scikeras}

# 8 candidates: two architectures x two learning rates x two batch sizes.
GRIDS = {
    "skdense": {"hidden_layer_sizes": [(32, 32), (64,)], "learning_rate": [1e-3, 3e-3],
                "batch_size": [32, 64]},
    "sklearn MLP": {"hidden_layer_sizes": [(32, 32), (64,)], "learning_rate_init": [1e-3, 3e-3],
                    "batch_size": [32, 64]},
    "scikeras": {"model__hidden": [(32, 32), (64,)], "model__learning_rate": [1e-3, 3e-3],
                 "batch_size": [32, 64]},
}


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def datasets(quick):
    def split(X, y):
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
        scaler = StandardScaler().fit(X_tr)
        return (scaler.transform(X_tr).astype(np.float32), scaler.transform(X_te).astype(np.float32),
                y_tr, y_te)

    out = {
        "breast_cancer": (split(*load_breast_cancer(return_X_y=True)), 50, 32),
        "digits": (split(*load_digits(return_X_y=True)), 50, 32),
    }
    n = 5_000 if quick else 100_000
    X, y = make_classification(n_samples=n, n_features=50, n_informative=20, random_state=0)
    out[f"make_classification {n // 1000}k x 50"] = (split(X, y), 10, 256)
    if quick:
        out = {k: (d, max(2, e // 10), b) for k, (d, e, b) in out.items()}
    return out


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


def _median_time(fn, repeats, collect=True):
    times = []
    for _ in range(repeats):
        if collect:
            gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_predict_1row(est, X):
    est.predict(X[:1])
    return _median_time(lambda: est.predict(X[:1]), 200, collect=False)  # a serving loop


def bench_dataset(name, data, epochs, batch_size, repeats, libs):
    X_tr, X_te, y_tr, y_te = data
    rows = {}
    for lib in libs:
        proto = MAKERS[lib](epochs, batch_size)
        fitted = {}

        def fit_once():
            fitted["est"] = clone(proto).fit(X_tr, y_tr)

        t_first = _median_time(fit_once, 1)  # import/trace on the first fit of a process
        t_fit = _median_time(fit_once, repeats)
        est = fitted["est"]
        acc = float(np.mean(est.predict(X_te) == y_te))
        t_pred_all = _median_time(lambda: est.predict(X_te), 5)
        t_pred_1 = time_predict_1row(est, X_te)
        rows[lib] = dict(fit=t_fit, first=t_first, acc=acc, pred_all=t_pred_all, pred_1=t_pred_1)
        print(f"  {name:<28} {lib:<12} fit {t_fit:7.3f}s (first {t_first:6.2f}s)  "
              f"acc {acc:.4f}  predict({len(X_te)}) {t_pred_all * 1e3:7.1f}ms  "
              f"predict(1) {t_pred_1 * 1e3:6.2f}ms", flush=True)
    return rows


def bench_keras_fit(data, epochs, batch_size, repeats):
    """Plain Keras model.fit on the same network (the 100k target is 'no slower')."""
    import keras

    X_tr, _, y_tr, _ = data
    meta = {"n_classes_": 2, "n_features_in_": X_tr.shape[1]}
    y = y_tr.astype(np.float32)

    def fit_once():
        model = _scikeras_model(meta)
        model.fit(X_tr, y, epochs=epochs, batch_size=batch_size, verbose=0)

    fit_once()
    del keras
    return _median_time(fit_once, repeats)


def bench_grid(data, epochs, libs, repeats, n_jobs=1, quick=False):
    X_tr, _, y_tr, _ = data
    rows = {}
    for lib in libs:
        est = MAKERS[lib](epochs, 32)
        param_grid = GRIDS[lib]
        if quick:  # 2 candidates instead of 8
            param_grid = {k: v[:1] if "batch" in k or "learning" in k else v
                          for k, v in param_grid.items()}
        grid = GridSearchCV(est, param_grid, cv=3, n_jobs=n_jobs)
        t = _median_time(lambda: clone(grid).fit(X_tr, y_tr), repeats)
        rows[lib] = t
        n_cand = len(ParameterGrid(param_grid))
        print(f"  grid {n_cand}x3 (n_jobs={n_jobs}) {lib:<12} {t:7.2f}s", flush=True)
    return rows


# --------------------------------------------------------------------------
# Memory: flat RSS over many fits
# --------------------------------------------------------------------------


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_check(n_fits=500, every=50):
    """Fit fresh estimators (2 architectures alternating, 2 epochs) and print RSS."""
    from skdense import _training

    (X_tr, X_te, y_tr, _), _, _ = datasets(quick=True)["breast_cancer"]
    protos = [make_skdense(2, 32), clone(make_skdense(2, 32)).set_params(hidden_layer_sizes=(16,))]
    print(f"RSS over {n_fits} fits of fresh DenseClassifier clones (alternating 2 architectures):")
    first = None
    for i in range(1, n_fits + 1):
        est = clone(protos[i % 2]).fit(X_tr, y_tr)
        est.predict(X_te[:5])
        if i % every == 0:
            gc.collect()
            mb = rss_mb()
            first = first or mb
            print(f"  fits {i:4d}  RSS {mb:8.1f} MB  (+{mb - first:6.1f} since fit {every})  "
                  f"{_training.cache_info()}", flush=True)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small data, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="only the 500-fit RSS check")
    parser.add_argument("--njobs", action="store_true", help="only GridSearchCV n_jobs 1 vs 2")
    parser.add_argument("--no-grid", action="store_true", help="skip the grid search rows")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.memory:
        memory_check(100 if args.quick else 500, 10 if args.quick else 50)
        return
    repeats = 1 if args.quick else args.repeats
    data = datasets(args.quick)
    libs = list(MAKERS)
    if args.njobs:
        # First call of each: cold (TF import and tracing in the processes that
        # fit); second: warm (loky keeps its worker processes and their caches).
        (cancer, epochs, _) = data["breast_cancer"]
        times = {}
        for n_jobs in (1, 2):
            for state in ("cold", "warm"):
                print(f"{state}:", end="")
                times[n_jobs, state] = bench_grid(cancer, epochs, ["skdense"], 1, n_jobs)["skdense"]
        from joblib import parallel_backend

        with parallel_backend("threading"):  # threads share the engine's cache
            print("threads:", end="")
            threads = bench_grid(cancer, epochs, ["skdense"], 1, 2)["skdense"]
        for state in ("cold", "warm"):
            print(f"{state}: n_jobs=2 / n_jobs=1 time: {times[2, state] / times[1, state]:.2f}")
        print(f"threading backend n_jobs=2 / warm n_jobs=1 time: {threads / times[1, 'warm']:.2f}")
        return

    print(f"cores {os.cpu_count()}, repeats {repeats}; each fit on a fresh clone; medians")
    table = {}
    for name, (d, epochs, bs) in data.items():
        print(f"{name}: {epochs} epochs, batch {bs}, train {len(d[0])} x {d[0].shape[1]}")
        table[name] = bench_dataset(name, d, epochs, bs, repeats, libs)
        if name.startswith("make_classification"):
            table[name]["keras model.fit"] = {"fit": bench_keras_fit(d, epochs, bs, repeats)}
            print(f"  {name:<28} {'keras fit':<12} fit {table[name]['keras model.fit']['fit']:7.3f}s")
    grid = None
    if not args.no_grid:
        cancer, epochs, _ = data["breast_cancer"]
        grid = bench_grid(cancer, epochs, libs, 1, quick=args.quick)

    print("\n| data | library | fit s | predict(1) ms | predict(test) ms | test acc |")
    print("|---|---|---:|---:|---:|---:|")
    for name, rows in table.items():
        for lib, r in rows.items():
            if "acc" not in r:
                print(f"| {name} | {lib} | {r['fit']:.3f} | | | |")
                continue
            print(f"| {name} | {lib} | {r['fit']:.3f} | {r['pred_1'] * 1e3:.2f} | "
                  f"{r['pred_all'] * 1e3:.1f} | {r['acc']:.4f} |")
    if grid:
        for lib, t in grid.items():
            print(f"| breast_cancer grid 8x3 | {lib} | {t:.2f} | | | |")

    print("\nratios (targets in brackets)")
    for name, rows in table.items():
        sk, mlp, sc = rows["skdense"]["fit"], rows["sklearn MLP"]["fit"], rows["scikeras"]["fit"]
        line = (f"  {name}: skdense/sklearn fit {sk / mlp:.2f}x  scikeras/skdense fit {sc / sk:.1f}x")
        if name == "breast_cancer":
            line += "  [<= 2x sklearn, >= 5x faster than scikeras]"
        if "keras model.fit" in rows:
            kf = rows["keras model.fit"]["fit"]
            line += f"  keras-fit/skdense {kf / sk:.2f}x [>= 1]"
        print(line)
    print(f"  predict(1 row) skdense median over data sets: "
          f"{statistics.median(r['skdense']['pred_1'] for r in table.values()) * 1e3:.2f} ms [<= 2 ms]")
    if grid:
        print(f"  grid 8x3: scikeras/skdense {grid['scikeras'] / grid['skdense']:.1f}x [>= 8x]  "
              f"skdense/sklearn {grid['skdense'] / grid['sklearn MLP']:.2f}x")


if __name__ == "__main__":
    main()
