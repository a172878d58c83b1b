""":class:`NumpyNetwork`: the forward pass of a network skdense built, in NumPy.

Made from the network's Keras configuration (``model.get_config()``, or the
``config.json`` of a ``.keras`` file) and its weights as NumPy arrays; it
imports neither TensorFlow nor Keras.  Only a chain of the layers in
:data:`skdense._inference.layers.LAYERS` with the activations in
:data:`skdense._inference.activations.ACTIVATIONS`, in float32, is accepted:
anything else raises :class:`UnsupportedNetwork`, and the caller predicts
through Keras.
"""

import numpy as np
import scipy.sparse as sp

from .chunks import chunk_rows, chunked
from .errors import UnsupportedNetwork
from .layers import LAYERS, Shape, layer_key

_F32 = np.float32
# Rows per forward call take at most this much (input and activations), a
# quarter of the chunk rule's bound: an 8-member ensemble's 100,000 rows ran
# ~1.5x faster in 16 MB blocks than in 64 MB chunks (memory-bound elementwise
# steps), a plain network's about as fast (benchmarks/bench_predict.py).
BLOCK_BYTES = 16 << 20


class NumpyNetwork:
    """The inference-mode forward pass of one Keras network, in float32 NumPy.

    Immutable and holding no state between calls, so one instance serves any
    number of threads at once.  Build it with :func:`network_from_config`,
    :func:`network_from_keras` or
    :func:`~skdense._inference.keras_file.network_from_keras_file`.

    Attributes
    ----------
    steps : tuple
        The layers that compute (dropout and the input layer drop out).
    n_features : int
        Columns of the input.
    n_outputs : int
        Columns of the output.
    row_floats : int
        Values one row takes through the network, counted as Keras counts them
        for the chunk size (:func:`~skdense._inference.chunks.chunk_rows`).
    name : str
        The Keras network's name.
    """

    __slots__ = ("steps", "n_features", "n_outputs", "row_floats", "name", "_chunk")

    def __init__(self, steps, n_features, n_outputs, row_floats, name=""):
        for key, value in dict(
            steps=tuple(steps), n_features=int(n_features), n_outputs=int(n_outputs),
            row_floats=int(row_floats), name=str(name),
            _chunk=min(chunk_rows(row_floats), max(1, BLOCK_BYTES // (4 * max(row_floats, 1)))),
        ).items():
            object.__setattr__(self, key, value)

    def __setattr__(self, name, value):
        raise AttributeError("NumpyNetwork is immutable")

    def __reduce__(self):
        return (NumpyNetwork, (self.steps, self.n_features, self.n_outputs, self.row_floats,
                               self.name))

    def __repr__(self):
        return (f"NumpyNetwork({self.name!r}, {self.n_features} -> {self.n_outputs}, "
                f"steps={[type(s).__name__ for s in self.steps]})")

    def forward(self, x):
        """The network's output for a float32 C-contiguous ``(n, n_features)`` array,
        without checks or chunks (the hot path)."""
        for step in self.steps:
            x = step(x)
        return x

    def predict(self, x):
        """The network's output, float32 ``(n, n_outputs)``, as Keras's
        ``model(x, training=False)``.

        ``x``: an array-like or scipy sparse matrix of shape ``(n, n_features)``;
        computed in float32 in chunks of :func:`chunk_rows` rows, at most
        :data:`BLOCK_BYTES` (a sparse one densified a chunk at a time).
        """
        if not sp.issparse(x):
            x = np.asarray(x, dtype=_F32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"The network takes {self.n_features} features per row; got an input "
                f"of shape {x.shape}. Pass X with the columns the network was trained on."
            )
        if sp.issparse(x):
            return chunked(x, self._chunk, lambda xb: self.forward(np.asarray(xb, _F32)))
        if x.shape[0] <= self._chunk:
            return self.forward(x)
        return chunked(x, self._chunk, self.forward)

    __call__ = predict

    def member_outputs(self, x):
        """Each ensemble member's output before their mean, float32 ``(n, k, n_outputs)``
        (what ``DenseRegressor.predict(X, return_std=True)`` spreads), in chunks as
        :meth:`predict`.

        Raises :class:`UnsupportedNetwork` when the network does not end with the
        members' mean (one network, or not an ensemble skdense built).
        """
        from .layers import MemberMean

        if not self.steps or not isinstance(self.steps[-1], MemberMean):
            raise UnsupportedNetwork("The network does not end with an ensemble's MemberMean.")
        body = self.steps[:-1]

        def forward(xb):
            xb = np.asarray(xb, dtype=_F32)
            for step in body:
                xb = step(xb)
            if xb.ndim != 3:  # (k, n, u) inside the network
                raise UnsupportedNetwork("The network's members' outputs are not (k, n, units).")
            return np.ascontiguousarray(xb.transpose(1, 0, 2))

        if not sp.issparse(x):
            x = np.asarray(x, dtype=_F32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"The network takes {self.n_features} features per row; got an input "
                f"of shape {x.shape}. Pass X with the columns the network was trained on."
            )
        return chunked(x, self._chunk, forward)


def _functional_layers(config):
    """The layer list of a functional network's config, checked to be one chain."""
    if "class_name" in config and "config" in config:
        if config["class_name"] != "Functional":
            raise UnsupportedNetwork(
                f"The network is a {config['class_name']}; the NumPy forward pass runs "
                "skdense's functional networks."
            )
        config = config["config"]
    layers = config.get("layers")
    if not isinstance(layers, list) or not layers:
        raise UnsupportedNetwork("The network's config has no layer list.")
    if any("inbound_nodes" not in layer for layer in layers):
        raise UnsupportedNetwork("The network is not a functional model (a Sequential?).")
    first, last = layers[0].get("name"), layers[-1].get("name")
    ins, outs = _endpoints(config.get("input_layers")), _endpoints(config.get("output_layers"))
    if ins != [first] or outs != [last]:
        raise UnsupportedNetwork(
            f"The network has inputs {ins} and outputs {outs}; the NumPy forward pass runs "
            "one input and one output."
        )
    previous = None
    for layer in layers:
        nodes = layer.get("inbound_nodes")
        if previous is None:
            if nodes:
                raise UnsupportedNetwork(f"The first layer {first!r} has inputs.")
        else:
            if len(nodes) != 1 or len(nodes[0].get("args", [])) != 1:
                raise UnsupportedNetwork(
                    f"Layer {layer.get('name')!r} is called {len(nodes)} time(s) or on "
                    "several tensors; the NumPy forward pass runs a chain of layers."
                )
            arg = nodes[0]["args"][0]
            history = arg.get("config", {}).get("keras_history") if isinstance(arg, dict) else None
            source = history[0] if history else None
            kwargs = {k: v for k, v in (nodes[0].get("kwargs") or {}).items()
                      if v is not None and not (k == "training" and v is False)}
            if source != previous or kwargs:
                raise UnsupportedNetwork(
                    f"Layer {layer.get('name')!r} does not follow {previous!r} in one chain "
                    f"(input from {source!r}, call arguments {sorted(kwargs)})."
                )
        previous = layer.get("name")
    return config.get("name", ""), layers


def _endpoints(spec):
    if not spec:
        return []
    if isinstance(spec[0], str):  # one endpoint: [name, node, tensor]
        spec = [spec]
    return [s[0] for s in spec]


def _dtype_name(dtype):
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    return dtype


def network_from_config(config, weights):
    """A :class:`NumpyNetwork` from a Keras functional config and its weights.

    Parameters
    ----------
    config : dict
        ``model.get_config()``, or the ``config.json`` of a ``.keras`` file
        (``{"class_name": "Functional", "config": {...}}``).
    weights : mapping
        Layer name -> its weight arrays: a list in Keras's order (the order of
        ``layer.weights``, which is the order of a ``.keras`` file's
        ``vars/0``, ``vars/1``...), or a dict by Keras's variable names
        (``"kernel"``, ``"bias"``, ``"r"``...).  Layers without weights may be absent.

    Raises
    ------
    UnsupportedNetwork
        The network holds something outside :data:`~skdense._inference.layers.LAYERS`
        and :data:`~skdense._inference.activations.ACTIVATIONS`, a dtype other
        than float32, or is not a chain of layers.
    """
    name, layers = _functional_layers(config)
    batch_shape = layers[0].get("config", {}).get("batch_shape") or [None, None]
    if layer_key(layers[0]) != ("keras.layers", "InputLayer") or len(batch_shape) != 2 \
            or batch_shape[1] is None:
        raise UnsupportedNetwork("The network's input is not a 2-D float32 InputLayer.")
    n_features = int(batch_shape[1])
    shape = Shape(width=n_features)
    row_floats = n_features
    steps = []
    for layer in layers:
        key = layer_key(layer)
        cfg = layer.get("config") or {}
        where = f"Layer {layer.get('name')!r} ({key[0]}.{key[1]})"
        build = LAYERS.get(key)
        if build is None:
            raise UnsupportedNetwork(
                f"{where} is not one the NumPy forward pass runs; it runs "
                f"{sorted(f'{m}.{c}' for m, c in LAYERS)}."
            )
        dtype = _dtype_name(cfg.get("dtype", "float32"))
        if dtype not in ("float32", None):
            raise UnsupportedNetwork(f"{where} computes in {dtype}; the NumPy path runs float32.")
        step, shape = build(cfg, weights.get(layer.get("name"), ()), shape, where)
        row_floats += shape.width * shape.members
        if step is not None:
            steps.append(step)
    if shape.members != 1:
        raise UnsupportedNetwork("The network ends with one output per ensemble member.")
    return NumpyNetwork(steps, n_features, shape.width, row_floats, name)


def network_from_keras(model):
    """A :class:`NumpyNetwork` from a built Keras model (``estimator.model_``).

    Raises :class:`UnsupportedNetwork` for a model the NumPy path does not run
    (a subclassed or Sequential model, other layers or activations...).
    """
    if type(model).__name__ != "Functional":
        raise UnsupportedNetwork(
            f"The network is a {type(model).__name__}; the NumPy forward pass runs "
            "skdense's functional networks."
        )
    try:
        config = model.get_config()
    except Exception as err:  # noqa: BLE001 - a model without a config is not ours
        raise UnsupportedNetwork(f"The network has no config: {err}") from None
    weights = {}
    for layer in model.layers:
        names = [v.name for v in layer.weights]
        if len(set(names)) != len(names):
            raise UnsupportedNetwork(f"Layer {layer.name!r} has weights named alike: {names}.")
        weights[layer.name] = {v.name: np.asarray(v.numpy()) for v in layer.weights}
    return network_from_config(config, weights)
