"""A user's first grid search: skdense vs scikit-learn's MLPClassifier, cold and warm.

The grid of issue 22: ``hidden_layer_sizes`` {(16,), (32,), (32, 32), (64,)} x
``alpha`` {1e-4, 1e-3}, 3 folds, 50 epochs, batch 32, no early stopping, on
breast_cancer (standardised, the 75 % training split), ``n_jobs=1``.

* **cold**: a fresh subprocess that has imported TensorFlow and Keras (and
  scikit-learn) but traced nothing times one search; the median of
  ``--cold`` such processes.  For scikit-learn the subprocess is fresh too.
* **warm**: the same search repeated in this process after one warm-up
  search; the median of ``--warm`` searches.
* **one fit**: a fresh clone fitted at equal work (one network, (32, 32),
  50 epochs, batch 32) on breast_cancer and digits, after a warm-up fit.
* **default**: the same grid with skdense's default ``n_ensemble='auto'``.

Also printed: the training traces each search made (``cache_info()``).

    python benchmarks/bench_grid.py               # the table (a few minutes)
    python benchmarks/bench_grid.py --quick       # 1 cold, 1 warm, fewer fits
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

EPOCHS, BATCH = 50, 32
ARCHS = [(16,), (32,), (32, 32), (64,)]
ALPHAS = [1e-4, 1e-3]
TARGETS = {"cold": 1.5, "warm": 1.0, "fit": 0.7}  # skdense / sklearn, at most


def data(name="breast_cancer"):
    X, y = (load_breast_cancer if name == "breast_cancer" else load_digits)(return_X_y=True)
    X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    return StandardScaler().fit_transform(X_tr).astype(np.float32), y_tr


def estimator(lib, n_ensemble=1, hidden=(32, 32)):
    if lib == "sklearn":
        # tol=0 and n_iter_no_change=epochs: every epoch runs, like the Keras nets.
        return MLPClassifier(hidden_layer_sizes=hidden, max_iter=EPOCHS, batch_size=BATCH,
                             learning_rate_init=1e-3, early_stopping=False,
                             n_iter_no_change=EPOCHS, tol=0.0, random_state=0)
    import skdense

    return skdense.DenseClassifier(hidden_layer_sizes=hidden, epochs=EPOCHS, batch_size=BATCH,
                                   early_stopping=False, n_ensemble=n_ensemble, random_state=0)


def search(lib, n_ensemble=1):
    return GridSearchCV(estimator(lib, n_ensemble),
                        {"hidden_layer_sizes": ARCHS, "alpha": ALPHAS}, cv=3, n_jobs=1)


def traces():
    if "skdense._training" not in sys.modules:
        return 0
    from skdense._training import cache_info

    return cache_info()["train_traces"]


def time_search(lib, n_ensemble, X, y):
    before = traces()
    t0 = time.perf_counter()
    gs = clone(search(lib, n_ensemble)).fit(X, y)
    return time.perf_counter() - t0, traces() - before, float(gs.best_score_)


def child(lib, n_ensemble):
    """One cold search in this fresh process; prints a JSON line."""
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = data()
    if lib == "skdense":
        from skdense._backend import load_keras, load_tf

        load_tf()
        load_keras()  # imported, nothing built or traced
    t, n_traces, score = time_search(lib, n_ensemble, X, y)
    print(json.dumps({"time": t, "traces": n_traces, "score": score}))


def cold(lib, n_ensemble, repeats):
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--child", lib, "--n-ensemble",
             str(n_ensemble)], capture_output=True, text=True, check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return statistics.median(r["time"] for r in runs), runs[0]["traces"], runs[0]["score"]


def warm(lib, n_ensemble, repeats, X, y):
    time_search(lib, n_ensemble, X, y)  # warm-up: imports, traces
    runs = [time_search(lib, n_ensemble, X, y) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), runs[0][1]


def one_fit(lib, X, y, repeats):
    proto = estimator(lib)
    clone(proto).fit(X, y)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        clone(proto).fit(X, y)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cold", type=int, default=3, help="cold processes per row")
    parser.add_argument("--warm", type=int, default=3, help="warm searches per row")
    parser.add_argument("--fits", type=int, default=9, help="timed single fits per row")
    parser.add_argument("--no-default", action="store_true", help="skip n_ensemble='auto'")
    parser.add_argument("--child", choices=["skdense", "sklearn"])
    parser.add_argument("--n-ensemble", default="1")
    args = parser.parse_args(argv)
    n_ens = args.n_ensemble if args.n_ensemble == "auto" else int(args.n_ensemble)
    if args.child:
        return child(args.child, n_ens)
    if args.quick:
        args.cold, args.warm, args.fits = 1, 1, 3
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; grid {len(ARCHS)} "
          f"architectures x {len(ALPHAS)} alphas x 3 folds, {EPOCHS} epochs, batch {BATCH}; "
          f"medians of {args.cold} cold processes, {args.warm} warm searches, {args.fits} fits",
          flush=True)
    X, y = data()
    rows = []  # (what, skdense s, sklearn s, target, note)

    sk_cold, _, sk_score = cold("sklearn", 1, args.cold)
    dn_cold, n_cold, dn_score = cold("skdense", 1, args.cold)
    print(f"  cold   skdense {dn_cold:6.2f}s ({n_cold} traces, best {dn_score:.4f})  "
          f"sklearn {sk_cold:6.2f}s (best {sk_score:.4f})", flush=True)
    rows.append(("grid cold (n_ensemble=1)", dn_cold, sk_cold, TARGETS["cold"], f"{n_cold} traces"))

    sk_warm, _ = warm("sklearn", 1, args.warm, X, y)
    dn_warm, n_warm = warm("skdense", 1, args.warm, X, y)
    print(f"  warm   skdense {dn_warm:6.2f}s ({n_warm} traces)  sklearn {sk_warm:6.2f}s", flush=True)
    rows.append(("grid warm (n_ensemble=1)", dn_warm, sk_warm, TARGETS["warm"], f"{n_warm} traces"))

    for name in ("breast_cancer", "digits"):
        Xd, yd = data(name)
        sk, dn = one_fit("sklearn", Xd, yd, args.fits), one_fit("skdense", Xd, yd, args.fits)
        print(f"  fit {name:<14} skdense {dn * 1e3:7.1f}ms  sklearn {sk * 1e3:7.1f}ms", flush=True)
        rows.append((f"one fit {name} (32, 32)", dn, sk, TARGETS["fit"], ""))

    if not args.no_default:
        d_cold, n_dcold, _ = cold("skdense", "auto", args.cold)
        d_warm, n_dwarm = warm("skdense", "auto", args.warm, X, y)
        print(f"  default n_ensemble='auto': cold {d_cold:6.2f}s ({n_dcold} traces), "
              f"warm {d_warm:6.2f}s ({n_dwarm} traces)", flush=True)
        rows.append(("grid cold, n_ensemble='auto'", d_cold, sk_cold, None,
                     f"{n_dcold} traces; cold/warm {d_cold / d_warm:.2f}"))
        rows.append(("grid warm, n_ensemble='auto'", d_warm, sk_warm, None, f"{n_dwarm} traces"))

    print("\n| measurement | skdense | sklearn MLP | skdense / sklearn | target | note |")
    print("|---|---:|---:|---:|---|---|")
    for what, dn, sk, target, note in rows:
        verdict = "" if target is None else (
            f"<= {target:.1f}x: " + ("holds" if dn / sk <= target else
                                     f"misses by {dn / sk / target - 1:.0%}"))
        print(f"| {what} | {dn:.3f} s | {sk:.3f} s | {dn / sk:.2f}x | {verdict} | {note} |")


if __name__ == "__main__":
    main()
