"""The one-line way in: ``make_dense_pipeline().fit(df, y)``.

- :func:`make_dense_pipeline`: :class:`~skdense.preprocessing.TabularPreprocessor`
  followed by a Dense estimator, in a :class:`~sklearn.pipeline.Pipeline`.
- :class:`AutoDense`: a Dense estimator that becomes a DenseClassifier or a
  DenseRegressor at ``fit``, by the task rule of :mod:`skdense._estimators.task` (the one
  ``skdense compare`` uses too).

Importing this module does not import TensorFlow (the Dense estimators load it
at their first fit).
"""

import warnings

from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._estimators import DenseClassifier, DenseRegressor
from ._estimators.params import is_routed
from ._estimators.task import TASKS, infer_task
from .preprocessing import TabularPreprocessor

__all__ = ["AutoDense", "make_dense_pipeline"]


def _check_task(task, caller):
    if task is not None and task not in TASKS:
        raise ValueError(
            f"{caller} got task={task!r}; allowed values are "
            "'classification', 'regression' and None (decide from y at fit)."
        )


def _dense_available(method):
    def check(self):
        est = getattr(self, "estimator_", None)
        if est is not None:
            return hasattr(est, method)
        # Before fit: predict_proba exists for classification (or unknown task).
        return method != "predict_proba" or self.task != "regression"

    return check


class AutoDense(BaseEstimator):
    """A Dense estimator that picks DenseClassifier or DenseRegressor from the target.

    ``AutoDense()`` takes every parameter of
    :class:`~skdense.DenseClassifier` and :class:`~skdense.DenseRegressor`
    (``hidden_layer_sizes``, ``patience``, ... and routed ``model__...``
    arguments), so ``GridSearchCV`` can search ``dense__hidden_layer_sizes``
    inside :func:`make_dense_pipeline`. At ``fit``, without ``task``, it
    decides from ``y`` by :func:`skdense.compare.infer_task`, the rule
    ``skdense compare`` uses:

    - strings, booleans, categories -> DenseClassifier;
    - numbers that are not all whole -> DenseRegressor;
    - whole numbers with at most 20 distinct values, and at most half as many
      as rows (or at most 2) -> DenseClassifier; with more -> DenseRegressor
      and a warning (they may be class labels: pass ``task="classification"``).

    Parameters
    ----------
    task : {"classification", "regression"} or None, default=None
        Skip the guess. With a task set, scikit-learn also knows before fit
        whether this is a classifier (stratified CV, default scoring).
    **params
        Parameters of the Dense estimators (defaults are theirs).

    Attributes
    ----------
    estimator_ : DenseClassifier or DenseRegressor
        The fitted estimator.
    task_ : str
        The task used.
    classes_ : ndarray
        Class labels (classification only).

    See Also
    --------
    make_dense_pipeline : TabularPreprocessor followed by this estimator.
    """

    def __init__(self, task=None, **params):
        self.task = task
        for name, value in params.items():
            setattr(self, name, value)

    # ------------------------------------------------------------ parameters
    @staticmethod
    def _dense_defaults():
        defaults = DenseRegressor().get_params(deep=False)
        defaults.update(DenseClassifier().get_params(deep=False))
        return defaults

    def _extra_param_names(self):
        return [
            k
            for k in vars(self)
            if k != "task" and not k.startswith("_") and not k.endswith("_")
        ]

    def get_params(self, deep=True):
        """Parameters: ``task`` and the Dense estimator parameters.

        ``deep=False`` (what ``clone`` and ``repr`` use) returns ``task`` and
        the parameters set on this object; ``deep=True`` adds every other
        Dense estimator parameter with its default, so that
        ``pipe.get_params()`` lists all searchable ``dense__...`` names.
        """
        params = {"task": self.task}
        if deep:
            for name, default in self._dense_defaults().items():
                params[name] = getattr(self, name, default)
        for name in self._extra_param_names():
            params[name] = getattr(self, name)
        return params

    def set_params(self, **params):
        """Set ``task`` or any Dense estimator parameter (routed ``model__x`` included)."""
        valid = set(self._dense_defaults()) | {"task"}
        for name, value in params.items():
            if name not in valid and not is_routed(name):
                raise ValueError(
                    f"Invalid parameter {name!r} for AutoDense. Valid parameters: "
                    f"{sorted(valid)} and routed ones such as model__<name>."
                )
            setattr(self, name, value)
        return self

    # ------------------------------------------------------------------- fit
    def _decide_task(self, y):
        _check_task(self.task, "AutoDense")
        if self.task is not None:
            return self.task
        decision = infer_task(y)
        if decision.ambiguous:
            warnings.warn(
                f"AutoDense: {decision.reason}; treating it as {decision.task}. If these "
                "numbers are class labels, pass task='classification' "
                "(make_dense_pipeline(task='classification')).",
                UserWarning,
                stacklevel=3,
            )
        return decision.task

    def fit(self, X, y, **fit_params):
        """Choose the estimator from ``task`` (or from ``y``), then fit it.

        ``fit_params`` (e.g. ``patience=5``, ``sample_weight``) go to its fit.
        """
        task = self._decide_task(y)
        cls = DenseClassifier if task == "classification" else DenseRegressor
        own = set(cls().get_params(deep=False))
        params = self.get_params(deep=True)
        del params["task"]
        if cls is DenseRegressor and params.get("class_weight") is not None:
            raise ValueError(
                "AutoDense got class_weight, but the target is continuous (regression). "
                "Drop class_weight, or pass task='classification' if y holds classes."
            )
        params = {k: v for k, v in params.items() if k in own or is_routed(k)}
        self.estimator_ = cls(**params).fit(X, y, **fit_params)
        self.task_ = task
        for name in ("n_features_in_", "feature_names_in_", "classes_"):
            if hasattr(self.estimator_, name):
                setattr(self, name, getattr(self.estimator_, name))
            elif name in vars(self):
                delattr(self, name)
        return self

    def predict(self, X):
        """Class labels or values, from the fitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_dense_available("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities (classification only)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classification) or R^2 (regression) of the fitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.task == "classification":
            tags.estimator_type = "classifier"
        elif self.task == "regression":
            tags.estimator_type = "regressor"
        tags.input_tags.allow_nan = False
        return tags


def make_dense_pipeline(estimator=None, *, task=None, **preprocessor_params):
    """The one-line way in: ``TabularPreprocessor`` followed by a Dense estimator.

    Parameters
    ----------
    estimator : estimator or None, default=None
        The final step. ``None``: a DenseClassifier or DenseRegressor chosen
        by ``task``, or, when ``task`` is None too, by the target at fit
        (:class:`AutoDense`).
    task : {"classification", "regression"} or None, default=None
        Pick :class:`~skdense.DenseClassifier` or
        :class:`~skdense.DenseRegressor` directly (recommended when known:
        ``is_classifier`` is then right before fit, so ``cross_val_score``
        stratifies).
    **preprocessor_params
        Parameters of :class:`~skdense.preprocessing.TabularPreprocessor`
        (``scaler="quantile"``...).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Steps ``"preprocess"`` and ``"dense"``; search them as
        ``preprocess__scaler`` and ``dense__hidden_layer_sizes``.

    Examples
    --------
    >>> from skdense import make_dense_pipeline
    >>> pipe = make_dense_pipeline(scaler="robust_clip", task="classification")
    >>> [name for name, _ in pipe.steps]
    ['preprocess', 'dense']
    """
    _check_task(task, "make_dense_pipeline")
    if estimator is not None and task is not None:
        raise ValueError(
            "make_dense_pipeline got both estimator and task; pass one of them "
            "(task only chooses the estimator when estimator is None)."
        )
    valid = TabularPreprocessor._get_param_names()
    unknown = sorted(set(preprocessor_params) - set(valid))
    if unknown:
        raise TypeError(
            f"make_dense_pipeline got unexpected keyword argument(s) {unknown}; extra "
            f"keywords go to TabularPreprocessor, whose parameters are {valid}. Pass "
            "Dense estimator settings through estimator=DenseClassifier(...)."
        )
    if estimator is None:
        if task is None:
            estimator = AutoDense()
        elif task == "classification":
            estimator = DenseClassifier()
        else:
            estimator = DenseRegressor()
    return Pipeline(
        [("preprocess", TabularPreprocessor(**preprocessor_params)), ("dense", estimator)]
    )
