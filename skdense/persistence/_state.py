"""The saved state of an estimator's scikeras estimator, across format versions.

Format 2 stores skdense's own fields (``_scikeras.STATE_FIELDS``, described in
``docs/persistence.md``).  Format 1 (skdense up to e99d76d) stored the scikeras
estimator's attributes (``vars()``) and its target encoder's; :func:`state_from_v1`
turns that layout into format 2's fields, so one restore reads both.  No
TensorFlow: a loader may decode a file's target without building anything.
"""

from .._estimators.params import is_wrapper_param
from ._errors import MalformedFileError, UntrustedContentError
from ._keras_files import check_keras_config
from ._values import decode

V1_FIELDS = ("params", "target", "attributes", "history", "target_encoder", "n_features_in")
# Format 2's fields: the same names as ``_scikeras.STATE_FIELDS`` (a test checks).
V2_FIELDS = ("params", "target", "target_encoder", "n_features_in", "X_dtype", "history")


def check_state(raw, where, limits):
    """Check, at load, a saved scikeras state still encoded (so no Keras object is
    built): its fields are format 1's or format 2's, its parameters are ones
    skdense sets, every Keras object in it passes
    :func:`~._keras_files.check_keras_config`, and the values that need no Keras
    decode to what they should be.  Returns ``{"n_features_in", "target"}``
    decoded, which :func:`skdense.persistence.load` checks against the network.
    The restore, which runs when the Keras network is first needed, decodes the rest."""
    fields = set(raw) if isinstance(raw, dict) else None
    if fields not in (set(V1_FIELDS), set(V2_FIELDS)):
        shown = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise MalformedFileError(
            f"{where}: the saved scikeras estimator has the fields {shown}; expected "
            f"{sorted(V2_FIELDS)}."
        )
    params = raw["params"]
    if not isinstance(params, dict):
        raise MalformedFileError(f"{where}: the saved scikeras parameters are not a dict.")
    for name in params:
        # format 1 held scikeras's whole get_params(); its other names are dropped on conversion
        if not name.isidentifier() or (fields == set(V2_FIELDS) and not is_wrapper_param(name)):
            raise UntrustedContentError(
                f"{where}: the saved scikeras estimator has an invalid parameter {name!r}.")
    for config in _keras_configs(params):
        check_keras_config(config, where)
    n_features_in = decode(raw["n_features_in"], where, limits)
    target = decode(raw["target"], where, limits)
    history = decode(raw["history"], where, limits)
    if type(n_features_in) is not int or not isinstance(target, dict) or not (
        history is None or isinstance(history, dict)
    ):
        raise MalformedFileError(
            f"{where}: the saved scikeras state's n_features_in, target or history is malformed.")
    if fields == set(V2_FIELDS):
        decode(raw["X_dtype"], where, limits)  # a dtype skdense stores, or it raises
    return {"n_features_in": n_features_in, "target": target}


def _keras_configs(node):
    """The bodies of the ``__keras__`` tags in an encoded value."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if set(node) == {"__keras__"}:
                yield node["__keras__"]
            else:
                stack.extend(node.values())


def target_encoder_state(raw, where, limits):
    """The target encoder's ``state()`` from an encoded state of either format,
    decoding only what it needs (no Keras object, so no TensorFlow)."""
    if set(raw) == set(V1_FIELDS):
        part = {k: decode(raw[k], where, limits) for k in ("target_encoder", "attributes")}
        part.update(params={}, target=None, n_features_in=None, history=None)
        return state_from_v1(part, where)["target_encoder"]
    return decode(raw["target_encoder"], where, limits)


def current_state(state, where):
    """``state`` in format 2's layout (converted when it is format 1's)."""
    if isinstance(state, dict) and set(state) == set(V1_FIELDS):
        return state_from_v1(state, where)
    return state


def state_from_v1(state, where):
    """Format 1's state -> format 2's fields.

    - ``params``: scikeras's ``get_params()`` -> the ones skdense sets
      (``is_wrapper_param``); the others held scikeras's defaults.
    - ``target``, ``n_features_in``, ``history``: unchanged.
    - ``attributes`` (the scikeras estimator's ``vars()``): only ``X_dtype_`` is
      kept, as ``X_dtype``.
    - ``target_encoder`` ``{"class", "state": vars()}`` -> the encoder's
      ``state()``: ``task``, ``classes`` (its ``classes_``), ``one_hot`` for a
      classifier; ``task``, ``standardize``, ``y_ndim``, ``mean``, ``scale`` for
      a regressor.
    """
    encoder = state["target_encoder"]
    try:
        name, fitted = encoder["class"], encoder["state"]
        if name == "ClassifierTargetEncoder":
            encoder_state = {
                "task": fitted["task"], "classes": fitted["classes_"], "one_hot": fitted["one_hot"],
            }
        elif name == "RegressorTargetEncoder":
            encoder_state = {
                "task": "regression", "standardize": fitted["standardize"],
                "y_ndim": fitted["y_ndim_"], "mean": fitted["mean_"], "scale": fitted["scale_"],
            }
        else:
            raise MalformedFileError(
                f"{where}: unknown target encoder {name!r}; skdense knows "
                "ClassifierTargetEncoder and RegressorTargetEncoder."
            )
        x_dtype = state["attributes"]["X_dtype_"]
    except (KeyError, TypeError) as err:
        raise MalformedFileError(f"{where}: a format-1 estimator state without {err}.") from None
    return {
        "params": {
            k: v for k, v in state["params"].items() if isinstance(k, str) and is_wrapper_param(k)
        },
        "target": state["target"],
        "target_encoder": encoder_state,
        "n_features_in": state["n_features_in"],
        "X_dtype": x_dtype,
        "history": state["history"],
    }
