"""The layers of skdense's networks as NumPy steps, and the one table of the Keras
layer classes the NumPy forward pass supports (:data:`LAYERS`).

A step is a small immutable callable: its weights are float32, C-contiguous and
read-only, fixed at construction, so a step holds no state a call could change
and many threads may run it at once.

Shapes.  A plain network carries ``(n, d)``.  Inside an efficient ensemble
(:mod:`skdense._ensemble`) Keras carries ``(n, k, d)``; here the member axis comes
first, ``(k, n, d)``, so that shared kernels are one ``(k*n, d) @ (d, u)`` product
and the members' heads one batched product.  Until the first per-member
weight a tensor is the same for every member and stays ``(n, d)`` (NumPy's
broadcasting expands it where a member's weight meets it): TabM's ``"none"``
adapters run the shared hidden layers once, not ``k`` times.
"""

import math
from typing import NamedTuple

import numpy as np

from .activations import ACTIVATIONS, activation_name
from .errors import UnsupportedNetwork

_F32 = np.float32
_TWO_PI = _F32(2.0 * math.pi)  # the float32 Keras multiplies by (``2.0 * math.pi * x``)


def _frozen(a):
    a = np.ascontiguousarray(a, dtype=_F32)
    a.flags.writeable = False
    return a


class Step:
    """Base of the steps: immutable once built."""

    __slots__ = ()
    kind = None

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _init(self, **values):
        for k, v in values.items():
            object.__setattr__(self, k, v)

    def __reduce__(self):
        return (_rebuild, (type(self), {k: getattr(self, k) for k in self.__slots__}))

    def __repr__(self):
        return f"{type(self).__name__}({getattr(self, 'name', '')!r})"


def _rebuild(cls, values):
    step = cls.__new__(cls)
    for k, v in values.items():
        if isinstance(v, np.ndarray):  # weights float32, column indices kept integer
            v = _frozen(v) if v.dtype.kind == "f" else np.array(v, copy=True)
        object.__setattr__(step, k, v)
    return step


class Dense(Step):
    """``activation(x @ kernel + bias)``; also an ensemble's hidden layer without
    adapters (one shared kernel and bias for every member)."""

    __slots__ = ("name", "kernel", "bias", "activation")
    kind = "dense"

    def __init__(self, name, kernel, bias, activation):
        self._init(name=name, kernel=_frozen(kernel),
                   bias=None if bias is None else _frozen(bias), activation=activation)

    def __call__(self, x):
        if x.ndim == 2:
            y = x @ self.kernel
        else:  # (k, n, d): one product for all members
            y = (x.reshape(-1, x.shape[-1]) @ self.kernel).reshape(*x.shape[:-1], -1)
        if self.bias is not None:
            y += self.bias
        return ACTIVATIONS[self.activation](y)


class FeatureScaling(Step):
    """``x * scale`` (skdense's :class:`~skdense._layers.FeatureScaling`)."""

    __slots__ = ("name", "scale")
    kind = "feature_scaling"

    def __init__(self, name, scale):
        self._init(name=name, scale=_frozen(scale))

    def __call__(self, x):
        return x * self.scale


class PeriodicEmbedding(Step):
    """PLR embeddings of the columns ``indices``; the ``rest`` pass through first
    (skdense's :class:`~skdense._layers.PeriodicEmbedding`)."""

    __slots__ = ("name", "indices", "rest", "frequencies", "kernel", "bias")
    kind = "periodic_embedding"

    def __init__(self, name, indices, rest, frequencies, kernel, bias):
        self._init(name=name, indices=np.asarray(indices, dtype=np.intp),
                   rest=np.asarray(rest, dtype=np.intp), frequencies=_frozen(frequencies),
                   kernel=_frozen(kernel), bias=_frozen(bias))

    def __call__(self, x):
        n = x.shape[0]
        f, k = self.frequencies.shape
        xe = x[:, self.indices].T  # (f, n)
        angles = (_TWO_PI * xe)[:, :, None] * self.frequencies[:, None, :]  # (f, n, k)
        periodic = np.empty((f, n, 2 * k), _F32)
        np.sin(angles, out=periodic[:, :, :k])
        np.cos(angles, out=periodic[:, :, k:])
        emb = np.matmul(periodic, self.kernel)  # (f, n, d)
        emb += self.bias[:, None, :]
        np.maximum(emb, _F32(0), out=emb)
        emb = emb.transpose(1, 0, 2).reshape(n, -1)
        if not len(self.rest):
            return emb
        return np.concatenate([x[:, self.rest], emb], axis=1)


class EnsembleInput(Step):
    """One copy of the input per member, scaled by ``r`` (TabM-mini's adapter):
    ``(n, d) -> (k, n, d)``; without ``r`` the input is left shared."""

    __slots__ = ("name", "k", "r")
    kind = "ensemble_input"

    def __init__(self, name, k, r):
        self._init(name=name, k=int(k), r=None if r is None else _frozen(r))

    def __call__(self, x):
        if self.r is None:
            return x
        return x[None, :, :] * self.r[:, None, :]


class EnsembleDense(Step):
    """BatchEnsemble linear ``activation(((x * r_i) @ W) * s_i + b_i)`` on ``(k, n, d)``
    (or a shared ``(n, d)``); adapters ``r``, ``s`` and a per-member bias optional."""

    __slots__ = ("name", "kernel", "r", "s", "bias", "activation")
    kind = "ensemble_dense"

    def __init__(self, name, kernel, r, s, bias, activation):
        bias = _frozen(bias)
        self._init(
            name=name, kernel=_frozen(kernel),
            r=None if r is None else _frozen(r[:, None, :]),
            s=None if s is None else _frozen(s[:, None, :]),
            bias=bias[:, None, :] if bias.ndim == 2 else bias,
            activation=activation,
        )

    def __call__(self, x):
        if self.r is not None:
            x = x * self.r  # (k, n, d), also from a shared (n, d)
        y = (x.reshape(-1, x.shape[-1]) @ self.kernel).reshape(*x.shape[:-1], -1)
        if self.s is not None:
            y = y * self.s
        if y.ndim >= self.bias.ndim:
            y += self.bias  # y is this call's own array
        else:  # a shared (n, u) meets per-member biases (k, 1, u)
            y = y + self.bias
        return ACTIVATIONS[self.activation](y)


class EnsembleHead(Step):
    """One output layer per member: ``(k, n, d) @ (k, d, u) + (k, 1, u)``."""

    __slots__ = ("name", "kernel", "bias", "activation")
    kind = "ensemble_head"

    def __init__(self, name, kernel, bias, activation):
        self._init(name=name, kernel=_frozen(kernel), bias=_frozen(np.asarray(bias)[:, None, :]),
                   activation=activation)

    def __call__(self, x):
        y = np.matmul(x, self.kernel)  # a shared (n, d) broadcasts over the members
        y += self.bias
        return ACTIVATIONS[self.activation](y)


class MemberMean(Step):
    """The members' mean, ``(k, n, u) -> (n, u)`` (inference mode)."""

    __slots__ = ("name",)
    kind = "member_mean"

    def __init__(self, name):
        self._init(name=name)

    def __call__(self, x):
        if x.ndim != 3:
            return x
        y = np.add.reduce(x, axis=0)  # what x.mean(axis=0) computes, without its overhead
        y /= _F32(x.shape[0])
        return y


# -- from a Keras layer config and its weights --------------------------------------


class Shape(NamedTuple):
    """What flows out of a layer, per row, as Keras sees it: ``members`` x ``width``."""

    width: int
    members: int = 1


def _expect(weights, names, where):
    """``weights`` (a list in Keras's order, or a dict by Keras's variable names) as a
    dict by ``names``, or raise when they do not match."""
    if isinstance(weights, dict):
        if sorted(weights) != sorted(names):
            raise UnsupportedNetwork(f"{where} has weights {sorted(weights)}; expected {names}.")
        return {k: np.asarray(weights[k]) for k in names}
    if len(weights) != len(names):
        raise UnsupportedNetwork(
            f"{where} has {len(weights)} weight arrays; expected {len(names)} ({names})."
        )
    return dict(zip(names, (np.asarray(w) for w in weights)))


def _dense(cfg, weights, shape, where):
    for key in ("lora_rank", "quantization_config"):
        if cfg.get(key):
            raise UnsupportedNetwork(f"{where} has {key}={cfg[key]!r}.")
    names = ["kernel", "bias"] if cfg.get("use_bias", True) else ["kernel"]
    w = _expect(weights, names, where)
    act = activation_name(cfg.get("activation"), where)
    _check_kernel(w["kernel"], shape, where)
    units = w["kernel"].shape[1]
    return Dense(cfg["name"], w["kernel"], w.get("bias"), act), _out(shape, units, act)


def _check_kernel(kernel, shape, where, axis=0):
    if kernel.shape[axis] != shape.width:
        raise UnsupportedNetwork(
            f"{where}: kernel of shape {kernel.shape} does not take {shape.width} inputs."
        )


def _out(shape, units, act):
    return shape._replace(width=int(units))


def _feature_scaling(cfg, weights, shape, where):
    w = _expect(weights, ["scale"], where)
    if w["scale"].shape != (shape.width,):
        raise UnsupportedNetwork(f"{where}: scale of shape {w['scale'].shape}.")
    return FeatureScaling(cfg["name"], w["scale"]), shape


def _periodic(cfg, weights, shape, where):
    w = _expect(weights, ["frequencies", "kernel", "bias"], where)
    indices = [int(i) for i in cfg["indices"]]
    embedded = set(indices)
    rest = [j for j in range(shape.width) if j not in embedded]
    f, k = w["frequencies"].shape
    if f != len(indices) or w["kernel"].shape[:2] != (f, 2 * k) or max(indices) >= shape.width:
        raise UnsupportedNetwork(f"{where}: weights do not match indices {indices}.")
    d = w["kernel"].shape[2]
    step = PeriodicEmbedding(cfg["name"], indices, rest, w["frequencies"], w["kernel"], w["bias"])
    return step, shape._replace(width=len(rest) + f * d)


def _ensemble_input(cfg, weights, shape, where):
    k = int(cfg["k"])
    names = [] if cfg.get("scaling") is None else ["r"]
    w = _expect(weights, names, where)
    step = None if "r" not in w else EnsembleInput(cfg["name"], k, w["r"])  # else stays shared
    return step, shape._replace(members=k)


def _ensemble_dense(cfg, weights, shape, where):
    names = ["kernel"]
    if cfg.get("scale_in"):
        names.append("r")
    if cfg.get("scale_out"):
        names.append("s")
    names.append("bias")
    w = _expect(weights, names, where)
    _check_kernel(w["kernel"], shape, where)
    act = activation_name(cfg.get("activation"), where)
    if not (cfg.get("scale_in") or cfg.get("scale_out") or cfg.get("member_bias")):
        step = Dense(cfg["name"], w["kernel"], w["bias"], act)  # shared by every member
    else:
        step = EnsembleDense(cfg["name"], w["kernel"], w.get("r"), w.get("s"), w["bias"], act)
    return step, _out(shape, w["kernel"].shape[1], act)


def _ensemble_head(cfg, weights, shape, where):
    w = _expect(weights, ["kernel", "bias"], where)
    _check_kernel(w["kernel"], shape, where, axis=1)
    act = activation_name(cfg.get("activation"), where)
    return (EnsembleHead(cfg["name"], w["kernel"], w["bias"], act),
            _out(shape, w["kernel"].shape[2], act)._replace(members=w["kernel"].shape[0]))


def _member_mean(cfg, weights, shape, where):
    _expect(weights, [], where)
    return MemberMean(cfg["name"]), shape._replace(members=1)


def _identity(cfg, weights, shape, where):
    _expect(weights, [], where)
    return None, shape


# The Keras layer classes the NumPy forward pass runs, by (module, class name) as a
# layer config names them; skdense's own are those it registers with Keras
# (package "skdense").  Anything else is UnsupportedNetwork.
LAYERS = {
    ("keras.layers", "InputLayer"): _identity,
    ("keras.layers", "Dense"): _dense,
    ("keras.layers", "Dropout"): _identity,  # off at inference
    ("skdense", "FeatureScaling"): _feature_scaling,
    ("skdense", "PeriodicEmbedding"): _periodic,
    ("skdense", "EnsembleInput"): _ensemble_input,
    ("skdense", "EnsembleDense"): _ensemble_dense,
    ("skdense", "EnsembleHead"): _ensemble_head,
    ("skdense", "MemberMean"): _member_mean,
}


def layer_key(layer_config):
    """The :data:`LAYERS` key of one entry of a functional config's ``layers``."""
    registered = layer_config.get("registered_name")
    name = layer_config.get("class_name")
    if isinstance(registered, str) and registered.startswith("skdense>"):
        return ("skdense", registered.split(">", 1)[1])
    return (layer_config.get("module"), name)
