"""Per-fit time of one small network, for comparing two checkouts of skdense.

Fits fresh ``DenseClassifier((32, 32), epochs=50, batch_size=32)`` clones on
breast_cancer (standardised), after one warm-up fit, and prints the median of
``--fits`` fits.  Run it alternately against two checkouts, with and without
early stopping, and compare the medians::

    OMP_NUM_THREADS=1 PYTHONPATH=/path/to/old python benchmarks/bench_fit_overhead.py
    OMP_NUM_THREADS=1 PYTHONPATH=.            python benchmarks/bench_fit_overhead.py
    OMP_NUM_THREADS=1 PYTHONPATH=.            python benchmarks/bench_fit_overhead.py --early-stopping
"""

import argparse
import statistics
import time

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=15)
    parser.add_argument("--early-stopping", action="store_true")
    args = parser.parse_args(argv)
    import skdense

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    proto = skdense.DenseClassifier((32, 32), epochs=50, batch_size=32, n_ensemble=1,
                                    early_stopping=args.early_stopping, random_state=0)
    clone(proto).fit(X, y)  # import, trace
    times = []
    for _ in range(args.fits):
        t0 = time.perf_counter()
        clone(proto).fit(X, y)
        times.append(time.perf_counter() - t0)
    print(f"skdense from {skdense.__file__}: median fit {statistics.median(times) * 1e3:.1f} ms "
          f"over {args.fits} fits (early_stopping={args.early_stopping})")


if __name__ == "__main__":
    main()
