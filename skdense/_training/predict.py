"""The forward pass of a trained model, without ``model.predict``'s overhead.

One compiled forward function per architecture (:mod:`.cache`) takes the
weights as arguments, so every model of the same structure shares one trace
and any number of rows runs without retracing.  Models the cache cannot key
(subclassed models, several inputs or outputs) use ``model.predict``.

Rows go through in chunks of :func:`~skdense._inference.chunks.chunk_rows` (a
chunk's input and activations take about
:data:`skdense._inference.chunks.CHUNK_BYTES`: one rule for this path and the
NumPy one, owned by the lower layer), so memory beyond the input and the
output does not grow with the number of rows; a scipy sparse ``x`` is
densified one chunk at a time.  Each row's output does not depend on the
chunk it is in.
"""

import weakref
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._backend import load_keras, load_tf
from .._inference.chunks import chunk_rows
from .._inference.chunks import chunked as _chunked
from . import cache
from .clones import Unsupported, arch_key, clone_structure, plain_model_class


class _Compiled(NamedTuple):
    """A model's compiled forward function and what calling it needs."""

    fn: object  # concrete function f(weight values, x)
    variables: list  # the model's tf.Variables, in the function's order
    n_features: int
    dtype: np.dtype
    row_floats: int  # values one row takes through the network (input and every layer's output)


_COMPILED = weakref.WeakKeyDictionary()  # model -> _Compiled, or None when it has none


def predict(model, x):
    """Forward pass of ``model`` on array or scipy sparse ``x`` (no progress bar,
    no callbacks), in chunks of :func:`chunk_rows` rows."""
    compiled = _compiled(model)
    sparse = sp.issparse(x)
    if compiled is None or not (isinstance(x, np.ndarray) or sparse) or x.ndim != 2:
        if sparse:  # Keras would feed the first layer a tf.SparseTensor
            return _chunked(x, _chunk_rows_of(model, x.shape[1]),
                            lambda xb: np.asarray(model.predict(xb, verbose=0)))
        return np.asarray(model.predict(x, verbose=0))
    if x.shape[1] != compiled.n_features:
        raise ValueError(
            f"The model takes {compiled.n_features} features per row; got {x.shape[1]}. "
            "Pass X with the columns the model was trained on."
        )
    tf = load_tf()
    read = tf.raw_ops.ReadVariableOp
    values = [read(resource=v.handle, dtype=v.dtype) for v in compiled.variables]

    def forward(xb):
        xt = tf.convert_to_tensor(np.asarray(xb, dtype=compiled.dtype))
        # The flat call skips matching the structured signature (~0.5 ms).
        out = compiled.fn._call_flat(values + [xt], compiled.fn.captured_inputs)
        if isinstance(out, list | tuple):
            out = out[0]
        return out.numpy()

    return _chunked(x, chunk_rows(compiled.row_floats), forward)


def predict_members(model, x):
    """Each ensemble member's output, ``(n, k, units)``: the input of the
    network's last layer (``MemberMean``, named "output"), by :func:`predict`."""
    try:
        return predict(_MEMBERS[model], x)
    except KeyError:
        pass
    keras = load_keras()
    members = keras.Model(model.inputs, model.get_layer("output").input)
    _MEMBERS[model] = members
    return predict(members, x)


_MEMBERS = weakref.WeakKeyDictionary()  # model -> its members' model


def _row_floats(model, n_features):
    """Values one row takes through ``model``: its input and every layer's output."""
    total = int(n_features)
    for layer in model.layers:
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):  # a layer called several times, or none
            continue
        total += int(np.prod([d or 1 for d in shape[1:]]))
    return total


def _chunk_rows_of(model, n_features):
    return chunk_rows(_row_floats(model, n_features))


def _compiled(model):
    try:
        return _COMPILED[model]
    except KeyError:
        pass
    compiled = None
    if plain_model_class(model) and len(model.inputs) == 1 and len(model.outputs) == 1:
        n_features = model.inputs[0].shape[-1]
        fn = _predictor_for(model) if n_features is not None else None
        variables = [*model.trainable_variables, *model.non_trainable_variables]
        tf_vars = [getattr(v, "value", None) for v in variables]
        if fn is not None and all(hasattr(v, "handle") for v in tf_vars):
            compiled = _Compiled(fn, tf_vars, n_features, np.dtype(model.inputs[0].dtype),
                         _row_floats(model, n_features))
    _COMPILED[model] = compiled
    return compiled


def _predictor_for(model):
    try:
        key = (arch_key(model), str(np.dtype(model.inputs[0].dtype)))
    except Unsupported:
        return None
    return cache.predictor_for(key, lambda: _make_predictor(model))


def _make_predictor(model):
    tf = load_tf()
    keras = load_keras()
    try:
        template = clone_structure(model)
    except Unsupported:
        return None
    tvars = list(template.trainable_variables) + list(template.non_trainable_variables)
    specs = [tf.TensorSpec(v.shape, v.dtype) for v in tvars]
    n_features = template.inputs[0].shape[-1]
    dtype = tf.as_dtype(template.inputs[0].dtype)
    scope_cls = keras.src.backend.StatelessScope

    @tf.function(input_signature=[specs, tf.TensorSpec([None, n_features], dtype)], autograph=False)
    def forward(values, x):
        cache.count_trace("predict")
        with scope_cls(state_mapping=list(zip(tvars, values))):
            return template(x, training=False)

    # Calling the concrete function skips tf.function's argument binding
    # (about 1 ms a call); the signature already fixes every shape but n.
    return forward.get_concrete_function()
