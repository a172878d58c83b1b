"""What each model costs (issue 21): the cost columns, their journal check, the Pareto front.

Small: a 60-row table, the linear model and a random forest, 3 outer folds (6
jobs, a few seconds); the skdense model's size (``skdense.save``) is in the one
slow test.
"""

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from skdense.compare import MalformedJournal, OutputFolder, compare, pareto_front, read_journal
from skdense.compare._costs import PeakMemory, model_size
from skdense.compare._journal import decode, encode
from skdense.compare._row import COSTS, problem

KW = dict(models=["linear", "random_forest"], cv=3, quick=True, data_name="data", progress=False)


def _table(n=60):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["f1", "f2", "f3"])
    y = pd.Series((X["f1"] + 0.3 * rng.normal(size=n) > 0).astype(int), name="target")
    return X, y


@pytest.fixture(scope="module")
def journaled(tmp_path_factory):
    journal = tmp_path_factory.mktemp("costs") / "journal.jsonl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare(*_table(), **KW, journal=journal)
    return result, journal


# --------------------------------------------------------------- the columns
def test_ok_rows_carry_positive_costs(journaled):
    result, _ = journaled
    r = result.results
    assert (r["status"] == "ok").all()
    for name in COSTS:
        assert name in r, name
        assert (r[name] > 0).all(), (name, r[name].tolist())
    # the batch is 1,000 rows: it costs more than one row, never less (a forest
    # predicts 1,000 rows in more than the time of one)
    assert (r["latency_1000_ms"] >= r["latency_row_ms"] * 0.5).all()
    # a random forest of 50 trees is larger on disk than a logistic regression
    size = r.groupby("model")["size_bytes"].median()
    assert size["random_forest"] > 5 * size["linear"]


def test_size_of_a_scikit_learn_model_is_its_pickle():
    import pickle

    from sklearn.linear_model import LogisticRegression

    X, y = _table()
    model = LogisticRegression().fit(X, y)
    assert model_size(model, skdense_model=False) == len(pickle.dumps(model, protocol=5))


def test_peak_memory_sees_what_the_block_allocates():
    with PeakMemory() as small:
        pass
    with PeakMemory() as large:
        block = np.ones(40 * 2**20 // 8)  # 40 MiB, written to: resident
        del block
    assert large.method in ("vmhwm", "sampled")
    assert 35 < large.mb < 200, large.mb
    assert small.mb < 5, small.mb


def test_summary_and_costs_are_medians_over_folds(journaled):
    result, _ = journaled
    r, s = result.results, result.summary()
    for model in ("linear", "random_forest"):
        mine = r[r["model"] == model]
        row = s[s["model"] == model].iloc[0]
        for name in COSTS:
            assert row[name] == pytest.approx(mine[name].median())
    costs = result.costs().set_index("model")
    assert list(costs.index) == ["linear", "random_forest"]
    assert costs.loc["linear", "n_jobs"] == 3
    assert costs.loc["random_forest", "size_bytes"] == pytest.approx(
        r.loc[r["model"] == "random_forest", "size_bytes"].median())


# ------------------------------------------------------------- the journal
def test_the_journal_keeps_the_costs_and_refuses_a_text_cost(journaled, tmp_path):
    result, journal = journaled
    rows = [row for _, row in read_journal(journal).jobs]  # in the order they finished
    written = {(row["model"], row["fold"]): [row[name] for name in COSTS] for row in rows}
    assert written == {(r["model"], r["fold"]): [r[name] for name in COSTS]
                       for r in result.results.to_dict("records")}  # bit for bit

    row = rows[0]
    assert problem(row) is None
    assert problem({**row, "latency_row_ms": "0.3"}) == (
        "its row's 'latency_row_ms' is '0.3' (str); expected a number")
    missing = {k: v for k, v in row.items() if k != "peak_memory_mb"}
    assert problem(missing) == "its row has no 'peak_memory_mb'"

    # a line whose cost is text (its checksum made right: a deliberate edit) stops the reading
    lines = journal.read_bytes().split(b"\n")[:-1]
    record = decode(lines[2])
    record["row"]["size_bytes"] = "3371"
    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"\n".join([*lines[:2], encode(record)[:-1], *lines[3:]]) + b"\n")
    with pytest.raises(MalformedJournal, match=r"line 3: its row's 'size_bytes' is '3371' "
                                               r"\(str\); expected a number") as info:
        read_journal(edited)
    assert info.value.line == 3


# ------------------------------------------------------------ Pareto front
def test_pareto_front_on_a_hand_made_table():
    table = pd.DataFrame({
        "model": ["a", "b", "c", "d", "e", "f", "g"],
        "score": [0.90, 0.80, 0.95, 0.85, np.nan, 0.90, 0.70],
        "cost": [1.0, 0.5, 10.0, 2.0, 0.1, 1.0, np.nan],
    })
    front = pareto_front(table["score"], table["cost"])
    # a, f: equal, both on it; b: the cheapest; c: the best; d: beaten by a
    # (better and cheaper); e, g: a NaN cannot be compared
    assert dict(zip(table["model"], front)) == {
        "a": True, "b": True, "c": True, "d": False, "e": False, "f": True, "g": False}
    # an error (lower is better): the order of the scores turns round
    errors = pareto_front([1.0, 2.0, 0.5], [1.0, 0.5, 3.0], higher_is_better=False)
    assert errors.tolist() == [True, True, True]
    assert pareto_front([1.0, 2.0], [1.0, 1.0], higher_is_better=False).tolist() == [True, False]


def test_cost_frontier_is_written_and_registered(journaled, tmp_path):
    result, _ = journaled
    assert result.plots == {}
    paths = OutputFolder(tmp_path / "out").write(result)
    assert list(result.plots) == ["compare", "cost_frontier"]
    for name, path in result.plots.items():
        assert path == os.path.join(tmp_path / "out", f"{name}.png") and path in paths
        with open(path, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert result.learning_curve is None
    assert not (tmp_path / "out" / "learning_curve.png").exists()


@pytest.mark.slow  # TensorFlow: the skdense model's size is that of skdense.save's file
def test_a_skdense_model_is_measured_by_what_skdense_save_writes(tmp_path):
    import skdense
    from skdense import DenseClassifier

    X, y = _table()
    model = DenseClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, y)
    skdense.save(model, tmp_path / "m.skdense")
    saved = os.path.getsize(tmp_path / "m.skdense")
    assert model_size(model, skdense_model=True) == pytest.approx(saved, rel=0.01)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = compare(*_table(), models=["dense"], cv=2, quick=True, progress=False).results
    assert (r["status"] == "ok").all()
    for name in COSTS:
        assert (r[name] > 0).all(), (name, r[name].tolist())
    assert not r["warnings"].str.contains("not measured").any()


def test_format_size_is_the_one_size_formatter_of_the_table_and_the_report():
    from skdense import cli
    from skdense.compare import _report, format_size

    assert [format_size(n) for n in (None, float("nan"), 0, 999, 1000, 12_345, 1_500_000)] == [
        "-", "-", "0 B", "999 B", "1 kB", "12.3 kB", "1.5 MB"]
    # one place: neither the command line nor the report keeps a copy of its own
    assert not hasattr(cli, "_size") and not hasattr(_report, "_size")
