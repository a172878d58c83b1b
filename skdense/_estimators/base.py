"""What DenseClassifier and DenseRegressor share (``_DenseEstimator``).

Thin: the estimators own the parameters (declared in their constructors,
``classifier.py`` and ``regressor.py``), the tags and scikit-learn's data contract
(validation of X, y and ``validation_data``, ``n_features_in_``,
``feature_names_in_``), and run the fit path in order: settings
(:mod:`skdense._estimators.params`), the target (:mod:`skdense._estimators.targets`), the plan of
rows, weights and stop rule (:mod:`skdense._estimators.fit_plan`), then the network and
its training (:mod:`skdense._scikeras`).  ``partial_fit`` and ``fit`` with
``warm_start=True`` run the same path and train the fitted network on.  A fit
is all or nothing.  This module imports no TensorFlow.
"""

import contextlib
import threading

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_regressor
from sklearn.utils import get_tags
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._inference import UnsupportedNetwork, predictor_for
from .._network import memory
from .._network.build import check_activation
from . import params as _params
from .fit_plan import make_plan


def _check_ndim(X, name):
    ndim = getattr(X, "ndim", None)
    if ndim is None and not sp.issparse(X) and not hasattr(X, "iloc"):
        try:
            ndim = np.ndim(X)
        except Exception:  # ragged nested lists: let validate_data explain
            ndim = None
    if ndim is not None and ndim > 2:
        shape = tuple(np.shape(X))
        raise ValueError(
            f"{name} got X with {ndim} dimensions {shape}; dense layers need 2 "
            "(n_samples, n_features). Put skdense.preprocessing.Flatten() before it in "
            f"the Pipeline, or reshape: X.reshape(len(X), -1)."
        )


@contextlib.contextmanager
def _all_or_nothing(estimator):
    """A fit that raises leaves ``estimator`` exactly as it was before the call."""
    before = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(before)
        raise


def _check_missing_labels(y, name, what="y", unit="row(s)"):
    """Name the rows of an object target (or list of ``classes``) that hold None
    or NaN (numpy's own error is "'<' not supported between 'NoneType' and 'str'")."""
    values = np.asarray(y, dtype=object) if getattr(y, "dtype", object) == object else None
    if values is None or values.size == 0:
        return
    missing = np.frompyfunc(lambda v: v is None or (isinstance(v, float) and v != v), 1, 1)
    rows = np.unique(np.nonzero(missing(values).astype(bool))[0])
    if rows.size:
        raise ValueError(
            f"{name}: {what} has missing values (None or NaN) in {rows.size} {unit}: "
            f"{rows[:10].tolist()}{' and more' if rows.size > 10 else ''}. "
            + ("Drop those rows (from X too) or fill them before fit." if what == "y"
               else "Pass only real labels.")
        )


def _extend_history(history, n_before, new):
    """``history`` (``n_before`` epochs) followed by the epochs of ``new``; a
    quantity one of them did not compute is NaN there."""
    n_new = len(next(iter(new.values()), []))
    return {
        k: list(history.get(k, [np.nan] * n_before)) + list(new.get(k, [np.nan] * n_new))
        for k in [*history, *(k for k in new if k not in history)]
    }


_UNSET = object()
_FLOATS = (np.dtype("float32"), np.dtype("float64"))
_LOAD_LOCK = threading.RLock()  # one thread loads a deferred network (skdense.load)


class _LoadedOnFirstAccess:
    """``model_`` and ``keras_estimator_`` of an estimator that :func:`skdense.load`
    read without TensorFlow: the first access runs the loader it left
    (``_network_loader``: the checked Keras load and the scikeras restore) and
    stores both in the instance, which shadows this descriptor from then on.

    A non-data descriptor: after ``fit`` the attributes live in the instance's
    ``__dict__`` as plain attributes (pickling, ``vars()`` unchanged).  Without a
    loader the attribute is missing, as on an unfitted estimator.
    """

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        state = obj.__dict__
        if state.get("_network_loader") is None:
            raise AttributeError(f"{type(obj).__name__!r} object has no attribute {self.name!r}")
        with _LOAD_LOCK:
            if self.name not in state:
                try:
                    keras_estimator = state["_network_loader"]()
                except AttributeError as err:  # not "no such attribute" to hasattr()
                    raise RuntimeError(f"Loading the saved network failed: {err}") from err
                state["keras_estimator_"] = keras_estimator
                state["model_"] = keras_estimator.model_
                state.pop("_network_loader", None)
        return state[self.name]


class _DenseEstimator(BaseEstimator):
    """Parameters, data checks and the fit path shared by both estimators."""

    # Plain instance attributes after fit; loaded on first access after skdense.load.
    model_ = _LoadedOnFirstAccess()
    keras_estimator_ = _LoadedOnFirstAccess()

    def __sklearn_is_fitted__(self):
        # Not hasattr(self, "model_"): that would load a deferred network.
        state = vars(self)
        return "model_" in state or state.get("_network_loader") is not None

    def _store(self, arguments):
        """Store each constructor argument unchanged under its own name
        (scikit-learn's contract).  ``arguments`` is the constructor's
        ``locals()``: its own parameters and ``kwargs``, the routed ones.

        The parameters and their defaults are declared once, in each
        estimator's signature (``DenseClassifier.__init__``,
        ``DenseRegressor.__init__``); scikit-learn reads them from there.
        """
        arguments = dict(arguments)
        routed = arguments.pop("kwargs", {})
        for name, value in arguments.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)
        self._set_routed(routed)

    def _set_routed(self, kwargs):
        # Stored as given (sklearn's contract); names that are not routed are
        # reported at fit by _params.resolve.
        for key, value in kwargs.items():
            setattr(self, key, value)
        self._extra_params = tuple(sorted(set(getattr(self, "_extra_params", ())) | set(kwargs)))

    def _estimator_type_name(self):
        """scikit-learn's estimator type: "classifier" or "regressor"."""
        return get_tags(self).estimator_type

    # -- parameters ---------------------------------------------------------
    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        for name in getattr(self, "_extra_params", ()):
            params[name] = getattr(self, name)
        return params

    def set_params(self, **params):
        routed = {k: v for k, v in params.items() if _params.is_routed(k)}
        self._set_routed(routed)
        rest = {k: v for k, v in params.items() if k not in routed}
        if rest:
            super().set_params(**rest)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # kept as float32 CSR; densified a minibatch at a time
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        return tags

    # -- data -----------------------------------------------------------------
    def _validate_X(self, X, y=None, reset=False):
        name = type(self).__name__
        _check_ndim(X, name)
        kwargs = dict(accept_sparse=["csr", "csc", "coo"], dtype="numeric", reset=reset)
        try:
            if y is None:
                X = validate_data(self, X, **kwargs)
            else:
                X, y = validate_data(
                    self, X, y, multi_output=True, y_numeric=is_regressor(self), **kwargs
                )
            if sp.issparse(X):
                # Kept sparse: the engine and predict densify a minibatch at a
                # time (a TF-IDF matrix densified whole can take gigabytes).
                X = X.tocsr().astype(np.float32, copy=False)
            else:
                # pandas 'category' columns pass validate_data as objects
                X = np.asarray(X, dtype="float32")
        except ValueError as err:
            if "could not convert string" not in str(err):
                raise
            raise ValueError(
                f"{name} needs numeric X, but X holds text or pandas 'category' columns "
                f"({err}). Encode categorical columns first: put "
                "skdense.TabularPreprocessor() before it in the Pipeline, or use "
                "skdense.make_dense_pipeline()."
            ) from err
        return X if y is None else (X, y)

    # -- fit ------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Build the network for this target and train it.

        A fit that raises leaves the estimator as it was before the call.
        Training never ends in NaN weights: a loss that stops being finite
        ends training, the weights of the last good epoch (the best one, with
        early stopping) are kept and a ``ConvergenceWarning`` says so; when no
        epoch had a finite loss, ``fit`` raises a ``ValueError`` that says
        what to change.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        **fit_params
            Per-fit overrides of ``early_stopping``, ``validation_split``,
            ``monitor``, ``patience``, ``min_delta``, ``restore_best_weights``,
            ``refit_full``, ``epochs``, ``batch_size``, ``verbose`` and
            ``callbacks`` (Keras callbacks), and ``validation_data=(X_val,
            y_val)`` or ``(X_val, y_val, sample_weight_val)`` to use a given
            validation set instead of a split.

        Returns
        -------
        self
        """
        with _all_or_nothing(self):
            self._fit(X, y, sample_weight, fit_params)
        return self

    # With scikit-learn's metadata routing on, set_fit_request(patience=True, ...)
    # lets Pipeline and GridSearchCV route the per-fit overrides to fit.
    __metadata_request__fit = {name: None for name in _params.FIT_OVERRIDABLE + _params.FIT_ONLY}

    def _partial_fit(self, X, y, sample_weight, classes=None):
        with _all_or_nothing(self):
            self._fit(X, y, sample_weight, {}, partial=True, classes=classes)
        return self

    def _fit(self, X, y, sample_weight, fit_params, *, partial=False, classes=None):
        """The fit path: each step one call, each call one module (docs/architecture.md).

        ``partial``: one epoch on every given row, without early stopping
        (``partial_fit``); ``classes``: a classifier's classes given to it.
        """
        name = type(self).__name__
        settings = _params.resolve(self, fit_params)  # 1. settings
        if partial:
            settings = settings.replace(early_stopping=False, refit_full=False)
        continuing = hasattr(self, "model_") and (partial or settings.warm_start)
        if continuing:
            self._check_continuation(settings, "partial_fit" if partial else "warm_start=True")
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None.")
        _check_missing_labels(y, name)
        X, y = self._validate_X(X, y, reset=not continuing)  # 2. data
        y = self._prepare_y(y)
        if continuing:  # 3. target
            target = self.keras_estimator_.target
            self._check_continued_target(y, target)
        else:
            target = self._target_spec(y, settings, classes)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float32, ensure_non_negative=True
            )
        requested = settings  # "auto" kept: a continued fit compares what was asked for
        settings = _params.with_data(  # n_ensemble and patience from the data, when "auto"
            settings, X.shape[1],
            fitted_members=self._fitted_members() if continuing else None,
        )
        validation = self._validation_data(settings.validation_data, y, target)
        # The epochs model_ has trained, and their curves: a refit_full network's
        # own when the last fit refit (its history_ belongs to the network that chose the epochs).
        past, done = {}, 0
        if continuing and getattr(self, "refit_history_", None) is not None:
            past, done = self.refit_history_, self.refit_epochs_
        elif continuing:
            past, done = self.history_, self.n_iter_
        plan = make_plan(  # 4.-5. rows, weights, stop rule
            settings, X, y, sample_weight, target, validation=validation,
            hold_out=not partial, first_epoch=done, partial=partial, estimator_name=name,
        )
        if not continuing and not plan.user_model:
            # before TensorFlow loads: a network too large for this machine is refused at once
            memory.check_plan_memory(name, settings, plan)
        if settings.model is None:
            check_activation(settings.activation, name)  # loads Keras
        from .. import _scikeras

        if continuing:  # 6. network, training
            keras_estimator, result = _scikeras.resume(self.keras_estimator_, settings, plan)
        else:
            keras_estimator, result = _scikeras.train(self._estimator_type_name(), settings, plan)
        first = result
        refit_epochs = refit_history = None
        if settings.refit_full and first.best_epoch and plan.n_train < X.shape[0]:
            # Early stopping chose the number of epochs on held-out rows; train a
            # fresh network on every row for as many epochs as the kept weights had.
            kept = first.best_epoch if settings.restore_best_weights else first.n_epochs
            refit = settings.replace(epochs=kept, early_stopping=False)
            refit_plan = make_plan(refit, X, y, sample_weight, target, hold_out=False)
            keras_estimator, result = _scikeras.train(self._estimator_type_name(), refit, refit_plan)
            refit_epochs = result.n_epochs
            refit_history = {k: list(v) for k, v in result.history.items()}
        # 7. record, all at once
        self._set_target_attributes(target)
        history = {k: list(v) for k, v in first.history.items()}
        self.history_ = _extend_history(past, done, history)
        self.n_iter_ = done + first.n_epochs
        self.best_epoch_ = first.best_epoch
        if not continuing:
            self._network_params = _params.network_params(requested)
        self.n_ensemble_ = settings.n_ensemble
        self.refit_epochs_ = refit_epochs
        self.refit_history_ = refit_history
        vars(self).pop("_network_loader", None)  # a network loaded lazily is replaced
        self.keras_estimator_ = keras_estimator
        self.model_ = keras_estimator.model_
        self.training_engine_ = result.engine
        self._numpy_predictor_ = _numpy_predictor(self)

    def _set_target_attributes(self, target):
        """Record what the target taught (the classifier's ``classes_``)."""

    def _fitted_members(self):
        """The fitted network's ensemble members (estimators fitted before
        ``n_ensemble_`` existed recorded the parameter, an int, instead)."""
        built = getattr(self, "_network_params", None) or {}
        return getattr(self, "n_ensemble_", built.get("n_ensemble", 1))

    def _check_continuation(self, settings, how):
        """A continued fit trains the network it has: refuse what would change it."""
        name = type(self).__name__
        if settings.refit_full:
            raise ValueError(
                f"{name}: refit_full=True trains a new network on every row, so it cannot "
                "continue the fitted one (warm_start=True). Set refit_full=False to train "
                "on, or warm_start=False to fit a new network."
            )
        built = getattr(self, "_network_params", None)
        changed = _params.changed_network_params(built, settings) if built is not None else []
        if changed:
            what = ", ".join(f"{k}={old!r} -> {new!r}" for k, old, new in changed)
            raise ValueError(
                f"{name}: {how} trains the fitted network on, but parameters that build "
                f"it changed since it was built: {what}. Set them back, or fit a new "
                "network (warm_start=False, or a clone of the estimator)."
            )

    def _check_continued_target(self, y, target):
        """y of a continued fit has the target the network was built for."""

    def _validation_data(self, given, y, target):
        """A user's ``validation_data``, checked like the training data, or None."""
        if given is None:
            return None
        name = type(self).__name__
        if not isinstance(given, (tuple, list)) or len(given) not in (2, 3):
            raise ValueError(
                f"{name}.fit(validation_data=...) must be a tuple (X_val, y_val) or "
                "(X_val, y_val, sample_weight_val)."
            )
        x_val = self._validate_X(given[0])
        y_val = np.asarray(given[1])
        if y_val.dtype.kind in "USO" and not target.is_classification:
            y_val = self._prepare_y(y_val)
        if len(y_val) != x_val.shape[0]:
            raise ValueError(
                f"{name}.fit(validation_data=...) has {x_val.shape[0]} rows in X_val but "
                f"{len(y_val)} in y_val; they must match."
            )
        y_val = self._check_validation_target(y_val, y, target)
        w_val = None
        if len(given) == 3 and given[2] is not None:
            w_val = _check_sample_weight(
                given[2], x_val, dtype=np.float32, ensure_non_negative=True
            )
        return x_val, y_val, w_val

    def _check_validation_target(self, y_val, y, target):
        """y_val with the training target's shape and no missing values."""
        name = type(self).__name__
        if y_val.ndim == 2 and y_val.shape[1] == 1 and y.ndim == 1:
            y_val = y_val.ravel()  # a one-column frame or column vector
        if y_val.ndim != y.ndim or y_val.shape[1:] != y.shape[1:]:
            raise ValueError(
                f"{name}.fit(validation_data=...): y_val has shape {y_val.shape}, but y has "
                f"shape {y.shape}; they must have the same columns."
            )
        if y_val.dtype.kind in "fc":
            bad = ~np.isfinite(y_val)
            if bad.any():
                rows = np.unique(np.nonzero(bad)[0])
                raise ValueError(
                    f"{name}.fit(validation_data=...): y_val holds NaN or infinity in rows "
                    f"{rows[:10].tolist()}; drop those rows or fill them."
                )
        return y_val

    # -- inference ------------------------------------------------------------
    def _X_for_predict(self, X):
        """``X`` validated for predict.  A plain 2-D float ndarray of the fitted width
        (a service's one row) takes a fast path that checks what ``validate_data``
        would (fitted, shape, dtype, finite values, no feature names expected);
        anything else, and any failed check, goes through ``validate_data``, whose
        errors and warnings it keeps."""
        state = vars(self)
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in _FLOATS
            and X.shape[0] > 0
            and X.shape[1] == state.get("n_features_in_")
            and "feature_names_in_" not in state  # validate_data warns then
            and self.__sklearn_is_fitted__()
            and np.isfinite(X).all()
        ):
            return X if X.dtype == _FLOATS[0] else X.astype(np.float32)
        check_is_fitted(self)
        return self._validate_X(X, reset=False)

    def _numpy_path(self):
        """The fitted network's :class:`~skdense._inference.NumpyPredictor`, or None
        when it predicts through Keras (a network from ``model=``, layers the NumPy
        path does not run, routed ``predict__`` arguments or predict callbacks)."""
        predictor = vars(self).get("_numpy_predictor_", _UNSET)
        if predictor is _UNSET:  # fitted by an older skdense, then pickled
            predictor = self._numpy_predictor_ = _numpy_predictor(self)
        return predictor

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        X = self._X_for_predict(X)
        predictor = self._numpy_path()
        if predictor is not None:
            return predictor.predict(X)
        return self.keras_estimator_.predict(X)

    def summary(self, **kwargs):
        """Print the Keras summary of the fitted network (``model_.summary()``)."""
        check_is_fitted(self, "model_")
        return self.model_.summary(**kwargs)


def _numpy_predictor(estimator):
    """The NumPy forward pass and decoding of a fitted estimator's network, or None
    when it must predict through Keras (see ``_DenseEstimator._numpy_path``)."""
    from .. import _scikeras  # the network is in memory, so TensorFlow is too

    if _scikeras.predicts_through_keras(estimator.keras_estimator_):
        return None
    try:
        return predictor_for(estimator)
    except UnsupportedNetwork:
        return None
