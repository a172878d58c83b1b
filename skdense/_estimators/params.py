"""Parameter declarations, validation and per-fit overrides.

One place declares every constructor parameter of the Dense estimators: its
constraint, and whether ``fit(**fit_params)`` may override it for one fit.
:func:`resolve` turns an estimator and one fit's overrides into a validated,
read-only :class:`Settings` that the rest of the fit reads by name
(``settings.patience``).  Nothing here imports TensorFlow.
"""

import inspect
import types
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)

# scikeras's routing prefixes: ``model__units=...`` goes to the model builder,
# ``optimizer__beta_2=...`` to the optimizer, ``fit__shuffle=...`` to ``Model.fit``...
ROUTING_PREFIXES = (
    "model",
    "fit",
    "compile",
    "predict",
    "optimizer",
    "loss",
    "metrics",
    "callbacks",
)

# Constraints of the parameters shared by DenseClassifier and DenseRegressor.
COMMON_CONSTRAINTS = {
    "model": [None, callable, HasMethods(["fit", "predict"])],
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [str, callable],
    "dropout": [Interval(Real, 0.0, 1.0, closed="left")],
    "alpha": [Interval(Real, 0.0, None, closed="left")],
    "optimizer": [str, type, HasMethods(["apply_gradients"])],
    "learning_rate": [Interval(Real, 0.0, None, closed="neither")],
    "loss": [None, str, callable],
    "metrics": [None, list, tuple],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_split": [Interval(Real, 0.0, 1.0, closed="neither")],
    "monitor": [str],
    "patience": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
    "min_delta": [Interval(Real, 0.0, None, closed="left")],
    "restore_best_weights": ["boolean"],
    "refit_full": ["boolean"],
    "callbacks": [None, list, tuple],
    "beta_1": [Interval(Real, 0.0, 1.0, closed="left")],
    "beta_2": [Interval(Real, 0.0, 1.0, closed="left")],
    "weight_decay": [Interval(Real, 0.0, None, closed="left")],
    "lr_schedule": [StrOptions({"constant", "cosine", "multicycle"})],
    "feature_scaling": ["boolean"],
    "numeric_embedding": [None, StrOptions({"periodic"})],
    "n_ensemble": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "ensemble_adapters": [StrOptions({"mini", "full", "none"})],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "verbose": [Interval(Integral, 0, 2, closed="both"), "boolean"],
}

CLASSIFIER_CONSTRAINTS = {
    **COMMON_CONSTRAINTS,
    "class_weight": [None, dict, StrOptions({"balanced"})],
    "label_smoothing": [Interval(Real, 0.0, 1.0, closed="left")],
}

REGRESSOR_CONSTRAINTS = {**COMMON_CONSTRAINTS, "standardize_target": ["boolean"]}

# Parameters that ``fit(X, y, **fit_params)`` may set for that one fit.
FIT_OVERRIDABLE = (
    "early_stopping",
    "validation_split",
    "monitor",
    "patience",
    "min_delta",
    "restore_best_weights",
    "refit_full",
    "epochs",
    "batch_size",
    "verbose",
    "callbacks",
)

# Extra fit parameters that are not constructor parameters.
FIT_ONLY = ("validation_data",)

# What builds or compiles the network: a fit that continues a fitted network
# (warm_start, partial_fit) must not change these, nor the routed ones that
# start with NETWORK_PREFIXES.
NETWORK_PARAMS = (
    "model",
    "hidden_layer_sizes",
    "activation",
    "dropout",
    "alpha",
    "optimizer",
    "learning_rate",
    "loss",
    "metrics",
    "beta_1",
    "beta_2",
    "weight_decay",
    "lr_schedule",
    "feature_scaling",
    "numeric_embedding",
    "n_ensemble",
    "ensemble_adapters",
    "label_smoothing",
    "standardize_target",
)
NETWORK_PREFIXES = ("model", "compile", "optimizer", "loss", "metrics")


def is_routed(name):
    return "__" in name and name.split("__", 1)[0] in ROUTING_PREFIXES


# The scikeras estimator's parameters that skdense sets under these names
# (``_scikeras._estimator_params``); with the routed ones (``model__...``,
# ``optimizer__...``), what a saved file keeps of its parameters.  The others
# keep scikeras's defaults, which skdense's training does not read.
WRAPPER_PARAMS = ("optimizer", "loss", "metrics", "batch_size", "epochs", "verbose", "callbacks")


def is_wrapper_param(name):
    return name in WRAPPER_PARAMS or is_routed(name)


class Settings(types.SimpleNamespace):
    """One fit's parameters, validated, by name: ``settings.patience``.

    The estimator's parameters (constructor values overridden by this fit's
    ``fit_params``), ``validation_data`` (None unless given to fit) and
    ``routed``: the scikeras-routed ones (``model__...``, ``optimizer__...``)
    as a dict; ``defaults``: the constructor's defaults, read from its
    signature (the one place they are written).  Read-only; :meth:`replace`
    makes a changed copy.
    """

    def __setattr__(self, name, value):
        raise AttributeError(f"Settings are read-only; use settings.replace({name}=...).")

    def replace(self, **changes):
        return Settings(**{**vars(self), **changes})


def resolve(estimator, fit_params):
    """Return the :class:`Settings` for one fit: constructor parameters
    overridden by ``fit_params``.

    Validates everything once, with errors that name the parameter.
    """
    name = type(estimator).__name__
    misspelt = [k for k in getattr(estimator, "_extra_params", ()) if not is_routed(k)]
    if misspelt:
        raise TypeError(
            f"{name} got unexpected keyword argument(s) {misspelt}. Besides its own "
            "parameters it accepts scikeras-routed ones whose names start with one of "
            f"{[p + '__' for p in ROUTING_PREFIXES]}."
        )
    unknown = sorted(set(fit_params) - set(FIT_OVERRIDABLE) - set(FIT_ONLY))
    if unknown:
        raise TypeError(
            f"{name}.fit() got unexpected parameter(s) {unknown}. Parameters that fit "
            f"accepts: sample_weight, {', '.join(FIT_OVERRIDABLE + FIT_ONLY)}. Other "
            "settings belong in the constructor or set_params (routed Keras arguments "
            "as fit__<name>=...)."
        )
    params = estimator.get_params(deep=False)
    params.update(fit_params)
    validate_parameter_constraints(
        estimator._parameter_constraints,
        {k: v for k, v in params.items() if k in estimator._parameter_constraints},
        caller_name=name,
    )
    params["hidden_layer_sizes"] = _check_layer_sizes(params["hidden_layer_sizes"], name)
    if isinstance(params["verbose"], bool):
        params["verbose"] = int(params["verbose"])
    monitor = params["monitor"]
    if params["early_stopping"] and monitor not in ("loss", "val_loss") and not params.get("metrics"):
        # A monitored metric must be compiled; one that is but under another
        # name is reported by the stop rule after the first epoch.
        raise ValueError(
            f"The 'monitor' parameter of {name} is {monitor!r}, but no metric is "
            "computed (metrics=None), so early stopping has nothing to watch. Use "
            f"monitor='val_loss' (default) or 'loss', or compile the metric: "
            f"metrics=[{monitor.removeprefix('val_')!r}]."
        )
    routed = {k: params.pop(k) for k in list(params) if is_routed(k)}
    params.setdefault("validation_data", None)
    return Settings(**params, routed=routed, defaults=constructor_defaults(type(estimator)))


def constructor_defaults(cls):
    """``{parameter: default}`` of ``cls``'s constructor signature."""
    return {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


# ``n_ensemble="auto"`` and ``patience="auto"`` (docs/why-defaults.md, round 9).
AUTO_MEMBERS = 8  # members of the default ensemble
# Above this many input columns the default is one network: every member
# multiplies its own copy of the input by the first kernel, so the ensemble's
# first layer costs k times the single network's, which dominates a wide
# (e.g. TF-IDF) input; the accuracy gain was measured on tables of 5-300 columns.
AUTO_MAX_FEATURES = 512
AUTO_PATIENCE = {False: 10, True: 20}  # single network, ensemble


def with_data(settings, n_features, *, fitted_members=None):
    """``settings`` with ``n_ensemble`` and ``patience`` resolved when "auto".

    The one rule for both defaults.  ``n_ensemble="auto"``: ``AUTO_MEMBERS``
    members, except one network when ``model=`` is given (the ensemble is
    skdense's own network), when compiled ``metrics`` are asked for (Keras
    computes them on the members' outputs while training), or when X has more
    than ``AUTO_MAX_FEATURES`` columns.  A continued fit (``fitted_members``)
    keeps the members the network was built with.  ``patience="auto"``: 10 for
    one network, 20 for an ensemble, whose validation loss can rise for its
    first epochs while the members diverge from their near-constant mean.
    """
    members = settings.n_ensemble
    if members == "auto":
        if fitted_members is not None:
            members = fitted_members
        elif settings.model is not None or settings.metrics or n_features > AUTO_MAX_FEATURES:
            members = 1
        else:
            members = AUTO_MEMBERS
    patience = settings.patience
    if patience == "auto":
        patience = AUTO_PATIENCE[members > 1]
    return settings.replace(n_ensemble=int(members), patience=int(patience))


def network_params(settings):
    """The settings that built the network (see NETWORK_PARAMS), by name."""
    params = {k: getattr(settings, k) for k in NETWORK_PARAMS if hasattr(settings, k)}
    params.update(
        (k, v) for k, v in settings.routed.items() if k.split("__", 1)[0] in NETWORK_PREFIXES
    )
    return params


def changed_network_params(built, settings):
    """[(name, value at build, value now)] for the network settings that differ."""
    now = network_params(settings)
    return [
        (k, built.get(k), now.get(k))
        for k in sorted(set(built) | set(now))
        if not _same(built.get(k), now.get(k))
    ]


def _same(a, b):
    if a is b:
        return True
    try:
        return bool(np.all(a == b))
    except Exception:
        return False


def _check_layer_sizes(value, name):
    sizes = value
    if isinstance(sizes, (Integral, np.integer)):
        sizes = (int(sizes),)
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if sizes is None or not all(
        isinstance(s, (Integral, np.integer)) and not isinstance(s, bool) and s > 0
        for s in sizes
    ):
        raise ValueError(
            f"The 'hidden_layer_sizes' parameter of {name} must be a tuple of positive "
            f"integers, one per hidden layer, e.g. (256, 256); got {value!r}."
        )
    return tuple(int(s) for s in sizes)
