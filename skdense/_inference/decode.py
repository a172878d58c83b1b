"""From the network's output to what ``predict`` and ``predict_proba`` return, in NumPy.

The same arithmetic as the target encoders of :mod:`skdense._targets`
(``ClassifierTargetEncoder.inverse_transform`` and
``RegressorTargetEncoder.inverse_transform``), so labels are identical and
probabilities equal bit for bit given the same network output.
"""

import numpy as np

_TASKS = ("binary", "multiclass", "multilabel", "regression")


class OutputDecoder:
    """Decodes a network's output for one fitted target.

    Parameters
    ----------
    task : {"binary", "multiclass", "multilabel", "regression"}
    classes : ndarray or None
        The class labels (the column indices for a multilabel target).
    mean, scale : ndarray or None
        A regressor's target standardisation, per output (``y * scale + mean``).
    ravel : bool
        A regressor fitted on a 1-D target returns 1-D predictions.
    """

    __slots__ = ("task", "classes", "mean", "scale", "ravel")

    def __init__(self, task, classes=None, mean=None, scale=None, ravel=False):
        if task not in _TASKS:
            raise ValueError(f"task must be one of {_TASKS}; got {task!r}.")
        values = dict(
            task=task,
            classes=None if classes is None else np.asarray(classes),
            mean=None if mean is None else np.asarray(mean, dtype=np.float64),
            scale=None if scale is None else np.asarray(scale, dtype=np.float64),
            ravel=bool(ravel),
        )
        for k, v in values.items():
            object.__setattr__(self, k, v)

    def __setattr__(self, name, value):
        raise AttributeError("OutputDecoder is immutable")

    def __reduce__(self):
        return (OutputDecoder, (self.task, self.classes, self.mean, self.scale, self.ravel))

    @classmethod
    def from_target_encoder(cls, encoder):
        """The decoder of a fitted skdense target encoder (the scikeras estimator's
        ``target_encoder_``), from its ``state()``."""
        return cls.from_encoder_state(encoder.state())

    @classmethod
    def from_encoder_state(cls, state):
        """The decoder from a target encoder's ``state()`` (the ``target_encoder``
        entry that :mod:`skdense.persistence` stores): no encoder, no TensorFlow."""
        task = state.get("task")
        if task == "regression":
            return cls("regression", mean=state["mean"], scale=state["scale"],
                       ravel=state["y_ndim"] == 1)
        return cls(task, classes=state["classes"])

    @property
    def n_targets(self):
        """Classes (a multilabel target's labels) or regression outputs."""
        return len(self.mean) if self.task == "regression" else len(self.classes)

    def fits_output(self, width):
        """Whether a network output of ``width`` columns is one this decoder reads:
        one per class, label or regression output; a binary target's one (the
        probability of ``classes[1]``, as skdense builds it) or two."""
        if self.task == "binary":
            return width in (1, 2)
        return width == self.n_targets

    def predict_proba(self, raw):
        """Class probabilities ``(n, n_classes)``, float64 (binary: two columns)."""
        if self.task == "regression":
            raise AttributeError("A regressor has no predict_proba.")
        proba = np.asarray(raw, dtype="float64")
        if proba.ndim == 1:
            proba = proba.reshape(-1, 1)
        if self.task == "binary":  # np.column_stack([1 - p1, p1]), without its overhead
            p1 = proba[:, -1]
            two = np.empty((len(p1), 2))
            np.subtract(1.0, p1, out=two[:, 0])
            two[:, 1] = p1
            return two
        return proba

    def predict(self, raw):
        """Labels (classification) or values in the target's units (regression)."""
        if self.task == "regression":
            y = np.asarray(raw, dtype="float64").reshape(-1, len(self.mean))
            y = y * self.scale + self.mean
            return y.ravel() if self.ravel else y
        proba = self.predict_proba(raw)
        if self.task == "multilabel":
            return (proba > 0.5).astype(int)
        return self.classes[np.argmax(proba, axis=1)]
