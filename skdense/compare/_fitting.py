"""Fitting and scoring one model on the rows of one outer fold: what a job and a learning-curve point share.

``take`` picks rows of a DataFrame or an array, ``json_params`` writes the
chosen hyper-parameters as a row holds them, ``limited_threads`` holds a job's
thread pools to one thread, ``score`` computes the metrics of the task on the
outer test rows (and the predictions a job saves, ``_predictions.make``), and
``uses_keras`` tells a skdense (Keras) model.
"""

import contextlib
import json
import os
import time

import numpy as np

from . import _predictions


def take(data, idx):
    if hasattr(data, "iloc"):
        return data.iloc[idx]
    return np.asarray(data)[idx]


def json_params(params):
    """``params`` as the JSON of a row's ``best_params`` (sorted keys; repr of what JSON cannot hold)."""
    def default(v):
        if isinstance(v, np.generic):
            return v.item()
        return repr(v)

    return json.dumps(params, default=default, sort_keys=True)


@contextlib.contextmanager
def limited_threads(threads):
    """One job's thread pools: ``threads`` for OpenMP/BLAS (threadpoolctl) and TensorFlow.

    Small models gain nothing from several threads, and on a busy machine
    OpenMP's spinning makes HistGradientBoosting 10-25x slower (measured on 2
    shared cores: digits 33 s with 2 threads, 1.6 s with 1). TensorFlow reads
    ``SKDENSE_NUM_THREADS`` once, when it first loads in a process (a Dask or
    loky worker, or this one); we set it only for the job and only if the user
    has not, so a user's own setting wins.
    """
    from threadpoolctl import threadpool_limits

    set_env = not os.environ.get("SKDENSE_NUM_THREADS")
    if set_env:
        os.environ["SKDENSE_NUM_THREADS"] = str(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if set_env:
            os.environ.pop("SKDENSE_NUM_THREADS", None)


def score(task, estimator, X_test, y_test, rows):
    """``(scores, predict seconds, predictions)`` of a fitted model on the outer test
    rows ``rows`` (``X_test``, ``y_test``); ``predictions`` as ``_predictions.make``."""
    from sklearn.metrics import accuracy_score, log_loss, r2_score, root_mean_squared_error

    t0 = time.perf_counter()
    pred = estimator.predict(X_test)
    predict_seconds = time.perf_counter() - t0
    y_true = np.asarray(y_test)
    proba = classes = None
    if task == "classification":
        scores = {"accuracy": accuracy_score(y_true, pred), "log_loss": np.nan}
        if hasattr(estimator, "predict_proba"):
            # float32 network outputs can miss sum-to-one by more than sklearn's
            # tolerance; renormalising in float64 removes round-off, nothing else.
            proba = np.asarray(estimator.predict_proba(X_test), dtype=np.float64)
            proba /= proba.sum(axis=1, keepdims=True)
            classes = estimator.classes_
            scores["log_loss"] = log_loss(y_true, proba, labels=classes)
    else:
        pred = np.asarray(pred, dtype=float).reshape(y_true.shape)
        # Multi-output targets (linnerud): the uniform average over outputs of each metric.
        scores = {
            "r2": r2_score(y_true, pred, multioutput="uniform_average"),
            "rmse": root_mean_squared_error(y_true, pred, multioutput="uniform_average"),
        }
    predictions = _predictions.make(rows, y_true, pred, proba, classes)
    return {k: float(v) for k, v in scores.items()}, predict_seconds, predictions


def uses_keras(estimator):
    """Whether any part of ``estimator`` is a skdense (Keras) model."""
    parts = [estimator, *estimator.get_params(deep=True).values()]
    return any(type(p).__module__.startswith(("skdense._", "scikeras")) for p in parts
               if hasattr(p, "get_params"))
