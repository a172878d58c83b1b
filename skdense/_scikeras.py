"""The only module that touches scikeras.

skdense's estimators compose a scikeras estimator inside ``fit`` (step 6 of the
fit path, ``docs/architecture.md``): :func:`train` creates it from the fit's
:class:`~skdense._estimators.params.Settings` and :class:`~skdense._estimators.fit_plan.FitPlan`,
lets scikeras route the parameters (``model__``, ``optimizer__``, ``loss__``,
``callbacks__``...), build and compile the network and set up the target
encoder, then trains the compiled model with :func:`skdense._training.fit_model`
(not scikeras's ``fit``); :func:`resume` trains a fitted one on
(``warm_start``, ``partial_fit``).  At predict, the scikeras estimator decodes
the target; its forward pass is skdense's compiled one.

skdense overrides what scikeras 0.13 gets wrong or slow under scikit-learn
1.9: target encoding (:class:`~skdense._estimators.targets.TargetSpec`), seeding
(scikeras switches TF op determinism on for good), training and the forward
pass.

Persistence (:mod:`skdense.persistence`) takes the scikeras estimator apart
with :func:`estimator_state` (skdense's own fields as plain values, no network,
no scikeras attribute) and puts it back around a loaded network with
:func:`restore_estimator` (scikeras's constructor, then the fitted attributes
listed in :data:`SCIKERAS_PRIVATE`).

Importing this module imports TensorFlow; only ``fit`` (and unpickling or
loading a fitted estimator) does that.
"""

import contextlib
import dataclasses
import inspect
import random
from collections import defaultdict

from ._backend import load_keras, load_tf

load_tf()

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scikeras.wrappers import KerasClassifier, KerasRegressor  # noqa: E402

from . import _training  # noqa: E402
from ._network import ensemble  # noqa: E402,F401  (registers the ensemble's layers and loss)
from ._network import layers  # noqa: E402,F401  (registers skdense's layers before any model loads)
from ._network import memory  # noqa: E402
from ._training.clones import BUILD_LOCK  # noqa: E402
from ._network.build import (  # noqa: E402
    build_dense_network,
    is_sparse_loss,
    label_smoothing_of,
    learning_rate_schedule,
    training_loss,
)
from ._estimators.params import is_wrapper_param  # noqa: E402
from ._estimators.targets import TargetSpec, encoder_from_state  # noqa: E402

# scikeras's private members that skdense still uses, and the fitted attributes of
# scikeras's that skdense assigns itself, each with why: the one list
# (tests/test_scikeras_adapter.py fails when scikeras renames or removes one, stops
# setting one, or changes a method's parameters; and when this module uses or
# assigns one that is not listed). Everything else goes through scikeras's public
# API: the constructor and its routed parameters, initialize, get_params/set_params,
# predict/predict_proba, and reading model_, feature_encoder_, target_encoder_.
# (name, parameters of the method or None for an attribute scikeras sets, why)
SCIKERAS_PRIVATE = (
    ("_ensure_compiled_model", ("self",),
     "compiles the network scikeras built (initialize only builds it); overridden to "
     "train a one-hot encoder's classes as indices under a sparse loss and check the "
     "output width of a user's model"),
    ("_validate_data", ("self", "X", "y", "reset", "y_numeric"),
     "overridden: scikeras converts a sparse X to LIL; skdense keeps its float32 CSR"),
    ("_predict_raw", ("self", "X", "kwargs"),
     "overridden: predict runs skdense's compiled forward pass (scikeras's when "
     "predict__ arguments or predict callbacks are given)"),
    ("_validate_sample_weight", ("X", "y", "sample_weight"),
     "drops rows of weight 0 as scikeras's fit would (skdense trains, not scikeras's fit)"),
    ("_check_model_compatibility", ("self", "y"),
     "checks the encoded target against the network's outputs, as scikeras's fit would"),
    ("_initialize_callbacks", ("self",),
     "instantiates callbacks given as classes with routed callbacks__ arguments; "
     "also makes a restored estimator's _fit_callbacks and _predict_callbacks"),
    ("_fit_callbacks", None, "the callbacks _initialize_callbacks made, for training"),
    ("_predict_callbacks", None, "whether predict must take scikeras's own path"),
    # Assigned by skdense: a restored estimator (restore_estimator) is made fitted
    # with these, and skdense's training records the curves (_train_built).
    ("model_", None, "a restored estimator's network, loaded from the file"),
    ("target_encoder_", None, "a restored estimator's target encoder (skdense's own class)"),
    ("feature_encoder_", None,
     "a restored estimator's feature encoder (scikeras's FunctionTransformer, fitted)"),
    ("history_", None, "the curves of skdense's training, which scikeras's fit would record"),
    ("X_dtype_", None,
     "checked by scikeras's _validate_data when a restored estimator predicts"),
    ("X_shape_", None,
     "its feature shape checked by _validate_data when a restored estimator predicts"),
    ("n_features_in_", None, "recorded by the sparse-X override of _validate_data"),
)


def train(estimator_type, settings, plan):
    """Build the network for ``plan`` and train it; return (scikeras estimator, TrainResult).

    ``estimator_type`` is scikit-learn's: "classifier" or "regressor".  Raises before training when a
    setting cannot take effect on the model (see :func:`_check_training_options`).
    """
    name = "DenseClassifier" if estimator_type == "classifier" else "DenseRegressor"
    est = _make_estimator(estimator_type, settings, plan)
    with _seeded_build(plan):
        est.initialize(plan.X, plan.y)
        est._ensure_compiled_model()
    if plan.user_model:
        # A user's model: its size is known once it is built, before training.
        memory.check_model_memory(
            name, est.model_.count_params(), optimizer=est.model_.optimizer,
            n_rows=plan.n_train, n_val_rows=_n_val_rows(plan), n_features=plan.X.shape[1],
            data_bytes=memory.input_bytes(plan.X)
            + memory.input_bytes(None if plan.validation is None else plan.validation.x),
            target=memory.Target.of(plan.target, plan.y, est.model_.loss),
        )
    _check_training_options(est.model_, settings, plan)
    return est, _train_built(est, plan)


def resume(est, settings, plan):
    """Train the fitted scikeras estimator ``est`` on for ``plan`` (``warm_start``,
    ``partial_fit``): the same network, optimizer state and target encoding;
    this fit's ``callbacks``.

    Return (est, TrainResult).  A run that raises puts the weights, the
    optimizer state and the callbacks back as they were, so a failed
    continuation changes nothing.
    """
    model = est.model_
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    state = [*model.weights, *model.optimizer.variables]
    before = [v.numpy() for v in state]
    callbacks_before = est.callbacks
    try:
        est.set_params(callbacks=list(settings.callbacks) if settings.callbacks else None)
        est._initialize_callbacks()
        return est, _train_built(est, plan)
    except BaseException as err:
        for variable, value in zip(state, before):
            variable.assign(value)
        est.set_params(callbacks=callbacks_before)
        est._initialize_callbacks()
        if isinstance(err, _training.TrainingDiverged):
            restored = plan.training.first_epoch
            raise _training.TrainingDiverged(err.epoch, restored_epoch=restored) from None
        raise


def _train_built(est, plan):
    """Encode the plan's rows with ``est``'s encoders and train ``est.model_``."""
    X, y, sample_weight = plan.X, plan.y, plan.sample_weight
    if sample_weight is not None:
        # scikeras drops rows of weight 0 (scikit-learn's "ignore this row").
        X, y, sample_weight = est._validate_sample_weight(X, y, sample_weight)
    x_enc = est.feature_encoder_.transform(X)
    y_enc = est.target_encoder_.transform(y)
    est._check_model_compatibility(y_enc)
    validation = None
    if plan.validation is not None:
        validation = plan.validation._replace(
            x=est.feature_encoder_.transform(plan.validation.x),
            y=est.target_encoder_.transform(plan.validation.y),
        )
    # The callbacks as scikeras instantiated them (classes with routed callbacks__
    # arguments); everything else of the run is the plan's.
    training = dataclasses.replace(plan.training, callbacks=tuple(est._fit_callbacks))
    result = _training.fit_model(
        est.model_, x_enc, y_enc, training, sample_weight=sample_weight, validation=validation
    )
    est.history_ = defaultdict(list, {k: list(v) for k, v in result.history.items()})
    return result


def _n_val_rows(plan):
    return 0 if plan.validation is None else plan.validation.x.shape[0]


def _make_estimator(estimator_type, settings, plan):
    cls = SkdenseKerasClassifier if estimator_type == "classifier" else SkdenseKerasRegressor
    return cls(target=plan.target, **_estimator_params(settings, plan))


def _estimator_params(settings, plan):
    """The scikeras estimator's parameters for this fit, by scikeras's names."""
    task = plan.target.task
    if plan.user_model and settings.n_ensemble > 1:
        raise ValueError(
            f"n_ensemble={settings.n_ensemble} builds skdense's own network as an ensemble; "
            "with model= it has no effect. Leave n_ensemble=1, or drop model= to use "
            "hidden_layer_sizes and the other architecture parameters."
        )
    if settings.n_ensemble > 1 and settings.metrics:
        # Keras computes compiled metrics on the training forward pass, which
        # gives the members' outputs (n, k, units), not the ensemble's.
        raise ValueError(
            f"metrics={list(settings.metrics)!r} cannot be computed for an ensemble "
            f"(n_ensemble={settings.n_ensemble}): while training the network outputs every "
            "member's prediction, not their mean. Leave metrics=None (history_ has loss "
            "and val_loss, and the estimator's score gives the metric after fit), or use "
            "n_ensemble=1."
        )
    smoothing = getattr(settings, "label_smoothing", 0.0)  # a classifier's parameter
    loss = training_loss(settings.loss, task, smoothing, settings.n_ensemble)
    learning_rate = learning_rate_schedule(
        settings.lr_schedule, settings.learning_rate, plan.lr_schedule_steps
    )
    params = {
        "model": settings.model if plan.user_model else build_dense_network,
        "optimizer": settings.optimizer,
        "loss": loss,
        "metrics": list(settings.metrics) if settings.metrics is not None else None,
        "batch_size": plan.training.batch_size,
        "epochs": plan.training.epochs,
        "verbose": plan.training.verbose,
        "callbacks": list(settings.callbacks) if settings.callbacks is not None else None,
        "random_state": None,  # skdense seeds; see seeded_globals
        **_optimizer_params(settings, learning_rate),
    }
    if not plan.user_model:
        params.update(
            model__hidden_layer_sizes=settings.hidden_layer_sizes,
            model__activation=settings.activation,
            model__dropout=settings.dropout,
            model__alpha=settings.alpha,
            model__seed=plan.seed,
            model__feature_scaling=settings.feature_scaling,
            model__numeric_embedding=settings.numeric_embedding,
            model__continuous=plan.continuous,
            model__n_ensemble=settings.n_ensemble,
            model__ensemble_adapters=settings.ensemble_adapters,
        )
    params.update(settings.routed)
    return params


_OPTIMIZER_CLASSES = {}  # an optimizer's name -> its class


def _optimizer_class(name):
    """The class Keras makes for ``name``, looked up once per name: Keras answers
    with an instance, whose two variables cost ~2 ms a fit to make and drop."""
    cls = _OPTIMIZER_CLASSES.get(name)
    if cls is None:
        cls = _OPTIMIZER_CLASSES[name] = type(load_keras().optimizers.get(name))
    return cls


def _optimizer_params(settings, learning_rate):
    """Routed optimizer arguments from the plain parameters, where the optimizer takes them.

    A user's ``optimizer__<name>`` wins; an optimizer instance is used as given.
    """
    optimizer = settings.optimizer
    if not isinstance(optimizer, (str, type)):
        return {}
    cls = optimizer if isinstance(optimizer, type) else _optimizer_class(optimizer)
    accepted = inspect.signature(cls.__init__).parameters
    wanted = {"learning_rate": learning_rate}
    for key in ("beta_1", "beta_2", "weight_decay"):
        value = getattr(settings, key)
        # beta_1/beta_2 go to every optimizer that takes them; weight_decay only
        # when set (Keras's default is None, no decay term); a value other than the
        # constructor's default must reach the optimizer, or it is an error.
        if (key in accepted and key != "weight_decay") or value != settings.defaults[key]:
            wanted[key] = value
    out = {}
    for key, value in wanted.items():
        if f"optimizer__{key}" in settings.routed:
            continue
        if key not in accepted:
            raise ValueError(
                f"The '{key}' parameter does not apply to optimizer {cls.__name__}; "
                "leave it at its default or choose an optimizer that takes it (e.g. "
                "'adam', 'adamw')."
            )
        out[f"optimizer__{key}"] = value
    return out


def _check_training_options(model, settings, plan):
    """``lr_schedule`` and ``label_smoothing`` reach the network through the
    compile arguments; a model the user compiled with other ones is an error,
    not a setting silently ignored."""
    own = "Compile it with the compile_kwargs scikeras passes to a builder function"
    if settings.lr_schedule != "constant":
        rate = model.optimizer.get_config().get("learning_rate")
        if not isinstance(rate, dict):
            raise ValueError(
                f"lr_schedule={settings.lr_schedule!r} cannot take effect: the model passed "
                "as model= is compiled with its own optimizer. " + own + ", or give "
                "its optimizer a keras.optimizers.schedules schedule and keep "
                "lr_schedule='constant'."
            )
    smoothing = getattr(settings, "label_smoothing", 0.0)
    if smoothing and label_smoothing_of(model.loss) != smoothing:
        raise ValueError(
            f"label_smoothing={smoothing} cannot take effect: the model passed as model= "
            "is compiled with its own loss. " + own + ", or compile it with a Keras "
            "cross-entropy loss object that has label_smoothing, and keep label_smoothing=0."
        )


@contextlib.contextmanager
def _seeded_build(plan):
    """Seeding while the network is built: ours seeds each layer; a user's
    model is built under seeded global generators, holding the BUILD_LOCK so
    no other thread draws from them meanwhile."""
    if not plan.user_model:
        yield
        return
    with BUILD_LOCK, seeded_globals(plan.seed):
        yield


@contextlib.contextmanager
def seeded_globals(seed):
    """Seed Python's and NumPy's global generators while a user's model is built.

    Used only for a user-supplied ``model=``, whose initialisers we cannot seed
    one by one.  Keras 3 draws the seed of every unseeded initializer, Dropout
    and SeedGenerator from Python's ``random`` (``make_default_seed``), so that
    is enough; both states are restored afterwards.  TensorFlow's global seed
    is not touched: ``tf.random.set_seed`` would also discard every compiled
    function (the engine's cache), and scikeras's op determinism breaks later
    unseeded fits.
    """
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


class _SkdenseWrapper:
    """Overrides shared by the classifier and the regressor.

    ``target`` (a :class:`~skdense._estimators.targets.TargetSpec`) is a constructor
    parameter: the target encoder follows it.
    """

    def __init__(self, *, target=None, **params):
        super().__init__(**params)
        self.target = target

    @property
    def target_encoder(self):
        return self.target.encoder(sparse_loss=is_sparse_loss(self.loss))

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        """scikeras converts a sparse X to LIL (a Python list per row, several
        times the CSR's memory); skdense has validated X already (float32 CSR,
        kept sparse), so only its metadata is recorded or checked here."""
        if X is None or not sp.issparse(X):
            return super()._validate_data(X=X, y=y, reset=reset, y_numeric=y_numeric)
        _, y = super()._validate_data(X=None, y=y, reset=reset, y_numeric=y_numeric)
        if reset:
            self.X_dtype_, self.X_shape_, self.n_features_in_ = X.dtype, X.shape, X.shape[1]
        elif X.shape[1:] != self.X_shape_[1:]:
            raise ValueError(
                f"X has shape {X.shape[1:]}, but this {self.__name__} is expecting X of "
                f"shape {self.X_shape_[1:]}"
            )
        return X, y

    def _ensure_compiled_model(self):
        super()._ensure_compiled_model()
        encoder = self.target_encoder_
        # A user's model compiled with a sparse categorical loss takes class indices.
        if getattr(encoder, "one_hot", False) and is_sparse_loss(self.model_.loss):
            encoder.one_hot = False
        self._check_output_width()

    def _check_output_width(self):
        """A user's model must output one value per target column (Keras's own error
        names tensor shapes, not what to change)."""
        outputs = getattr(self.model_, "outputs", None)
        if not outputs or len(outputs) != 1 or is_sparse_loss(self.model_.loss):
            return
        width, needed = outputs[0].shape[-1], self.skdense_units_
        if width is not None and width != needed:
            task = self.skdense_task_
            what = {
                "binary": "1 (the probability of the second class)",
                "multiclass": f"{needed} (one per class, one-hot targets)",
                "multilabel": f"{needed} (one per label)",
                "regression": f"{needed} (one per target column)",
            }[task]
            raise ValueError(
                f"The Keras model outputs {width} value(s) per row, but this target needs "
                f"{needed}: {task} needs {what}. Change the model's last layer, or compile "
                "it with a sparse categorical loss to train on class indices."
            )

    def _predict_raw(self, X, **kwargs):
        if kwargs or predicts_through_keras(self):
            return super()._predict_raw(X, **kwargs)
        X, _ = self._validate_data(X=X, y=None)
        return _training.predict(self.model_, self.feature_encoder_.transform(X))


def predicts_through_keras(keras_estimator):
    """Whether ``keras_estimator`` must predict with Keras's ``model.predict``:
    routed ``predict__`` arguments or predict callbacks (``callbacks``,
    ``predict__callbacks``) act there.  The estimators' NumPy path and the
    compiled forward pass (``_predict_raw``) both ask this."""
    routed = any(k.startswith("predict__") for k in keras_estimator.get_params())
    return bool(routed or getattr(keras_estimator, "_predict_callbacks", None))


class SkdenseKerasClassifier(_SkdenseWrapper, KerasClassifier):
    """scikeras's KerasClassifier with skdense's target encoding and forward pass."""


class SkdenseKerasRegressor(_SkdenseWrapper, KerasRegressor):
    """scikeras's KerasRegressor with skdense's target encoding and forward pass."""


# -- persistence: the scikeras estimator without its network, and back ---------

# The fields of estimator_state, each skdense's (docs/persistence.md):
# params: the wrapper's parameters that skdense sets (params.is_wrapper_param);
# target: the TargetSpec; target_encoder: the encoder's state(); n_features_in and
# X_dtype: what predict's input is checked against; history: the last run's curves.
STATE_FIELDS = ("params", "target", "target_encoder", "n_features_in", "X_dtype", "history")


def estimator_state(est):
    """Everything but the network that :func:`restore_estimator` needs: a dict of plain
    values (numbers, strings, tuples, lists, dicts, arrays, dtypes and the Keras loss,
    optimizer or schedule objects among the parameters), with the keys
    :data:`STATE_FIELDS`; none is a scikeras attribute.

    Raises ValueError for a network that skdense did not build (``model=``):
    only skdense's builder is named in the file, never code.
    """
    params = est.get_params()
    if params["model"] is not build_dense_network:
        raise ValueError(
            "This estimator's network comes from model= (a Keras model or a builder "
            "function), which the safe format cannot name without storing code. Save "
            "it with pickle/joblib for a destination you trust, or save the network "
            "alone with est.model_.save(path)."
        )
    feature_encoder = est.feature_encoder_
    if type(feature_encoder).__name__ != "FunctionTransformer" or feature_encoder.func is not None:
        raise ValueError(
            f"Unexpected feature encoder {feature_encoder!r}: skdense passes features "
            "through unchanged."
        )
    target = est.target
    return {
        "params": {k: v for k, v in params.items() if is_wrapper_param(k)},
        "target": {
            "task": target.task,
            "classes": target.classes,
            "standardize": target.standardize,
        },
        "target_encoder": est.target_encoder_.state(),
        "n_features_in": int(feature_encoder.n_features_in_),
        "X_dtype": np.dtype(est.X_dtype_),
        "history": {k: list(v) for k, v in est.history_.items()},
    }


def restore_estimator(estimator_type, state, model):
    """The fitted scikeras estimator of :func:`estimator_state`, around ``model`` (a
    loaded network): it predicts, and trains on, as the saved one did; ``model_`` is
    ``model``.

    Made with scikeras's public constructor; the fitted attributes it then assigns
    are listed in :data:`SCIKERAS_PRIVATE`.
    """
    from sklearn.preprocessing import FunctionTransformer

    if not isinstance(state, dict) or set(state) != set(STATE_FIELDS):
        raise ValueError(
            f"The saved scikeras estimator has the fields {sorted(state)}; expected "
            f"{sorted(STATE_FIELDS)}."
        )
    params = state["params"]
    for name in params:
        if not (isinstance(name, str) and name.isidentifier() and is_wrapper_param(name)):
            raise ValueError(f"The saved scikeras estimator has an invalid parameter {name!r}.")
    target = TargetSpec(**state["target"])
    encoder = encoder_from_state(state["target_encoder"])
    if encoder.state()["task"] != target.task:
        raise ValueError(
            f"The saved target encoder is for {encoder.state()['task']!r}, the target "
            f"for {target.task!r}."
        )
    n_features, dtype = int(state["n_features_in"]), np.dtype(state["X_dtype"])
    cls = SkdenseKerasClassifier if estimator_type == "classifier" else SkdenseKerasRegressor
    est = cls(target=target, model=build_dense_network, **params)
    est.model_ = model
    est.target_encoder_ = encoder
    est.feature_encoder_ = FunctionTransformer().fit(np.zeros((0, n_features), dtype=dtype))
    est.X_dtype_, est.X_shape_ = dtype, (0, n_features)  # the rows are not kept
    est.history_ = defaultdict(list, {k: list(v) for k, v in state["history"].items()})
    est._initialize_callbacks()
    return est
