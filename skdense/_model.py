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
"""

from ._backend import load_keras

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
    """Whether ``loss`` takes class indices rather than one-hot rows."""
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


def build_dense_network(
    meta,
    compile_kwargs,
    hidden_layer_sizes=(100,),
    activation="relu",
    dropout=0.0,
    alpha=0.0,
    seed=None,
):
    """Input -> [Dense(units, activation) -> Dropout] per hidden layer -> output layer.

    ``meta`` and ``compile_kwargs`` come from scikeras (``n_features_in_`` and the
    target encoder's ``skdense_task_`` / ``skdense_units_``; the optimizer, loss
    and metrics).  ``alpha`` is an L2 penalty ``alpha * sum(W**2)`` on every
    kernel; ``seed`` makes initial weights and dropout masks reproducible
    without touching any global random state.
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
