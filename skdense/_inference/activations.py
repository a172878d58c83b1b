"""Keras activations in NumPy, float32 in and out: the one table of the activations
the NumPy forward pass supports (:data:`ACTIVATIONS`).

Each function follows the formula TensorFlow's Keras backend uses (Keras 3), so
results agree with Keras to float32 rounding; :func:`activation` resolves the
name a Keras layer config stores (or raises :class:`UnsupportedNetwork`).
``sparsemax``, ``glu`` (it halves the layer's width, which a Keras Dense
layer's declared output shape does not follow, so Keras cannot build a
network with it either) and ``threshold`` (it needs arguments), and any
activation that is not a built-in name (a user function, a layer object), are
not in the table: a network using them predicts through Keras.
"""

import numpy as np
from scipy import special

from .errors import UnsupportedNetwork

_F32 = np.float32
_SELU_ALPHA = _F32(1.6732632423543772848170429916717)
_SELU_SCALE = _F32(1.0507009873554804934193349852946)
_SQRT_HALF = _F32(0.7071067811865476)


def linear(x):
    return x


def relu(x):
    return np.maximum(x, _F32(0))


def relu6(x):
    return np.clip(x, _F32(0), _F32(6))


def leaky_relu(x):  # Keras's default negative_slope=0.2
    return np.where(x >= 0, x, _F32(0.2) * x)


def sigmoid(x):
    return special.expit(x)


def tanh(x):
    return np.tanh(x)


def silu(x):  # also "swish"
    return x * special.expit(x)


def gelu(x):  # exact (approximate=False, Keras's default): tf.nn.gelu's erfc form
    return _F32(0.5) * x * special.erfc(-x * _SQRT_HALF)


def elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, _F32(0))))


def selu(x):
    return _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, _F32(0))))


def celu(x):  # alpha=1
    return np.maximum(x, _F32(0)) + np.expm1(np.minimum(x, _F32(0)))


def softplus(x):  # log(1 + e^x) without overflow
    return np.logaddexp(x, _F32(0))


def softsign(x):
    return x / (_F32(1) + np.abs(x))


def mish(x):
    return x * np.tanh(softplus(x))


def exponential(x):
    return np.exp(x)


def hard_sigmoid(x):  # relu6(x + 3) / 6
    return np.clip(x + _F32(3), _F32(0), _F32(6)) / _F32(6)


def hard_silu(x):  # also "hard_swish"
    return x * hard_sigmoid(x)


def hard_tanh(x):
    return np.clip(x, _F32(-1), _F32(1))


def hard_shrink(x):  # threshold 0.5
    return np.where(np.abs(x) > _F32(0.5), x, _F32(0))


def soft_shrink(x):  # threshold 0.5
    return np.where(x > 0.5, x - _F32(0.5), np.where(x < -0.5, x + _F32(0.5), _F32(0)))


def tanh_shrink(x):
    return x - np.tanh(x)


def log_sigmoid(x):
    return -np.logaddexp(-x, _F32(0))


def squareplus(x):  # b=4
    return (x + np.sqrt(np.square(x) + _F32(4))) / _F32(2)


def sparse_plus(x):
    return np.where(x <= -1, _F32(0), np.where(x < 1, _F32(0.25) * np.square(x + _F32(1)), x))


def sparse_sigmoid(x):
    return np.where(x <= -1, _F32(0), np.where(x >= 1, _F32(1), _F32(0.5) * (x + _F32(1))))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# The activations the NumPy path supports, by the names Keras stores in a layer's
# config (``keras.activations.serialize``) and the aliases a user may pass.
ACTIVATIONS = {
    "linear": linear,
    "relu": relu,
    "relu6": relu6,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "silu": silu,
    "swish": silu,
    "gelu": gelu,
    "elu": elu,
    "selu": selu,
    "celu": celu,
    "softplus": softplus,
    "softsign": softsign,
    "mish": mish,
    "exponential": exponential,
    "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu,
    "hard_swish": hard_silu,
    "hard_tanh": hard_tanh,
    "hard_shrink": hard_shrink,
    "soft_shrink": soft_shrink,
    "tanh_shrink": tanh_shrink,
    "log_sigmoid": log_sigmoid,
    "squareplus": squareplus,
    "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid,
    "softmax": softmax,
    "log_softmax": log_softmax,
}

def activation_name(config_value, where):
    """The table's name for a layer config's ``activation`` entry, or raise
    :class:`UnsupportedNetwork` (a user function, a layer, an unknown name)."""
    if config_value is None:
        return "linear"
    name = config_value
    if isinstance(config_value, dict):
        # Keras writes a built-in function as its name; a dict is anything else
        # (a registered user function, a layer object), unless it names a built-in.
        inner = config_value.get("config")
        if config_value.get("module") == "keras.activations" and isinstance(inner, str):
            name = inner
        else:
            raise UnsupportedNetwork(
                f"{where} uses the activation {config_value.get('class_name')!r} "
                f"({config_value.get('module')}), which is not a Keras built-in."
            )
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise UnsupportedNetwork(
            f"{where} uses the activation {name!r}; the NumPy forward pass supports "
            f"{sorted(ACTIVATIONS)}."
        )
    return name


def activation(config_value, where):
    """The NumPy function for a layer config's ``activation`` entry."""
    return ACTIVATIONS[activation_name(config_value, where)]
