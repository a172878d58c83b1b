"""Keras files and objects for :mod:`skdense.persistence`: a configuration is checked
before Keras reads it.

Allowed: Keras's modelling types (layers, initializers, regularizers,
constraints, optimizers and schedules, losses, metrics, activations, dtype
policies, functional and sequential models) and skdense's registered layers,
loss and initializers.  Refused: any other module (``keras.utils``, other
packages), and layers that store code (``Lambda``).  What passes is loaded
with ``safe_mode=True``.
"""

import io
import json
import sys
import zipfile

import numpy as np

from ._errors import UntrustedContentError, preview


# Modules whose classes a network (or a loss/optimizer/schedule parameter)
# may name: Keras's modelling APIs.  Anything else (keras.utils, keras.saving,
# other packages) is refused, as is any class that stores code.
_KERAS_MODULES = (
    "keras.layers",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
    "keras.optimizers",
    "keras.optimizers.schedules",
    "keras.losses",
    "keras.metrics",
    "keras.activations",
    "keras.dtype_policies",
    "keras.src.models.functional",
    "keras.src.models.sequential",
    "keras.src.models.model",
)
_KERAS_TOP_LEVEL = ("DTypePolicy", "FloatDTypePolicy", "Functional", "Sequential", "Model")
_KERAS_SPECIAL = (
    "__keras_tensor__", "__tuple__", "__numpy__", "__bytes__", "__tensor__",
    "__typespec__", "__ellipsis__", "__slice__",
)
_CODE_LAYERS = {
    "Lambda": "a Lambda layer stores Python code",
    "__lambda__": "a Python lambda is stored as code",
    "TFSMLayer": "a TFSMLayer loads another SavedModel from a path",
}


# What register_skdense_objects() returns, known without importing Keras, so
# skdense.load can check a network's configuration before predicting with it in
# NumPy (tests/test_persistence.py fails when the two differ).  A name missing
# here only sends a file to the full check, which imports Keras.
SKDENSE_REGISTERED = frozenset({
    "skdense>EnsembleDense", "skdense>EnsembleHead", "skdense>EnsembleInput",
    "skdense>FeatureScaling", "skdense>MemberMean", "skdense>MemberMeanLoss",
    "skdense>PeriodicEmbedding", "skdense>RandomSigns",
})


def register_skdense_objects():
    """Import skdense's Keras layers, loss and initializers (they register themselves)."""
    from .._network import ensemble, layers  # noqa: F401

    keras = sys.modules["keras"]
    return {k for k in keras.saving.get_custom_objects() if k.startswith("skdense>")}


def check_keras_config(config, where, registered=None):
    """Refuse a Keras configuration that names anything but Keras's modelling types and
    skdense's registered ones, or a layer that runs stored code.

    ``registered``: skdense's registered names; None registers them with Keras
    (importing it) and uses those.  :func:`skdense.persistence.load` passes
    :data:`SKDENSE_REGISTERED` to check a file without TensorFlow.
    """
    if registered is None:
        registered = register_skdense_objects()
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        name = node.get("class_name")
        if name is None:
            continue
        module, registered_name = node.get("module"), node.get("registered_name")
        if not isinstance(name, str) or not (module is None or isinstance(module, str)):
            raise UntrustedContentError(f"{where}: malformed Keras config {preview(node)}.")
        if name in _CODE_LAYERS:
            raise UntrustedContentError(
                f"{where} holds a {name!r}: {_CODE_LAYERS[name]}, and skdense loads no "
                "code from files. Nothing was loaded. (skdense's networks never contain "
                "one; the file was altered or written by another program.)"
            )
        if _allowed_keras_class(name, module, registered_name, registered):
            continue
        raise UntrustedContentError(
            f"{where} names the Keras object {module}.{name} "
            f"(registered as {registered_name!r}), which is not among Keras's modelling "
            "types and skdense's layers; skdense does not load it. Nothing was loaded."
        )


def _allowed_keras_class(name, module, registered_name, registered):
    if module is None:
        return name in _KERAS_SPECIAL
    if module.startswith("skdense."):
        return registered_name in registered
    if module == "builtins":
        return name == "function"  # Keras resolves these among its own built-ins only
    if module == "keras":
        return name in _KERAS_TOP_LEVEL
    # Keras writes a built-in's registered name as its name (or ">name" for a
    # nested Functional); another name would be looked up in Keras's registry.
    return module in _KERAS_MODULES and registered_name in (None, name, f">{name}")


def keras_object(config, where):
    check_keras_config(config, where)
    from .._backend import load_keras

    keras = load_keras()
    try:
        return keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as err:
        raise ValueError(f"{where}: Keras could not rebuild {preview(config)}: {err}") from err


def check_keras_file(path, where):
    zf = open_zip(path, "a Keras .keras file")
    with zf:
        config = json.loads(read_member(zf, "config.json", where))
    check_keras_config(config, where)


def keras_file_config(data, where):
    """The ``config.json`` of a ``.keras`` file's bytes (no Keras needed)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValueError(f"{where} is not a Keras .keras file: it is not a zip archive.") from None
    with zf:
        try:
            return json.loads(read_member(zf, "config.json", where))
        except json.JSONDecodeError as err:
            raise ValueError(f"{where}: config.json is not JSON ({err}).") from None


def load_keras_model(path):
    """Load a checked .keras file with skdense's objects registered, in safe mode."""
    from .._backend import load_keras

    keras = load_keras()
    register_skdense_objects()
    return keras.saving.load_model(path, safe_mode=True)


def unsaved_state(model):
    """[(path, value)] of the variables a .keras file does not keep: the dropout
    layers' seed-generator states, which a continued fit (warm_start, partial_fit)
    draws its next dropout masks from."""
    saved = {id(v) for v in model.weights}
    return [(v.path, v.numpy()) for v in model.variables if id(v) not in saved]


def restore_unsaved_state(model, state, where):
    """Assign what :func:`unsaved_state` recorded to a loaded ``model``."""
    saved = {id(v) for v in model.weights}
    variables = [v for v in model.variables if id(v) not in saved]
    # In order: paths differ between processes (Keras numbers the generators).
    shapes = [tuple(v.shape) for v in variables]
    if shapes != [np.shape(value) for _, value in state]:
        raise ValueError(
            f"{where}: the recorded seed states {[path for path, _ in state]} do not match "
            f"the network's {[v.path for v in variables]}; the file is damaged."
        )
    for variable, (_, value) in zip(variables, state):
        variable.assign(np.asarray(value, dtype=variable.dtype))


def open_zip(path, what):
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"{path} is not {what}: it is not a zip archive.") from None


def read_member(zf, name, where):
    try:
        return zf.read(name)
    except KeyError:
        raise ValueError(f"{where} has no {name}: it is not a file skdense wrote.") from None
