"""skdense: scikit-learn estimators for Keras dense (MLP) networks.

``import skdense`` is cheap: TensorFlow and Keras are imported on the first fit.
"""

from ._estimators import DenseClassifier, DenseRegressor
from .pipeline import make_dense_pipeline
from .preprocessing import Flatten, TabularPreprocessor

__version__ = "0.1.0"

__all__ = [
    "DenseClassifier",
    "DenseRegressor",
    "Flatten",
    "TabularPreprocessor",
    "make_dense_pipeline",
    "__version__",
]
