"""``skdense.compare``: classical ML and dense networks side by side, honestly.

Nested cross-validation of a model zoo (linear, random forest, gradient boosting,
sklearn's MLP, skdense's Dense*) on built-in datasets or your table, locally or on
a Dask cluster. See ``docs/compare.md`` and ``skdense compare --help``.

Importing this package does not import TensorFlow.
"""

from ._datasets import DATASETS, infer_task, load_csv, load_dataset
from ._models import MODEL_NAMES, default_grids, default_models
from ._result import CompareResult
from ._runner import METRICS, compare
from ._stats import corrected_resampled_ttest

__all__ = [
    "DATASETS",
    "METRICS",
    "MODEL_NAMES",
    "CompareResult",
    "compare",
    "corrected_resampled_ttest",
    "default_grids",
    "default_models",
    "infer_task",
    "load_csv",
    "load_dataset",
]
