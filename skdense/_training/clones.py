"""What the engine needs to know about a Keras model: can it train it, what
changes its graph (the cache key), and how to make an identical clone."""

import json
import threading
import weakref

import numpy as np

from .._backend import load_keras
from .penalties import penalty_layer, runtime_strength


# Keras draws the seed of every unseeded initializer and SeedGenerator from
# Python's global ``random`` when the layer is created.  A user's model is built
# under seeded global generators (skdense._scikeras.seeded_globals); anything
# else that creates layers at the same time (the clones below) would draw from
# that sequence and change the user's weights.  Whoever creates Keras layers
# in a fit holds this lock.
BUILD_LOCK = threading.RLock()


class Unsupported(Exception):
    """The engine cannot train this model; Keras's ``model.fit`` will."""


def plain_model_class(model):
    """True for Keras's own Functional/Sequential classes (no user overrides)."""
    keras = load_keras()
    from keras.src.models.functional import Functional

    return type(model) in (Functional, keras.Sequential) or type(model) is keras.Model


def same_structure(a, b):
    return len(a) == len(b) and all(
        tuple(u.shape) == tuple(v.shape) and u.dtype == v.dtype for u, v in zip(a, b)
    )


def variable_bytes(variables):
    """Bytes of ``variables`` (Keras or TensorFlow variables)."""
    return sum(int(np.prod(v.shape)) * _itemsize(v.dtype) for v in variables)


def _itemsize(dtype):
    name = str(getattr(dtype, "name", dtype))
    try:
        return np.dtype(name).itemsize
    except TypeError:  # bfloat16 and other types NumPy does not know
        return 2 if "16" in name else 4


# Layers whose ``seed`` only initialises a SeedGenerator state variable; that
# state is copied like any weight, so the seed does not change the graph.
_SEED_STATE_LAYERS = {
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout",
}


def _canonical(obj, names):
    """``obj`` (a config) with layer names replaced by their position, seeds of
    initializers and seeded-noise layers dropped, and the strengths of weight
    penalties that a worker reads at run time (:mod:`.penalties`) left out:
    what changes the graph only."""
    if isinstance(obj, dict):
        out = {}
        is_init = obj.get("module") == "keras.initializers"
        is_seed_layer = obj.get("class_name") in _SEED_STATE_LAYERS
        has_penalties = penalty_layer(obj)
        for k, v in obj.items():
            if k == "seed" or (k == "config" and is_init):
                continue  # initial values are overwritten by the copied weights
            if k == "config" and is_seed_layer and isinstance(v, dict):
                v = {kk: vv for kk, vv in v.items() if kk != "seed"}
            if k == "config" and has_penalties and isinstance(v, dict):
                v = {kk: runtime_strength(kk, vv) for kk, vv in v.items()}
            out[k] = _canonical(v, names)
        return out
    if isinstance(obj, list | tuple):
        return [_canonical(v, names) for v in obj]
    if isinstance(obj, str) and obj in names:
        return names[obj]
    return obj


def _json_key(obj):
    return json.dumps(obj, sort_keys=True, default=repr)


_ARCH_KEYS = weakref.WeakKeyDictionary()  # model -> its arch_key (get_config costs ms)


def arch_key(model):
    """A hashable description of the network's graph, independent of layer names,
    weight values, initializer seeds and weight-penalty strengths; remembered per model object (a
    functional model's graph cannot change).  Raises Unsupported if the model
    cannot be serialised."""
    try:
        return _ARCH_KEYS[model]
    except (KeyError, TypeError):
        pass
    try:
        config = dict(model.get_config())
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot key"
        raise Unsupported(f"get_config failed: {exc}") from exc
    config.pop("name", None)
    names = {}
    for i, layer in enumerate(config.get("layers", [])):
        name = layer.get("config", {}).get("name") or layer.get("name")
        if isinstance(name, str):
            names[name] = f"#L{i}"
    key = (type(model).__name__, _json_key(_canonical(config, names)))
    try:
        _ARCH_KEYS[model] = key
    except TypeError:
        pass
    return key


def compile_key(model):
    """What of the compile settings changes the training graph: the loss, loss
    weights and the optimizer's class and config except its learning rate when
    that is a variable (its value is copied in)."""
    opt = model.optimizer
    opt_config = dict(opt.get_config())
    opt_config.pop("name", None)
    if not isinstance(opt_config.get("learning_rate"), dict):
        opt_config.pop("learning_rate", None)  # a variable, copied like a weight
    loss = model.loss
    if hasattr(loss, "get_config"):
        loss_key = (type(loss).__module__, type(loss).__qualname__, _json_key(loss.get_config()))
    elif isinstance(loss, str) or loss is None:
        loss_key = loss
    elif callable(loss):
        loss_key = ("callable", id(loss))  # identity: a function's body is unknown
    else:
        loss_key = _json_key(loss)
    return (
        type(opt).__module__,
        type(opt).__qualname__,
        _json_key(opt_config),
        loss_key,
        _json_key(getattr(model, "loss_weights", None)),
        _json_key(model.dtype_policy.name if hasattr(model, "dtype_policy") else None),
    )


def clone_structure(model):
    """A new, uncompiled model with ``model``'s architecture (fresh weights).

    ``from_config``, not ``keras.models.clone_model``: that also recompiles the
    clone from the serialised compile config, which fails for an unregistered
    custom loss function and costs time we spend again in ``compile``.  A model
    that cannot be rebuilt from its config trains on Keras's ``model.fit``.
    """
    with BUILD_LOCK:
        try:
            return type(model).from_config(model.get_config())
        except Exception as exc:  # noqa: BLE001 - any failure means "cannot clone"
            raise Unsupported(f"cannot clone the model: {exc}") from exc


def clone_compiled(model):
    """A clone of ``model`` compiled like it (fresh, unbuilt optimizer)."""
    clone = clone_structure(model)
    opt = model.optimizer
    try:
        new_opt = type(opt).from_config(opt.get_config())
    except Exception as exc:  # noqa: BLE001
        raise Unsupported(f"optimizer from_config failed: {exc}") from exc
    clone.compile(optimizer=new_opt, loss=model.loss, loss_weights=getattr(model, "loss_weights", None))
    return clone
