"""Memory and compilations when fits cycle through many architectures.

A grid search fits fresh clones of one estimator with many settings; each
distinct network structure is a different compiled training graph, cached
per process.  This benchmark cycles ``--archs`` structures ``--cycles`` times, one fresh
``DenseClassifier`` clone per fit followed by a ``predict`` (as scoring does),
and after each cycle prints the process RSS and how many training/forward
traces ran.  With a cache that frees what it evicts, RSS stays flat after the
first cycle whatever the number of architectures; with a cache that can hold
the whole grid, each architecture is traced once per process.

    python benchmarks/bench_memory.py                       # 40 archs x 8 cycles
    python benchmarks/bench_memory.py --archs 20 --cycles 5
    python benchmarks/bench_memory.py --archs 40 --cache-size 16   # force evictions

"Architectures" are distinct hidden-layer shapes built from 16 widths and 1-6
layers (the first 40 are 1-3 layers), each a different training and forward
graph, with early stopping on for every other one (a validation split, as a
grid over ``early_stopping`` gives).
No timing assertions: it prints a table.  Run it with ``PYTHONPATH`` pointing
at a checkout to measure that checkout (the import path is printed).
"""

import argparse
import gc
import importlib
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402

try:
    import skdense  # noqa: E402
except ImportError:  # run from a checkout that is not installed
    sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import skdense  # noqa: E402

WIDTHS = (8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 224, 256)
DEPTHS = (1, 2, 3, 4, 5, 6)


def settings(n_archs):
    """``n_archs`` distinct network shapes (widths x depths, shallow first),
    early stopping on for every other one."""
    shapes = [tuple([w] * d) for d in DEPTHS for w in WIDTHS]
    if not 1 <= n_archs <= len(shapes):
        raise SystemExit(f"--archs between 1 and {len(shapes)}")
    return [{"hidden_layer_sizes": shape, "early_stopping": bool(i % 2)}
            for i, shape in enumerate(shapes[:n_archs])]


def _cache_module():
    """The module with ``cache_info``/``clear_cache``, wherever the package keeps it."""
    for name in ("skdense._training.cache", "skdense._training"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(mod, "cache_info"):
            return mod
    return None


def cache_info():
    mod = _cache_module()
    try:
        return dict(mod.cache_info()) if mod is not None else {}
    except Exception:  # noqa: BLE001 - a benchmark: report what it can
        return {}


def rss_mb():
    return psutil.Process().memory_info().rss / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=40, help="training graphs cycled (40)")
    parser.add_argument("--cycles", type=int, default=8, help="passes over them (8)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per fit (2)")
    parser.add_argument("--rows", type=int, default=300, help="make_classification rows (300)")
    parser.add_argument("--collect", action="store_true",
                        help="gc.collect() after each cycle (default: only Python's own collections, "
                             "as in a real search)")
    parser.add_argument("--cache-size", type=int, default=None,
                        help="override the cache's bound (architectures kept) to exercise eviction")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")

    X, y = make_classification(n_samples=args.rows, n_features=10, n_informative=5,
                               random_state=0)
    X = X.astype(np.float32)
    proto = skdense.DenseClassifier(epochs=args.epochs, batch_size=32, patience=1, n_ensemble=1,
                                    random_state=0)
    grid = settings(args.archs)
    mod = _cache_module()
    bound = None
    for attr in ("MAX_ARCHITECTURES", "_MAX_KEYS"):
        if mod is not None and hasattr(mod, attr):
            if args.cache_size is not None:
                setattr(mod, attr, args.cache_size)
            bound = f"{attr}={getattr(mod, attr)}"
            break
    if args.cache_size is not None and bound is None:
        print("warning: --cache-size ignored (no known bound in the cache module)")
    print(f"skdense from {os.path.dirname(skdense.__file__)}")
    depth = max(len(g["hidden_layer_sizes"]) for g in grid)
    print(f"cache module: {mod.__name__ if mod else 'not found'} ({bound or 'bound unknown'}); "
          f"{args.archs} architectures (1-{depth} hidden layers, early stopping on every "
          f"other), {args.cycles} cycles, {args.epochs} epochs, {args.rows}x10 data")
    print(f"RSS before the first fit: {rss_mb():.0f} MB")
    header = (f"{'cycle':>5} {'fits':>5} {'RSS MB':>8} {'dRSS':>7} {'train tr':>9} "
              f"{'pred tr':>8} {'keys':>5} {'s/fit':>6}")
    print(header)
    print("-" * len(header))
    rows = []
    fits = 0
    base = cache_info()
    prev = dict(base)
    prev_rss = None
    for cycle in range(1, args.cycles + 1):
        t0 = time.perf_counter()
        for params in grid:
            est = clone(proto).set_params(**params).fit(X, y)
            est.predict(X[:50])
            fits += 1
            del est
        if args.collect:
            gc.collect()
        dt = (time.perf_counter() - t0) / len(grid)
        mb = rss_mb()
        info = cache_info()
        tr = info.get("train_traces", 0) - prev.get("train_traces", 0)
        pr = info.get("predict_traces", 0) - prev.get("predict_traces", 0)
        prev = info
        d = "" if prev_rss is None else f"{mb - prev_rss:+7.0f}"
        prev_rss = mb
        rows.append((cycle, mb, tr, pr))
        print(f"{cycle:>5} {fits:>5} {mb:>8.0f} {d:>7} {tr:>9} {pr:>8} "
              f"{info.get('train_keys', '?'):>5} {dt:>6.3f}", flush=True)

    first, last = rows[0][1], rows[-1][1]
    total_tr = sum(r[2] for r in rows)
    later_tr = sum(r[2] for r in rows[1:])
    print()
    print(f"RSS first cycle {first:.0f} MB, last cycle {last:.0f} MB: "
          f"{last - first:+.0f} MB ({last / first:.2f}x) over {fits - len(grid)} fits "
          f"after the first cycle ({(last - first) / max(fits - len(grid), 1):+.2f} MB/fit)")
    print(f"training traces: {total_tr} in {fits} fits "
          f"({total_tr / len(grid):.2f} per architecture; {later_tr} after the first cycle)")
    print(f"forward traces: {sum(r[3] for r in rows)}")
    if info:
        print(f"cache_info at the end: {info}")


if __name__ == "__main__":
    main()
