"""skdense: scikit-learn estimators for Keras dense (MLP) networks.

``import skdense`` is cheap: the public names below are imported on first use
(PEP 562), so ``import skdense`` (and ``skdense compare``'s argument checks)
need neither scikit-learn nor pandas; TensorFlow and Keras are imported on
the first fit, matplotlib on the first plot. ``from skdense import
DenseClassifier`` works as usual.
"""

from typing import TYPE_CHECKING

from ._lazy import attributes as _lazy_attributes

__version__ = "0.1.0"

__all__ = [
    "DenseClassifier",
    "DenseRegressor",
    "Flatten",
    "TabularPreprocessor",
    "TrainingCurveDisplay",
    "export_serving",
    "load",
    "load_network",
    "make_dense_pipeline",
    "save",
    "to_onnx",
    "__version__",
]

# public name -> the submodule that defines it (imported on first access)
_LAZY = {
    "DenseClassifier": "._estimators.classifier",
    "DenseRegressor": "._estimators.regressor",
    "Flatten": ".preprocessing",
    "TabularPreprocessor": ".preprocessing",
    "TrainingCurveDisplay": ".plotting",
    "make_dense_pipeline": ".pipeline",
    "save": ".persistence",
    "load": ".persistence",
    "load_network": ".persistence",
    "export_serving": ".persistence",
    "to_onnx": "._inference.onnx",  # needs the optional extra: pip install "skdense[onnx]"
}

if TYPE_CHECKING:  # static tools (type checkers, mkdocstrings/griffe) see the real names
    from ._estimators.classifier import DenseClassifier
    from ._estimators.regressor import DenseRegressor
    from .persistence import export_serving, load, load_network, save
    from .pipeline import make_dense_pipeline
    from ._inference.onnx import to_onnx
    from .plotting import TrainingCurveDisplay
    from .preprocessing import Flatten, TabularPreprocessor


__getattr__, __dir__ = _lazy_attributes(__name__, globals(), _LAZY, __all__)
