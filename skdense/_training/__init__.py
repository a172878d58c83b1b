"""Training a compiled Keras model on in-memory arrays.

The estimators reach this package through :func:`fit_model` and
:func:`predict`; its modules hold one idea each:

=================  ==========================================================
``run.py``         :class:`TrainingRun` (what to run), :class:`Validation`,
                   :class:`TrainResult` (what it produced)
``stop_rule.py``   :class:`StopRule`: early stopping and the divergence
                   guard, in the engine's graph and as a Keras callback
``fit.py``         :func:`fit_model`: which path trains, and the outcome check
``engine.py``      the compiled whole-training function and its arguments
``keras_fit.py``   the fallback path, Keras's ``model.fit``
``clones.py``      graph keys and clones of a Keras model
``penalties.py``   L1/L2 weight-penalty strengths as a worker's variables
``cache.py``       the bounded cache of compiled functions
``predict.py``     the compiled forward pass
=================  ==========================================================
"""

from .cache import cache_info, clear_cache
from .fit import TrainingDiverged, fit_model
from .predict import predict, predict_members
from .run import TrainingRun, TrainResult, Validation
from .stop_rule import StopRule

__all__ = [
    "StopRule",
    "TrainingDiverged",
    "TrainingRun",
    "TrainResult",
    "Validation",
    "cache_info",
    "clear_cache",
    "fit_model",
    "predict",
    "predict_members",
]
