"""DenseRegressor: a Keras dense network as a scikit-learn regressor."""

import numpy as np
from sklearn.base import RegressorMixin

from .. import _training
from . import params as _params
from .base import _DenseEstimator
from .targets import TargetSpec


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
    patience : int or "auto", default="auto"
        Epochs without improvement before stopping. ``"auto"``: 10 for one
        network, 20 for an ensemble (``n_ensemble_ > 1``), whose validation
        loss can rise for its first epochs while its members diverge.
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
    n_ensemble : int or "auto", default="auto"
        Number of members of an efficient ensemble trained as one network
        (TabM, Gorishniy et al. 2025): the hidden kernels are shared, each
        member has its own adapters and output layer, all are trained at once
        on the same minibatches (the mean of their losses), and the prediction
        is the mean of their probabilities (classification) or values
        (regression). Early stopping watches the loss of that mean. 1 is a
        single network. ``"auto"`` (the default): 8 members, or one network
        when ``model=`` or ``metrics`` are given or X has more than 512
        columns; the value used is ``n_ensemble_`` (see "Why these
        defaults").
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
    n_ensemble_ : int
        Members of the fitted network (``n_ensemble`` with ``"auto"`` resolved;
        1 is a single network).
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
        patience="auto",
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
        n_ensemble="auto",
        ensemble_adapters="mini",
        standardize_target=True,
        warm_start=False,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self._store(locals())


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

    def predict(self, X, return_std=False):
        """Predict with the fitted network.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return the standard deviation of the ensemble members'
            predictions, in the target's units (as ``BayesianRidge`` and
            ``GaussianProcessRegressor`` do). It measures how much the
            members disagree on a row, not a calibrated predictive interval:
            it ignores the noise of ``y`` and the error all members share
            (see "Efficient ensembles" in the docs). Needs an ensemble
            (``n_ensemble_ > 1``).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The ensemble's mean prediction.
        y_std : ndarray of the same shape
            Only with ``return_std=True``: the members' standard deviation.
        """
        if not return_std:
            return super().predict(X)
        members = self._fitted_members()
        if members < 2:
            raise ValueError(
                f"{type(self).__name__}.predict(X, return_std=True) gives the spread of an "
                f"ensemble's members, but this network is a single one (n_ensemble_="
                f"{members}). Fit with n_ensemble='auto' (the default) or n_ensemble=8."
            )
        X = self._X_for_predict(X)
        predictor = self._numpy_path()
        if predictor is not None:
            y_pred = predictor.predict(X)
            outputs = predictor.network.member_outputs(X)
            scale = predictor.decoder.scale
        else:
            y_pred = self.keras_estimator_.predict(X)
            outputs = _training.predict_members(self.model_, X)
            scale = self.keras_estimator_.target_encoder_.scale_
        y_std = outputs.std(axis=1) * np.asarray(scale, dtype=np.float64)
        return y_pred, y_std.reshape(y_pred.shape)

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
