"""Peak memory of a fit, as a multiple of the network's weights.

Each size is fitted in a fresh subprocess: it imports TensorFlow, skdense's
fit path and builds the data first, records the peak RSS so far
(``ru_maxrss``), then fits ``DenseClassifier(hidden_layer_sizes=(h, h))`` on
a few rows for one epoch and reports the peak RSS again.  The difference is
what the fit allocated at its worst moment; divided by the weights' bytes
(``count_params() * 4``) it is the ratio ``skdense._network.memory`` uses to
refuse networks that cannot fit in memory.

    PYTHONPATH=. python benchmarks/bench_peak_memory.py                 # 50, 200, 800 MB
    PYTHONPATH=. python benchmarks/bench_peak_memory.py --sizes 50 200  # MB of weights
    PYTHONPATH=. python benchmarks/bench_peak_memory.py --no-early-stopping
    PYTHONPATH=. python benchmarks/bench_peak_memory.py --refusal  # the guard's refusal
    PYTHONPATH=. python benchmarks/bench_peak_memory.py --activations  # per-row copies
    PYTHONPATH=. python benchmarks/bench_peak_memory.py --target  # the target's memory

Each size runs twice, side by side: on the engine's cached clone of the model
(forced; how every network trained before large ones trained in place) and as
skdense trains it (in place when the weights and Adam's state exceed
``skdense._training.cache.IN_PLACE_BYTES``).

Early stopping (the default, ``restore_best_weights=True``) keeps a saved copy
of the weights; ``--no-early-stopping`` measures the fit without it.  Run it
with ``PYTHONPATH`` pointing at a checkout to measure that checkout (the
import path is printed).  No timing: it prints a table.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

N_FEATURES = 20
N_ROWS = 128


def width_for(weight_mb):
    """The width ``h`` of two hidden layers whose weights take about ``weight_mb`` MB."""
    params = weight_mb * 1e6 / 4
    # N_FEATURES*h + h + h*h + h + 2*h + 1 ~ h**2 + (N_FEATURES + 4) h
    b = N_FEATURES + 4
    return int((-b + (b * b + 4 * params) ** 0.5) / 2)


def child(width, rows, batch_size, early_stopping, clone):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np

    import skdense
    from skdense import DenseClassifier, _scikeras  # noqa: F401  (_scikeras: TensorFlow, scikeras)
    from skdense._training import cache
    from skdense._training.clones import variable_bytes

    if clone:
        cache.IN_PLACE_BYTES = 1 << 62  # every network trains on a cached clone

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, N_FEATURES)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    h = width
    # A tiny fit first, so the lazily imported parts of the fit path are loaded.
    DenseClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X[:N_ROWS], y[:N_ROWS])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    est = DenseClassifier(
        hidden_layer_sizes=(h, h), epochs=1, batch_size=batch_size, early_stopping=early_stopping,
        n_ensemble=1, random_state=0,
    ).fit(X, y)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    weights = est.model_.count_params() * 4
    print(json.dumps({
        "in_place": variable_bytes([*est.model_.weights, *est.model_.optimizer.variables])
        > cache.IN_PLACE_BYTES,
        "width": h, "weights": weights, "baseline": base, "peak": peak, "seconds": seconds,
        "engine": est.training_engine_, "skdense": os.path.dirname(skdense.__file__),
    }))


def refusal():
    """Time and memory of refusing networks that cannot fit (median of 5)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import statistics

    import numpy as np

    from skdense import DenseClassifier

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, N_FEATURES)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    DenseClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, y)  # warm
    print(f"{'hidden_layer_sizes':>20} {'refused in ms':>13} {'RSS before MB':>13} "
          f"{'RSS after MB':>12} {'peak RSS grew KB':>16}")
    for sizes in [(30000, 30000), (10**6, 10**6)]:
        times = []
        before, peak = rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(5):
            t0 = time.perf_counter()
            try:
                DenseClassifier(hidden_layer_sizes=sizes, n_ensemble=1).fit(X, y)
            except MemoryError:
                times.append(time.perf_counter() - t0)
            else:
                raise SystemExit(f"{sizes} was not refused: is this machine that large?")
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
        print(f"{sizes!s:>20} {statistics.median(times) * 1e3:>13.2f} {before:>13.0f} "
              f"{rss_mb():>12.0f} {grew:>16}")


def target_child(n_rows, n_ensemble, early_stopping, loss, task):
    """One fit whose target is large: ``n_rows`` rows of 6 features and as many
    classes (a one-hot target of n_rows**2 values), or 64 regression targets;
    prints its peak RSS above the baseline beside the guard's estimate."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np

    from skdense import DenseClassifier, DenseRegressor, _scikeras  # noqa: F401
    from skdense._network import memory

    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, 6)).astype(np.float32)
    if task == "classification":
        cls, y = DenseClassifier, np.arange(n_rows)
    else:
        cls, y = DenseRegressor, rng.normal(size=(n_rows, 64))
    cls(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X[:64], y[:64] % 2)  # warm
    estimates = []
    real_check = memory.check_plan_memory

    def spy(name, settings, plan):
        estimates.append(real_check(name, settings, plan))
        return estimates[-1]

    memory.check_plan_memory = spy
    from skdense._estimators import base
    base.memory.check_plan_memory = spy
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    kwargs = {} if loss == "default" else {"loss": loss}
    cls(hidden_layer_sizes=(16,), epochs=1, batch_size=256, early_stopping=early_stopping,
        n_ensemble=n_ensemble, random_state=0, **kwargs).fit(X, y)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"grew": peak - baseline, "estimate": estimates[-1].total,
                      "target": estimates[-1].target}))


def target():
    """The memory guard's estimate against the measured peak, for large targets."""
    print("6 features, (16,), 1 epoch, batch 256; classification: as many classes as rows")
    print(f"{'task':>14} {'rows':>6} {'n_ensemble':>10} {'early stop':>10} {'loss':>8} | "
          f"{'target MB':>9} {'estimate MB':>11} {'measured MB':>11} {'measured/est':>12}")
    cases = [("classification", n, k, es, "default")
             for n in (4000, 8000) for k in (1, 8) for es in (False, True)]
    cases += [("classification", 8000, 1, True, "sparse_categorical_crossentropy"),
              ("regression", 50000, 1, True, "default"), ("regression", 50000, 8, False, "default")]
    for task, n, k, es, loss in cases:
        cmd = [sys.executable, __file__, "--target-child", task, str(n), str(k), str(int(es)), loss]
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ, check=False)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if out.returncode != 0 or not lines:
            print(f"{task:>14} {n:>6} failed: exit {out.returncode}: {out.stderr.strip()[-300:]}")
            continue
        r = json.loads(lines[-1])
        short = "sparse" if loss.startswith("sparse") else loss
        print(f"{task:>14} {n:>6} {k:>10} {str(es):>10} {short:>8} | {r['target'] / 1e6:>9.0f} "
              f"{r['estimate'] / 1e6:>11.0f} {r['grew'] / 1e6:>11.0f} "
              f"{r['grew'] / r['estimate']:>12.2f}", flush=True)


def run_child(width, early_stopping, clone, rows=N_ROWS, batch_size=64):
    cmd = [sys.executable, __file__, "--child", str(width), str(rows), str(batch_size)]
    if not early_stopping:
        cmd.append("--no-early-stopping")
    if clone:
        cmd.append("--clone")
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ,
                         check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"exit {out.returncode}: {out.stderr.strip()[-500:]}")
    return json.loads(lines[-1])


def activations():
    """Bytes per activation value kept by a training step: one network, two batch sizes."""
    width, rows, batches = 2048, 16384, (64, 16384)
    runs = [run_child(width, False, False, rows=rows, batch_size=b) for b in batches]
    grew = [r["peak"] - r["baseline"] for r in runs]
    values = 2 * width + N_FEATURES + 1  # per row: inputs, hidden layers, output
    copies = (grew[1] - grew[0]) / ((batches[1] - batches[0]) * values * 4)
    print(f"({width}, {width}) on {rows} rows x {N_FEATURES} features, 1 epoch, no early "
          f"stopping; weights {runs[0]['weights'] / 1e6:.0f} MB")
    for b, g in zip(batches, grew):
        print(f"batch_size {b:>6}: peak - baseline {g / 1e6:>7.0f} MB")
    print(f"the larger batch added {copies:.2f} float32 copies of each row's activations")
    print(f"skdense imported from {runs[0]['skdense']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[50, 200, 800],
                        help="weights of the networks, MB")
    parser.add_argument("--no-early-stopping", action="store_true")
    parser.add_argument("--refusal", action="store_true",
                        help="time the refusal of (30000, 30000) and (10**6, 10**6) instead")
    parser.add_argument("--activations", action="store_true",
                        help="measure the activations' copies (two batch sizes) instead")
    parser.add_argument("--target", action="store_true",
                        help="the guard's estimate against the peak for large targets instead")
    parser.add_argument("--child", type=int, nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--target-child", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--clone", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.refusal:
        refusal()
        return
    if args.activations:
        activations()
        return
    if args.target:
        target()
        return
    if args.target_child is not None:
        task, n, k, es, loss = args.target_child
        target_child(int(n), int(k), bool(int(es)), loss, task)
        return
    early_stopping = not args.no_early_stopping
    if args.child is not None:
        child(*args.child, early_stopping, args.clone)
        return
    es = "on (restore_best_weights)" if early_stopping else "off"
    print(f"{N_ROWS} rows x {N_FEATURES} features, 1 epoch, batch 64, early stopping {es}")
    print("peak/weights = (peak RSS of the fit - RSS before it) / weights' bytes")
    print(f"{'weights MB':>10} {'width':>6} | {'cloned worker':>13} {'fit s':>6} | "
          f"{'as trained':>10} {'fit s':>6} {'worker':>10}")
    where = None
    for size in args.sizes:
        row = []
        for clone in (True, False):
            try:
                r = run_child(width_for(size), early_stopping, clone)
            except RuntimeError as exc:
                print(f"{size:>10.0f} failed: {exc}")
                break
            where = r["skdense"]
            row.append(r)
        if len(row) < 2:
            continue
        cloned, trained = row
        ratio = [(r["peak"] - r["baseline"]) / r["weights"] for r in row]
        kind = "in place" if trained["in_place"] else "cloned"
        print(f"{trained['weights'] / 1e6:>10.0f} {trained['width']:>6} | {ratio[0]:>13.2f} "
              f"{cloned['seconds']:>6.1f} | {ratio[1]:>10.2f} {trained['seconds']:>6.1f} "
              f"{kind:>10}", flush=True)
    print(f"skdense imported from {where}")


if __name__ == "__main__":
    main()
