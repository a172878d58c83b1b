"""CompareResult: the tidy per-fold results and the summaries made from them."""

import json

import numpy as np
import pandas as pd

from . import _blend, _verdict
from ._fs import atomic_open
from ._metrics import HIGHER_IS_BETTER, METRICS
from ._row import COSTS
from ._stats import TEST_NAME, corrected_resampled_ttest


class CompareResult:
    """What :func:`compare` measured.

    Attributes
    ----------
    results : pandas.DataFrame
        One row per (dataset, model, outer fold): ``dataset, task, model, family,
        fold, repeat, seed, n_train, n_test, status, error``, one column per metric
        (``accuracy, log_loss`` for classification, ``r2, rmse`` for regression; NaN
        where it does not apply), ``fit_seconds`` (the whole inner search plus the
        refit), ``refit_seconds`` (the refit of the best candidate alone),
        ``predict_seconds``, what the refitted model costs (``latency_row_ms``,
        ``latency_1000_ms``, ``size_bytes``, ``peak_memory_mb``; see
        ``docs/compare.md``) and ``best_params`` (JSON). ``status`` is ``ok``,
        ``skipped`` (time budget) or ``error`` (with ``on_error="record"``).
    info : dict
        The settings of the run (cv, seeds, grids, backend, wall time, how each
        dataset's task was decided). A result of an interrupted run has
        ``info["partial"] = {"jobs_finished": ..., "jobs_total": ...}`` and only
        the rows of the jobs that finished. ``info["rope"]`` is the ROPE the
        verdict uses (None: the default per metric), ``info["data"]`` the
        digest of each dataset's values, ``info["versions"]`` the libraries'.
    predictions : dict
        ``{(dataset, model, fold): arrays}``: the outer-test predictions of every
        ``ok`` job (``rows``, ``y_true``, ``y_pred``; ``proba`` and ``classes``
        for classifiers), from which :meth:`blend` is made.
    learning_curve : pandas.DataFrame or None
        With ``compare(learning_curve=True)``: one row per (dataset, family,
        model, outer fold, fraction of its training rows): ``n_train``, the
        primary ``metric`` and its ``score`` on the outer test rows,
        ``fit_seconds``, ``error``. None otherwise.
    plots : dict
        ``{name: path}`` of every figure the run wrote (``OutputFolder.write``:
        ``compare``, ``cost_frontier``, ``learning_curve``), in the order
        written; the report (``report.html``) embeds every one of them.
    """

    def __init__(self, results, info, predictions=None, learning_curve=None):
        self.results = results
        self.info = info
        self.predictions = {} if predictions is None else predictions
        self.learning_curve = learning_curve
        self.plots = {}

    # ------------------------------------------------------------------ helpers
    @property
    def partial(self):
        """Whether this is the result of an interrupted run (some jobs have no row)."""
        return bool(self.info.get("partial"))

    def _valid(self):
        """Rows usable for statistics: ok, in folds that every model of the dataset completed.

        A fold counts when every model has a row for it that was not skipped (time
        budget). Of a partial result, the models are those the run had (its
        grids), so a fold some model had not reached yet does not count either.
        """
        r = self.results
        if r.empty:
            return r
        keep = pd.Series(False, index=r.index)
        grids = self.info.get("grids", {}) if self.partial else {}
        for dataset, g in r.groupby("dataset", sort=False):
            models = set(grids.get(dataset, ())) | set(g["model"])
            ran = g[g["status"] != "skipped"].groupby("fold")["model"].agg(set)
            complete = [fold for fold, done in ran.items() if models <= done]
            keep |= (r["dataset"] == dataset) & r["fold"].isin(complete)
        return r[keep & (r["status"] == "ok")]

    def primary_metric(self, dataset):
        """The metric that selects hyper-parameters and ranks models (accuracy or r2)."""
        return METRICS[self.info["tasks"][dataset]][0]

    # ---------------------------------------------------------------- summaries
    def summary(self):
        """Mean and standard deviation over outer folds, per dataset and model.

        Columns: ``task, family, n_folds``, ``<metric>_mean`` and ``<metric>_std`` for
        each metric, mean ``fit_seconds`` and ``predict_seconds``, the median of
        each cost over the folds (``latency_row_ms``, ``latency_1000_ms``,
        ``size_bytes``, ``peak_memory_mb``), ``rank`` (1 = best
        primary metric within the dataset), ``avg_rank`` (the model's mean rank
        over all datasets), and, on the rows of the best DL and the best ML model
        of each dataset, ``vs`` (the other one) and ``p_value`` of the paired
        corrected resampled t-test (Nadeau & Bengio 2003) between them. The
        test's name is in ``summary().attrs["test"]``; see :meth:`significance`.
        """
        valid = self._valid()
        metrics = [m for task in METRICS for m in METRICS[task]
                   if task in self.info["tasks"].values()]
        rows = []
        for (dataset, model), g in self.results.groupby(["dataset", "model"], sort=False):
            v = valid[(valid["dataset"] == dataset) & (valid["model"] == model)]
            row = {
                "dataset": dataset,
                "model": model,
                "task": g["task"].iloc[0],
                "family": g["family"].iloc[0],
                "n_folds": len(v),
            }
            for m in metrics:
                row[f"{m}_mean"] = v[m].mean() if m in v and len(v) else np.nan
                row[f"{m}_std"] = v[m].std(ddof=1) if m in v and len(v) > 1 else np.nan
            row["fit_seconds"] = v["fit_seconds"].mean() if len(v) else np.nan
            row["predict_seconds"] = v["predict_seconds"].mean() if len(v) else np.nan
            for c in COSTS:
                row[c] = v[c].median() if c in v and len(v) else np.nan
            rows.append(row)
        out = pd.DataFrame(rows)
        out["rank"] = np.nan
        for dataset, idx in out.groupby("dataset", sort=False).groups.items():
            m = self.primary_metric(dataset)
            out.loc[idx, "rank"] = out.loc[idx, f"{m}_mean"].rank(
                ascending=not HIGHER_IS_BETTER[m], method="average"
            )
        out["avg_rank"] = out["model"].map(out.groupby("model")["rank"].mean())
        out["vs"] = ""
        out["p_value"] = np.nan
        for s in self.significance().itertuples():
            for me, other in ((s.best_dl, s.best_ml), (s.best_ml, s.best_dl)):
                if isinstance(me, str) and isinstance(other, str):
                    sel = (out["dataset"] == s.dataset) & (out["model"] == me)
                    out.loc[sel, "vs"] = other
                    out.loc[sel, "p_value"] = s.p_value
        out.attrs["test"] = TEST_NAME
        return out

    def ranks(self):
        """Average rank of each model over the datasets it ran on (1 = best), best first."""
        s = self.summary()
        return (
            s.groupby("model", sort=False)
            .agg(avg_rank=("rank", "mean"), n_datasets=("rank", "count"))
            .sort_values("avg_rank")
            .reset_index()
        )

    def costs(self):
        """What each model costs, over every dataset it ran on: the median over its ok jobs.

        Columns: ``model, family, n_jobs``, ``fit_seconds`` (inner search + refit),
        ``refit_seconds`` and the costs ``latency_row_ms, latency_1000_ms,
        size_bytes, peak_memory_mb``. Per dataset, :meth:`summary` has them.
        """
        ok = self.results[self.results["status"] == "ok"]
        names = ["fit_seconds", "refit_seconds", *(c for c in COSTS if c in ok)]
        out = (ok.groupby("model", sort=False)
               .agg(family=("family", "first"), n_jobs=("model", "size"),
                    **{c: (c, "median") for c in names})
               .reset_index())
        return out

    def significance(self):
        """Best DL model vs best ML model of each dataset, on the same outer folds.

        "Best" is the highest mean primary metric (accuracy or R^2) within each family
        (DL: skdense Dense* and sklearn MLP*; ML: the rest). The test is the
        corrected resampled t-test of Nadeau & Bengio (2003) on the paired fold
        scores: a small ``p_value`` (say < 0.05) means the difference is larger than
        the fold-to-fold noise of cross-validation explains; a large one means these
        data cannot tell the two apart, which is not the same as "they are equal".
        The best models are picked on the same folds that test them, which makes
        small p-values a little optimistic.

        Columns: ``dataset, metric, best_dl, dl_score, best_ml, ml_score, diff``
        (DL minus ML), ``t, p_value, n_folds, test``.
        """
        rows = []
        for p in self._pairs():
            row = {"dataset": p["dataset"], "metric": p["metric"], "best_dl": p["best_dl"],
                   "dl_score": np.nan, "best_ml": p["best_ml"], "ml_score": np.nan,
                   "diff": np.nan, "t": np.nan, "p_value": np.nan, "n_folds": 0,
                   "test": TEST_NAME}
            if p["best_dl"] is not None and p["best_ml"] is not None:
                a, b = np.asarray(p["dl"]), np.asarray(p["ml"])
                t, pv = corrected_resampled_ttest(a, b, np.mean(p["n_train"]),
                                                  np.mean(p["n_test"]))
                if a.size:
                    row.update(dl_score=a.mean(), ml_score=b.mean(), diff=a.mean() - b.mean())
                row.update(t=t, p_value=pv, n_folds=len(p["folds"]))
            rows.append(row)
        return pd.DataFrame(rows)

    def _pairs(self):
        """Per dataset: the best DL and best ML model and their paired fold scores.

        ``[{dataset, task, metric, sign, best_dl, best_ml, folds, dl, ml, n_train,
        n_test}]``; the one pairing that the t-test, the verdict and the blend share.
        """
        valid = self._valid()
        out = []
        for dataset in dict.fromkeys(self.results["dataset"]):
            m = self.primary_metric(dataset)
            sign = 1 if HIGHER_IS_BETTER[m] else -1
            v = valid[valid["dataset"] == dataset]
            means = v.groupby("model", sort=False)[m].mean()
            fam = v.groupby("model", sort=False)["family"].first()
            best = {}
            for f in ("DL", "ML"):
                cand = (sign * means[fam == f]).dropna()
                best[f] = cand.idxmax() if len(cand) else None
            pair = {"dataset": dataset, "task": self.info["tasks"][dataset], "metric": m,
                    "sign": sign, "best_dl": best["DL"], "best_ml": best["ML"], "folds": [],
                    "dl": [], "ml": [], "n_train": [], "n_test": []}
            if best["DL"] is not None and best["ML"] is not None:
                a = v[v["model"] == best["DL"]].set_index("fold")
                b = v[v["model"] == best["ML"]].set_index("fold")
                folds = a.index.intersection(b.index)
                a, b = a.loc[folds], b.loc[folds]
                pair.update(folds=[int(f) for f in folds], dl=a[m].to_numpy(dtype=float),
                            ml=b[m].to_numpy(dtype=float),
                            n_train=a["n_train"].to_numpy(dtype=float),
                            n_test=a["n_test"].to_numpy(dtype=float))
            out.append(pair)
        return out

    def verdict(self, rope=None):
        """Per dataset: is the best DL model better, practically equivalent, or worse?

        The Bayesian correlated t-test (Benavoli et al. 2017) on the pair and folds
        of :meth:`significance`, with a region of practical equivalence ``[-rope,
        rope]`` of the primary metric (default ``info["rope"]``, else 0.01 for
        accuracy and for R^2). Columns: ``dataset, metric, best_dl, best_ml,
        diff`` (DL minus ML), ``rope``, ``p_dl`` (P(DL better by more than rope)),
        ``p_equivalent``, ``p_ml``, ``n_folds``, ``decision`` (``DL better``,
        ``ML better``, ``equivalent``, ``DL not worse``, ``ML not worse`` at
        probability 0.95, else ``undecided``), ``verdict`` (one sentence: what
        to do), ``test``.
        """
        rope = _verdict.check_rope(self.info.get("rope") if rope is None else rope)
        return _verdict.verdict_table(self._pairs(), rope)

    def overall_verdict(self, rope=None):
        """The verdict across datasets: a one-row DataFrame (see :meth:`verdict`).

        The Bayesian signed-rank test (Benavoli et al. 2014) of the per-dataset
        mean differences (best DL minus best ML), seeded by ``info["random_state"]``.
        Columns: ``n_datasets, rope, mean_diff, p_dl, p_equivalent, p_ml, decision,
        verdict, test``.
        """
        rope = _verdict.check_rope(self.info.get("rope") if rope is None else rope)
        pairs = self._pairs()
        return _verdict.overall(_verdict.verdict_table(pairs, rope), pairs,
                                seed=int(self.info.get("random_state", 0) or 0))

    def blend(self, folds=False):
        """Should I ship both? The best DL and best ML model of each dataset, averaged.

        From the outer-test predictions (:attr:`predictions`), on the folds of
        :meth:`significance`: ``disagreement`` (classification: the share of test
        rows whose labels differ), ``prediction_corr`` (regression: the
        correlation of the two models' predictions), ``error_corr`` (the
        correlation of ``1 - p(true class)``, or of the residuals),
        ``dl_score, ml_score, blend_score`` (the primary metric of the two and of
        their average: mean probabilities or values, fold by fold, then averaged
        over folds), ``gain`` (blend minus the better of the two), ``note``.
        With ``folds=True``: one row per dataset and fold with the three scores.
        """
        summary, per_fold = _blend.blend_tables(self._pairs(), self.predictions)
        return per_fold if folds else summary

    # ------------------------------------------------------------------ output
    def to_csv(self, path):
        """Write the per-fold ``results`` table as CSV; return the path.

        A file is written atomically (a temporary file renamed over ``path``): a
        reader never sees half of it, and a symbolic link at ``path`` is replaced,
        not followed. ``path`` may also be an open text file.
        """
        if hasattr(path, "write"):
            self.results.to_csv(path, index=False)
            return path
        with atomic_open(path, "w") as fh:
            self.results.to_csv(fh, index=False)
        return path

    def to_json(self, path=None):
        """Results, summary, significance, verdicts, blend, plots and settings as JSON.

        A string, or a file written atomically, like :meth:`to_csv`. In a file, the
        paths of the plots are relative to the file's folder (``compare.png``), so
        two runs' files compare equal wherever they were written.
        """
        import os

        folder = (None if path is None or hasattr(path, "write")
                  else os.path.dirname(os.path.abspath(os.fspath(path))))
        plots = {name: os.path.relpath(p, folder) if folder else os.fspath(p)
                 for name, p in self.plots.items()}

        def records(df):
            return json.loads(df.to_json(orient="records", double_precision=15))

        doc = {
            "info": self.info,
            "results": records(self.results),
            "summary": records(self.summary()),
            "significance": records(self.significance()),
            "verdict": records(self.verdict()),
            "overall_verdict": records(self.overall_verdict())[0],
            "blend": records(self.blend()),
            "plots": plots,
        }
        if self.learning_curve is not None:
            from ._learning_curve import crossings

            doc["learning_curve"] = records(self.learning_curve)
            doc["learning_curve_crossings"] = crossings(self.learning_curve)
        text = json.dumps(doc, indent=2, default=repr)
        if path is None:
            return text
        with atomic_open(path, "w") as fh:
            fh.write(text)
        return path

    def report(self, path):
        """Write one self-contained ``report.html`` (tables, verdicts, blend, plots); return the path."""
        from ._report import write_report

        return write_report(self, path)

    def plot(self, path=None):
        """Save (or return) a figure: scores with error bars per dataset, and fit times."""
        from ._plot import plot_result

        return plot_result(self, path)

    def plot_costs(self, path=None):
        """Save (or return) the cost frontier: score against each cost, the Pareto front marked."""
        from ._plot import plot_cost_frontier

        return plot_cost_frontier(self, path)

    def plot_learning_curve(self, path=None):
        """Save (or return) the learning curves: one panel per dataset (needs ``learning_curve``)."""
        from ._plot import plot_learning_curve

        if self.learning_curve is None:
            raise ValueError("This result has no learning curve: run compare(..., "
                             "learning_curve=True) (skdense compare --learning-curve).")
        return plot_learning_curve(self, path)

    def __repr__(self):
        n_ok = int((self.results["status"] == "ok").sum())
        return (
            f"<CompareResult: {self.results['dataset'].nunique()} dataset(s), "
            f"{self.results['model'].nunique()} model(s), {n_ok}/{len(self.results)} jobs ok>"
        )
