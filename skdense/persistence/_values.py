"""Values <-> JSON for :mod:`skdense.persistence`: plain values only, every non-JSON
type tagged, nothing from the file imported or called.

JSON objects are either plain dicts (string keys not starting with "__") or
one-key tags: ``{"__tuple__": [...]}``, ``{"__items__": [[k, v], ...]}`` (a
dict with other keys), ``{"__ndarray__": {"dtype", "shape", "data"}}`` (also
NumPy scalars, shape ``[]``), ``{"__dtype__": "<f4"}``, ``{"__keras__":
config}`` (a Keras loss, optimizer, schedule, metric, regularizer or
initializer, its configuration checked like a network's and rebuilt with
``safe_mode=True``, :mod:`skdense.persistence._keras_files`).
"""

import math
import re
import sys

import numpy as np

from ._archive import LoadLimits
from ._errors import MalformedFileError, UntrustedContentError, preview
from ._keras_files import keras_object


DEFAULT_LIMITS = LoadLimits()
_DTYPE = re.compile(r"[<>|=]?[biufUO]\d*\Z")
_ARRAY_KINDS = "biufUO"
_PLAIN_HINT = (
    "The safe format stores numbers, strings, None, lists, tuples, dicts, NumPy "
    "arrays and Keras losses, optimizers and schedules; never code or other objects."
)


def _unstorable(where, value, hint=""):
    return ValueError(
        f"save() cannot store {where}: it holds a {type(value).__module__}."
        f"{type(value).__qualname__}. {_PLAIN_HINT}{hint} Set it to a plain value "
        "before saving, or use pickle/joblib for a destination you trust."
    )


def _keras_types():
    keras = sys.modules.get("keras")
    if keras is None:  # nothing from Keras can be in the value
        return ()
    return (
        keras.losses.Loss,
        keras.optimizers.Optimizer,
        keras.optimizers.schedules.LearningRateSchedule,
        keras.metrics.Metric,
        keras.regularizers.Regularizer,
        keras.initializers.Initializer,
    )


def encode(value, where):
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, int) and not isinstance(value, bool) and type(value) is not int:
            raise _unstorable(where, value)  # an int subclass (an enum...)
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return {"__ndarray__": _encode_array(np.asarray(value), where)}
    if isinstance(value, np.dtype):
        if value.kind not in _ARRAY_KINDS or value.fields is not None:
            raise _unstorable(where, value)
        return {"__dtype__": value.str}
    if type(value) is tuple:
        return {"__tuple__": [encode(v, where) for v in value]}
    if type(value) is list:
        return [encode(v, where) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v, f"{where}[{k!r}]") for k, v in value.items()}
        return {"__items__": [[encode(k, where), encode(v, where)] for k, v in value.items()]}
    keras_types = _keras_types()
    if keras_types and isinstance(value, keras_types):
        keras = sys.modules["keras"]
        return {"__keras__": keras.saving.serialize_keras_object(value)}
    raise _unstorable(where, value)


def _encode_array(arr, where):
    kind, dtype = arr.dtype.kind, arr.dtype
    if kind not in _ARRAY_KINDS or (kind == "f" and dtype.itemsize > 8):
        raise _unstorable(where, arr, f" (dtype {dtype} is not among {list(_ARRAY_KINDS)}.)")
    flat = arr.ravel().tolist()
    if kind == "O":
        flat = [encode(v, where) for v in flat]
    return {"dtype": dtype.str, "shape": list(arr.shape), "data": flat}


def decode(node, where, limits=DEFAULT_LIMITS):
    """The value of a JSON ``node`` written by :func:`encode`; arrays within ``limits``."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [decode(v, where, limits) for v in node]
    if not isinstance(node, dict):
        raise MalformedFileError(f"{where}: unexpected JSON value {preview(node)}.")
    tags = [k for k in node if k.startswith("__")]
    if not tags:
        return {k: decode(v, where, limits) for k, v in node.items()}
    if len(node) != 1:
        raise UntrustedContentError(f"{where}: unknown value {preview(node)}.")
    tag, body = next(iter(node.items()))
    if tag == "__tuple__" and isinstance(body, list):
        return tuple(decode(v, where, limits) for v in body)
    if tag == "__items__" and isinstance(body, list):
        out = {}
        for item in body:
            if not (isinstance(item, list) and len(item) == 2):
                raise MalformedFileError(
                    f"{where}: a dict item must be [key, value]; got {preview(item)}.")
            key = decode(item[0], where, limits)
            try:
                out[key] = decode(item[1], where, limits)
            except TypeError:
                raise MalformedFileError(f"{where}: unhashable dict key {preview(item[0])}.") from None
        return out
    if tag == "__ndarray__" and isinstance(body, dict):
        return _decode_array(body, where, limits)
    if tag == "__dtype__" and isinstance(body, str):
        return _decode_dtype(body, where)
    if tag == "__keras__" and isinstance(body, dict):
        return keras_object(body, where)
    raise UntrustedContentError(
        f"{where}: unknown value {preview(node)}; skdense reads only the tags "
        "__tuple__, __items__, __ndarray__, __dtype__ and __keras__."
    )


def _decode_dtype(text, where):
    refused = UntrustedContentError(f"{where}: dtype {text!r} is not one skdense stores.")
    if not _DTYPE.match(text):
        raise refused
    try:
        dtype = np.dtype(text)
    except TypeError:  # a well-formed name NumPy has no type for ("i16")
        raise refused from None
    if dtype.kind not in _ARRAY_KINDS:
        raise refused
    return dtype


# A string array's dtype may be this many characters wider than its longest value
# (an array made with a wider dtype than it needs, e.g. ``dtype="<U50"``).
_STRING_SLACK = 256


def _decode_array(body, where, limits):
    if set(body) != {"dtype", "shape", "data"} or not isinstance(body["dtype"], str):
        raise MalformedFileError(f"{where}: malformed array {preview(body)}.")
    dtype = _decode_dtype(body["dtype"], where)
    shape, data = body["shape"], body["data"]
    if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
        raise MalformedFileError(
            f"{where}: an array's shape must be a list of non-negative integers; got "
            f"{preview(shape)}.")
    if not isinstance(data, list):
        raise MalformedFileError(f"{where}: malformed array {preview(body)}.")
    count = math.prod(shape)
    if len(data) != count:
        raise MalformedFileError(f"{where}: {len(data)} values do not fill the shape {tuple(shape)}.")
    if dtype.kind in "biuf" and any(not _is_number(v) for v in data):
        raise MalformedFileError(f"{where}: an array of {dtype} holds a value that is not a number.")
    if dtype.kind == "U":
        if any(not isinstance(v, str) for v in data):
            raise MalformedFileError(f"{where}: an array of {dtype} holds a value that is not a string.")
        longest = max((len(v) for v in data), default=0)
        if dtype.itemsize // 4 > longest + _STRING_SLACK:
            raise MalformedFileError(
                f"{where}: an array of {dtype} whose longest string has {longest} "
                "characters; skdense writes no string dtype that much wider than its values.")
    if dtype.itemsize * count > limits.max_array_bytes:
        raise MalformedFileError(
            f"{where}: an array of {count:,} values of {dtype} takes "
            f"{dtype.itemsize * count:,} bytes; the limit is {limits.max_array_bytes:,} "
            "(max_array_bytes).")
    if dtype.kind == "O":
        flat = np.empty(len(data), dtype=object)
        for i, v in enumerate(data):
            flat[i] = decode(v, where, limits)
    else:
        try:
            flat = np.asarray(data, dtype=dtype)
        except (OverflowError, ValueError, TypeError) as err:
            raise MalformedFileError(
                f"{where}: an array's values do not fit its dtype {dtype} ({err}).") from None
    arr = flat.reshape(tuple(shape))
    return arr[()] if shape == [] else arr


def _is_number(value):
    return isinstance(value, (int, float))  # bool is an int; NaN and inf are floats
