"""The fallback path: Keras's own ``model.fit``, with the same stop rule.

Used for whatever the engine cannot honour (see
:func:`skdense._training.fit.engine_refusal`): user callbacks, non-array
data, routed ``fit__`` arguments, a model class with its own
``train_step``, compiled metrics, a monitor other than ``loss``/``val_loss``.
"""

from .._backend import load_keras
from .cache import forget_keras_traces
from .plan import TrainResult
from .stop_rule import make_stop_callback


def fit_keras(model, x, y, plan, *, sample_weight, validation):
    keras = load_keras()
    guard = make_stop_callback(keras, plan.stop)
    try:
        hist = model.fit(
            x,
            y,
            sample_weight=sample_weight,
            validation_data=_keras_validation(validation),
            initial_epoch=plan.first_epoch,
            epochs=plan.first_epoch + plan.epochs,
            batch_size=plan.batch_size,
            shuffle=plan.shuffle,
            callbacks=[*plan.callbacks, guard],
            verbose=plan.verbose,
            **plan.fit_kwargs,
        )
    finally:  # a fit that raises (a callback, KeyboardInterrupt) traced too
        forget_keras_traces(model)
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    n_epochs = len(next(iter(history.values()), []))
    best_epoch = None
    if plan.stop is not None and guard.best_epoch is not None:
        best_epoch = guard.best_epoch + 1
    diverged = guard.diverged_epoch is not None
    return TrainResult(
        history=history,
        n_epochs=n_epochs,
        best_epoch=best_epoch,
        engine="keras",
        diverged_epoch=guard.diverged_epoch + 1 if diverged else None,
        kept_epoch=guard.saved_epoch + 1 if diverged and guard.saved is not None else None,
    )


def _keras_validation(validation):
    if validation is None:
        return None
    if validation.sample_weight is None:
        return (validation.x, validation.y)
    return tuple(validation)
