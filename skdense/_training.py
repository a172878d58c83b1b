"""Training a compiled Keras model on in-memory arrays.

This module owns the training loop and early stopping.  The estimators call
:func:`fit_model` and :func:`predict`; nothing else here is used by them.

(First version: Keras ``model.fit`` only.  The compiled engine replaces the
body of :func:`fit_model` for the cases it can honour.)
"""

from dataclasses import dataclass, field

import numpy as np

from ._backend import load_keras


@dataclass(frozen=True)
class StopRule:
    """Early-stopping settings, with ``keras.callbacks.EarlyStopping`` semantics."""

    monitor: str = "val_loss"
    patience: int = 5
    min_delta: float = 0.0
    restore_best_weights: bool = True


@dataclass
class TrainResult:
    """What one training run produced."""

    history: dict = field(default_factory=dict)  # name -> list of per-epoch floats
    n_epochs: int = 0  # epochs actually run
    best_epoch: int | None = None  # 1-based epoch of the best monitored value, if stopping ran
    engine: str = "keras"  # which path trained: "engine" or "keras"


def fit_model(
    model,
    x,
    y,
    *,
    sample_weight=None,
    validation_data=None,
    epochs,
    batch_size,
    shuffle=True,
    seed=None,
    stop=None,
    callbacks=(),
    verbose=0,
    fit_kwargs=None,
):
    """Train ``model`` (compiled) on arrays ``x``, ``y``; return a :class:`TrainResult`.

    ``validation_data`` is ``(x_val, y_val)`` or ``(x_val, y_val, w_val)`` or None;
    ``stop`` is a :class:`StopRule` or None (no early stopping); ``callbacks`` are
    user Keras callbacks; ``fit_kwargs`` are extra ``model.fit`` arguments routed
    by the user (``fit__...``).
    """
    keras = load_keras()
    cbs = list(callbacks)
    stopper = None
    if stop is not None:
        stopper = keras.callbacks.EarlyStopping(
            monitor=stop.monitor,
            patience=stop.patience,
            min_delta=stop.min_delta,
            restore_best_weights=stop.restore_best_weights,
        )
        cbs.append(stopper)
    hist = model.fit(
        x,
        y,
        sample_weight=sample_weight,
        validation_data=validation_data,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        callbacks=cbs,
        verbose=verbose,
        **(fit_kwargs or {}),
    )
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    n_epochs = len(next(iter(history.values()), []))
    best_epoch = None
    if stopper is not None and stop.monitor in history:
        values = np.asarray(history[stop.monitor])
        best_epoch = int(np.argmax(values) if "acc" in stop.monitor else np.argmin(values)) + 1
    return TrainResult(history=history, n_epochs=n_epochs, best_epoch=best_epoch, engine="keras")


def predict(model, x):
    """Forward pass of ``model`` on array ``x`` (no progress bar, no callbacks)."""
    return np.asarray(model.predict(x, verbose=0))
