"""DenseClassifier vs HistGradientBoostingClassifier behind the same TabularPreprocessor.

A synthetic but realistic mixed-type table (a customer-churn-like problem):
skewed float, int, bool, object-string, pandas-category, pandas 3 ``str`` and
nullable ``Int64`` columns, 5-10 % missing values, rare categories, and a
nonlinear target (log, sine, interactions, label noise).  Both models see the
same preprocessed features and the same stratified CV folds.

Run::

    python benchmarks/bench_tabular.py            # n=3000, 5 folds
    python benchmarks/bench_tabular.py --n 1500 --folds 3

Prints per-fold accuracies, means, and the difference (issue 4 asks for the
dense net to be within 2 accuracy points of HGB).

Measured (2 shared CPU cores, TF 2.21, sklearn 1.9.1), dense - hgb in points:

=====================  ===========  ===========  =========
setting                 standard     robust_clip  quantile
=====================  ===========  ===========  =========
n=3000, 5 folds, s=0    -0.10        0.00         +1.07
n=1500, 3 folds, s=0    -0.33        -0.53        -2.00 (64x64: -2.0)
n=1500, 3 folds, s=1     0.00        -1.20
=====================  ===========  ===========  =========

(n=3000, 5 folds: hgb 0.8413; dense 0.8403 standard, 0.8520 quantile.)
HGB is invariant to the monotone scalers; the dense net is not, and on this
table "standard" is the steadiest choice, hence the default here.
"""

import argparse
import time

import numpy as np
import pandas as pd


def make_churn_table(n=3000, seed=0):
    """Return (DataFrame, y) with mixed dtypes, missing values and a nonlinear target."""
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.8, n)
    age = rng.integers(18, 80, n)
    tenure = rng.exponential(3.0, n)
    member = rng.random(n) < 0.4
    cities = ["oslo", "rome", "lima", "kyiv", "pune", "nice", "bern"]
    city = rng.choice(cities, n, p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.04, 0.01])
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    channel = rng.choice(["web", "shop", "phone"], n)
    visits = rng.poisson(3, n)
    logit = (
        1.2 * (np.log(income) - 10)
        + 1.5 * np.sin(age / 9.0)
        + 0.8 * np.sqrt(tenure)
        - 1.0
        + 1.0 * member
        + np.select([city == "oslo", city == "rome", city == "bern"], [1.0, -1.0, 1.5], 0.0)
        + 0.8 * (plan == "pro")
        - 0.5 * (plan == "basic") * (tenure < 1.0)
        + 0.3 * (visits - 3) * (channel == "web")
    )
    p = 1.0 / (1.0 + np.exp(-2.0 * logit))
    y = np.where(rng.random(n) < p, "churn", "stay")
    df = pd.DataFrame(
        {
            "income": income,
            "age": age,
            "tenure": tenure,
            "member": member,
            "city": pd.Series(city, dtype=object),
            "plan": pd.Categorical(plan),
            "channel": pd.Series(channel, dtype="str"),
            "visits": pd.array(visits, dtype="Int64"),
        }
    )
    for col, frac in [("income", 0.08), ("tenure", 0.05), ("city", 0.08), ("plan", 0.05), ("channel", 0.05), ("visits", 0.05)]:
        idx = rng.choice(n, int(frac * n), replace=False)
        df.loc[idx, col] = None
    return df, y


def compare(
    n=3000, folds=5, seed=0, hidden=(128, 128), scaler="standard", hgb_threads=None, verbose=True
):
    """CV accuracies of (dense, hgb) on the same folds; returns a dict.

    ``hgb_threads`` caps HGB's OpenMP threads (threadpoolctl): on a loaded
    machine with few cores, 1 thread ran the n=1500 CV in 1.3 s instead of 34 s.
    """
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    from skdense import DenseClassifier
    from skdense.preprocessing import TabularPreprocessor

    df, y = make_churn_table(n, seed)
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    models = {
        "dense": make_pipeline(
            TabularPreprocessor(scaler=scaler),
            DenseClassifier(hidden, dropout=0.1, epochs=200, patience=10, n_ensemble=1,
                            random_state=seed),
        ),
        "hgb": make_pipeline(
            TabularPreprocessor(scaler=scaler),
            HistGradientBoostingClassifier(random_state=seed),
        ),
    }
    out = {}
    for name, model in models.items():
        t0 = time.perf_counter()
        limit = threadpool_limits(hgb_threads) if name == "hgb" and hgb_threads else nullcontext()
        with limit:
            scores = cross_val_score(model, df, y, cv=cv, scoring="accuracy")
        out[name] = scores
        out[name + "_seconds"] = time.perf_counter() - t0
        if verbose:
            print(
                f"{name:6s} accuracy {scores.mean():.4f} +- {scores.std():.4f} "
                f"folds {np.round(scores, 4).tolist()}  ({out[name + '_seconds']:.1f} s)"
            )
    out["difference"] = out["dense"].mean() - out["hgb"].mean()
    if verbose:
        print(f"dense - hgb = {100 * out['difference']:+.2f} accuracy points")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scaler", default="standard")
    parser.add_argument("--hgb-threads", type=int, default=None)
    args = parser.parse_args()
    compare(args.n, args.folds, args.seed, scaler=args.scaler, hgb_threads=args.hgb_threads)
