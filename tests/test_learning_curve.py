"""Would more data change it? (issue 21) ``compare(learning_curve=True)`` and ``--learning-curve``.

Small: a 150-row table, the linear model (ML) and sklearn's MLP (DL, no
TensorFlow), 3 outer folds: 6 jobs and 18 curve points, a few seconds a run.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import RepeatedStratifiedKFold

from skdense.cli import main
from skdense.compare import compare, learning_curve_crossings, read_journal
from skdense.compare import _learning_curve
from skdense.compare._journal import decode, encode
from skdense.compare._learning_curve import FRACTIONS, subsets

KW = dict(models=["linear", "mlp"], cv=3, quick=True, data_name="data", random_state=3)


def _table(n=150):
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["f1", "f2", "f3"])
    y = pd.Series(np.where(X["f1"] + 0.5 * rng.normal(size=n) > 0.4, "yes", "no"), name="target")
    return X, y


X, Y = _table()


def _run(journal=None, **kw):
    ran = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare(X, Y, **KW, journal=journal, progress=ran.append, **kw)
    return result, ran


@pytest.fixture
def spy(monkeypatch):
    """Every learning-curve point fitted: (point, row), as run_point received and returned it."""
    seen = []
    real = _learning_curve.run_point

    def run_point(point, *args, **kwargs):
        row = real(point, *args, **kwargs)
        seen.append((point, row))
        return row

    monkeypatch.setattr(_learning_curve, "run_point", run_point)
    return seen


# ---------------------------------------------------------- the subsets
def test_subsets_are_nested_and_stratified():
    y = np.array(["a"] * 70 + ["b"] * 25 + ["c"] * 5)
    rng = np.random.default_rng(0)
    y = y[rng.permutation(len(y))]
    picked = subsets(y, FRACTIONS, seed=11, stratify=True)
    assert list(picked) == list(FRACTIONS)
    for small, large in zip(FRACTIONS, FRACTIONS[1:]):
        assert set(picked[small]) < set(picked[large])  # nested
    assert len(picked[1.0]) == len(y) and np.array_equal(picked[1.0], np.arange(len(y)))
    for f, idx in picked.items():
        assert np.array_equal(idx, np.sort(idx)) and len(set(idx)) == len(idx)
        counts = pd.Series(y[idx]).value_counts()
        # round(f * n_class) of every class, at least one: the class proportions are kept
        assert counts.to_dict() == {c: max(1, round(f * n)) for c, n in
                                    (("a", 70), ("b", 25), ("c", 5))}, f
    # seeded: the same seed draws the same rows, another seed others
    again = subsets(y, FRACTIONS, seed=11, stratify=True)
    assert all(np.array_equal(again[f], picked[f]) for f in FRACTIONS)
    assert not np.array_equal(subsets(y, FRACTIONS, seed=12, stratify=True)[0.5], picked[0.5])


def test_subsets_for_regression_are_nested_prefixes():
    y = np.linspace(0, 1, 41)
    picked = subsets(y, FRACTIONS, seed=5, stratify=False)
    assert [len(picked[f]) for f in FRACTIONS] == [4, 10, 20, 41]
    for small, large in zip(FRACTIONS, FRACTIONS[1:]):
        assert set(picked[small]) < set(picked[large])


# ------------------------------------------------- the curve of a real run
def test_curve_points_use_the_outer_folds_and_the_folds_choices(spy):
    result, _ = _run(learning_curve=True)
    curve = result.learning_curve
    sig = result.significance().iloc[0]
    assert set(curve["model"]) == {sig.best_dl, sig.best_ml} == {"mlp", "linear"}
    assert len(curve) == 2 * 3 * len(FRACTIONS)
    assert curve["error"].eq("").all() and curve["score"].notna().all()

    outer = list(RepeatedStratifiedKFold(n_splits=3, n_repeats=1, random_state=3).split(X, Y))
    assert len(spy) == 2 * 3 * (len(FRACTIONS) - 1)  # the 100% points are the jobs themselves
    rows_of = {}
    for point, row in spy:
        train, test = outer[point.fold]
        assert np.array_equal(point.test, test)  # scored on the fold's outer test rows
        assert set(point.train) <= set(train)  # fitted on some of its training rows only
        assert row["n_train"] == len(point.train)
        rows_of.setdefault((point.dataset, point.fold, point.fraction), {})[point.model] = (
            tuple(point.train))
        job = result.results[(result.results["model"] == point.model)
                             & (result.results["fold"] == point.fold)].iloc[0]
        assert point.seed == job["seed"] and point.best_params == job["best_params"]
    # both models of a fold fit on the same rows
    assert all(len(set(models.values())) == 1 for models in rows_of.values())
    # the subsets are those subsets() documents: stratified and nested, for each fold
    for fold, (train, _) in enumerate(outer):
        by_fraction = {f: set(rows_of["data", fold, f]["linear"]) for f in FRACTIONS[:-1]}
        for small, large in zip(FRACTIONS[:-1], FRACTIONS[1:-1]):
            assert by_fraction[small] < by_fraction[large]
        full = Y.iloc[train].value_counts()
        for f, rows in by_fraction.items():
            got = Y.iloc[sorted(rows)].value_counts()
            assert got.to_dict() == {c: max(1, round(f * n)) for c, n in full.items()}
    # the 100% point is the job's own score
    full = curve[curve["fraction"] == 1.0].merge(result.results, on=["model", "fold"])
    assert (full["score"] == full["accuracy"]).all() and (full["n_train_x"] == full["n_train_y"]).all()


def test_resume_does_not_fit_finished_curve_points_again(tmp_path, spy):
    journal = tmp_path / "journal.jsonl"
    first, _ = _run(journal, learning_curve=True)
    fitted = len(spy)
    assert fitted == 2 * 3 * 3  # 2 models, 3 folds, 3 fractions below 100%
    lines = journal.read_bytes().split(b"\n")[:-1]
    curve_lines = [line for line in lines if decode(line)["kind"] == "curve"]
    assert len(curve_lines) == fitted and len(read_journal(journal).curve) == fitted

    # everything in the journal: no job and no point runs again, the same table comes back
    again, ran = _run(journal, learning_curve=True)
    assert ran == [] and len(spy) == fitted
    pd.testing.assert_frame_equal(again.learning_curve, first.learning_curve)

    # a run stopped before its last point: only that point runs
    journal.write_bytes(b"".join(line + b"\n" for line in lines[:-1]))
    resumed, ran = _run(journal, learning_curve=True)
    assert ran == [] and len(spy) == fitted + 1
    lost = decode(lines[-1])["key"]
    point = spy[-1][0]
    assert (point.model, point.fold, point.fraction) == (lost["model"], lost["fold"],
                                                         lost["fraction"])
    pd.testing.assert_frame_equal(resumed.learning_curve.drop(columns="fit_seconds"),
                                  first.learning_curve.drop(columns="fit_seconds"))


def test_a_curve_line_with_a_text_score_is_refused(tmp_path):
    from skdense.compare import MalformedJournal

    journal = tmp_path / "journal.jsonl"
    _run(journal, learning_curve=True)
    lines = journal.read_bytes().split(b"\n")[:-1]
    at = next(i for i, line in enumerate(lines) if decode(line)["kind"] == "curve")
    record = decode(lines[at])
    record["row"]["score"] = "0.9"
    lines[at] = encode(record)[:-1]
    journal.write_bytes(b"".join(line + b"\n" for line in lines))
    with pytest.raises(MalformedJournal, match=rf"line {at + 1}: its row's 'score' is '0.9'"):
        read_journal(journal)


def test_off_by_default_no_curve_no_point(tmp_path, spy):
    journal = tmp_path / "journal.jsonl"
    result, _ = _run(journal)
    assert result.learning_curve is None and spy == []
    assert read_journal(journal).curve == []
    assert b'"kind":"curve"' not in journal.read_bytes()
    with pytest.raises(ValueError, match="learning_curve=True"):
        result.plot_learning_curve()
    # asked for later, on the same journal: the jobs are read back, only the curve is fitted
    later, ran = _run(journal, learning_curve=True)
    assert ran == [] and len(spy) == 18 and len(later.learning_curve) == 24


# ---------------------------------------------------------- where they cross
def _curve(dl, ml, rows=(10, 25, 50, 100)):
    out = []
    for family, model, scores in (("DL", "dense", dl), ("ML", "linear", ml)):
        for fraction, n, s in zip(FRACTIONS, rows, scores):
            out.append({"dataset": "d", "family": family, "model": model, "fold": 0,
                        "fraction": fraction, "n_train": n, "metric": "accuracy", "score": s,
                        "fit_seconds": 0.1, "error": ""})
    return pd.DataFrame(out)


def test_crossings_are_interpolated_in_rows():
    # DL - ML: -0.1 at 25 rows, +0.3 at 50: they cross a quarter of the way, at 31.25 rows
    said = learning_curve_crossings(_curve([0.5, 0.6, 1.0, 0.9], [0.6, 0.7, 0.7, 0.8]))
    assert said == {"d": "dense vs linear: the curves cross at ~31 rows (DL ahead beyond)"}
    said = learning_curve_crossings(_curve([0.7, 0.8, 0.6, 0.7], [0.6, 0.7, 0.7, 0.8]))
    assert said == {"d": "dense vs linear: the curves cross at ~38 rows (DL behind beyond)"}
    said = learning_curve_crossings(_curve([0.9, 0.9, 0.9, 0.9], [0.5, 0.6, 0.7, 0.8]))
    assert said == {"d": "dense vs linear: DL stays ahead at every size"}
    said = learning_curve_crossings(_curve([0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]))
    assert said == {"d": "dense vs linear: DL stays behind at every size"}


def test_the_command_line_prints_and_writes_the_curve(tmp_path, capsys):
    csv = tmp_path / "t.csv"
    X.assign(target=Y).to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["compare", "--csv", str(csv), "--target", "target", "--models", "linear", "mlp",
            "--quick", "--seed", "3", "--no-progress", "--output", str(out)]
    assert main([*args, "--learning-curve"]) == 0
    stdout = " ".join(capsys.readouterr().out.split())
    assert "learning curve (best DL vs best ML" in stdout
    assert ("t: mlp vs linear: the curves cross at ~" in stdout
            or "t: mlp vs linear: DL stays" in stdout), stdout
    assert "and 24 learning-curve points" in stdout
    curve = pd.read_csv(out / "learning_curve.csv")
    assert len(curve) == 24 and (out / "learning_curve.png").exists()
    assert (out / "cost_frontier.png").exists()
    report = (out / "report.html").read_text(encoding="utf-8")
    section = report.split('<section id="learning-curve">')[1].split("</section>")[0]
    assert "mlp vs linear: " in section and "No learning curve" not in section
    for plot in ("compare", "cost_frontier", "learning_curve"):
        assert f'<img alt="{plot}" src="data:image/png;base64,' in report
    costs = report.split('<section id="costs">')[1].split("</section>")[0]
    assert "<td>mlp</td>" in costs and "<td>linear</td>" in costs


def test_an_interruption_in_the_curve_keeps_its_finished_points(tmp_path, monkeypatch):
    from skdense.compare import CompareInterrupted

    journal = tmp_path / "journal.jsonl"
    real, fitted = _learning_curve.run_point, []

    def stop_after_three(point, *args, **kwargs):
        if len(fitted) == 3:
            raise KeyboardInterrupt
        fitted.append(point.key)
        return real(point, *args, **kwargs)

    monkeypatch.setattr(_learning_curve, "run_point", stop_after_three)
    with pytest.raises(CompareInterrupted) as stop:
        _run(journal, learning_curve=True)
    partial = stop.value.result.info["partial"]
    assert partial == {"jobs_finished": 6, "jobs_total": 6, "curve_points_finished": 3}
    assert set(dict(read_journal(journal).curve)) == set(fitted)  # on disk, as they finished
    monkeypatch.setattr(_learning_curve, "run_point", real)
    result, ran = _run(journal, learning_curve=True)
    assert ran == [] and len(result.learning_curve) == 24


@pytest.mark.parametrize("bad", ["yes", "no", 1, None])
def test_learning_curve_not_a_bool_is_a_clear_error_before_any_job(bad):
    # "no" is truthy: without the check it would run the curve (or, for None, the
    # jobs) before anyone noticed; the check comes before the first job.
    ran = []
    with pytest.raises(ValueError, match=r"learning_curve must be True or False, got"):
        compare(X, Y, **KW, progress=ran.append, learning_curve=bad)
    assert ran == []
