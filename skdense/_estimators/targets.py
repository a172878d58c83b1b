"""Target types and target encoders.

A classifier's labels become what its output layer needs (0/1 for binary,
one-hot or indices for multiclass, an indicator matrix for multilabel) and go
back to labels and probabilities at predict; a regressor's targets become a
float32 matrix.  The encoders follow scikeras's target-encoder protocol
(``fit``/``transform``/``inverse_transform``/``get_metadata``).
"""

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.multiclass import type_of_target

CLASSIFIER_TASKS = {
    "binary": "binary",
    "multiclass": "multiclass",
    "multilabel-indicator": "multilabel",
}


def classification_task(y, estimator_name):
    """The classification task of ``y``: 'binary', 'multiclass' or 'multilabel'.

    Raises a ValueError a user can act on for anything else.
    """
    target_type = type_of_target(y, input_name="y")
    if target_type in ("continuous", "continuous-multioutput"):
        raise ValueError(
            f"{estimator_name} got a continuous target y (e.g. {np.ravel(y)[:3]}): it "
            "classifies labels. Use DenseRegressor for a numeric target, or cast y to "
            "integers or strings if these values are class labels."
        )
    if target_type not in CLASSIFIER_TASKS:
        raise ValueError(
            f"Unknown label type {target_type!r}: {estimator_name} supports binary, "
            "multiclass and multilabel-indicator targets. For several multiclass outputs wrap it in "
            "sklearn.multioutput.MultiOutputClassifier."
        )
    task = CLASSIFIER_TASKS[target_type]
    if task != "multilabel":
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                f"{estimator_name} needs at least 2 classes in y to learn from; y has "
                f"only one class: {classes[0].item()!r}."
            )
    return task


@dataclass(frozen=True, eq=False)
class TargetSpec:
    """What a fit's target is, decided once by the estimator from all its labels.

    ``task``: 'binary', 'multiclass', 'multilabel' or 'regression';
    ``classes``: the class labels (binary/multiclass), so a validation split
    sees the same encoding; ``standardize``: train a regressor on the
    standardised target.
    """

    task: str
    classes: np.ndarray | None = None
    standardize: bool = False

    @property
    def is_classification(self):
        return self.task != "regression"

    def encoder(self, *, sparse_loss=False):
        """A fresh target encoder for this target (class indices for a sparse loss)."""
        if self.is_classification:
            return ClassifierTargetEncoder(
                task=self.task, classes=self.classes, one_hot=not sparse_loss
            )
        return RegressorTargetEncoder(standardize=self.standardize)


class ClassifierTargetEncoder(TransformerMixin, BaseEstimator):
    """Labels <-> network targets for one classification task.

    Parameters
    ----------
    task : {'binary', 'multiclass', 'multilabel'}
    classes : ndarray or None
        The classes, fixed by the estimator on all of its training labels so a
        validation split sees the same encoding.  None: learnt from ``y``.
    one_hot : bool
        Multiclass targets one-hot (for categorical cross-entropy) or indices
        (for a sparse categorical loss).
    """

    def __init__(self, task="multiclass", classes=None, one_hot=True):
        self.task = task
        self.classes = classes
        self.one_hot = one_hot

    def fit(self, y):
        y = np.asarray(y)
        if self.task == "multilabel":
            self.classes_ = np.arange(y.shape[1])
        else:
            self.classes_ = np.asarray(self.classes) if self.classes is not None else np.unique(y)
        self.n_classes_ = len(self.classes_)
        return self

    def _indices(self, y):
        y = np.ravel(y)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, self.n_classes_ - 1)
        unknown = self.classes_[idx] != y
        if unknown.any():
            raise ValueError(
                f"y contains labels not seen at fit: {sorted(set(y[unknown].tolist()))[:5]}; "
                f"known classes are {self.classes_.tolist()}."
            )
        return idx

    def transform(self, y):
        y = np.asarray(y)
        if self.task == "multilabel":
            return y.astype("float32")
        idx = self._indices(y)
        if self.task == "binary":
            return idx.astype("float32").reshape(-1, 1)
        if not self.one_hot:
            return idx.astype("int32")
        out = np.zeros((len(idx), self.n_classes_), dtype="float32")
        out[np.arange(len(idx)), idx] = 1.0
        return out

    def inverse_transform(self, y, return_proba=False):
        proba = np.asarray(y, dtype="float64")
        if proba.ndim == 1:
            proba = proba.reshape(-1, 1)
        if self.task == "binary":
            p1 = proba[:, -1]
            proba = np.column_stack([1.0 - p1, p1])
        if return_proba:
            return proba
        if self.task == "multilabel":
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    def get_metadata(self):
        units = 1 if self.task == "binary" else self.n_classes_
        return {
            "classes_": self.classes_,
            "n_classes_": self.n_classes_,
            "n_outputs_expected_": 1,
            "skdense_task_": self.task,
            "skdense_units_": units,
        }

    def state(self):
        """The fitted encoder as named plain values (what a saved file holds):
        ``task``, ``classes`` (the fitted classes; a multilabel target's column
        indices) and ``one_hot``."""
        return {"task": self.task, "classes": self.classes_, "one_hot": bool(self.one_hot)}

    @classmethod
    def from_state(cls, state):
        """The fitted encoder of :meth:`state`."""
        task, classes = state["task"], np.asarray(state["classes"])
        if task not in ("binary", "multiclass", "multilabel"):
            raise ValueError(f"Unknown classification task {task!r}.")
        encoder = cls(
            task=task, classes=None if task == "multilabel" else classes,
            one_hot=bool(state["one_hot"]),
        )
        encoder.classes_ = classes
        encoder.n_classes_ = len(classes)
        return encoder


class RegressorTargetEncoder(TransformerMixin, BaseEstimator):
    """Numeric targets <-> a float32 (n_samples, n_outputs) matrix.

    Parameters
    ----------
    standardize : bool
        Train on ``(y - mean) / std`` per output and undo it at predict, so the
        scale of the target does not set the effective learning rate.
    """

    def __init__(self, standardize=True):
        self.standardize = standardize

    def fit(self, y):
        y = np.asarray(y, dtype="float64")
        self.y_ndim_ = y.ndim
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        y = y.reshape(-1, self.n_outputs_)
        if self.standardize:
            self.mean_ = y.mean(axis=0)
            std = y.std(axis=0)
            self.scale_ = np.where(std > 0, std, 1.0)
        else:
            self.mean_ = np.zeros(self.n_outputs_)
            self.scale_ = np.ones(self.n_outputs_)
        return self

    def transform(self, y):
        y = np.asarray(y, dtype="float64").reshape(-1, self.n_outputs_)
        return ((y - self.mean_) / self.scale_).astype("float32")

    def inverse_transform(self, y):
        y = np.asarray(y, dtype="float64").reshape(-1, self.n_outputs_)
        y = y * self.scale_ + self.mean_
        return y.ravel() if self.y_ndim_ == 1 else y

    def get_metadata(self):
        return {
            "n_outputs_": self.n_outputs_,
            "n_outputs_expected_": 1,
            "skdense_task_": "regression",
            "skdense_units_": self.n_outputs_,
        }

    def state(self):
        """The fitted encoder as named plain values (what a saved file holds):
        ``task`` ('regression'), ``standardize``, ``y_ndim`` (1: predictions
        are 1-D) and, per output, ``mean`` and ``scale`` (float64)."""
        return {
            "task": "regression",
            "standardize": bool(self.standardize),
            "y_ndim": int(self.y_ndim_),
            "mean": np.asarray(self.mean_, dtype=np.float64),
            "scale": np.asarray(self.scale_, dtype=np.float64),
        }

    @classmethod
    def from_state(cls, state):
        """The fitted encoder of :meth:`state`."""
        mean = np.asarray(state["mean"], dtype=np.float64)
        scale = np.asarray(state["scale"], dtype=np.float64)
        y_ndim = int(state["y_ndim"])
        if mean.ndim != 1 or mean.shape != scale.shape or y_ndim not in (1, 2):
            raise ValueError(
                f"A regression target's state needs mean and scale of one shape (n_outputs,) "
                f"and y_ndim 1 or 2; got shapes {mean.shape}, {scale.shape} and y_ndim {y_ndim}."
            )
        encoder = cls(standardize=bool(state["standardize"]))
        encoder.y_ndim_ = y_ndim
        encoder.n_outputs_ = len(mean)
        encoder.mean_ = mean
        encoder.scale_ = scale
        return encoder


def encoder_from_state(state):
    """The fitted target encoder of a ``state()`` (its ``task`` names the class)."""
    cls = RegressorTargetEncoder if state.get("task") == "regression" else ClassifierTargetEncoder
    return cls.from_state(state)
