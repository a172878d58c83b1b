"""A :class:`~skdense._inference.network.NumpyNetwork` from a ``.keras`` file, without
TensorFlow or Keras: the zip's ``config.json`` is read with :mod:`json` and its
``model.weights.h5`` with h5py.

Keras 3 stores a functional network's weights under ``layers/<group>/vars/<i>``,
``<i>`` in the order of ``layer.weights``; the group's ``vars`` carries the
layer's name as an attribute (Keras 3.15 writes it), else the group is the snake-case
class name made unique in layer order (``dense``, ``dense_1``...), which is how
Keras names it (``keras.src.saving.saving_lib._save_container_state``).
"""

import io
import json
import re
import zipfile

import numpy as np

from .errors import UnsupportedNetwork
from .network import network_from_config


def network_from_keras_file(source):
    """The :class:`NumpyNetwork` of a ``.keras`` file.

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file object
        The ``.keras`` file (e.g. ``model_.save(path)``, or the
        ``estimators/<i>.keras`` member of a :func:`skdense.save` file read as bytes).

    Raises
    ------
    UnsupportedNetwork
        The network is not one the NumPy forward pass runs (see
        :func:`~skdense._inference.network.network_from_config`), or the file
        keeps its weights in another format than one ``model.weights.h5``.
    ValueError
        The file is not a ``.keras`` zip.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise ValueError(f"{source!r} is not a .keras file: it is not a zip archive.") from None
    with zf:
        names = set(zf.namelist())
        if "config.json" not in names:
            raise ValueError(f"{source!r} has no config.json: it is not a .keras file.")
        if "model.weights.h5" not in names:
            raise UnsupportedNetwork(
                "The .keras file keeps its weights in "
                f"{sorted(n for n in names if 'weights' in n)}, not model.weights.h5."
            )
        config = json.loads(zf.read("config.json"))
        weights_bytes = zf.read("model.weights.h5")
    layers = (config.get("config") or {}).get("layers") or []
    return network_from_config(config, read_layer_weights(weights_bytes, layers))


def read_layer_weights(h5_bytes, layers):
    """Layer name -> [weight arrays in Keras's order] from a ``model.weights.h5``'s bytes."""
    import h5py  # a Keras dependency; imported here so `import skdense` stays light

    out = {}
    with h5py.File(io.BytesIO(h5_bytes), "r") as f:
        groups = f.get("layers")
        if groups is None:
            return out
        by_attr = {}
        for group_name, group in groups.items():
            vars_ = group.get("vars")
            layer_name = None if vars_ is None else vars_.attrs.get("name")
            if isinstance(layer_name, bytes):
                layer_name = layer_name.decode()
            if layer_name is not None:
                by_attr[str(layer_name)] = group_name
        used = {}
        for layer in layers:
            name = layer.get("name")
            by_class = _unique(_snake_case(layer.get("class_name", "")), used)
            group_name = by_attr.get(name, by_class)
            vars_ = groups[group_name].get("vars") if group_name in groups else None
            if vars_ is None:
                continue
            n = len(vars_.keys())
            out[name] = [np.asarray(vars_[str(i)]) for i in range(n)]
    return out


def _snake_case(name):  # keras.src.utils.naming.to_snake_case
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unique(name, used):  # keras.src.saving.saving_lib._get_unique_name
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


__all__ = ["network_from_keras_file", "read_layer_weights"]
