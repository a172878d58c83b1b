"""skdense._estimators.task: the one rule that tells classification from regression.

No TensorFlow, no fitting: the rule only looks at the target.
"""

import doctest

import numpy as np
import pandas as pd
import pytest

import skdense._estimators.task
from skdense._estimators.task import MAX_INTEGER_CLASSES, TARGET_TYPES, TASKS, TaskDecision, infer_task


@pytest.mark.parametrize(
    "y, target_type, reason",
    [
        (["a", "b", "a", "b"], "binary", "non-numeric target with 2 distinct values"),
        (["a", "b", "c", "a"], "multiclass", "non-numeric target with 3 distinct values"),
        (pd.Series(["x", None, "y"], dtype="string"), "binary", "non-numeric target with 2 distinct values"),
        (pd.Series([1, 2, 3, 1], dtype="category"), "multiclass", "categorical target with 3 distinct values"),
        ([True, False, True], "binary", "boolean target"),
        ([0, 1, 1, 0], "binary", "integer target with 2 distinct values"),
        ([0, 1, 2, 1, 0, 2, 1, 0], "multiclass",
         "integer target with 3 distinct values in 8 rows (at most 20, and at most half the rows)"),
        (np.array([1.0, 2.0, 2.0, 1.0, 3.0, 3.0]), "multiclass",
         "integer target with 3 distinct values in 6 rows (at most 20, and at most half the rows)"),
        (pd.Series([1, 2, None, 2, 1, 3, 3], dtype="Int64"), "multiclass",
         "integer target with 3 distinct values in 6 rows (at most 20, and at most half the rows)"),
        ([0.5, 1.25, 3.0, 2.2], "regression", "numeric target with non-integer values"),
        (list(range(100)), "regression", "integer target with 100 distinct values (more than 20)"),
        (np.array([[0.5], [1.5], [2.5]]), "regression", "numeric target with non-integer values"),
        (np.array([[0, 1], [1, 0], [1, 1]]), "multilabel", "2 target columns holding only 0 and 1"),
        (pd.DataFrame({"a": [True, False], "b": [False, True]}), "multilabel", "2 target columns holding only 0 and 1"),
        (np.array([[1.5, 2.0], [3.0, 4.0]]), "multioutput-regression", "2 numeric target columns"),
        (pd.DataFrame({"a": ["u", "v"], "b": [1, 2]}), "multiclass-multioutput", "2 target columns, not all numeric"),
    ],
)
def test_each_kind_of_target(y, target_type, reason):
    decision = infer_task(y)
    assert decision.target_type == target_type
    assert decision.task == TARGET_TYPES[target_type]
    assert decision.reason == reason
    # Ambiguous: whole numbers that the threshold sent to regression (maybe labels).
    assert decision.ambiguous == (target_type == "regression" and reason.startswith("integer"))


def test_thirty_integer_classes_are_regression_with_a_true_reason():
    y = np.random.default_rng(0).integers(0, 30, 120)
    assert len(np.unique(y)) == 30
    decision = infer_task(y)
    assert decision.task == "regression" and decision.ambiguous
    assert decision.reason == "integer target with 30 distinct values (more than 20)"


def test_few_rows_per_value_is_regression_and_says_so():
    # 10 distinct values in 12 rows: fewer than 20, so "more than 20" (what compare
    # said before) would be false; the reason names the rule that applied.
    y = np.r_[np.arange(10), 0, 1]
    decision = infer_task(y)
    assert decision.task == "regression" and decision.ambiguous
    assert decision.reason == "integer target with 10 distinct values in 12 rows (more than half the rows)"
    assert "more than 20" not in decision.reason


@pytest.mark.parametrize(
    "k, n, task",
    [
        (MAX_INTEGER_CLASSES, 1000, "classification"),  # the threshold itself is classification
        (MAX_INTEGER_CLASSES + 1, 1000, "regression"),
        (6, 12, "classification"),  # exactly half the rows
        (7, 12, "regression"),
        (2, 2, "classification"),  # two values are always binary
    ],
)
def test_thresholds(k, n, task):
    y = np.arange(n) % k
    assert len(np.unique(y)) == k
    assert infer_task(y).task == task


def test_reasons_are_true():
    # Every reason that gives a count gives the right one, whatever the rule path.
    rng = np.random.default_rng(1)
    for n in (4, 12, 40, 200):
        for k in (1, 2, 3, 7, 19, 20, 21, 35):
            y = rng.permutation(np.arange(n) % k)
            decision = infer_task(y)
            k_true = len(np.unique(y))
            assert f"with {k_true} distinct values" in decision.reason
            if "more than 20" in decision.reason:
                assert k_true > 20
            if "more than half the rows" in decision.reason:
                assert 2 * k_true > n and f"in {n} rows" in decision.reason
            if decision.task == "classification":
                assert k_true <= 2 or (k_true <= 20 and 2 * k_true <= n)


def test_decision_is_frozen_and_vocabulary_is_shared():
    decision = infer_task([0.5, 1.5])
    assert isinstance(decision, TaskDecision)
    with pytest.raises(AttributeError):
        decision.reason = "something else"
    assert TASKS == ("classification", "regression")
    assert set(TARGET_TYPES.values()) == set(TASKS)


def test_targets_it_cannot_read():
    with pytest.raises(ValueError, match=r"no values \(all missing\)"):
        infer_task([np.nan, np.nan])
    with pytest.raises(ValueError, match=r"1-D \(one target\) or 2-D"):
        infer_task(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="no target columns"):
        infer_task(np.zeros((3, 0)))


def test_docstring_examples_run():
    result = doctest.testmod(skdense._estimators.task)
    assert result.attempted >= 2 and result.failed == 0
