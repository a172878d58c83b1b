"""The model zoo: default models, their preprocessing, their default grids, seeding.

Default models (the names the CLI's ``--models`` takes):

==========================  ============================  ===============================
name                        classification                regression
==========================  ============================  ===============================
``linear``                  LogisticRegression            Ridge
``random_forest``           RandomForestClassifier        RandomForestRegressor
``hist_gradient_boosting``  HistGradientBoostingClassif.  HistGradientBoostingRegressor
``mlp``                     sklearn MLPClassifier         sklearn MLPRegressor
``dense``                   skdense DenseClassifier       skdense DenseRegressor
==========================  ============================  ===============================

Each is a ``Pipeline([("preprocess", ...), ("model", estimator)])`` so every grid key
starts with ``model__``. Preprocessing: on a DataFrame, ``TabularPreprocessor``
(imputation, scaling for the linear and neural models, one-hot for text columns);
on an array, ``SimpleImputer`` then ``StandardScaler`` for the linear and neural
models and nothing for the trees (they handle missing values themselves).

Nothing here imports TensorFlow: DenseClassifier imports it at its first fit.
"""

import zlib

import numpy as np

MODEL_NAMES = ("linear", "random_forest", "hist_gradient_boosting", "mlp", "dense")

_NEURAL = {"DenseClassifier", "DenseRegressor", "MLPClassifier", "MLPRegressor"}

# Default grids. Every model gets a small grid (4 candidates; 2 with ``quick``)
# over the hyper-parameters that matter most for it, so that no family wins by
# being tuned harder. The two neural models get the same grid shape.
_NEURAL_GRID = {"hidden_layer_sizes": [(64,), (128, 64)], "learning_rate": [1e-3, 1e-2]}
_GRIDS = {
    "classification": {
        "linear": {"model__C": [0.01, 0.1, 1.0, 10.0]},
        "random_forest": {"model__max_features": ["sqrt", 0.5], "model__min_samples_leaf": [1, 3]},
        "hist_gradient_boosting": {
            "model__learning_rate": [0.05, 0.1],
            "model__max_leaf_nodes": [15, 31],
        },
        "mlp": {
            "model__hidden_layer_sizes": _NEURAL_GRID["hidden_layer_sizes"],
            "model__learning_rate_init": _NEURAL_GRID["learning_rate"],
        },
        "dense": {f"model__{k}": v for k, v in _NEURAL_GRID.items()},
    },
    "regression": {
        "linear": {"model__alpha": [0.1, 1.0, 10.0, 100.0]},
        "random_forest": {"model__max_features": [1.0, 0.5], "model__min_samples_leaf": [1, 3]},
        "hist_gradient_boosting": {
            "model__learning_rate": [0.05, 0.1],
            "model__max_leaf_nodes": [15, 31],
        },
        "mlp": {
            "model__hidden_layer_sizes": _NEURAL_GRID["hidden_layer_sizes"],
            "model__learning_rate_init": _NEURAL_GRID["learning_rate"],
        },
        "dense": {f"model__{k}": v for k, v in _NEURAL_GRID.items()},
    },
}
_QUICK_GRIDS = {
    "classification": {
        "linear": {"model__C": [0.1, 1.0]},
        "random_forest": {"model__min_samples_leaf": [1, 3]},
        "hist_gradient_boosting": {"model__max_leaf_nodes": [7, 15]},
        "mlp": {"model__learning_rate_init": [1e-3, 1e-2]},
        "dense": {"model__learning_rate": [1e-3, 1e-2]},
    },
    "regression": {
        "linear": {"model__alpha": [1.0, 10.0]},
        "random_forest": {"model__min_samples_leaf": [1, 3]},
        "hist_gradient_boosting": {"model__max_leaf_nodes": [7, 15]},
        "mlp": {"model__learning_rate_init": [1e-3, 1e-2]},
        "dense": {"model__learning_rate": [1e-3, 1e-2]},
    },
}


# Below this many rows in an inner training fold, the neural models train without
# early stopping: their validation split would be one or two rows (sklearn's MLP
# refuses fewer than 2), so "the best epoch" would be chosen by noise.
SMALL_DATA_ROWS = 30


def _estimator(name, task, quick, small=False):
    """The bare (unfitted, unseeded) estimator of default model ``name``."""
    clf = task == "classification"
    if name == "linear":
        from sklearn.linear_model import LogisticRegression, Ridge

        return LogisticRegression(max_iter=2000) if clf else Ridge()
    if name == "random_forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        cls = RandomForestClassifier if clf else RandomForestRegressor
        return cls(n_estimators=50 if quick else 200)
    if name == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        cls = HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor
        return cls(max_iter=50 if quick else 200)
    if name == "mlp":
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        cls = MLPClassifier if clf else MLPRegressor
        # sklearn's own early stopping: its validation split comes from the data
        # given to fit, i.e. the inner training folds, like DenseClassifier's.
        hidden = {"hidden_layer_sizes": (64,)} if quick else {}
        mlp = cls(early_stopping=not small, max_iter=200 if quick else 500, n_iter_no_change=10, **hidden)
        if clf:
            return mlp
        # DenseRegressor standardises its target inside fit; give sklearn's MLP the same.
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        return TransformedTargetRegressor(regressor=mlp, transformer=StandardScaler())
    if name == "dense":
        from .. import DenseClassifier, DenseRegressor

        cls = DenseClassifier if clf else DenseRegressor
        # skdense's default network (n_ensemble="auto": an efficient ensemble,
        # patience="auto"); --quick trains one 64-unit layer for at most 100 epochs.
        if quick:
            return cls((64,), epochs=100, early_stopping=not small)
        return cls(early_stopping=not small)
    raise ValueError(f"Unknown model {name!r}. Default models: {', '.join(MODEL_NAMES)}.")


def _needs_scaling(name):
    return name in ("linear", "mlp", "dense")


def _tabular_preprocessor(scale):
    from ..preprocessing import TabularPreprocessor

    return TabularPreprocessor() if scale else TabularPreprocessor(scaler=None)


def _array_preprocessor(scale):
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if scale:
        return make_pipeline(SimpleImputer(), StandardScaler())
    return "passthrough"


def default_models(task, *, frame=True, quick=False, multioutput=False, names=None, n_rows=None):
    """The default models for ``task`` as ``{name: Pipeline}``.

    Parameters
    ----------
    task : {"classification", "regression"}
    frame : bool
        True when X is a DataFrame (use ``TabularPreprocessor``), False for arrays.
    quick : bool
        Fewer trees, boosting rounds and epochs (see ``default_grids`` for grids).
    multioutput : bool
        A 2-D regression target: HistGradientBoosting is wrapped in
        ``MultiOutputRegressor`` (its grid keys gain ``estimator__``).
    names : sequence of str, optional
        Only these models (default: all of ``MODEL_NAMES``).
    n_rows : int, optional
        Rows in the smallest inner training fold; below ``SMALL_DATA_ROWS`` the
        neural models train without early stopping (fixed epochs / iterations).
    """
    from sklearn.pipeline import Pipeline

    models = {}
    for name in names or MODEL_NAMES:
        small = n_rows is not None and n_rows < SMALL_DATA_ROWS
        est = _estimator(name, task, quick, small)
        if multioutput and name == "hist_gradient_boosting":
            from sklearn.multioutput import MultiOutputRegressor

            est = MultiOutputRegressor(est)
        scale = _needs_scaling(name)
        pre = _tabular_preprocessor(scale) if frame else _array_preprocessor(scale)
        models[name] = Pipeline([("preprocess", pre), ("model", est)])
    return models


def default_grids(task, *, quick=False, multioutput=False, names=None):
    """The default parameter grids for ``task`` as ``{name: grid}`` (keys ``model__...``)."""
    table = (_QUICK_GRIDS if quick else _GRIDS)[task]
    grids = {}
    for name in names or MODEL_NAMES:
        if name not in table:
            raise ValueError(f"Unknown model {name!r}. Default models: {', '.join(MODEL_NAMES)}.")
        grid = {k: list(v) for k, v in table[name].items()}
        if multioutput and name == "hist_gradient_boosting":
            grid = {k.replace("model__", "model__estimator__", 1): v for k, v in grid.items()}
        if task == "regression" and name == "mlp":  # inside TransformedTargetRegressor
            grid = {k.replace("model__", "model__regressor__", 1): v for k, v in grid.items()}
        grids[name] = grid
    return grids


def family(estimator):
    """"DL" for neural networks (skdense Dense*, sklearn MLP*), "ML" for the rest.

    The family decides which models the significance test pits against each other
    (best DL vs best ML per dataset). Pipelines, searches and meta-estimators are
    looked through to their final estimator.
    """
    est = estimator
    for _ in range(10):
        if hasattr(est, "steps"):
            est = est.steps[-1][1]
        elif getattr(est, "regressor", None) is not None:  # TransformedTargetRegressor
            est = est.regressor
        elif hasattr(est, "estimator") and not isinstance(est.estimator, str):
            est = est.estimator
        else:
            break
    cls = type(est)
    if cls.__name__ in _NEURAL or cls.__module__.split(".")[0] in ("skdense", "scikeras", "keras"):
        return "DL"
    return "ML"


def job_seed(random_state, dataset, model, fold):
    """A seed in [0, 2**31) fixed by (random_state, dataset, model, fold) alone.

    It does not depend on job order, process or backend, so a run on a Dask
    cluster draws exactly the numbers a local run draws.
    """
    key = [int(random_state), zlib.crc32(str(dataset).encode()), zlib.crc32(str(model).encode()), int(fold)]
    return int(np.random.SeedSequence(key).generate_state(1)[0] % (2**31 - 1))


def seed_estimator(estimator, seed):
    """Set every ``random_state`` parameter of ``estimator`` left at None to ``seed``.

    Parameters the user set to an int stay as they are (they are deterministic already).
    """
    params = estimator.get_params(deep=True)
    updates = {k: seed for k, v in params.items() if k.split("__")[-1] == "random_state" and v is None}
    if updates:
        estimator.set_params(**updates)
    return estimator
