"""The one rule that tells classification from regression by looking at a target.

:class:`~skdense.pipeline.AutoDense` (and so ``make_dense_pipeline()``),
:func:`skdense.compare.compare` and ``skdense compare`` all call
:func:`infer_task`, so a target gets the same answer, for the same stated reason,
wherever it is used.

The rule, for one target column (NaNs ignored; ``n`` rows, ``k`` distinct values):

1. categories, booleans, strings or other non-numbers: classification;
2. numbers that are not all whole numbers: regression;
3. whole numbers (integer dtype, or floats such as ``3.0``):

   - ``k <= 2``: classification (binary);
   - ``k > MAX_INTEGER_CLASSES`` (20): regression, a quantity such as a count or
     an age rather than labels;
   - ``k > n / 2``: regression, most values would be a class of one or two rows;
   - otherwise classification (multiclass).

   The two regression cases are *ambiguous*: the numbers may still be class
   labels. The rule says so (``TaskDecision.ambiguous``), and a caller that does
   not print the reason warns.

Several target columns: all 0/1 (or boolean) is multilabel classification, all
numeric is multi-output regression, anything else multiclass-multioutput
(classification that no skdense estimator fits directly; they say what to do).

Only numpy and pandas are imported here.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

TASKS = ("classification", "regression")
"""The two tasks: what ``task=`` takes in AutoDense, make_dense_pipeline and compare."""

TARGET_TYPES = {
    "binary": "classification",
    "multiclass": "classification",
    "multilabel": "classification",
    "multiclass-multioutput": "classification",
    "regression": "regression",
    "multioutput-regression": "regression",
}
"""Each kind of target :func:`infer_task` can report, and its task."""

MAX_INTEGER_CLASSES = 20
"""Whole-number targets with more distinct values than this are regression."""


@dataclass(frozen=True)
class TaskDecision:
    """What :func:`infer_task` decided about a target, and why.

    Attributes
    ----------
    target_type : str
        One of ``TARGET_TYPES``: "binary", "multiclass", "multilabel",
        "multiclass-multioutput", "regression" or "multioutput-regression".
    reason : str
        Why, in words a user can check against their data, e.g. "integer
        target with 30 distinct values (more than 20)".
    ambiguous : bool
        True when the values are whole numbers that the threshold sent to
        regression: they could still be class labels (pass the task then).
    """

    target_type: str
    reason: str
    ambiguous: bool = False

    @property
    def task(self):
        """``"classification"`` or ``"regression"``."""
        return TARGET_TYPES[self.target_type]


def _columns(y):
    """``y`` -> list of pandas Series, one per target column."""
    if isinstance(y, pd.DataFrame):
        return [y.iloc[:, j] for j in range(y.shape[1])]
    if isinstance(y, pd.Series):
        return [y.reset_index(drop=True)]
    values = np.asarray(y)
    if values.ndim == 1:
        return [pd.Series(values)]
    if values.ndim == 2:
        return [pd.Series(values[:, j]) for j in range(values.shape[1])]
    raise ValueError(
        f"y must be 1-D (one target) or 2-D (n_samples, n_targets); got shape {values.shape}."
    )


def _is_number_column(column):
    return ptypes.is_numeric_dtype(column.dtype) and not ptypes.is_bool_dtype(column.dtype)


def _whole(values):
    return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def _one_column(column):
    present = column.dropna()
    n, k = len(present), int(present.nunique())
    if n == 0:
        raise ValueError("y has no values (all missing); the task cannot be inferred.")
    classes = "binary" if k <= 2 else "multiclass"
    if isinstance(column.dtype, pd.CategoricalDtype):
        return TaskDecision(classes, f"categorical target with {k} distinct values")
    if ptypes.is_bool_dtype(column.dtype):
        return TaskDecision("binary", "boolean target")
    if not ptypes.is_numeric_dtype(column.dtype):
        return TaskDecision(classes, f"non-numeric target with {k} distinct values")
    if not _whole(present.to_numpy(dtype=np.float64)):
        return TaskDecision("regression", "numeric target with non-integer values")
    if k <= 2:
        return TaskDecision("binary", f"integer target with {k} distinct values")
    if k > MAX_INTEGER_CLASSES:
        return TaskDecision(
            "regression",
            f"integer target with {k} distinct values (more than {MAX_INTEGER_CLASSES})",
            ambiguous=True,
        )
    if 2 * k > n:
        return TaskDecision(
            "regression",
            f"integer target with {k} distinct values in {n} rows (more than half the rows)",
            ambiguous=True,
        )
    return TaskDecision(
        "multiclass",
        f"integer target with {k} distinct values in {n} rows "
        f"(at most {MAX_INTEGER_CLASSES}, and at most half the rows)",
    )


def infer_task(y):
    """Decide classification or regression from a target, and say why.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        A list, numpy array, pandas Series or DataFrame.

    Returns
    -------
    TaskDecision
        ``.task`` ("classification" or "regression"), ``.target_type``,
        ``.reason`` and ``.ambiguous``; the rule is in this module's docstring.

    Examples
    --------
    >>> from skdense.compare import infer_task
    >>> infer_task(["a", "b", "a"]).task
    'classification'
    >>> infer_task(list(range(30)) * 4).reason
    'integer target with 30 distinct values (more than 20)'
    """
    columns = _columns(y)
    if not columns:
        raise ValueError("y has no target columns; the task cannot be inferred.")
    if len(columns) == 1:
        return _one_column(columns[0])
    m = len(columns)

    def indicator(column):
        if ptypes.is_bool_dtype(column.dtype):
            return True
        present = column.dropna()
        return _is_number_column(column) and bool(present.isin([0, 1]).all())

    if all(indicator(c) for c in columns):
        return TaskDecision("multilabel", f"{m} target columns holding only 0 and 1")
    if all(_is_number_column(c) for c in columns):
        return TaskDecision("multioutput-regression", f"{m} numeric target columns")
    return TaskDecision("multiclass-multioutput", f"{m} target columns, not all numeric")
