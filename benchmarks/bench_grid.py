"""A user's first grid search: skdense vs scikit-learn's MLPClassifier, cold and warm.

The grid of issue 22: ``hidden_layer_sizes`` {(16,), (32,), (32, 32), (64,)} x
``alpha`` {1e-4, 1e-3}, 3 folds, 50 epochs, batch 32, no early stopping, on
breast_cancer (standardised, the 75 % training split), ``n_jobs=1``.

Every number comes from a fresh subprocess, and the processes of each library
(and of ``--baseline``, another checkout) take turns, round after round, so a
shared machine's load falls on all alike; the table gives medians over rounds.

* **cold**: the process has imported TensorFlow and Keras (and scikit-learn)
  but traced nothing; its first search.
* **warm**: the same search repeated in that process (``--searches - 1`` times, median).
* **one fit**: a fresh clone fitted at equal work (one network, (32, 32),
  50 epochs, batch 32) on breast_cancer and digits, after a warm-up fit.
* **auto**: the same grid with skdense's default ``n_ensemble='auto'``.

Also printed: the training traces each search made (``cache_info()``).

    python benchmarks/bench_grid.py                          # the table (~10 minutes)
    python benchmarks/bench_grid.py --quick                  # 1 round
    git archive main | tar -x -C /tmp/main && \
    python benchmarks/bench_grid.py --baseline /tmp/main     # before/after, interleaved
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
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
sys.path.insert(0, os.environ.get("BENCH_SKDENSE_CHECKOUT", ROOT))  # --baseline's children

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


def child(lib, n_ensemble, searches, fits):
    """In this fresh process (TensorFlow imported, nothing traced): one cold
    search, ``searches - 1`` warm ones, and (``fits`` > 0) single fits; prints JSON."""
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = data()
    if lib == "skdense":
        from skdense._backend import load_keras, load_tf

        load_tf()
        load_keras()  # imported, nothing built or traced
    runs = [time_search(lib, n_ensemble, X, y) for _ in range(searches)]
    out = {"cold": runs[0][0], "cold_traces": runs[0][1], "score": runs[0][2]}
    if searches > 1:
        out["warm"] = statistics.median(r[0] for r in runs[1:])
        out["warm_traces"] = max(r[1] for r in runs[1:])
    for name in ("breast_cancer", "digits") if fits else ():
        out[name] = one_fit(lib, *data(name), fits)
    print(json.dumps(out))


def run_child(lib, n_ensemble, searches, fits, checkout):
    env = dict(os.environ, BENCH_SKDENSE_CHECKOUT=checkout or ROOT)
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", lib, "--n-ensemble", str(n_ensemble),
         "--searches", str(searches), "--fits", str(fits)],
        capture_output=True, text=True, check=True, env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (processes)")
    parser.add_argument("--searches", type=int, default=3, help="searches per process: 1 cold, the rest warm")
    parser.add_argument("--fits", type=int, default=5, help="timed single fits per data set")
    parser.add_argument("--no-default", action="store_true", help="skip n_ensemble='auto'")
    parser.add_argument("--baseline", metavar="CHECKOUT",
                        help="another skdense checkout (e.g. a git archive of main), measured interleaved")
    parser.add_argument("--child", choices=["skdense", "sklearn"])
    parser.add_argument("--n-ensemble", default="1")
    args = parser.parse_args(argv)
    n_ens = args.n_ensemble if args.n_ensemble == "auto" else int(args.n_ensemble)
    if args.child:
        return child(args.child, n_ens, args.searches, args.fits)
    if args.quick:
        args.rounds, args.searches, args.fits = 1, 2, 3
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; grid {len(ARCHS)} "
          f"architectures x {len(ALPHAS)} alphas x 3 folds, {EPOCHS} epochs, batch {BATCH}; "
          f"{args.rounds} interleaved rounds of fresh processes, each 1 cold + "
          f"{args.searches - 1} warm searches; {args.fits} fits per data set", flush=True)
    who = [("sklearn", "sklearn", 1, None), ("skdense", "skdense", 1, ROOT)]
    if args.baseline:
        who.append(("baseline", "skdense", 1, args.baseline))
    if not args.no_default:
        who.append(("skdense auto", "skdense", "auto", ROOT))
        if args.baseline:
            who.append(("baseline auto", "skdense", "auto", args.baseline))
    results = {label: [] for label, *_ in who}
    for r in range(args.rounds):
        for label, lib, n_ensemble, path in who:
            fits = args.fits if n_ensemble == 1 else 0
            res = run_child(lib, n_ensemble, args.searches, fits, path and os.path.abspath(path))
            results[label].append(res)
            print(f"  round {r + 1} {label:<14} " + "  ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in res.items()),
                flush=True)

    def med(label, key):
        return statistics.median(res[key] for res in results[label])

    rows = []  # (what, label, target)
    for label, _, n_ensemble, _ in who[1:]:
        target = n_ensemble == 1 and label == "skdense"
        rows.append((f"grid cold, {label}", label, "cold", TARGETS["cold"] if target else None))
        rows.append((f"grid warm, {label}", label, "warm", TARGETS["warm"] if target else None))
        if n_ensemble == 1:
            for name in ("breast_cancer", "digits"):
                rows.append((f"one fit {name}, {label}", label, name,
                             TARGETS["fit"] if target else None))
    print(f"\nload at the end {os.getloadavg()[0]:.2f} (2 cores shared with other jobs)")
    print("| measurement | skdense | sklearn MLP | skdense / sklearn | target | traces |")
    print("|---|---:|---:|---:|---|---|")
    for what, label, key, target in rows:
        dn, sk = med(label, key), med("sklearn", key)
        verdict = "" if target is None else (
            f"<= {target:.1f}x: " + ("holds" if dn / sk <= target else
                                     f"misses by {dn / sk / target - 1:.0%}"))
        traces = results[label][0].get(f"{key}_traces", "")
        print(f"| {what} | {dn:.3f} s | {sk:.3f} s | {dn / sk:.2f}x | {verdict} | {traces} |")
    for label, _, n_ensemble, _ in who[1:]:
        if n_ensemble == "auto":
            print(f"{label}: cold / warm {med(label, 'cold') / med(label, 'warm'):.2f}")


if __name__ == "__main__":
    main()
