"""Would more data change the answer? The best ML and DL models refitted on fewer rows.

For each dataset, the best DL and the best ML model (those the significance
test compares: the best mean primary metric of each family) are refitted on
``FRACTIONS`` of each outer fold's training rows, with the hyper-parameters the
inner search chose on that fold (its row's ``best_params``) and the job's seed,
and scored on the same outer test rows. Nothing is searched again: a point
says what the fold's chosen model does with fewer rows.

On fewer than 30 rows early stopping is turned off, as for the default
models on tiny data (:func:`run_point`).

The rows of a fraction are drawn once per (random_state, dataset, fold), the
same for both models (:func:`subsets`): stratified by class for
classification, and nested, each fraction's rows a subset of the next one's.
The 100% point is the job itself (its rows, parameters and seed): its score is
read from the job's row, not fitted again.

A point is one independent job (:class:`Point`), journaled like the main jobs
(``kind: "curve"``), so a resumed run does not fit it again.
"""

import json
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _candidates
from ._fitting import json_params, limited_threads, score, take, uses_keras
from ._metrics import METRICS
from ._row import CURVE_COLUMNS

FRACTIONS = (0.1, 0.25, 0.5, 1.0)
"""The fractions of an outer fold's training rows the curve is measured at."""


def subsets(y_train, fractions, seed, *, stratify):
    """``{fraction: positions}`` of the training rows to fit on, nested and stratified.

    One random order of the rows is drawn (``numpy.random.default_rng(seed)``);
    a fraction takes its first ``round(fraction * n)`` rows. With ``stratify``
    the order is drawn within each class and a fraction takes
    ``round(fraction * n_class)`` rows of every class (at least one), so the
    class proportions are those of the training rows. Taking a prefix of one
    order makes the subsets nested: a smaller fraction's rows are among a
    larger one's. Positions are sorted (the rows keep their order).
    """
    rng = np.random.default_rng(seed)
    if stratify:
        labels = np.asarray(y_train).ravel()
        _, inverse = np.unique(labels, return_inverse=True)
        orders = [rng.permutation(np.flatnonzero(inverse == k)) for k in range(inverse.max() + 1)]
    else:
        orders = [rng.permutation(len(y_train))]
    return {
        f: np.sort(np.concatenate([order[: max(1, int(round(f * len(order))))] for order in orders]))
        for f in fractions
    }


@dataclass
class Point:
    """One point of a learning curve: a model refitted on a fraction of a fold's training rows."""

    dataset: str
    family: str
    model: str
    fold: int
    fraction: float
    train: np.ndarray  # rows of the dataset (a subset of the fold's training rows)
    test: np.ndarray  # the fold's outer test rows
    seed: int  # the job's seed
    config: str
    data: str
    best_params: str  # the fold's row's best_params (JSON)

    @property
    def key(self):
        """Its identity in the journal (``_journal.CURVE_KEY``)."""
        return (self.dataset, self.model, self.fold, self.fraction, self.seed, self.config,
                self.data)


def best_models(result):
    """``{dataset: [(family, model), ...]}``: the best DL and ML model of each dataset."""
    out = {}
    for s in result.significance().itertuples():
        out[s.dataset] = [(f, m) for f, m in (("DL", s.best_dl), ("ML", s.best_ml))
                          if isinstance(m, str) and m]
    return out


def plan(result, jobs, fractions=FRACTIONS):
    """``(points to fit, rows of the 100% points)`` for the finished ``result`` of ``jobs``.

    ``jobs`` are the run's jobs (``_runner._Job``): their outer folds, seeds and
    digests. Folds where the model's job did not end ``ok`` have no points.
    """
    tasks = result.info["tasks"]
    rows = {(r["dataset"], r["model"], r["fold"]): r
            for r in result.results.to_dict("records")}
    by_place = {(j.dataset, j.model, j.fold): j for j in jobs}
    points, full = [], []
    for dataset, chosen in best_models(result).items():
        metric = METRICS[tasks[dataset]][0]
        folds = sorted({j.fold for j in jobs if j.dataset == dataset})
        for fold in folds:
            for family, model in chosen:
                job = by_place[dataset, model, fold]
                row = rows.get((dataset, model, fold))
                if row is None or row["status"] != "ok":
                    continue
                for f in fractions:
                    if f >= 1:
                        full.append(_point_row(dataset, family, model, fold, 1.0, len(job.train),
                                               metric, row[metric], row["refit_seconds"], ""))
                        continue
                    points.append(Point(dataset, family, model, fold, float(f), None, job.test,
                                        job.seed, job.config, job.data, row["best_params"]))
    return points, full


def draw(points, jobs, targets, tasks, random_state, fractions=FRACTIONS):
    """Fill each point's ``train`` rows: :func:`subsets` of its fold's training rows.

    ``targets`` maps a dataset to its target. The draw is seeded by
    ``(random_state, dataset, fold)`` alone, so both models of a dataset (and a
    resumed run) get the same rows.
    """
    by_fold = {(j.dataset, j.fold): j.train for j in jobs}
    cache = {}
    for p in points:
        if (p.dataset, p.fold) not in cache:
            train = by_fold[p.dataset, p.fold]
            seed = _candidates.job_seed(random_state, p.dataset, "learning_curve", p.fold)
            picked = subsets(take(targets[p.dataset], train), fractions, seed,
                             stratify=tasks[p.dataset] == "classification")
            cache[p.dataset, p.fold] = {f: train[idx] for f, idx in picked.items()}
        p.train = cache[p.dataset, p.fold][p.fraction]
    return points


def _point_row(dataset, family, model, fold, fraction, n_train, metric, value, seconds, error):
    return {"dataset": dataset, "family": family, "model": model, "fold": int(fold),
            "fraction": float(fraction), "n_train": int(n_train), "metric": metric,
            "score": float(value), "fit_seconds": float(seconds), "error": error}


def parameters(best_params, grid):
    """The values the search chose, from the grid when it holds them (tuples stay tuples).

    ``best_params`` is the row's JSON; a value JSON cannot hold exactly (a tuple,
    an object) is taken from the grid candidate that writes the same JSON.
    """
    from sklearn.model_selection import ParameterGrid

    try:
        for candidate in ParameterGrid(grid or {}):
            if json_params(candidate) == best_params:
                return candidate
    except TypeError:  # a grid of distributions (random search): no candidates to list
        pass
    return json.loads(best_params or "{}")


def _without_early_stopping(model):
    """``{name: False}`` for each ``early_stopping`` parameter of ``model`` that is True."""
    return {name: False for name, value in model.get_params(deep=True).items()
            if name.split("__")[-1] == "early_stopping" and value is True}


def run_point(point, task, estimator, grid, X, y, *, threads):
    """Fit ``point``'s model on its rows and score it on its fold's test rows; return its row.

    On fewer than ``SMALL_DATA_ROWS`` rows, early stopping is turned off
    (``early_stopping=False`` wherever a part has it True), the rule the
    default models follow on tiny data: a validation split of a row or two
    would pick the epoch by noise, or fail (a stratified split with fewer rows
    than classes). A fit that fails all the same gives a NaN score and its
    ``error``; the run goes on.
    """
    from sklearn.base import clone

    metric = METRICS[task][0]
    est = _candidates.seed_estimator(clone(estimator), point.seed)
    value, seconds, error = np.nan, np.nan, ""
    try:
        with limited_threads(threads), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if uses_keras(est):
                from .._backend import load_keras

                load_keras()
            model = clone(est).set_params(**parameters(point.best_params, grid))
            if len(point.train) < _candidates.SMALL_DATA_ROWS:
                model.set_params(**_without_early_stopping(model))
            t0 = time.perf_counter()
            model.fit(take(X, point.train), take(y, point.train))
            seconds = time.perf_counter() - t0
            value = score(task, model, take(X, point.test), take(y, point.test), point.test)[0][metric]
    except Exception as exc:  # noqa: BLE001 - one point is not worth the run
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    return _point_row(point.dataset, point.family, point.model, point.fold, point.fraction,
                      len(point.train), metric, value, seconds, error)


def table(rows):
    """The learning curve as a DataFrame (``CURVE_COLUMNS``), sorted by dataset, family, fold, fraction."""
    frame = pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
    if frame.empty:
        return frame
    order = {d: i for i, d in enumerate(dict.fromkeys(frame["dataset"]))}
    frame = frame.assign(_d=frame["dataset"].map(order)).sort_values(
        ["_d", "family", "fold", "fraction"], kind="stable").drop(columns="_d")
    return frame.reset_index(drop=True)


def means(curve):
    """Mean and std of the score over folds, and mean ``n_train``, per dataset, family and fraction."""
    return (curve.groupby(["dataset", "family", "model", "fraction"], sort=False)
            .agg(n_train=("n_train", "mean"), mean=("score", "mean"), std=("score", "std"),
                 n_folds=("score", "count"))
            .reset_index())


def _gaps(curve):
    """``{dataset: (names, [(rows, DL ahead beyond it?)], DL minus ML per size)}``, or a reason (str)."""
    out = {}
    m = means(curve)
    for dataset, g in m.groupby("dataset", sort=False):
        dl, ml = g[g["family"] == "DL"], g[g["family"] == "ML"]
        if dl.empty or ml.empty:
            out[dataset] = "only one family has a curve"
            continue
        both = dl.merge(ml, on="fraction", suffixes=("_dl", "_ml")).dropna(
            subset=["mean_dl", "mean_ml"]).sort_values("fraction")
        if both.empty:
            out[dataset] = "no size has a score for both"
            continue
        names = f"{both['model_dl'].iloc[0]} vs {both['model_ml'].iloc[0]}"
        diff = (both["mean_dl"] - both["mean_ml"]).to_numpy()
        n = ((both["n_train_dl"] + both["n_train_ml"]) / 2).to_numpy()
        at = []
        for i in range(len(diff) - 1):
            a, b = diff[i], diff[i + 1]
            if a != 0 and a * b < 0:
                at.append((n[i] + (n[i + 1] - n[i]) * a / (a - b), b > 0))
        out[dataset] = (names, at, diff)
    return out


def crossing_rows(curve):
    """``{dataset: [rows]}``: the numbers of training rows where the curves cross."""
    return {d: [rows for rows, _ in g[1]] for d, g in _gaps(curve).items() if not isinstance(g, str)}


def crossings(curve):
    """``{dataset: sentence}``: where the DL and ML curves cross, or which stays ahead.

    The curves are the mean scores over folds (higher is better: accuracy or
    R^2). They cross between two sizes where DL minus ML changes sign; the
    crossing is placed by linear interpolation in the number of training rows:
    "dense vs linear: the curves cross at ~120 rows (DL ahead beyond)". Without a
    change of sign: "DL stays ahead at every size" (or behind).
    """
    if curve is None or curve.empty:
        return {}
    out = {}
    for dataset, gap in _gaps(curve).items():
        if isinstance(gap, str):
            out[dataset] = gap
            continue
        names, at, diff = gap
        if at:
            out[dataset] = f"{names}: the curves cross at " + ", ".join(
                f"~{rows:.0f} rows (DL {'ahead' if ahead else 'behind'} beyond)" for rows, ahead in at)
        elif (diff > 0).all():
            out[dataset] = f"{names}: DL stays ahead at every size"
        elif (diff < 0).all():
            out[dataset] = f"{names}: DL stays behind at every size"
        else:
            out[dataset] = f"{names}: the curves touch (equal scores) but do not cross"
    return out


learning_curve_crossings = crossings
"""The public name of :func:`crossings` (``skdense.compare.learning_curve_crossings``)."""
