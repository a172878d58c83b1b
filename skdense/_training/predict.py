"""The forward pass of a trained model, without ``model.predict``'s overhead.

One compiled forward function per architecture (:mod:`.cache`) takes the
weights as arguments, so every model of the same structure shares one trace
and any number of rows runs without retracing.  Models the cache cannot key
(subclassed models, several inputs or outputs) use ``model.predict``.
"""

import weakref
from typing import NamedTuple

import numpy as np

from .._backend import load_keras, load_tf
from . import cache
from .models import Unsupported, arch_key, clone_structure, plain_model_class


class _Plan(NamedTuple):
    fn: object  # concrete function f(weight values, x)
    variables: list  # the model's tf.Variables, in the function's order
    n_features: int
    dtype: np.dtype


_PLANS = weakref.WeakKeyDictionary()  # model -> _Plan, or None when it has none


def predict(model, x):
    """Forward pass of ``model`` on array ``x`` (no progress bar, no callbacks)."""
    plan = _plan(model)
    if plan is None or not isinstance(x, np.ndarray) or x.ndim != 2:
        return np.asarray(model.predict(x, verbose=0))
    if x.shape[1] != plan.n_features:
        raise ValueError(
            f"The model takes {plan.n_features} features per row; got {x.shape[1]}. "
            "Pass X with the columns the model was trained on."
        )
    tf = load_tf()
    read = tf.raw_ops.ReadVariableOp
    values = [read(resource=v.handle, dtype=v.dtype) for v in plan.variables]
    xt = tf.convert_to_tensor(np.asarray(x, dtype=plan.dtype))
    # The flat call skips matching the structured signature (~0.5 ms).
    out = plan.fn._call_flat(values + [xt], plan.fn.captured_inputs)
    if isinstance(out, list | tuple):
        out = out[0]
    return out.numpy()


def _plan(model):
    try:
        return _PLANS[model]
    except KeyError:
        pass
    plan = None
    if plain_model_class(model) and len(model.inputs) == 1 and len(model.outputs) == 1:
        n_features = model.inputs[0].shape[-1]
        fn = _predictor_for(model) if n_features is not None else None
        variables = [*model.trainable_variables, *model.non_trainable_variables]
        tf_vars = [getattr(v, "value", None) for v in variables]
        if fn is not None and all(hasattr(v, "handle") for v in tf_vars):
            plan = _Plan(fn, tf_vars, n_features, np.dtype(model.inputs[0].dtype))
    _PLANS[model] = plan
    return plan


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
