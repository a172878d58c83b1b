"""The fallback path: Keras's own ``model.fit``, with the same stop rule.

Used for whatever the engine cannot honour (see
:func:`skdense._training.fit.engine_refusal`): user callbacks, non-array
data, routed ``fit__`` arguments, a model class with its own
``train_step``, compiled metrics, a monitor other than ``loss``/``val_loss``.

A scipy sparse ``x`` (and validation ``x``) is fed as a ``keras.utils.PyDataset``
of minibatches densified one at a time (:func:`_dense_batches`): the same
dense rows the engine builds in its graph, in a seeded order, without
densifying the whole matrix.  Keras's own sparse support would hand the
first layer a ``tf.SparseTensor``, which skdense's input layers and many user
layers do not take.
"""

import math

import numpy as np
import scipy.sparse as sp

from .._backend import load_keras
from .cache import forget_keras_traces
from .run import TrainResult
from .stop_rule import make_stop_callback


def fit_keras(model, x, y, training, *, sample_weight, validation):
    keras = load_keras()
    guard = make_stop_callback(keras, training.stop)
    if sp.issparse(x) or (validation is not None and sp.issparse(validation.x)):
        data = _dense_batches(keras, x, y, sample_weight, validation, training)
    else:
        data = dict(x=x, y=y, sample_weight=sample_weight, batch_size=training.batch_size,
                    shuffle=training.shuffle, validation_data=_keras_validation(validation))
    try:
        hist = model.fit(
            **data,
            initial_epoch=training.first_epoch,
            epochs=training.first_epoch + training.epochs,
            callbacks=[*training.callbacks, guard],
            verbose=training.verbose,
            **training.fit_kwargs,
        )
    finally:  # a fit that raises (a callback, KeyboardInterrupt) traced too
        forget_keras_traces(model)
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    n_epochs = len(next(iter(history.values()), []))
    best_epoch = None
    if training.stop is not None and guard.best_epoch is not None:
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


def _dense_batches(keras, x, y, sample_weight, validation, training):
    """``model.fit`` arguments that feed sparse ``x`` a densified minibatch at a time."""
    for name in ("validation_split", "batch_size", "shuffle"):
        if name in training.fit_kwargs:
            raise ValueError(
                f"fit__{name} cannot be used with sparse X: skdense feeds a sparse X to "
                "Keras's model.fit as a PyDataset of densified minibatches, which Keras "
                f"does not split or batch itself. Drop fit__{name} (use the estimator's "
                "validation_split, batch_size and validation_data), or pass a dense X."
            )
    rng = np.random.default_rng(training.seed)
    train = _batch_dataset(keras, x, y, sample_weight, training.batch_size, rng if training.shuffle else None)
    val = None
    if validation is not None:
        val = _batch_dataset(keras, validation.x, validation.y, validation.sample_weight,
                            training.batch_size, None)
    return dict(x=train, validation_data=val)


def _dense_rows(x, idx):
    rows = x[idx]
    return rows.toarray() if sp.issparse(rows) else np.asarray(rows)


def _batch_dataset(keras, x, y, sample_weight, batch_size, rng):
    """A PyDataset of (x, y[, w]) minibatches with dense x rows (order from ``rng``,
    reshuffled every epoch; None keeps the rows in order)."""

    class DenseBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self.x = x.tocsr() if sp.issparse(x) else x
            self.n = x.shape[0]
            self.order = np.arange(self.n)
            self.on_epoch_end()

        def __len__(self):
            return math.ceil(self.n / batch_size)

        def __getitem__(self, i):
            idx = self.order[i * batch_size:(i + 1) * batch_size]
            batch = (_dense_rows(self.x, idx).astype(np.float32, copy=False), y[idx])
            return batch if sample_weight is None else (*batch, sample_weight[idx])

        def on_epoch_end(self):
            if rng is not None:
                self.order = rng.permutation(self.n)

    return DenseBatches()
