"""skdense.compare: nested CV harness, datasets, statistics, outputs.

Small and fast: iris/wine/linnerud, 2-3 outer folds, quick grids; the Dense
model appears in the tests that need it (it imports TensorFlow once).
"""

import json
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin

from skdense.compare import (
    DATASETS,
    MODEL_NAMES,
    CompareInterrupted,
    CompareResult,
    JournalMismatch,
    compare,
    corrected_resampled_ttest,
    default_grids,
    default_models,
    infer_task,
    load_dataset,
    read_journal,
)
from skdense.compare._candidates import family, job_seed
from skdense.compare._row import MEASURED


# ----------------------------------------------------------------- statistics
def test_corrected_ttest_reduces_to_paired_ttest_without_correction():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.8, 0.02, 10), rng.normal(0.79, 0.02, 10)
    t, p = corrected_resampled_ttest(a, b, n_train=1.0, n_test=0.0)
    ref = stats.ttest_rel(a, b)
    assert t == pytest.approx(ref.statistic)
    assert p == pytest.approx(ref.pvalue)


def test_corrected_ttest_matches_nadeau_bengio_formula():
    a = np.array([0.90, 0.92, 0.88, 0.95, 0.91])
    b = np.array([0.89, 0.90, 0.88, 0.92, 0.90])
    d = a - b
    # 5-fold CV: n_test / n_train = 1/4; variance inflated by (1/5 + 1/4)
    t_expected = d.mean() / np.sqrt((1 / 5 + 1 / 4) * d.var(ddof=1))
    t, p = corrected_resampled_ttest(a, b, n_train=400, n_test=100)
    assert t == pytest.approx(t_expected)
    assert p == pytest.approx(2 * stats.t.sf(abs(t_expected), df=4))
    # the correction makes the test more conservative than the naive paired t-test
    assert p > stats.ttest_rel(a, b).pvalue


def test_corrected_ttest_degenerate_cases():
    assert corrected_resampled_ttest([1, 1], [1, 1], 10, 5) == (0.0, 1.0)
    t, p = corrected_resampled_ttest([1, 1], [0.5, 0.5], 10, 5)
    assert t == np.inf and p == 0.0
    assert all(np.isnan(corrected_resampled_ttest([1.0], [0.0], 10, 5)))


# ------------------------------------------------------------------- datasets
@pytest.mark.parametrize("name", list(DATASETS))
def test_builtin_datasets_load_without_download(name):
    X, y, task = load_dataset(name)
    assert isinstance(X, pd.DataFrame) and len(X) == len(y)
    assert task == DATASETS[name].task
    if name == "linnerud":
        assert y.shape == (20, 3)  # multi-output regression


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown dataset 'nope'. Built-in datasets: breast_cancer, wine"):
        load_dataset("nope")


@pytest.mark.parametrize(
    "y, task",
    [
        (["a", "b", "a", "b"], "classification"),
        ([0, 1, 2, 1, 0, 2, 1, 0], "classification"),
        ([0.5, 1.25, 3.0, 2.2], "regression"),
        (list(range(100)), "regression"),  # many distinct integers: a count, not labels
    ],
)
def test_infer_task(y, task):
    assert infer_task(pd.Series(y)).task == task


def test_the_task_rule_and_its_vocabulary_are_skdenses_one_rule():
    import skdense._estimators.task
    from skdense.compare import TASKS

    assert infer_task is skdense._estimators.task.infer_task  # what AutoDense uses
    assert TASKS is skdense._estimators.task.TASKS


def test_inferred_task_and_its_reason_are_recorded():
    # The rule is skdense._estimators.task.infer_task, shared with AutoDense (tests/test_task.py);
    # here: compare uses it, and its note states a reason that is true of the data.
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=12)})
    r = compare(X, pd.Series(np.r_[np.arange(10), 0, 1]), models=["linear"], cv=2,
                quick=True, progress=False)
    assert r.info["tasks"] == {"data": "regression"}
    assert r.info["notes"]["data"] == (
        "inferred task='regression' (integer target with 10 distinct values in 12 rows "
        "(more than half the rows))"
    )


def test_multilabel_targets_are_refused_unless_regression_is_asked():
    X = pd.DataFrame({"x": np.arange(20.0)})
    Y = pd.DataFrame({"a": np.arange(20) % 2, "b": (np.arange(20) // 2) % 2})
    with pytest.raises(ValueError, match=r"The target has 2 columns; .* or task='regression'"):
        compare(X, Y, models=["linear"], cv=2, quick=True, progress=False)
    r = compare(X, Y, models=["linear"], cv=2, quick=True, progress=False, task="regression")
    assert r.info["tasks"] == {"data": "regression"} and (r.results["status"] == "ok").all()


def test_no_import_circle_between_results_and_runner():
    # _result and _runner share their constants through _metrics; neither imports
    # the other's module back (the runner builds the result, nothing else).
    import ast
    from pathlib import Path

    import skdense.compare

    def imported(name):
        tree = ast.parse((Path(skdense.compare.__file__).parent / f"{name}.py").read_text())
        return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1}

    assert "_runner" not in imported("_result")
    assert {"_metrics", "_result"} <= imported("_runner")


# -------------------------------------------------------------------- models
def test_default_models_and_grids_cover_every_name_and_task():
    for task in ("classification", "regression"):
        models = default_models(task, quick=True)
        grids = default_grids(task, quick=True)
        assert list(models) == list(grids) == list(MODEL_NAMES)
        for name, model in models.items():
            params = model.get_params()
            for key in grids[name]:
                assert key in params, (task, name, key)
        assert [family(m) for m in models.values()] == ["ML", "ML", "ML", "DL", "DL"]


def test_job_seed_depends_only_on_its_key():
    s = job_seed(0, "iris", "dense", 1)
    assert s == job_seed(0, "iris", "dense", 1)
    assert len({s, job_seed(1, "iris", "dense", 1), job_seed(0, "wine", "dense", 1),
                job_seed(0, "iris", "mlp", 1), job_seed(0, "iris", "dense", 2)}) == 5


def test_import_does_not_load_tensorflow():
    code = "import sys, skdense.compare, skdense.cli; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------- the harness
FAST = ["linear", "random_forest"]


@pytest.fixture(scope="module")
def iris_dense_result():
    return compare(datasets=["iris"], models=["linear", "dense"], cv=3, quick=True, progress=False)


def test_compare_nested_cv_on_iris(iris_dense_result):
    r = iris_dense_result
    res = r.results
    assert len(res) == 2 * 3
    assert set(res["status"]) == {"ok"}
    assert set(res["model"]) == {"linear", "dense"}
    for col in ("accuracy", "log_loss", "fit_seconds", "predict_seconds", "best_params"):
        assert res[col].notna().all()
    assert (res["accuracy"] > 0.8).all()
    # the same outer folds for both models: same sizes fold by fold
    by_fold = res.pivot(index="fold", columns="model", values="n_test")
    assert (by_fold["linear"] == by_fold["dense"]).all()
    assert res["n_train"].iloc[0] + res["n_test"].iloc[0] == 150
    # the inner search picked from the quick grid
    assert {json.loads(p)["model__learning_rate"] for p in res.loc[res.model == "dense", "best_params"]} <= {1e-3, 1e-2}


def test_summary_ranks_and_significance(iris_dense_result):
    r = iris_dense_result
    s = r.summary()
    assert set(s["model"]) == {"linear", "dense"}
    assert s.attrs["test"] == "corrected resampled t-test (Nadeau & Bengio 2003)"
    assert sorted(s["rank"]) == [1.0, 2.0] or sorted(s["rank"]) == [1.5, 1.5]
    acc = r.results.groupby("model")["accuracy"]
    assert s.set_index("model")["accuracy_mean"].to_dict() == pytest.approx(acc.mean().to_dict())
    sig = r.significance()
    assert len(sig) == 1
    row = sig.iloc[0]
    assert (row.best_dl, row.best_ml, row.n_folds) == ("dense", "linear", 3)
    assert 0.0 <= row.p_value <= 1.0
    assert row.test == "corrected resampled t-test (Nadeau & Bengio 2003)"
    # the p-value sits on both compared rows of the summary
    assert s["p_value"].notna().sum() == 2
    assert r.ranks()["avg_rank"].min() >= 1.0


def test_outputs_csv_json_png(iris_dense_result, tmp_path):
    r = iris_dense_result
    csv = r.to_csv(tmp_path / "r.csv")
    back = pd.read_csv(csv)
    assert back[["model", "fold", "accuracy"]].equals(r.results[["model", "fold", "accuracy"]])
    doc = json.loads(open(r.to_json(tmp_path / "r.json")).read())
    assert set(doc) == {"info", "results", "summary", "significance", "verdict",
                        "overall_verdict", "blend", "plots"}
    assert doc["significance"][0]["test"].startswith("corrected resampled t-test")
    png = r.plot(tmp_path / "r.png")
    data = open(png, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_same_seed_same_results_and_backend_independent():
    kw = dict(datasets=["wine"], models=FAST, cv=3, quick=True, progress=False, random_state=3)
    a = compare(**kw).results
    b = compare(**kw, n_jobs=2).results  # loky processes
    cols = ["dataset", "model", "fold", "seed", "accuracy", "log_loss", "best_params"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    c = compare(**{**kw, "random_state": 4}).results
    assert not a["seed"].equals(c["seed"])


def test_regression_multioutput_linnerud():
    r = compare(datasets=["linnerud"], models=["linear", "hist_gradient_boosting"], cv=3,
                quick=True, progress=False)
    res = r.results
    assert set(res["status"]) == {"ok"}
    assert res[["r2", "rmse"]].notna().all().all()
    assert "model__estimator__max_leaf_nodes" in res["best_params"].iloc[-1]  # MultiOutputRegressor
    assert list(r.significance()["best_dl"]) == [None]  # no DL model: no test
    assert np.isnan(r.significance()["p_value"].iloc[0])


def test_user_arrays_task_inferred_and_user_models():
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Lasso
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    r = compare(X, y, models={"linear": None, "lasso": make_pipeline(StandardScaler(), Lasso())},
                param_grids={"lasso": {"lasso__alpha": [0.1, 1.0]}}, cv=2, progress=False)
    assert r.info["tasks"] == {"data": "regression"}
    assert "inferred" in r.info["notes"]["data"]
    res = r.results.set_index("model")
    assert (res["r2"] > 0.3).all()
    assert json.loads(res.loc["lasso", "best_params"].iloc[0])["lasso__alpha"] in (0.1, 1.0)


# ------------------------------------------- nested CV: what each fit sees
_LOG = []


class _Spy(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; logs the row ids (column 0) it fits and predicts."""

    def __init__(self, c=1, sleep=0.0):
        self.c = c
        self.sleep = sleep

    def fit(self, X, y):
        time.sleep(self.sleep)
        _LOG.append(("fit", set(np.asarray(X)[:, 0].astype(int))))
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        _LOG.append(("predict", set(np.asarray(X)[:, 0].astype(int))))
        return np.full(len(X), self.majority_)

    def predict_proba(self, X):
        return (self.classes_ == self.majority_).astype(float)[None, :].repeat(len(X), axis=0)


def test_every_fit_sees_only_outer_training_rows():
    X, y, _ = load_dataset("iris")
    X = X.assign(row_id=np.arange(len(X)))[["row_id", *X.columns]]
    _LOG.clear()
    r = compare(X, y, models={"spy": _Spy()}, param_grids={"spy": {"c": [1, 2]}}, cv=3,
                inner_cv=2, progress=lambda row: _LOG.append(("end", None)))
    jobs, current = [], []
    for kind, ids in _LOG:
        if kind == "end":
            jobs.append(current)
            current = []
        else:
            current.append((kind, ids))
    assert len(jobs) == 3
    tests = []
    for events in jobs:
        test_ids = events[-1][1]  # the last call of a job: predict on the outer test fold
        fits = [ids for kind, ids in events if kind == "fit"]
        assert len(fits) == 2 * 2 + 1  # 2 candidates x 2 inner folds + refit
        for ids in fits:
            assert not ids & test_ids  # inner fits and refit never see the outer test rows
        assert len(fits[-1]) == 100 and all(len(f) == 50 for f in fits[:-1])
        tests.append(test_ids)
    assert set().union(*tests) == set(range(150))  # outer test folds partition the data
    assert (r.results["n_test"] == 50).all()


def test_time_budget_skips_jobs_fold_major():
    X, y, _ = load_dataset("iris")
    r = compare(X, y, models={"a": _Spy(sleep=2.0), "b": _Spy()}, cv=3, time_budget=1.0,
                progress=False)
    res = r.results
    # jobs run fold by fold: (fold 0, a) starts in budget, the rest start after it
    ok = res[res["status"] == "ok"]
    assert list(zip(ok["model"], ok["fold"])) == [("a", 0)]
    skipped = res[res["status"] == "skipped"]
    assert len(skipped) == 5 and skipped["error"].str.contains("time_budget").all()
    # fold 0 is incomplete (b skipped), so no fold counts in the statistics
    assert (r.summary()["n_folds"] == 0).all()


class _Broken(_Spy):
    def fit(self, X, y):
        raise RuntimeError("boom")


def test_errors_raise_or_are_recorded():
    X, y, _ = load_dataset("iris")
    with pytest.raises(RuntimeError, match="boom"):
        compare(X, y, models={"broken": _Broken()}, cv=2, progress=False)
    r = compare(X, y, models={"broken": _Broken(), "spy": _Spy()}, cv=2, progress=False,
                on_error="record")
    res = r.results.set_index("model")
    assert (res.loc["broken", "status"] == "error").all()
    assert res.loc["broken", "error"].iloc[0] == "RuntimeError: boom"
    assert (res.loc["spy", "status"] == "ok").all()


def test_bad_arguments_have_actionable_messages():
    with pytest.raises(ValueError, match=r"Unknown model\(s\) 'xgb'. Default models: linear, random_forest"):
        compare(datasets=["iris"], models=["xgb"], progress=False)
    with pytest.raises(ValueError, match="class 'b' has 1 row"):
        compare(pd.DataFrame({"x": range(12)}), pd.Series(["a"] * 11 + ["b"]), cv=3, progress=False)
    with pytest.raises(ValueError, match="cv must be an int >= 2"):
        compare(datasets=["iris"], cv=1, progress=False)
    with pytest.raises(ValueError, match="non-integer numbers"):
        compare(pd.DataFrame({"x": range(10)}), pd.Series(np.linspace(0, 1, 10)),
                task="classification", progress=False)


def test_compare_result_roundtrip_repr(iris_dense_result):
    r2 = CompareResult(iris_dense_result.results.copy(), iris_dense_result.info)
    assert repr(r2) == "<CompareResult: 1 dataset(s), 2 model(s), 6/6 jobs ok>"


def test_random_search_samples_at_most_n_iter_candidates():
    r = compare(datasets=["iris"], models=["linear"], search="random", n_iter=1, cv=2,
                quick=True, progress=False)
    assert (r.results["status"] == "ok").all()
    assert r.info["search"] == "random"
    assert {json.loads(p)["model__C"] for p in r.results["best_params"]} <= {0.1, 1.0}
    full = compare(datasets=["iris"], models=["linear"], search="random", n_iter=10, cv=2,
                   quick=True, progress=False)
    # n_iter capped at the 2 candidates: no "total space of parameters 2 is smaller
    # than n_iter=10" UserWarning recorded
    assert not full.results["warnings"].str.contains("smaller than n_iter").any()


# ------------------------------------------ journal, interruption, resume
TIMING = list(MEASURED)  # the seconds and the costs: measured, so never repeated


def _stop_after(n):
    """A progress callback that presses Ctrl-C when the n-th job has finished."""
    seen = []

    def progress(row):
        seen.append(row)
        if len(seen) == n:
            raise KeyboardInterrupt

    return progress


def test_interrupted_then_resumed_equals_uninterrupted(tmp_path):
    kw = dict(datasets=["iris", "diabetes"], models=["linear", "random_forest"], cv=3,
              quick=True, random_state=5)
    full = compare(**kw, progress=False).results
    journal = tmp_path / "journal.jsonl"
    with pytest.raises(CompareInterrupted) as info:
        compare(**kw, journal=journal, progress=_stop_after(5))
    partial = info.value.result
    assert isinstance(info.value, KeyboardInterrupt)  # uncaught, it stops like Ctrl-C
    assert info.value.journal == str(journal)
    assert partial.info["partial"] == {"jobs_finished": 5, "jobs_total": 12}
    assert len(read_journal(journal).jobs) == 5
    ran = []
    resumed = compare(**kw, journal=journal, progress=ran.append)
    assert len(ran) == 7  # only the jobs missing from the journal ran
    assert "partial" not in resumed.info
    pd.testing.assert_frame_equal(resumed.results.drop(columns=TIMING), full.drop(columns=TIMING),
                                  check_exact=True)
    # the partial rows are the uninterrupted run's rows, timings included, as recorded
    merged = partial.results.merge(resumed.results, on=["dataset", "model", "fold"])
    assert len(merged) == 5 and (merged["fit_seconds_x"] == merged["fit_seconds_y"]).all()
    # a third call runs nothing and returns the same table again
    again = compare(**kw, journal=journal, progress=ran.append)
    assert len(ran) == 7
    pd.testing.assert_frame_equal(again.results, resumed.results, check_exact=True)


def test_a_resumed_job_gives_the_numbers_of_an_uninterrupted_run(tmp_path, iris_dense_result):
    # Resume runs the missing jobs in another process, after other jobs (or none)
    # than the first run did; a job's numbers must depend on (seed, dataset, model,
    # fold) alone, the Keras model's included.
    from skdense.compare._journal import Journal

    full = iris_dense_result.results
    kw = dict(datasets=["iris"], models=["linear", "dense"], cv=3, quick=True)
    journal = tmp_path / "j.jsonl"
    with pytest.raises(CompareInterrupted):  # only to let compare write the header
        compare(**kw, journal=journal, progress=_stop_after(1))
    settings = read_journal(journal).header["settings"]
    config, data = settings["configs"]["iris"], settings["data"]["iris"]
    with Journal.open(journal, settings) as book:  # every other job, as the full run recorded it
        for row in full.to_dict("records"):
            if (row["model"], row["fold"]) not in (("dense", 1), ("linear", 0)):
                book.append((row["dataset"], row["model"], row["fold"], row["seed"],
                             config[row["model"]], data), row)
    ran = []
    # the lines written by hand have no predictions file: the blend leaves their folds out
    with pytest.warns(UserWarning, match=r"4 finished job\(s\) .* have no predictions file"):
        resumed = compare(**kw, journal=journal, progress=ran.append)
    assert [(r["model"], r["fold"]) for r in ran] == [("dense", 1)]
    pd.testing.assert_frame_equal(resumed.results.drop(columns=TIMING), full.drop(columns=TIMING),
                                  check_exact=True)


def test_resume_with_other_settings_is_refused(tmp_path):
    kw = dict(datasets=["iris"], models=["linear"], cv=2, quick=True, progress=False)
    journal = tmp_path / "j.jsonl"
    compare(**kw, journal=journal)
    with pytest.raises(JournalMismatch, match=r"random_state differs \(journal: 0; this run: 1\)"):
        compare(**kw, journal=journal, random_state=1)
    with pytest.raises(JournalMismatch, match=r"cv differs \(journal: 2; this run: 3\)"):
        compare(**{**kw, "cv": 3}, journal=journal)
    X, y, _ = load_dataset("iris")
    with pytest.raises(JournalMismatch, match="data differs for iris"):
        compare(X.assign(**{"sepal length (cm)": X.iloc[:, 0] + 1}), y, data_name="iris",
                models=["linear"], cv=2, quick=True, progress=False, journal=journal)


def test_skipped_jobs_are_not_journaled_so_a_rerun_runs_them(tmp_path):
    X, y, _ = load_dataset("iris")
    kw = dict(models={"a": _Spy(sleep=0.3), "b": _Spy()}, cv=3, progress=False)
    journal = tmp_path / "j.jsonl"
    r = compare(X, y, **kw, time_budget=0.1, journal=journal)
    assert (r.results["status"] == "skipped").sum() == 5
    assert len(read_journal(journal).jobs) == 1
    r = compare(X, y, **kw, journal=journal)
    assert (r.results["status"] == "ok").all()


def test_non_positive_time_budget_is_refused():
    for bad in (0, -1, float("nan"), "10"):
        with pytest.raises(ValueError, match="time_budget must be a positive number of seconds"):
            compare(datasets=["iris"], models=["linear"], time_budget=bad, progress=False)


def test_infinite_feature_values_are_refused_naming_the_column():
    X, y, _ = load_dataset("iris")
    X = X.copy()
    X.iloc[[3, 10], 2] = np.inf
    X.iloc[7, 0] = -np.inf
    with pytest.raises(ValueError, match=r"Infinite values \(inf\) in column\(s\) 'sepal length "
                                         r"\(cm\)' \(1 value\(s\), row\(s\) 7\); 'petal length "
                                         r"\(cm\)' \(2 value\(s\), row\(s\) 3, 10\)"):
        compare(X, y, models=["linear"], progress=False)
    with pytest.raises(ValueError, match=r"column\(s\) 1 \(5 value\(s\), row\(s\) 1, 3, 5, 7, 9\)"):
        compare(np.array([[0.0, 1.0], [1.0, np.inf]] * 5), np.arange(10.0), models=["linear"],
                cv=2, progress=False)
    with pytest.raises(ValueError, match=r"The target has 1 infinite value\(s\)"):
        compare(X.iloc[:, :1].abs().clip(upper=9), pd.Series(np.r_[np.inf, np.arange(149.0)]),
                models=["linear"], progress=False)
