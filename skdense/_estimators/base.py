"""DenseClassifier and DenseRegressor: the public estimators.

Thin: they own the parameters, the tags and scikit-learn's data contract
(validation of X, y and ``validation_data``, ``n_features_in_``,
``feature_names_in_``), and run the fit path in order: settings
(:mod:`skdense._estimators.params`), the target (:mod:`skdense._estimators.targets`), the plan of
rows, weights and stop rule (:mod:`skdense._estimators.fit_plan`), then the network and
its training (:mod:`skdense._scikeras`).  ``partial_fit`` and ``fit`` with
``warm_start=True`` run the same path and train the fitted network on.  A fit
is all or nothing.  This module imports no TensorFlow.
"""

import contextlib
import dataclasses
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._network import memory
from .._network.build import check_activation
from .._training.run import Validation
from . import params as _params
from .fit_plan import make_plan
from .targets import TargetSpec, classification_task


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


class _DenseEstimator(BaseEstimator):
    """Parameters, data checks and the fit path shared by both estimators."""

    _kind = None  # "classifier" or "regressor"

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        model=None,
        activation="relu",
        dropout=0.0,
        alpha=0.0,
        optimizer="adam",
        learning_rate=0.001,
        loss=None,
        metrics=None,
        batch_size=64,
        epochs=200,
        early_stopping=True,
        validation_split=0.1,
        monitor="val_loss",
        patience=10,
        min_delta=0.0,
        restore_best_weights=True,
        refit_full=False,
        callbacks=None,
        beta_1=0.9,
        beta_2=0.95,
        weight_decay=0.0,
        lr_schedule="constant",
        feature_scaling=False,
        numeric_embedding=None,
        n_ensemble=1,
        ensemble_adapters="mini",
        warm_start=False,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.model = model
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.alpha = alpha
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_split = validation_split
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best_weights = restore_best_weights
        self.refit_full = refit_full
        self.callbacks = callbacks
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.feature_scaling = feature_scaling
        self.numeric_embedding = numeric_embedding
        self.n_ensemble = n_ensemble
        self.ensemble_adapters = ensemble_adapters
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self._set_routed(kwargs)

    def _set_routed(self, kwargs):
        # Stored as given (sklearn's contract); names that are not routed are
        # reported at fit by _params.resolve.
        for key, value in kwargs.items():
            setattr(self, key, value)
        self._extra_params = tuple(sorted(set(getattr(self, "_extra_params", ())) | set(kwargs)))

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
                    self, X, y, multi_output=True, y_numeric=self._kind == "regressor", **kwargs
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
            hold_out=not partial, first_epoch=done, estimator_name=name,
        )
        if partial:
            plan = dataclasses.replace(plan, training=dataclasses.replace(plan.training, epochs=1))
        if not continuing and not plan.user_model:
            # before TensorFlow loads: a network too large for this machine is refused at once
            memory.check_plan_memory(name, settings, plan)
        if settings.model is None:
            check_activation(settings.activation, name)  # loads Keras
        from .. import _scikeras

        if continuing:  # 6. network, training
            keras_estimator, result = _scikeras.resume(self.keras_estimator_, settings, plan)
        else:
            keras_estimator, result = _scikeras.train(self._kind, settings, plan)
        first = result
        refit_epochs = refit_history = None
        if settings.refit_full and first.best_epoch and plan.n_train < X.shape[0]:
            # Early stopping chose the number of epochs on held-out rows; train a
            # fresh network on every row for as many epochs as the kept weights had.
            kept = first.best_epoch if settings.restore_best_weights else first.n_epochs
            refit = settings.replace(epochs=kept, early_stopping=False)
            refit_plan = make_plan(refit, X, y, sample_weight, target, hold_out=False)
            keras_estimator, result = _scikeras.train(self._kind, refit, refit_plan)
            refit_epochs = result.n_epochs
            refit_history = {k: list(v) for k, v in result.history.items()}
        # 7. record, all at once
        self._set_target_attributes(target)
        history = {k: list(v) for k, v in first.history.items()}
        self.history_ = _extend_history(past, done, history)
        self.n_iter_ = done + first.n_epochs
        self.best_epoch_ = first.best_epoch
        if not continuing:
            self._network_params = _params.network_params(settings)
        self.refit_epochs_ = refit_epochs
        self.refit_history_ = refit_history
        self.keras_estimator_ = keras_estimator
        self.model_ = keras_estimator.model_
        self.training_engine_ = result.engine

    def _set_target_attributes(self, target):
        """Record what the target taught (the classifier's ``classes_``)."""

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
        return Validation(x_val, y_val, w_val)

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
        check_is_fitted(self, "model_")
        return self._validate_X(X, reset=False)

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
        return self.keras_estimator_.predict(X)

    def summary(self, **kwargs):
        """Print the Keras summary of the fitted network (``model_.summary()``)."""
        check_is_fitted(self, "model_")
        return self.model_.summary(**kwargs)


class DenseClassifier(ClassifierMixin, _DenseEstimator):
    """A Keras dense (MLP) network as a scikit-learn classifier.

    The output layer and the loss follow the target: binary labels get one
    sigmoid unit and binary cross-entropy, multiclass labels a softmax and
    categorical cross-entropy, a multilabel indicator matrix one sigmoid per
    label and binary cross-entropy.  Labels of any type are encoded inside.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Units of each hidden ``Dense`` layer.
    model : keras.Model, callable or None, default=None
        None builds ``Input -> Dense(units, activation)`` for each entry of
        ``hidden_layer_sizes`` -> output layer.  A Keras model or a builder
        function (scikeras-style, may take ``meta`` and ``compile_kwargs``)
        replaces it; the architecture parameters are then unused.
    activation : str or callable, default="relu"
        Activation of the hidden layers; any name Keras accepts ("relu",
        "swish", "gelu", "tanh", ...).
    dropout : float in [0, 1), default=0.1
        Dropout rate after each hidden layer.
    alpha : float, default=0.0
        L2 penalty ``alpha * sum(W**2)`` on every kernel.
    optimizer : str, class or keras optimizer, default="adam"
        The optimizer; route its arguments as ``optimizer__beta_2=0.95``.
    learning_rate : float, default=0.001
        Learning rate, when ``optimizer`` is a name or a class.
    loss : str, callable or None, default=None
        None chooses from the target (see above).
    metrics : list or None, default=None
        Keras metrics recorded in ``history_``.
    batch_size : int, default=64
        Minibatch size.
    epochs : int, default=200
        Maximum number of passes over the training data.
    early_stopping : bool, default=True
        Stop when ``monitor`` has not improved by ``min_delta`` for
        ``patience`` epochs. The validation rows (``validation_split`` of the
        data passed to ``fit``) are drawn shuffled, stratified and seeded.
    validation_split : float in (0, 1), default=0.1
        Fraction of the training rows held out for early stopping.
    monitor : str, default="val_loss"
        Quantity watched by early stopping.
    patience : int, default=10
        Epochs without improvement before stopping.
    min_delta : float, default=0.0
        Minimum change that counts as an improvement.
    restore_best_weights : bool, default=True
        Keep the weights of the best epoch when stopping.
    refit_full : bool, default=False
        After early stopping has chosen the number of epochs on the held-out
        rows, train a fresh network on every row passed to ``fit`` for that
        many epochs (the best epoch, or all epochs run when
        ``restore_best_weights=False``) and keep it. The validation rows then
        also train the model, at about 1.5 times the fit time. ``history_`` keeps
        the curves of the run that chose the epochs, ``refit_history_`` those
        of the refit. No refit when
        ``validation_data`` is given (every row already trains the model).
    callbacks : list of keras callbacks or None, default=None
        Keras callbacks for every fit; ``fit(..., callbacks=[...])`` replaces
        them for one fit. Any callback makes training take Keras's
        ``model.fit`` path.
    beta_1, beta_2 : float, default=0.9, 0.95
        Adam-family moment decay rates (0.95 rather than Keras's 0.999, as in
        RealMLP; measured in "Why these defaults").
    weight_decay : float, default=0.0
        Decoupled weight decay of the optimizer (use with ``optimizer="adamw"``).
    lr_schedule : {"constant", "cosine", "multicycle"}, default="constant"
        Learning rate over the run: constant; cosine decay to 0 over
        ``epochs``; or four cosine cycles with warm restarts.
    feature_scaling : bool, default=False
        A learnable scale per input feature before the first layer.
    numeric_embedding : {None, "periodic"}, default=None
        Periodic (PLR) embeddings of the continuous input columns (those with
        more than two distinct values); binary/one-hot columns pass through.
    n_ensemble : int, default=1
        Number of members of an efficient ensemble trained as one network
        (TabM, Gorishniy et al. 2025): the hidden kernels are shared, each
        member has its own adapters and output layer, all are trained at once
        on the same minibatches (the mean of their losses), and the prediction
        is the mean of their probabilities (classification) or values
        (regression). Early stopping watches the loss of that mean. 1 is a
        single network.
    ensemble_adapters : {"mini", "full", "none"}, default="mini"
        How the members differ besides their output layers: ``"mini"`` a
        per-member scale of the input (TabM-mini); ``"full"`` per-member input
        and output scales and biases in every hidden layer (TabM); ``"none"``
        the output layers only. Unused when ``n_ensemble=1``.
    class_weight : dict, "balanced" or None, default=None
        Weights for the classes in the loss.
    label_smoothing : float in [0, 1), default=0.0
        Label smoothing of the cross-entropy (improves accuracy, can hurt
        log loss).
    warm_start : bool, default=False
        When the estimator is fitted, ``fit`` trains the fitted network on
        (its weights, optimizer state and target encoding) for ``epochs``
        more epochs instead of building a new one, as Keras's ``model.fit``
        does when called again; ``history_``, ``n_iter_`` and ``best_epoch_``
        count on. Parameters that build the network (``hidden_layer_sizes``,
        ``learning_rate``, ``loss``...) must not change meanwhile. A
        learning-rate schedule continues where it was.
    random_state : int, RandomState or None, default=None
        Seeds the initial weights, dropout, the minibatch order and the
        validation split. Global random state is left untouched.
    verbose : int, default=0
        0 silent, 1 or 2 per-epoch progress lines.
    **kwargs
        scikeras-routed parameters (``model__...``, ``optimizer__...``,
        ``loss__...``, ``fit__...``, ``predict__...``, ``callbacks__...``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (column indices for a multilabel target).
    model_ : keras.Model
        The fitted Keras network.
    history_ : dict of lists
        Per-epoch ``loss`` (and ``val_loss`` and metrics when computed), one
        value per epoch of ``n_iter_`` (NaN for an epoch that did not
        compute it).
    n_iter_ : int
        Epochs the network has trained (a last epoch whose loss was not
        finite included), counted over ``warm_start`` fits and
        ``partial_fit`` calls.
    best_epoch_ : int or None
        1-based epoch with the best monitored value when early stopping ran
        (counted like ``n_iter_``).
    refit_epochs_ : int or None
        Epochs of the ``refit_full`` network on all rows, or None when there
        was no refit.
    refit_history_ : dict of lists or None
        Per-epoch ``loss`` (and compiled metrics) of the ``refit_full``
        network on all rows, or None when there was no refit.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X had string column names.
    keras_estimator_ : scikeras KerasClassifier
        The scikeras estimator that trained the network.
    training_engine_ : {"engine", "keras"}
        Which path trained the network: skdense's compiled engine, or Keras's
        ``model.fit`` (user callbacks, routed ``fit__`` arguments, compiled
        metrics or a monitor other than ``loss``/``val_loss``).

    See Also
    --------
    DenseRegressor : the same network for numeric targets.
    sklearn.neural_network.MLPClassifier : scikit-learn's own MLP.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdense import DenseClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     DenseClassifier((32,), learning_rate=0.01, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _kind = "classifier"
    _parameter_constraints = _params.CLASSIFIER_CONSTRAINTS

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        model=None,
        activation="relu",
        dropout=0.1,
        alpha=0.0,
        optimizer="adam",
        learning_rate=0.001,
        loss=None,
        metrics=None,
        batch_size=64,
        epochs=200,
        early_stopping=True,
        validation_split=0.1,
        monitor="val_loss",
        patience=10,
        min_delta=0.0,
        restore_best_weights=True,
        refit_full=False,
        callbacks=None,
        beta_1=0.9,
        beta_2=0.95,
        weight_decay=0.0,
        lr_schedule="constant",
        feature_scaling=False,
        numeric_embedding=None,
        n_ensemble=1,
        ensemble_adapters="mini",
        class_weight=None,
        label_smoothing=0.0,
        warm_start=False,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            hidden_layer_sizes,
            model=model,
            activation=activation,
            dropout=dropout,
            alpha=alpha,
            optimizer=optimizer,
            learning_rate=learning_rate,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            epochs=epochs,
            early_stopping=early_stopping,
            validation_split=validation_split,
            monitor=monitor,
            patience=patience,
            min_delta=min_delta,
            restore_best_weights=restore_best_weights,
            refit_full=refit_full,
            callbacks=callbacks,
            beta_1=beta_1,
            beta_2=beta_2,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            feature_scaling=feature_scaling,
            numeric_embedding=numeric_embedding,
            n_ensemble=n_ensemble,
            ensemble_adapters=ensemble_adapters,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _prepare_y(self, y):
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it was "
                "raveled to shape (n_samples,).",
                DataConversionWarning,
                stacklevel=4,
            )
            y = y.ravel()
        return y

    def _target_spec(self, y, settings, classes=None):
        if classes is None:
            task = classification_task(y, type(self).__name__)
            classes = np.arange(y.shape[1]) if task == "multilabel" else np.unique(y)
            return TargetSpec(task, classes)
        # partial_fit's first call: the classes given, not those of this batch
        if y.ndim == 2:
            return TargetSpec("multilabel", np.arange(y.shape[1]))
        classes = np.unique(np.asarray(classes))
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__}.partial_fit needs at least 2 classes; got "
                f"classes={classes.tolist()}."
            )
        target = TargetSpec("binary" if classes.size == 2 else "multiclass", classes)
        self._check_continued_target(y, target)
        return target

    def _check_continued_target(self, y, target):
        name = type(self).__name__
        if (y.ndim == 2) != (target.task == "multilabel") or (
            y.ndim == 2 and y.shape[1] != len(target.classes)
        ):
            shape = f"{len(target.classes)} label columns" if y.ndim == 2 else "1-D labels"
            raise ValueError(
                f"{name}: the network was built for a {target.task} target, but y has "
                f"shape {y.shape}; a continued fit (warm_start, partial_fit) needs the same "
                f"target ({shape}). Fit a new network (warm_start=False) for a new target."
            )
        if y.ndim == 1:
            unknown = np.setdiff1d(np.unique(y), target.classes)
            if unknown.size:
                raise ValueError(
                    f"{name}: y holds labels the network was not built for: "
                    f"{unknown[:5].tolist()}; its classes are {target.classes.tolist()}. "
                    "A continued fit (warm_start, partial_fit) keeps the classes; pass "
                    "every class to the first partial_fit (classes=...), or fit a new "
                    "network (warm_start=False)."
                )

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train the network for one epoch on ``X``, ``y``, building it on the first call.

        As scikit-learn's ``MLPClassifier.partial_fit``: one pass over the
        given rows (in minibatches, shuffled by ``random_state``), no early
        stopping or held-out rows; ``n_iter_`` and ``history_`` count on.
        Parameters that build the network must not change between calls.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        classes : array-like of shape (n_classes,), default=None
            Every class the network will see. Required on the first call
            (when the estimator is not fitted), optional afterwards and then
            equal to ``classes_``. For a multilabel target, the label columns.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        name = type(self).__name__
        if not hasattr(self, "model_") and classes is None:
            raise ValueError(
                f"{name}.partial_fit needs classes=... on the first call: every class "
                "the network will see (np.unique of the whole target), since one batch "
                "may not hold them all."
            )
        if classes is not None:
            _check_missing_labels(classes, f"{name}.partial_fit", "classes", "position(s)")
            classes = np.asarray(classes)
            if classes.ndim != 1:
                raise ValueError(
                    f"{name}.partial_fit: classes must be a 1-D list of the class labels "
                    f"(e.g. np.unique(y)); got an array of shape {classes.shape}."
                )
        multilabel = hasattr(self, "model_") and self.keras_estimator_.target.task == "multilabel"
        if hasattr(self, "model_") and classes is not None and not multilabel:
            given = np.unique(classes)
            if not np.array_equal(self.classes_, given):
                raise ValueError(
                    f"{name}.partial_fit: classes={given.tolist()} is not the same as on "
                    f"the first call, {self.classes_.tolist()}."
                )
        return self._partial_fit(X, y, sample_weight, classes=classes)

    def _set_target_attributes(self, target):
        self.classes_ = target.classes

    def _check_validation_target(self, y_val, y, target):
        y_val = super()._check_validation_target(y_val, y, target)
        if target.task != "multilabel":
            known = set(target.classes.tolist())
            unknown = [v for v in y_val.tolist() if v not in known]
            if unknown:
                raise ValueError(
                    f"{type(self).__name__}.fit(validation_data=...): y_val holds labels "
                    f"that y does not: {sorted(set(map(repr, unknown)))[:5]}. The classes "
                    f"of y are {target.classes.tolist()}."
                )
        return y_val

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes).

        For a multilabel target, the probability of each label.
        """
        X = self._X_for_predict(X)
        return self.keras_estimator_.predict_proba(X)


class DenseRegressor(RegressorMixin, _DenseEstimator):
    """A Keras dense (MLP) network as a scikit-learn regressor.

    One linear output unit per target column and mean squared error; ``y`` may
    have several columns (multi-output).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Units of each hidden ``Dense`` layer.
    model : keras.Model, callable or None, default=None
        None builds ``Input -> Dense(units, activation)`` for each entry of
        ``hidden_layer_sizes`` -> output layer.  A Keras model or a builder
        function (scikeras-style, may take ``meta`` and ``compile_kwargs``)
        replaces it; the architecture parameters are then unused.
    activation : str or callable, default="relu"
        Activation of the hidden layers; any name Keras accepts ("relu",
        "swish", "gelu", "tanh", ...).
    dropout : float in [0, 1), default=0.0
        Dropout rate after each hidden layer.
    alpha : float, default=0.0
        L2 penalty ``alpha * sum(W**2)`` on every kernel.
    optimizer : str, class or keras optimizer, default="adam"
        The optimizer; route its arguments as ``optimizer__beta_2=0.95``.
    learning_rate : float, default=0.001
        Learning rate, when ``optimizer`` is a name or a class.
    loss : str, callable or None, default=None
        None means mean squared error.
    metrics : list or None, default=None
        Keras metrics recorded in ``history_``.
    batch_size : int, default=64
        Minibatch size.
    epochs : int, default=200
        Maximum number of passes over the training data.
    early_stopping : bool, default=True
        Stop when ``monitor`` has not improved by ``min_delta`` for
        ``patience`` epochs. The validation rows (``validation_split`` of the
        data passed to ``fit``) are drawn shuffled, stratified and seeded.
    validation_split : float in (0, 1), default=0.1
        Fraction of the training rows held out for early stopping.
    monitor : str, default="val_loss"
        Quantity watched by early stopping.
    patience : int, default=10
        Epochs without improvement before stopping.
    min_delta : float, default=0.0
        Minimum change that counts as an improvement.
    restore_best_weights : bool, default=True
        Keep the weights of the best epoch when stopping.
    refit_full : bool, default=False
        After early stopping has chosen the number of epochs on the held-out
        rows, train a fresh network on every row passed to ``fit`` for that
        many epochs (the best epoch, or all epochs run when
        ``restore_best_weights=False``) and keep it. The validation rows then
        also train the model, at about 1.5 times the fit time. ``history_`` keeps
        the curves of the run that chose the epochs, ``refit_history_`` those
        of the refit. No refit when
        ``validation_data`` is given (every row already trains the model).
    callbacks : list of keras callbacks or None, default=None
        Keras callbacks for every fit; ``fit(..., callbacks=[...])`` replaces
        them for one fit. Any callback makes training take Keras's
        ``model.fit`` path.
    beta_1, beta_2 : float, default=0.9, 0.95
        Adam-family moment decay rates (0.95 rather than Keras's 0.999, as in
        RealMLP; measured in "Why these defaults").
    weight_decay : float, default=0.0
        Decoupled weight decay of the optimizer (use with ``optimizer="adamw"``).
    lr_schedule : {"constant", "cosine", "multicycle"}, default="constant"
        Learning rate over the run: constant; cosine decay to 0 over
        ``epochs``; or four cosine cycles with warm restarts.
    feature_scaling : bool, default=False
        A learnable scale per input feature before the first layer.
    numeric_embedding : {None, "periodic"}, default=None
        Periodic (PLR) embeddings of the continuous input columns (those with
        more than two distinct values); binary/one-hot columns pass through.
    n_ensemble : int, default=1
        Number of members of an efficient ensemble trained as one network
        (TabM, Gorishniy et al. 2025): the hidden kernels are shared, each
        member has its own adapters and output layer, all are trained at once
        on the same minibatches (the mean of their losses), and the prediction
        is the mean of their probabilities (classification) or values
        (regression). Early stopping watches the loss of that mean. 1 is a
        single network.
    ensemble_adapters : {"mini", "full", "none"}, default="mini"
        How the members differ besides their output layers: ``"mini"`` a
        per-member scale of the input (TabM-mini); ``"full"`` per-member input
        and output scales and biases in every hidden layer (TabM); ``"none"``
        the output layers only. Unused when ``n_ensemble=1``.
    standardize_target : bool, default=True
        Train on the standardised target ``(y - mean) / std`` (per output) and
        undo it at predict, so targets in the hundreds train as well as targets
        near 1. ``loss`` and ``val_loss`` in ``history_`` are then in
        standardised units.
    warm_start : bool, default=False
        When the estimator is fitted, ``fit`` trains the fitted network on
        (its weights, optimizer state and target encoding) for ``epochs``
        more epochs instead of building a new one, as Keras's ``model.fit``
        does when called again; ``history_``, ``n_iter_`` and ``best_epoch_``
        count on. Parameters that build the network (``hidden_layer_sizes``,
        ``learning_rate``, ``loss``...) must not change meanwhile. A
        learning-rate schedule continues where it was.
    random_state : int, RandomState or None, default=None
        Seeds the initial weights, dropout, the minibatch order and the
        validation split. Global random state is left untouched.
    verbose : int, default=0
        0 silent, 1 or 2 per-epoch progress lines.
    **kwargs
        scikeras-routed parameters (``model__...``, ``optimizer__...``,
        ``loss__...``, ``fit__...``, ``predict__...``, ``callbacks__...``).

    Attributes
    ----------
    model_ : keras.Model
        The fitted Keras network.
    history_ : dict of lists
        Per-epoch ``loss`` (and ``val_loss`` and metrics when computed), one
        value per epoch of ``n_iter_`` (NaN for an epoch that did not
        compute it).
    n_iter_ : int
        Epochs the network has trained (a last epoch whose loss was not
        finite included), counted over ``warm_start`` fits and
        ``partial_fit`` calls.
    best_epoch_ : int or None
        1-based epoch with the best monitored value when early stopping ran
        (counted like ``n_iter_``).
    refit_epochs_ : int or None
        Epochs of the ``refit_full`` network on all rows, or None when there
        was no refit.
    refit_history_ : dict of lists or None
        Per-epoch ``loss`` (and compiled metrics) of the ``refit_full``
        network on all rows, or None when there was no refit.
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X had string column names.
    keras_estimator_ : scikeras KerasRegressor
        The scikeras estimator that trained the network.
    training_engine_ : {"engine", "keras"}
        Which path trained the network: skdense's compiled engine, or Keras's
        ``model.fit`` (user callbacks, routed ``fit__`` arguments, compiled
        metrics or a monitor other than ``loss``/``val_loss``).

    See Also
    --------
    DenseClassifier : the same network for labels.
    sklearn.neural_network.MLPRegressor : scikit-learn's own MLP.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdense import DenseRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(StandardScaler(),
    ...                     DenseRegressor((32,), learning_rate=0.01, random_state=0))
    >>> reg.fit(X, y).score(X, y) > 0.3
    True
    """

    _kind = "regressor"
    _parameter_constraints = _params.REGRESSOR_CONSTRAINTS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        model=None,
        activation="relu",
        dropout=0.0,
        alpha=0.0,
        optimizer="adam",
        learning_rate=0.001,
        loss=None,
        metrics=None,
        batch_size=64,
        epochs=200,
        early_stopping=True,
        validation_split=0.1,
        monitor="val_loss",
        patience=10,
        min_delta=0.0,
        restore_best_weights=True,
        refit_full=False,
        callbacks=None,
        beta_1=0.9,
        beta_2=0.95,
        weight_decay=0.0,
        lr_schedule="constant",
        feature_scaling=False,
        numeric_embedding=None,
        n_ensemble=1,
        ensemble_adapters="mini",
        standardize_target=True,
        warm_start=False,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            hidden_layer_sizes,
            model=model,
            activation=activation,
            dropout=dropout,
            alpha=alpha,
            optimizer=optimizer,
            learning_rate=learning_rate,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            epochs=epochs,
            early_stopping=early_stopping,
            validation_split=validation_split,
            monitor=monitor,
            patience=patience,
            min_delta=min_delta,
            restore_best_weights=restore_best_weights,
            refit_full=refit_full,
            callbacks=callbacks,
            beta_1=beta_1,
            beta_2=beta_2,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            feature_scaling=feature_scaling,
            numeric_embedding=numeric_embedding,
            n_ensemble=n_ensemble,
            ensemble_adapters=ensemble_adapters,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.standardize_target = standardize_target

    def _prepare_y(self, y):
        if y.dtype.kind in "USO":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{type(self).__name__} needs a numeric target y; y holds text such as "
                    f"{np.ravel(y)[0]!r}. For class labels use DenseClassifier."
                ) from None
        return y

    def _target_spec(self, y, settings, classes=None):
        return TargetSpec("regression", standardize=bool(settings.standardize_target))

    def _check_continued_target(self, y, target):
        n_outputs = self.keras_estimator_.target_encoder_.n_outputs_
        if (1 if y.ndim == 1 else y.shape[1]) != n_outputs:
            raise ValueError(
                f"{type(self).__name__}: the network was built for {n_outputs} target "
                f"column(s), but y has shape {y.shape}; a continued fit (warm_start, "
                "partial_fit) needs the same columns. Fit a new network (warm_start=False)."
            )

    def partial_fit(self, X, y, sample_weight=None):
        """Train the network for one epoch on ``X``, ``y``, building it on the first call.

        As scikit-learn's ``MLPRegressor.partial_fit``: one pass over the
        given rows (in minibatches, shuffled by ``random_state``), no early
        stopping or held-out rows; ``n_iter_`` and ``history_`` count on.
        The first call's ``y`` sets the target standardisation
        (``standardize_target``). Parameters that build the network must not
        change between calls.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        return self._partial_fit(X, y, sample_weight)
