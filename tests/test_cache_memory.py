"""The compiled-function cache frees what it evicts, and no fit leaves its
traced graph in TensorFlow's global gradient registry."""

import contextlib
import gc

import numpy as np
import pytest

from skdense._backend import load_keras
from skdense._training import TrainingRun, cache, fit_model


@pytest.fixture(scope="module")
def keras():
    return load_keras()


@pytest.fixture
def small_cache(monkeypatch):
    cache.clear_cache()
    monkeypatch.setattr(cache, "MAX_ARCHITECTURES", 2)
    yield
    cache.clear_cache()


def _mlp(keras, width):
    inp = keras.Input((4,))
    hidden = keras.layers.Dense(width, activation="relu")(inp)
    model = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


def _fit(keras, width, **plan):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.float32)
    return fit_model(_mlp(keras, width), X, y,
                     TrainingRun(epochs=1, batch_size=16, stop=None, **plan))


def _custom_gradients():
    from tensorflow.python.framework import ops

    return sum(k.startswith("CustomGradient-") for k in ops._gradient_registry._registry)


def _eager_functions():
    from tensorflow.python.eager import context

    return len(context.context().list_function_names())


def test_trace_leaves_no_global_gradient_registration(keras, small_cache):
    before = _custom_gradients()
    assert _fit(keras, 3).engine == "engine"
    assert _custom_gradients() == before


def test_keras_path_leaves_no_global_gradient_registration(keras, small_cache):
    before = _custom_gradients()
    assert _fit(keras, 3, callbacks=(keras.callbacks.Callback(),)).engine == "keras"
    assert _custom_gradients() == before


def test_evicted_workers_release_their_functions(keras, small_cache):
    """Cycling more architectures than the cache holds: the eager context's
    function library stops growing (it grew by ~17 functions a fit before)."""
    widths = [3, 4, 5, 6, 7]

    def cycle():
        for w in widths:
            _fit(keras, w)
        gc.collect()
        return _eager_functions()

    first = cycle()
    traces = cache.cache_info()["train_traces"]
    assert cycle() <= first and cycle() <= first
    assert cache.cache_info()["train_traces"] == traces + 2 * len(widths)  # it did evict
    assert cache.cache_info()["train_keys"] == 2


def test_byte_budget_bounds_the_cache(keras, small_cache, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ARCHITECTURES", 64)
    monkeypatch.setattr(cache, "MAX_BYTES", 1)  # every worker is over budget
    for w in (3, 4, 5):
        _fit(keras, w)
    info = cache.cache_info()
    assert info["train_keys"] == 1  # the most recently used key is always kept
    assert info["train_bytes"] > 0


def test_an_evicted_worker_is_freed_before_the_fit_that_evicts_it_ends(keras, small_cache,
                                                                     monkeypatch):
    import weakref

    monkeypatch.setattr(cache, "MAX_ARCHITECTURES", 1)
    _fit(keras, 3)
    (pool,) = cache._WORKERS.values()
    old = weakref.ref(pool.idle[0])
    del pool
    freed_during_fit = []
    real = cache.worker_for

    def watching(*args, **kwargs):
        with real(*args, **kwargs) as worker:
            gc.collect()
            freed_during_fit.append(old() is None)
            yield worker

    monkeypatch.setattr(cache, "worker_for", contextlib.contextmanager(watching))
    _fit(keras, 4)  # another architecture evicts the first
    assert freed_during_fit == [True]
