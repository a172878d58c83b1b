"""Efficient ensembles: k MLPs trained at once in one Keras model (TabM).

TabM (Gorishniy et al., "TabM: Advancing Tabular Deep Learning with
Parameter-Efficient Ensembling", ICLR 2025) imitates an ensemble of k MLPs
with one network whose hidden weights are shared and whose members differ by
cheap per-member "adapters" (BatchEnsemble, Wen et al. 2020) and by their own
output heads.  Every tensor inside carries the member axis: ``(n, k, d)``.
The members are trained together on the same minibatches by minimising the
mean of their losses (:class:`MemberMeanLoss`); a prediction is the mean of
the members' outputs (probabilities for classification, :class:`MemberMean`).

Adapters (``ensemble_layers(adapters=...)``):

``"mini"`` (TabM-mini)
    One adapter: a per-member scale ``r_i`` of the input, initialised with
    random signs (+-1), then the shared MLP.  The paper's recommended default.
``"full"`` (TabM)
    Every hidden layer is a BatchEnsemble linear ``((x * r_i) W) * s_i + b_i``;
    the first layer's ``r`` starts at random signs, every other ``r`` and
    ``s`` at ones, the per-member biases all start equal.
``"none"``
    Shared MLP, members differ only by their heads (a cheap baseline).

Registered with Keras's serialisation (package ``"skdense"``) so that a
model saves, loads and pickles.  Importing this module imports Keras.
"""

import math

from .._backend import load_keras
from . import sizes

keras = load_keras()
ops = keras.ops

ADAPTERS = tuple(sizes.ADAPTER_LAYOUT)  # ("mini", "full", "none")
_SCALING_INITS = ("ones", "random_signs", "normal")


def _seed(seed, offset):
    return None if seed is None else int(seed) + offset


def _scaling_initializer(init, seed):
    """Keras initializer for an adapter: ones, random signs (+-1) or N(0, 1)."""
    if init == "ones":
        return keras.initializers.Ones()
    if init == "normal":
        return keras.initializers.RandomNormal(stddev=1.0, seed=seed)
    if init == "random_signs":
        return RandomSigns(seed=seed)
    raise ValueError(f"scaling init must be one of {_SCALING_INITS}; got {init!r}.")


@keras.saving.register_keras_serializable(package="skdense")
class RandomSigns(keras.initializers.Initializer):
    """Values -1 or +1 with equal probability (TabM's first-adapter init)."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        u = keras.random.uniform(shape, seed=self.seed)
        return ops.cast(ops.where(u < 0.5, -1.0, 1.0), dtype or "float32")

    def get_config(self):
        return {"seed": self.seed}


@keras.saving.register_keras_serializable(package="skdense")
class EnsembleInput(keras.layers.Layer):
    """``(n, d) -> (n, k, d)``: one copy of the input per member.

    With ``scaling`` (TabM-mini's adapter), copy ``i`` is multiplied
    elementwise by a learnable ``r_i``; ``scaling=None`` only broadcasts.

    Parameters
    ----------
    k : int
        Number of members.
    scaling : {"random_signs", "ones", "normal"} or None, default="random_signs"
        Initial values of the per-member scales, or None for no scales.
    seed : int or None
    """

    def __init__(self, k, scaling="random_signs", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.k = int(k)
        self.scaling = scaling
        self.seed = seed

    def build(self, input_shape):
        self.r = None
        shapes = sizes.ensemble_input_shapes(self.k, int(input_shape[-1]), self.scaling is not None)
        if "r" in shapes:
            self.r = self.add_weight(
                shape=shapes["r"],
                initializer=_scaling_initializer(self.scaling, self.seed),
                name="r",
            )

    def call(self, inputs):
        x = ops.expand_dims(inputs, 1)  # (n, 1, d)
        if self.r is not None:
            return x * self.r  # broadcast to (n, k, d)
        return ops.broadcast_to(x, (ops.shape(inputs)[0], self.k, ops.shape(inputs)[1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.k, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(k=self.k, scaling=self.scaling, seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="skdense")
class EnsembleDense(keras.layers.Layer):
    """BatchEnsemble linear: ``(n, k, d_in) -> (n, k, units)`` with one shared kernel.

    Member ``i`` computes ``activation(((x * r_i) @ W) * s_i + b_i)``, ``W``
    shared by all members.  Each adapter is optional: without ``r``, ``s`` and
    per-member bias the layer is a plain Dense layer applied to every member
    (the shared layers of TabM-mini).  The shared product is one
    ``(n * k, d_in) @ (d_in, units)`` matrix multiplication.

    Parameters
    ----------
    units : int
    k : int
    activation : str or callable or None, default=None
    scale_in, scale_out : bool, default=False
        Per-member input scale ``r`` ``(k, d_in)`` / output scale ``s``
        ``(k, units)``.
    member_bias : bool, default=False
        A bias per member ``(k, units)`` instead of one shared ``(units,)``;
        all members start from the same bias (zeros).
    scale_in_init, scale_out_init : {"ones", "random_signs", "normal"}, default="ones"
    kernel_initializer : default="glorot_uniform"
    kernel_regularizer : default=None
    seed : int or None
        Seeds the adapters' random initial values (the kernel initializer
        carries its own seed).
    """

    def __init__(
        self,
        units,
        k,
        activation=None,
        scale_in=False,
        scale_out=False,
        member_bias=False,
        scale_in_init="ones",
        scale_out_init="ones",
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = int(units)
        self.k = int(k)
        self.activation = keras.activations.get(activation)
        self.scale_in = bool(scale_in)
        self.scale_out = bool(scale_out)
        self.member_bias = bool(member_bias)
        self.scale_in_init = scale_in_init
        self.scale_out_init = scale_out_init
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.seed = seed

    def build(self, input_shape):
        shapes = sizes.ensemble_dense_shapes(
            self.k, int(input_shape[-1]), self.units, self.scale_in, self.scale_out,
            self.member_bias,
        )
        self.kernel = self.add_weight(
            shape=shapes["kernel"],
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            name="kernel",
        )
        self.r = self.s = None
        if self.scale_in:
            self.r = self.add_weight(
                shape=shapes["r"],
                initializer=_scaling_initializer(self.scale_in_init, _seed(self.seed, 0)),
                name="r",
            )
        if self.scale_out:
            self.s = self.add_weight(
                shape=shapes["s"],
                initializer=_scaling_initializer(self.scale_out_init, _seed(self.seed, 1)),
                name="s",
            )
        self.bias = self.add_weight(
            shape=shapes["bias"],
            initializer="zeros",
            name="bias",
        )

    def call(self, inputs):
        x = inputs if self.r is None else inputs * self.r
        d_in = ops.shape(x)[-1]
        y = ops.matmul(ops.reshape(x, (-1, d_in)), self.kernel)
        y = ops.reshape(y, (-1, self.k, self.units))
        if self.s is not None:
            y = y * self.s
        return self.activation(y + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.k, self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            k=self.k,
            activation=keras.activations.serialize(self.activation),
            scale_in=self.scale_in,
            scale_out=self.scale_out,
            member_bias=self.member_bias,
            scale_in_init=self.scale_in_init,
            scale_out_init=self.scale_out_init,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
            seed=self.seed,
        )
        return config


@keras.saving.register_keras_serializable(package="skdense")
class EnsembleHead(keras.layers.Layer):
    """One output layer per member: ``(n, k, d) -> (n, k, units)``, no sharing.

    ``einsum("nkd,kdu->nku")`` with a kernel ``(k, d, units)`` initialised
    member by member like a Glorot-uniform Dense kernel (limit
    ``sqrt(6 / (d + units))``; Keras's own Glorot would count ``k`` into the
    fans of a 3-D kernel), and a bias ``(k, units)`` at zero.

    Parameters
    ----------
    units : int
    k : int
    activation : str or callable or None, default=None
        Applied per member (e.g. softmax over each member's classes).
    kernel_regularizer : default=None
    seed : int or None
    """

    def __init__(self, units, k, activation=None, kernel_regularizer=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.k = int(k)
        self.activation = keras.activations.get(activation)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.seed = seed

    def build(self, input_shape):
        d = int(input_shape[-1])
        shapes = sizes.ensemble_head_shapes(self.k, d, self.units)
        limit = math.sqrt(6.0 / (d + self.units))
        self.kernel = self.add_weight(
            shape=shapes["kernel"],
            initializer=keras.initializers.RandomUniform(-limit, limit, seed=self.seed),
            regularizer=self.kernel_regularizer,
            name="kernel",
        )
        self.bias = self.add_weight(shape=shapes["bias"], initializer="zeros", name="bias")

    def call(self, inputs):
        return self.activation(ops.einsum("nkd,kdu->nku", inputs, self.kernel) + self.bias)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.k, self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            k=self.k,
            activation=keras.activations.serialize(self.activation),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
            seed=self.seed,
        )
        return config


@keras.saving.register_keras_serializable(package="skdense")
class MemberMean(keras.layers.Layer):
    """The members' outputs while training, their mean otherwise.

    ``training=True``: ``(n, k, units)`` unchanged, so that every member is
    trained on its own loss (:class:`MemberMeanLoss`).  Otherwise (predict,
    evaluate, the validation loss): ``(n, units)``, the ensemble's prediction,
    so the network's declared output is the plain network's.  Put it after
    the members' output activation, so that classification averages
    probabilities (as TabM does), not logits.
    """

    def call(self, inputs, training=None):
        if training:
            return inputs
        return ops.mean(inputs, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="skdense")
class MemberMeanLoss(keras.losses.Loss):
    """The mean over members of ``base_loss``, for a ``(n, k, units)`` output.

    The targets keep their usual shape: ``(n, units)`` (one-hot, binary,
    regression) or ``(n,)`` (class indices for a sparse loss; a single
    regression/binary target); they are broadcast over the member axis, so
    every member is scored against the same rows.  A ``sample_weight`` of
    shape ``(n,)`` weighs a row's member-mean loss as Keras would weigh the
    row's loss.

    Parameters
    ----------
    base_loss : str, keras.losses.Loss or loss function
        Any Keras loss: ``"binary_crossentropy"``,
        ``keras.losses.CategoricalCrossentropy(label_smoothing=0.1)``, ...
    """

    def __init__(self, base_loss="mean_squared_error", name="member_mean_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(base_loss, dict):
            base_loss = keras.losses.deserialize(base_loss)
        self.base_loss = base_loss
        base = keras.losses.get(base_loss)
        # A Loss's ``call`` gives the unreduced per-element losses (a loss
        # function already does); the reduction is ours.
        self._per_element = base.call if isinstance(base, keras.losses.Loss) else base

    def call(self, y_true, y_pred):
        if len(y_pred.shape) == 2:
            # The ensemble's mean prediction (MemberMean at inference): its loss.
            return self._per_element(y_true, y_pred)
        k = ops.shape(y_pred)[1]
        if len(y_true.shape) == 1 and y_pred.shape[-1] == 1:
            y_true = ops.expand_dims(y_true, -1)  # (n,) against (n, k, 1)
        y_true = ops.expand_dims(y_true, 1)
        y_true = ops.broadcast_to(
            y_true, (ops.shape(y_true)[0], k, *ops.shape(y_true)[2:])
        )
        per_member = self._per_element(y_true, y_pred)  # (n, k)
        return ops.mean(per_member, axis=1)

    def get_config(self):
        config = super().get_config()
        base = self.base_loss
        if not isinstance(base, str):
            base = keras.saving.serialize_keras_object(base)
        config["base_loss"] = base
        return config


def ensemble_layers(
    x,
    task_units,
    output_activation,
    hidden_layer_sizes,
    activation,
    dropout,
    k,
    seed,
    adapters="mini",
    regularizer=None,
):
    """The hidden layers and heads of ``k`` efficient-ensemble members, on ``x``.

    ``x (n, d)`` -> member copies ``(n, k, d)`` -> hidden layers (shared
    kernels; adapters as ``adapters`` says; dropout after each) -> one head per
    member with ``output_activation`` -> :class:`MemberMean`.  Compile the model
    with :class:`MemberMeanLoss` around the task's loss.

    Initial weights follow skdense's MLP (Glorot-uniform kernels seeded
    ``seed + layer``, zero biases, dropout seeded ``seed + 1000 + layer``);
    ``regularizer`` applies to the shared kernels and the heads.
    """
    if adapters not in ADAPTERS:
        raise ValueError(f"adapters must be one of {ADAPTERS}; got {adapters!r}.")
    if int(k) < 1:
        raise ValueError(f"k (the number of ensemble members) must be >= 1; got {k!r}.")
    k = int(k)
    layout = sizes.ADAPTER_LAYOUT[adapters]
    x = EnsembleInput(
        k,
        scaling="random_signs" if layout["input_scale"] else None,
        seed=_seed(seed, 3000),
        name="members",
    )(x)
    full = layout["member_adapters"]
    for i, units in enumerate(hidden_layer_sizes, start=1):
        x = EnsembleDense(
            units,
            k,
            activation=activation,
            scale_in=full,
            scale_out=full,
            member_bias=full,
            scale_in_init="random_signs" if i == 1 else "ones",
            kernel_initializer=keras.initializers.GlorotUniform(seed=_seed(seed, i)),
            kernel_regularizer=regularizer,
            seed=_seed(seed, 3000 + 2 * i),
            name=f"hidden_{i}",
        )(x)
        if dropout:
            x = keras.layers.Dropout(dropout, seed=_seed(seed, 1000 + i), name=f"dropout_{i}")(x)
    x = EnsembleHead(
        task_units,
        k,
        activation=output_activation,
        kernel_regularizer=regularizer,
        seed=_seed(seed, 0),
        name="heads",
    )(x)
    return MemberMean(name="output")(x)
