"""Weight penalties whose strengths are runtime values of a worker, not traced constants.

A Keras ``L2(alpha)`` regularizer multiplies by the Python float ``alpha``,
which a trace bakes into the graph as a constant: every ``alpha`` of a grid
search would trace its own training function.  Instead:

* the cache key (:func:`.clones.arch_key`) leaves out the strength of Keras's
  own ``L1``/``L2`` weight regularizers (:func:`runtime_strength`), keeping
  that there is one and which;
* a worker swaps each such regularizer of its clone's weights for a
  :class:`RuntimePenalty`, the same arithmetic with the strength read from a
  variable (:class:`Penalties`), and sets those variables from the user's
  model at the start of each fit.

The arithmetic is Keras's own (``regularizers.L1``/``L2`` of Keras 3.15):
``cast(strength, x.dtype) * sum(square(x))``, where Keras's strength is a
Python float converted to a float32 tensor and ours a float32 variable
holding the same value, so the results are bit-identical (a test checks).

Only weight penalties of Keras's built-in layers and of skdense's own layers
are runtime values: those layers hand every ``*_regularizer`` but
``activity_regularizer`` to ``add_weight``, where the worker finds it on the
weight.  An activity regularizer, or a regularizer of any other layer (which
might apply it in ``call``), keeps its strength in the key.
"""

import numpy as np

from .._backend import load_keras

# Keras's regularizer class -> (its strength's config name, the elementwise op)
RUNTIME_CLASSES = {"L1": ("l1", "absolute"), "L2": ("l2", "square")}
# Layers whose ``*_regularizer`` arguments (but the activity one) are weight penalties.
_WEIGHT_PENALTY_LAYERS = ("keras.layers", "skdense._network.")


def penalty_layer(layer_config):
    """Whether the serialised layer ``layer_config`` hands its regularizers to
    its weights (Keras's built-in layers and skdense's own)."""
    module = layer_config.get("module")
    return isinstance(module, str) and module.startswith(_WEIGHT_PENALTY_LAYERS)


def runtime_strength(name, value):
    """``value`` (a layer config's entry ``name``) without its strength if that
    strength is a runtime value of the worker; else ``value`` unchanged."""
    if (
        name.endswith("_regularizer")
        and name != "activity_regularizer"
        and isinstance(value, dict)
        and value.get("module") == "keras.regularizers"
        and value.get("class_name") in RUNTIME_CLASSES
    ):
        return {"class_name": value["class_name"], "strength": "runtime"}
    return value


def _strength(regularizer):
    """The strength of a Keras L1/L2 regularizer, or None for any other."""
    keras = load_keras()
    for cls, (attr, _) in RUNTIME_CLASSES.items():
        if type(regularizer) is getattr(keras.regularizers, cls):
            return float(getattr(regularizer, attr))
    return None


class RuntimePenalty:
    """Keras's ``L1``/``L2`` regularizer with its strength in a variable."""

    def __init__(self, tf, cls):
        self.cls = cls
        self._op = RUNTIME_CLASSES[cls][1]
        with tf.init_scope():
            self.strength = tf.Variable(0.0, dtype=tf.float32, trainable=False)

    def __call__(self, x):
        ops = load_keras().ops
        return ops.cast(self.strength, dtype=x.dtype) * ops.sum(getattr(ops, self._op)(x))


class Penalties:
    """The runtime penalties of a worker's weights ``variables`` (a list, in the
    order of the user's variables that :meth:`load` reads).

    Swaps the Keras L1/L2 regularizer of each weight for a
    :class:`RuntimePenalty`; the graph traced afterwards reads the strengths
    from variables.
    """

    def __init__(self, tf, variables):
        self.slots = []  # (index into variables, RuntimePenalty)
        for i, v in enumerate(variables):
            reg = getattr(v, "regularizer", None)
            if reg is not None and _strength(reg) is not None:
                penalty = RuntimePenalty(tf, type(reg).__name__)
                v.regularizer = penalty
                self.slots.append((i, penalty))
        self._loaded = [None] * len(self.slots)

    @property
    def variables(self):
        return [p.strength for _, p in self.slots]

    def load(self, user_vars):
        """Set the strengths of the user's model (its variables, in the worker's order)."""
        for j, (i, penalty) in enumerate(self.slots):
            reg = getattr(user_vars[i], "regularizer", None)
            value = _strength(reg) if type(reg).__name__ == penalty.cls else None
            if value is None:
                # The key said the structures match; a mismatch is a bug, never a silent change.
                raise ValueError(f"weight {i} of the model has no {penalty.cls} regularizer")
            value = np.float32(value)
            if self._loaded[j] != value:  # one eager assign per change, not per fit
                penalty.strength.assign(value)
                self._loaded[j] = value
