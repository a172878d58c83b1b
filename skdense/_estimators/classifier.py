"""DenseClassifier: a Keras dense network as a scikit-learn classifier."""

import warnings

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning

from . import params as _params
from .base import _DenseEstimator, _check_missing_labels
from .targets import TargetSpec, classification_task


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
    n_ensemble_ : int
        Members of the fitted network (``n_ensemble`` with ``"auto"`` resolved;
        1 is a single network).
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
        class_weight=None,
        label_smoothing=0.0,
        warm_start=False,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self._store(locals())

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
        predictor = self._numpy_path()
        if predictor is not None:
            return predictor.predict_proba(X)
        return self.keras_estimator_.predict_proba(X)
