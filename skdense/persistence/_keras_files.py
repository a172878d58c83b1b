"""Keras files and objects for :mod:`skdense.persistence`: a network is checked
before Keras, or skdense's NumPy forward pass, reads it.

:class:`NetworkFile` is one ``.keras`` network, from its bytes: a zip archive
from its first byte to its last (never another container around it) holding
``config.json``, ``metadata.json`` and ``model.weights.h5`` and nothing else;
its configuration checked by :func:`check_keras_config`; its weights file
holding only datasets stored inside it (no external storage, virtual datasets
or links to other files), each within the loading limits.

The configuration may name Keras's modelling types that build no layer of
their own (initializers, regularizers, constraints, optimizers and schedules,
losses, metrics, activations, dtype policies, functional and sequential
models), the Keras layers skdense builds (:data:`SKDENSE_LAYERS`) and
skdense's registered layers, loss and initializers.  Any other Keras layer
(``StringLookup`` reads a vocabulary file, ``TorchModuleWrapper`` unpickles a
module) loads only when the caller names it in ``trusted``, and layers that
store code (``Lambda``) never do.  So what loads does not depend on the Keras
version's own checks; what passes is loaded with ``safe_mode=True`` as well.
"""

import io
import json
import os
import sys
import tempfile

import numpy as np

from ._archive import Archive, reading
from ._errors import MalformedFileError, UntrustedContentError, preview


# Modules whose classes a network (or a loss/optimizer/schedule parameter)
# may name besides keras.layers: Keras's modelling APIs that hold no layer.
_KERAS_MODULES = (
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
# The keras.layers types skdense's networks are made of (skdense._network.build):
# anything else in keras.layers loads only when the caller trusts it.
SKDENSE_LAYERS = frozenset({"InputLayer", "Dense", "Dropout"})
_CODE_LAYERS = {
    "Lambda": "a Lambda layer stores Python code",
    "__lambda__": "a Python lambda is stored as code",
    "TFSMLayer": "a TFSMLayer loads another SavedModel from a path",
}
# The entries of a .keras file that skdense loads (Keras 3 writes these three;
# assets/ would be extracted to disk by Keras, and skdense's networks have none).
KERAS_ENTRIES = frozenset({"config.json", "metadata.json", "model.weights.h5"})


# What register_skdense_objects() returns, known without importing Keras, so
# skdense.load can check a network's configuration before predicting with it in
# NumPy (tests/test_persistence.py fails when the two differ).
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


def check_keras_config(config, where, trusted=()):
    """Refuse a Keras configuration that names anything but Keras's modelling types,
    the Keras layers skdense builds, skdense's registered types and the types in
    ``trusted`` (``"module.ClassName"``, e.g. ``"keras.layers.BatchNormalization"``),
    or any layer that runs stored code.  Needs no Keras."""
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
            raise MalformedFileError(f"{where}: malformed Keras config {preview(node)}.")
        if name in _CODE_LAYERS:
            raise UntrustedContentError(
                f"{where} holds a {name!r}: {_CODE_LAYERS[name]}, and skdense loads no "
                "code from files. Nothing was loaded. (skdense's networks never contain "
                "one; the file was altered or written by another program.)"
            )
        if _allowed_keras_class(name, module, registered_name) or f"{module}.{name}" in trusted:
            continue
        raise UntrustedContentError(
            f"{where} names the Keras object {module}.{name} "
            f"(registered as {registered_name!r}), which is not among the types skdense's "
            "networks are made of; nothing was loaded. If you know this network and trust "
            f"the file, pass the type: load(path, trusted=[{f'{module}.{name}'!r}])."
        )


def _allowed_keras_class(name, module, registered_name):
    if module is None:
        return name in _KERAS_SPECIAL
    if module.startswith("skdense."):
        return registered_name in SKDENSE_REGISTERED
    if module == "builtins":
        return name == "function"  # Keras resolves these among its own built-ins only
    if module == "keras":
        return name in _KERAS_TOP_LEVEL
    # Keras writes a built-in's registered name as its name (or ">name" for a
    # nested Functional); another name would be looked up in Keras's registry.
    if registered_name not in (None, name, f">{name}"):
        return False
    if module == "keras.layers":
        return name in SKDENSE_LAYERS
    return module in _KERAS_MODULES


def keras_object(config, where):
    check_keras_config(config, where)
    from .._backend import load_keras

    keras = load_keras()
    register_skdense_objects()
    try:
        return keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as err:
        raise MalformedFileError(
            f"{where}: Keras could not rebuild {preview(config)}: {err}") from None


class NetworkFile:
    """One ``.keras`` network from its bytes, checked (see the module's docstring);
    raises :class:`UntrustedContentError` or :class:`MalformedFileError` naming
    ``where`` for what it refuses.

    Parameters
    ----------
    source : bytes or binary file
        The ``.keras`` archive; its bytes are read whole (``data``) only once
        everything in it is checked.
    where : str
        The user's file, and the entry when the network is inside one.
    budget : skdense.persistence._archive.Budget
    trusted : tuple of str
        Keras types beyond skdense's that the caller trusts.
    """

    def __init__(self, source, where, budget, trusted=()):
        self.where = where
        with Archive(source, where, "a Keras .keras file", budget) as archive:
            extra = sorted(archive.names - KERAS_ENTRIES)
            if extra:
                raise UntrustedContentError(
                    f"{where} holds {extra[:5]}{'...' if len(extra) > 5 else ''}: a .keras "
                    f"file that skdense loads holds only {sorted(KERAS_ENTRIES)} (Keras "
                    "would extract assets to disk). Nothing was loaded."
                )
            self.config = archive.read_json("config.json", "a Keras .keras file")
            weights = archive.read("model.weights.h5", "a Keras .keras file")
            check_keras_config(self.config, where, trusted)
            self.weights = check_weights_file(weights, f"{where}: model.weights.h5", budget.limits)
            self.data = archive.raw()

    def numpy_network(self):
        """The :class:`~skdense._inference.network.NumpyNetwork` (raises
        ``UnsupportedNetwork`` for a network outside the NumPy path's tables)."""
        from .._inference import network_from_config
        from .._inference.keras_file import read_layer_weights

        layers = (self.config.get("config") or {}).get("layers") or []
        with reading(f"{self.where}: model.weights.h5", "the weights file"):
            weights = read_layer_weights(self.weights, layers)
        return network_from_config(self.config, weights)

    def load_model(self):
        """The Keras network (``safe_mode=True``), from a private temporary copy of
        these checked bytes, removed on every path."""
        with tempfile.TemporaryDirectory(prefix="skdense-load-") as tmp:
            path = os.path.join(tmp, "network.keras")
            with open(path, "wb") as f:
                f.write(self.data)
            try:
                return load_keras_model(path)
            except Exception as err:
                raise MalformedFileError(
                    f"{self.where}: Keras could not load the network "
                    f"({type(err).__name__}: {err})".replace(path, "<network>") + "."
                ) from None


def check_weights_file(data, where, limits):
    """``data`` (a ``model.weights.h5``), once its groups and datasets are checked:
    hard links only, datasets stored in the file (no external storage, no
    virtual datasets), numbers only, each within ``max_entry_bytes`` and all
    within ``max_total_bytes`` as declared, before any is read."""
    import h5py  # a Keras dependency; imported here so `import skdense` stays light

    if data[:8] != b"\x89HDF\r\n\x1a\n":
        raise MalformedFileError(f"{where} is not an HDF5 file.")
    total = 0
    with reading(where, "the weights file"), h5py.File(io.BytesIO(data), "r") as f:
        stack = [("", f)]
        while stack:
            path, group = stack.pop()
            for name in group:
                full = f"{path}/{name}"
                link = group.get(name, getlink=True)
                if not isinstance(link, h5py.HardLink):
                    target = "another file" if isinstance(link, h5py.ExternalLink) else "a path"
                    raise UntrustedContentError(
                        f"{where}: {full} is a link to {target}; skdense loads weights "
                        "stored in the file only. Nothing was loaded.")
                node = group[name]
                if isinstance(node, h5py.Group):
                    stack.append((full, node))
                    continue
                if not isinstance(node, h5py.Dataset):
                    raise MalformedFileError(f"{where}: {full} is not a group or a dataset.")
                if node.external or node.is_virtual:
                    raise UntrustedContentError(
                        f"{where}: the dataset {full} reads its values from another file "
                        "(external or virtual storage); skdense loads weights stored in "
                        "the file only. Nothing was loaded.")
                if node.dtype.kind not in "biuf":
                    raise MalformedFileError(
                        f"{where}: the dataset {full} holds {node.dtype}, not numbers.")
                size = int(np.prod(node.shape, dtype=object)) * node.dtype.itemsize
                if size > limits.max_entry_bytes:
                    raise MalformedFileError(
                        f"{where}: the dataset {full} declares {size:,} bytes; the limit is "
                        f"{limits.max_entry_bytes:,} (max_entry_bytes).")
                total += size
    if total > limits.max_total_bytes:
        raise MalformedFileError(
            f"{where}: its datasets declare {total:,} bytes; the limit is "
            f"{limits.max_total_bytes:,} (max_total_bytes).")
    return data


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
        raise MalformedFileError(
            f"{where}: the recorded seed states {[path for path, _ in state]} do not match "
            f"the network's {[v.path for v in variables]}; the file is damaged."
        )
    for variable, (_, value) in zip(variables, state):
        variable.assign(np.asarray(value, dtype=variable.dtype))
