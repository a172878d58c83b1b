"""Building the Keras network from parameters and the target's task.

The output layer and the loss follow the task:

========== ==================== ==========================
task       output layer         default loss
========== ==================== ==========================
binary     1 unit, sigmoid      binary cross-entropy
multiclass k units, softmax     categorical cross-entropy
multilabel k units, sigmoid     binary cross-entropy
regression k units, linear      mean squared error
========== ==================== ==========================

With ``n_ensemble > 1`` the hidden layers and the output are those of an
efficient ensemble (:mod:`skdense._network.ensemble`) and the loss is averaged over
its members (:func:`training_loss`).
"""

import numpy as np
import scipy.sparse as sp

from .._backend import load_keras

DEFAULT_LOSS = {
    "binary": "binary_crossentropy",
    "multiclass": "categorical_crossentropy",
    "multilabel": "binary_crossentropy",
    "regression": "mean_squared_error",
}

OUTPUT_ACTIVATION = {
    "binary": "sigmoid",
    "multiclass": "softmax",
    "multilabel": "sigmoid",
    "regression": "linear",
}


def is_sparse_loss(loss):
    """Whether ``loss`` takes class indices rather than one-hot rows (for an
    ensemble's :class:`~skdense._network.ensemble.MemberMeanLoss`, its base loss's)."""
    base = getattr(loss, "base_loss", None)  # MemberMeanLoss (ensemble.py imports Keras)
    if base is not None:
        return is_sparse_loss(base)
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", type(loss).__name__)
    return "sparse" in str(name).lower()


def check_activation(activation, estimator_name):
    """Resolve a Keras activation name now, with an error that names the parameter."""
    keras = load_keras()
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError):
        raise ValueError(
            f"The 'activation' parameter of {estimator_name} must be a Keras activation "
            f"name such as 'relu', 'swish', 'gelu', 'tanh' or 'elu', or a callable; got "
            f"{activation!r}."
        ) from None


def learning_rate_schedule(name, learning_rate, total_steps):
    """The learning rate as a Keras schedule over ``total_steps`` optimizer steps.

    ``"constant"``: a float.  ``"cosine"``: cosine decay from ``learning_rate``
    to 0 over the whole run.  ``"multicycle"``: four cosine cycles of equal
    length, each restarting at ``learning_rate`` (a warm-restart schedule in the
    spirit of RealMLP's multi-cycle schedule).
    """
    if name == "constant":
        return float(learning_rate)
    keras = load_keras()
    total_steps = max(int(total_steps), 1)
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(float(learning_rate), total_steps)
    return keras.optimizers.schedules.CosineDecayRestarts(
        float(learning_rate), max(total_steps // 4, 1), t_mul=1.0, m_mul=1.0
    )


def continuous_columns(X):
    """Indices of the columns with more than two distinct values (not one-hot/binary)
    in the first 2,000 rows; ``X`` dense or scipy sparse (implicit zeros count)."""
    X = X[: min(X.shape[0], 2000)]
    if not sp.issparse(X):
        return [j for j in range(X.shape[1]) if np.unique(X[:, j]).size > 2]
    csc = sp.csc_matrix(X)
    per_col = np.diff(csc.indptr)
    cols = np.repeat(np.arange(csc.shape[1]), per_col)
    with_zero = np.flatnonzero(per_col < csc.shape[0])  # implicit zeros
    cols = np.concatenate([cols, with_zero])
    vals = np.concatenate([csc.data.astype(np.float64), np.zeros(len(with_zero))])
    order = np.lexsort((vals, cols))
    cols, vals = cols[order], vals[order]
    first = np.ones(len(cols), bool)  # first of each distinct (column, value)
    first[1:] = (cols[1:] != cols[:-1]) | (vals[1:] != vals[:-1])
    distinct = np.bincount(cols[first], minlength=csc.shape[1])
    return np.flatnonzero(distinct > 2).tolist()


def training_loss(loss, task, label_smoothing, n_ensemble=1):
    """The loss to compile: ``loss`` (None: the task's default) with label
    smoothing, averaged over the members of an ensemble (``n_ensemble > 1``).

    Label smoothing applies to the cross-entropies of classification; for any
    other loss a non-zero ``label_smoothing`` is an error (it would be ignored).
    """
    loss = _smoothed(DEFAULT_LOSS[task] if loss is None else loss, task, label_smoothing)
    if n_ensemble > 1:
        from .ensemble import MemberMeanLoss

        loss = MemberMeanLoss(loss)
    return loss


def _smoothed(loss, task, label_smoothing):
    if not label_smoothing:
        return loss
    keras = load_keras()
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    if task == "multiclass" and name == "categorical_crossentropy":
        return keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    if task in ("binary", "multilabel") and name == "binary_crossentropy":
        return keras.losses.BinaryCrossentropy(label_smoothing=label_smoothing)
    raise ValueError(
        f"label_smoothing={label_smoothing} applies to the default cross-entropy loss; "
        f"this fit uses loss={loss!r} for a {task} target. Set label_smoothing=0, or "
        "pass a Keras loss object with its own label_smoothing as loss=."
    )


def label_smoothing_of(loss):
    """The label smoothing a compiled loss applies (0.0 for names and functions)."""
    loss = getattr(loss, "base_loss", loss)  # an ensemble's MemberMeanLoss
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    return float(config.get("label_smoothing", 0.0) or 0.0)


def build_dense_network(
    meta,
    compile_kwargs,
    hidden_layer_sizes=(100,),
    activation="relu",
    dropout=0.0,
    alpha=0.0,
    seed=None,
    feature_scaling=False,
    numeric_embedding=None,
    continuous=None,
    n_ensemble=1,
    ensemble_adapters="mini",
):
    """[FeatureScaling] -> [PeriodicEmbedding] -> [Dense -> Dropout] per hidden layer -> output.

    With ``n_ensemble=k > 1`` the hidden layers and the output are those of
    ``k`` efficient-ensemble members (TabM, :mod:`skdense._network.ensemble`): shared
    kernels, per-member ``ensemble_adapters`` and heads; the network outputs
    the members' mean except while training.

    ``meta`` and ``compile_kwargs`` come from scikeras (``n_features_in_`` and
    the target encoder's ``skdense_task_`` / ``skdense_units_``; the optimizer
    with its learning-rate schedule, the loss with its label smoothing, and
    the metrics).  ``alpha`` is an L2 penalty ``alpha * sum(W**2)`` on every kernel; ``seed`` makes initial weights and
    dropout masks reproducible without touching any global random state.
    ``continuous`` lists the columns a ``numeric_embedding="periodic"`` embeds.
    """
    keras = load_keras()
    task = meta["skdense_task_"]
    units_out = meta["skdense_units_"]

    def init(offset):
        s = None if seed is None else int(seed) + offset
        return keras.initializers.GlorotUniform(seed=s)

    reg = keras.regularizers.L2(alpha) if alpha else None
    inputs = keras.Input(shape=(meta["n_features_in_"],), name="features")
    x = inputs
    if feature_scaling or numeric_embedding:
        from .layers import FeatureScaling, PeriodicEmbedding
    if feature_scaling:
        x = FeatureScaling(name="feature_scaling")(x)
    if numeric_embedding == "periodic" and continuous:
        x = PeriodicEmbedding(
            continuous, seed=None if seed is None else int(seed) + 2000, name="periodic_embedding"
        )(x)
    if n_ensemble > 1:
        from .ensemble import ensemble_layers

        outputs = ensemble_layers(
            x, units_out, OUTPUT_ACTIVATION[task], hidden_layer_sizes, activation, dropout,
            n_ensemble, seed, adapters=ensemble_adapters, regularizer=reg,
        )
        model = keras.Model(inputs, outputs, name="dense_ensemble")
        model.compile(**compile_kwargs)
        return model
    for i, units in enumerate(hidden_layer_sizes, start=1):
        x = keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=init(i),
            kernel_regularizer=reg,
            name=f"hidden_{i}",
        )(x)
        if dropout:
            x = keras.layers.Dropout(
                dropout, seed=None if seed is None else int(seed) + 1000 + i, name=f"dropout_{i}"
            )(x)
    outputs = keras.layers.Dense(
        units_out,
        activation=OUTPUT_ACTIVATION[task],
        kernel_initializer=init(0),
        kernel_regularizer=reg,
        name="output",
    )(x)
    model = keras.Model(inputs, outputs, name="dense_mlp")
    model.compile(**compile_kwargs)
    return model
