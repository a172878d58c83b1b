"""The early-stopping rule: one object, applied in the engine's graph and in Keras.

:class:`StopRule` holds the settings (no defaults of its own: the estimators
own the defaults, see :mod:`skdense._estimators.params`).  :class:`StopState` is the
rule's state as TensorFlow variables and :meth:`StopState.on_epoch_end` its
in-graph step, used by the engine (:mod:`.engine`); :class:`StopCallback` is
the same rule as a Keras callback, used by the ``model.fit`` path
(:mod:`.keras_fit`).

The rule follows ``keras.callbacks.EarlyStopping`` of Keras 3.15
(``keras/src/callbacks/early_stopping.py``) step for step for finite values,
with ``mode="auto"`` for ``loss``/``val_loss`` (minimise), ``baseline=None`` and
``start_from_epoch=0``: at each epoch end ``wait += 1``; the value improves when
``current + min_delta < best`` (strictly; the first value always improves);
an improvement records best value, best epoch and (if restoring) the weights
and resets ``wait``; otherwise training stops when ``wait >= patience`` and the
epoch is not the first.  With ``restore_best_weights`` the best epoch's weights
are restored at the end of training whether or not stopping triggered.

Where skdense departs from Keras, on purpose: a **non-finite** loss (training
or validation), or non-finite weights after an epoch, is never an improvement
and ends training at once ("diverged").  Keras keeps NaN weights as "best"
when the first epoch is NaN; here the weights kept are always those of a
finite epoch (the best one when restoring, else the last finite one: the
engine replays the run up to it, see :func:`.engine.fit_engine`), or the fit
raises.
"""

import math
from dataclasses import dataclass

import numpy as np

MONITORS = ("loss", "val_loss")  # what the engine can watch; anything else runs on Keras


@dataclass(frozen=True)
class StopRule:
    """Early-stopping settings, with ``keras.callbacks.EarlyStopping`` semantics."""

    monitor: str
    patience: int
    min_delta: float
    restore_best_weights: bool

    @classmethod
    def from_settings(cls, settings):
        """The rule of a fit's settings (:class:`skdense._estimators.params.Settings`), or None."""
        if not settings.early_stopping:
            return None
        return cls(
            monitor=settings.monitor,
            patience=int(settings.patience),
            min_delta=abs(float(settings.min_delta)),
            restore_best_weights=bool(settings.restore_best_weights),
        )


class StopState:
    """The rule's running state, as variables the compiled training loop updates.

    Kept in variables (not loop tensors) so a run split into chunks of epochs
    (``verbose``) ends exactly as one unsplit run.  ``saved`` holds a copy of
    the best epoch's weights when the rule restores them.  With
    ``keep_last_finite`` (a worker that trains the user's model in place,
    which has no copy of the starting weights to replay a diverged run from)
    it holds the last finite epoch's weights when the rule does not restore.
    """

    def __init__(self, tf, weights, *, keep_last_finite=False):
        self.keep_last_finite = keep_last_finite
        with tf.init_scope():
            self.saved = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False) for v in weights]
            self.best = tf.Variable(0.0, dtype=tf.float64, trainable=False)
            self.has_best = tf.Variable(False, trainable=False)
            self.wait = tf.Variable(0, dtype=tf.int64, trainable=False)
            self.best_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
            self.has_saved = tf.Variable(False, trainable=False)
            self.saved_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
            self.stopped = tf.Variable(False, trainable=False)
            self.diverged = tf.Variable(False, trainable=False)
        self._tf = tf
        self._weights = list(weights)

    def reset(self):
        self.best.assign(0.0)
        self.has_best.assign(False)
        self.wait.assign(0)
        self.best_epoch.assign(0)
        self.has_saved.assign(False)
        self.saved_epoch.assign(0)
        self.stopped.assign(False)
        self.diverged.assign(False)

    def running(self):
        """In-graph: whether training goes on (neither stopped nor diverged)."""
        tf = self._tf
        return tf.logical_not(tf.logical_or(self.stopped.read_value(), self.diverged.read_value()))

    def _save(self, epoch):
        for s, v in zip(self.saved, self._weights):
            s.assign(v)
        self.has_saved.assign(True)
        self.saved_epoch.assign(epoch)
        return self._tf.constant(True)

    def restore_saved(self, mask):
        """Copy the saved weights back (``mask``: which variables are Keras weights)."""
        for s, v, keep in zip(self.saved, self._weights, mask):
            if keep:
                v.assign(s)

    def on_epoch_end(self, args, epoch, current, finite, *, rule=True):
        """In-graph epoch end: divergence check, then the rule (``args``: :class:`StopArgs`).

        ``current`` is the monitored value, ``finite`` whether every loss of the
        epoch and every weight after it were finite; ``rule`` (a Python bool,
        fixed in the trace) whether early stopping runs at all.  Returns a
        tensor to sequence on.
        """
        tf = self._tf
        noop = lambda: tf.constant(True)  # noqa: E731

        def diverge():
            self.diverged.assign(True)
            return tf.constant(True)

        def finite_epoch():
            done = self._rule(args, epoch, current) if rule else noop()
            if not self.keep_last_finite:
                return done
            with tf.control_dependencies([done]):
                if not rule:
                    return self._save(epoch)
                return tf.cond(args.restore, noop, lambda: self._save(epoch))

        return tf.cond(finite, finite_epoch, diverge)

    def _rule(self, args, epoch, current):
        """keras.callbacks.EarlyStopping.on_epoch_end (mode "min", no baseline)."""
        tf = self._tf
        noop = lambda: tf.constant(True)  # noqa: E731
        first = tf.logical_and(args.restore, tf.logical_not(self.has_saved.read_value()))
        tf.cond(first, lambda: self._save(epoch), noop)
        self.wait.assign_add(1)
        improved = tf.logical_or(
            tf.logical_not(self.has_best.read_value()),
            current + args.min_delta < self.best.read_value(),
        )

        def on_improvement():
            self.best.assign(current)
            self.has_best.assign(True)
            self.best_epoch.assign(epoch)
            tf.cond(args.restore, lambda: self._save(epoch), noop)
            self.wait.assign(0)
            return tf.constant(True)

        def otherwise():
            out_of_patience = tf.logical_and(self.wait.read_value() >= args.patience, epoch > 0)

            def stop():
                self.stopped.assign(True)
                return tf.constant(True)

            return tf.cond(out_of_patience, stop, noop)

        return tf.cond(improved, on_improvement, otherwise)


def make_stop_callback(keras, rule):
    """The rule as a Keras callback for ``model.fit`` (``rule`` may be None:
    then it only guards against divergence)."""

    class StopCallback(keras.callbacks.Callback):
        """Same semantics as :meth:`StopState.on_epoch_end`, in Python."""

        def on_train_begin(self, logs=None):
            self.wait = 0
            self.best = None
            self.best_epoch = None
            self.saved = None
            self.saved_epoch = None
            self.diverged_epoch = None
            self.stopped = False

        def _save(self, epoch, weights=None):
            self.saved = weights if weights is not None else self.model.get_weights()
            self.saved_epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            losses = [v for k, v in logs.items() if k == "loss" or k == "val_loss"]
            weights = self.model.get_weights()
            if not all(math.isfinite(float(v)) for v in losses) or not all(
                np.isfinite(w).all() for w in weights if w.dtype.kind == "f"
            ):
                self.diverged_epoch = epoch
                self.model.stop_training = True
                return
            keeps_best = rule is not None and rule.restore_best_weights
            if rule is not None:
                current = logs.get(rule.monitor)
                if current is None:
                    raise ValueError(
                        f"Early stopping watches monitor={rule.monitor!r}, which this fit "
                        f"does not compute; computed: {sorted(logs)}. Add the metric "
                        "(metrics=[...]) or choose another monitor."
                    )
                current = float(np.asarray(current))
                if keeps_best and self.saved is None:
                    self._save(epoch)
                self.wait += 1
                if self.best is None or current + rule.min_delta < self.best:
                    self.best, self.best_epoch, self.wait = current, epoch, 0
                    if keeps_best:
                        self._save(epoch)
                elif self.wait >= rule.patience and epoch > 0:
                    self.stopped = True
                    self.model.stop_training = True
            if not keeps_best:
                self._save(epoch, weights)

        def on_train_end(self, logs=None):
            restore = self.diverged_epoch is not None or (
                rule is not None and rule.restore_best_weights
            )
            if restore and self.saved is not None:
                self.model.set_weights(self.saved)

    return StopCallback()
