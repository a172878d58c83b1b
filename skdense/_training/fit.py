"""Training a compiled Keras model: choose the path, run it, check the outcome.

:func:`fit_model` runs the engine (:mod:`.engine`) when it can honour every
part of the :class:`~.run.TrainingRun`, Keras's ``model.fit``
(:mod:`.keras_fit`) otherwise; ``TrainResult.engine`` says which ran.  Both
apply the same :class:`~.stop_rule.StopRule` and the same divergence guard, so
every run ends in finite weights or a :class:`TrainingDiverged` error.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from .engine import fit_engine
from .keras_fit import fit_keras
from .clones import Unsupported, plain_model_class
from .stop_rule import MONITORS


_ADVICE = (
    "Scale the inputs (e.g. put StandardScaler or skdense.TabularPreprocessor before it "
    "in the Pipeline), lower learning_rate, or check X and y for extreme values."
)


class TrainingDiverged(ValueError):
    """No epoch of the run had a finite loss.

    ``epoch``: the (1-based) epoch whose loss was not finite.  ``restored_epoch``:
    for a continued run (``warm_start``, ``partial_fit``) whose caller put the
    weights and optimizer state from before the call back, the epoch they
    are from; None for a new network, which has no weights worth keeping.
    """

    def __init__(self, epoch, restored_epoch=None):
        self.epoch, self.restored_epoch = epoch, restored_epoch
        if restored_epoch is None:
            kept = "and no earlier epoch had a finite loss, so there are no weights to keep"
        else:
            kept = (f"the first epoch of this call, so the weights and optimizer state from "
                    f"before it (after epoch {restored_epoch}) were restored: the model is as "
                    "it was before the call")
        super().__init__(
            f"Training diverged: the loss was not finite (NaN or inf) at epoch {epoch}, "
            f"{kept}. {_ADVICE}"
        )

    def __reduce__(self):  # pickled to and from worker processes (joblib, Dask)
        return type(self), (self.epoch, self.restored_epoch)


def fit_model(model, x, y, training, *, sample_weight=None, validation=None):
    """Train ``model`` (compiled) on arrays ``x``, ``y`` as ``training`` (a :class:`~.run.TrainingRun`) says.

    ``validation`` is a :class:`~.run.Validation` (already encoded) or None.
    Returns a :class:`~.run.TrainResult`.  Raises :class:`TrainingDiverged`
    when no epoch had a finite loss; warns (``ConvergenceWarning``) and keeps
    the last good weights when the loss stopped being finite later.
    """
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise ValueError(
            "fit_model needs a compiled Keras model; call "
            "model.compile(optimizer=..., loss=...) first."
        )
    result = None
    if engine_refusal(model, x, y, training, sample_weight, validation) is None:
        try:
            result = fit_engine(model, x, y, training, sample_weight=sample_weight, validation=validation)
        except Unsupported:
            pass  # structure the engine cannot clone or copy: Keras trains it
    if result is None:
        result = fit_keras(model, x, y, training, sample_weight=sample_weight, validation=validation)
    _check_outcome(model, result)
    return result


def _check_outcome(model, result):
    if result.diverged_epoch is not None and result.kept_epoch is None:
        raise TrainingDiverged(result.diverged_epoch)
    if result.diverged_epoch is not None:
        warnings.warn(
            f"Training diverged: the loss was not finite at epoch {result.diverged_epoch}; "
            f"kept the weights of epoch {result.kept_epoch}, the last good one. {_ADVICE}",
            ConvergenceWarning,
            stacklevel=2,
        )


def engine_refusal(model, x, y, training, sample_weight, validation):
    """Why the engine cannot honour this run (a short string), or None if it can."""
    if training.callbacks:
        return "user callbacks"
    if training.fit_kwargs:
        return f"fit arguments {sorted(training.fit_kwargs)}"
    if not plain_model_class(model):
        return f"model class {type(model).__name__}"
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return "several inputs or outputs"
    if getattr(model, "_compile_metrics", None) is not None:
        return "compiled metrics"
    if not isinstance(training.shuffle, bool | np.bool_):
        return f"shuffle={training.shuffle!r}"
    stop = training.stop
    if stop is not None and stop.monitor not in MONITORS:
        return f"monitor={stop.monitor!r}"
    if stop is not None and stop.monitor == "val_loss" and validation is None:
        return "val_loss monitored without validation data"
    arrays = [y]
    if sample_weight is not None:
        arrays.append(sample_weight)
    if validation is not None:
        arrays.extend(v for v in validation[1:] if v is not None)
    inputs = [x] if validation is None else [x, validation.x]
    if not all(isinstance(a, np.ndarray) for a in arrays):
        return "non-ndarray data"
    if not all(isinstance(a, np.ndarray) or sp.issparse(a) for a in inputs):
        return "non-ndarray data"
    if sp.issparse(x) and model.inputs[0].shape[-1] is None:
        return "sparse x for a model of unknown input width"
    n = x.shape[0]
    if x.ndim != 2 or n == 0 or len(y) != n:
        return "x is not a non-empty 2-D array matching y"
    if sample_weight is not None and sample_weight.shape != (n,):
        return "sample_weight not of shape (n_samples,)"
    if validation is not None:
        xv, yv, wv = validation
        n_val = xv.shape[0]
        if xv.ndim != 2 or xv.shape[1] != x.shape[1] or len(yv) != n_val or n_val == 0:
            return "validation x/y shapes"
        if yv.shape[1:] != y.shape[1:] or yv.dtype.kind != y.dtype.kind:
            return "validation y shape differs from y"
        if wv is not None and wv.shape != (n_val,):
            return "validation sample weights not of shape (n_val,)"
    return None
