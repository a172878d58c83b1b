"""What makes two jobs, or two runs, the same: stable digests of data and configurations.

A job is identified by (dataset, model, outer fold, seed, configuration digest);
a run by its settings (datasets and their data digests, tasks, models and their
configuration digests, folds, search, seed, library versions). The journal keys
finished jobs by the first and refuses to resume a run whose second differs.
Digests are SHA-256 of canonical JSON, so they are the same in every process
and on every machine (no ``id()``, no memory addresses for plain parameters).
"""

import hashlib
import json

import numpy as np
import pandas as pd


def canonical(obj):
    """A JSON-able description of ``obj``: estimators by class and parameters, recursively.

    Values that are neither estimators nor plain data (a function, say) are
    described by their module and name, else by ``repr``.
    """
    if hasattr(obj, "get_params") and not isinstance(obj, type):
        cls = type(obj)
        params = obj.get_params(deep=False)
        return {"class": f"{cls.__module__}.{cls.__qualname__}",
                "params": {str(k): canonical(params[k]) for k in sorted(params)}}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return {str(k): canonical(obj[k]) for k in sorted(obj, key=str)}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"array": canonical(obj.tolist()), "dtype": str(obj.dtype)}
    name = getattr(obj, "__qualname__", None)
    if name is not None:
        return f"{getattr(obj, '__module__', '')}.{name}"
    return repr(obj)


def digest(obj):
    """16 hex digits of SHA-256 over the canonical JSON of ``obj``."""
    text = json.dumps(canonical(obj), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def config_digest(estimator, grid):
    """The configuration of one model: its estimator (all parameters) and its grid."""
    return digest({"estimator": estimator, "grid": grid})


def _as_frame(part):
    if isinstance(part, pd.DataFrame):
        return part
    if isinstance(part, pd.Series):
        return part.to_frame()
    values = np.asarray(part)
    return pd.DataFrame(values.reshape(len(values), -1))


def data_digest(X, y):
    """A digest of a dataset's values, column names and dtypes (not its index)."""
    h = hashlib.sha256()
    for part in (X, y):
        frame = _as_frame(part)
        h.update(repr([str(c) for c in frame.columns]).encode())
        h.update(repr([str(t) for t in frame.dtypes]).encode())
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def library_versions():
    """Versions of the libraries whose code decides the numbers (read without importing them)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("skdense", "scikit-learn", "numpy", "scipy", "keras", "tensorflow"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out
