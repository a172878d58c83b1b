"""``skdense.compare``: classical ML and dense networks side by side, honestly.

Nested cross-validation of a model zoo (linear, random forest, gradient boosting,
sklearn's MLP, skdense's Dense*) on built-in datasets or your table, locally or on
a Dask cluster. See ``docs/compare.md`` and ``skdense compare --help``.

A run never loses finished work: with ``journal=`` every finished job is
recorded on disk as it finishes and a rerun continues from it
(``read_journal``, ``JournalMismatch``, ``MalformedJournal``), an interruption raises
``CompareInterrupted`` with the partial result, and ``OutputFolder`` checks an
output folder before any work and writes files atomically.

``infer_task`` is skdense's one task rule (``AutoDense`` uses it too); the command
line (``skdense.cli``) uses only the names exported here.

Importing this package is cheap: each name is imported from its module on
first use, and none imports TensorFlow.
"""

from typing import TYPE_CHECKING

from .._lazy import attributes as _lazy_attributes

# public name -> the module that defines it, imported on first access (PEP 562):
# ``OutputFolder`` alone, what ``skdense compare --output`` checks first, needs
# neither pandas nor scikit-learn.
_LAZY = {
    "TASKS": ".._estimators.task",
    "TaskDecision": ".._estimators.task",
    "infer_task": ".._estimators.task",
    "DATASETS": "._datasets",
    "DEFAULT_DATASETS": "._datasets",
    "check_finite": "._datasets",
    "check_target": "._datasets",
    "load_csv": "._datasets",
    "load_dataset": "._datasets",
    "sniff_separator": "._datasets",
    "learning_curve_crossings": "._learning_curve",
    "format_size": "._costs",
    "pareto_front": "._costs",
    "JournalMismatch": "._journal",
    "MalformedJournal": "._journal",
    "read_journal": "._journal",
    "HIGHER_IS_BETTER": "._metrics",
    "METRICS": "._metrics",
    "MODEL_NAMES": "._candidates",
    "default_grids": "._candidates",
    "default_models": "._candidates",
    "OutputFolder": "._output",
    "CompareResult": "._result",
    "CompareInterrupted": "._runner",
    "compare": "._runner",
    "corrected_resampled_ttest": "._stats",
}

if TYPE_CHECKING:  # static tools (type checkers, mkdocstrings/griffe) see the real names
    from .._estimators.task import TASKS, TaskDecision, infer_task
    from ._datasets import (
        DATASETS,
        DEFAULT_DATASETS,
        check_finite,
        check_target,
        load_csv,
        load_dataset,
        sniff_separator,
    )
    from ._costs import format_size, pareto_front
    from ._journal import JournalMismatch, MalformedJournal, read_journal
    from ._learning_curve import learning_curve_crossings
    from ._metrics import HIGHER_IS_BETTER, METRICS
    from ._candidates import MODEL_NAMES, default_grids, default_models
    from ._output import OutputFolder
    from ._result import CompareResult
    from ._runner import CompareInterrupted, compare
    from ._stats import corrected_resampled_ttest

__all__ = [
    "DATASETS",
    "DEFAULT_DATASETS",
    "HIGHER_IS_BETTER",
    "METRICS",
    "MODEL_NAMES",
    "TASKS",
    "CompareInterrupted",
    "CompareResult",
    "JournalMismatch",
    "MalformedJournal",
    "OutputFolder",
    "TaskDecision",
    "check_finite",
    "check_target",
    "compare",
    "corrected_resampled_ttest",
    "default_grids",
    "default_models",
    "format_size",
    "infer_task",
    "learning_curve_crossings",
    "load_csv",
    "load_dataset",
    "pareto_front",
    "read_journal",
    "sniff_separator",
]


__getattr__, __dir__ = _lazy_attributes(__name__, globals(), _LAZY, __all__)
