"""How many training functions a grid search traces, and that sharing one changes no result.

Issue 22's grid: ``hidden_layer_sizes`` {(16,), (32,), (32, 32), (64,)} x ``alpha``
{1e-4, 1e-3}, 3 folds.  The traces are counted by the engine's cache
(``cache_info()["train_traces"]``: a counter the compiled function's Python body
increments, which TensorFlow runs only while tracing).
"""

import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import skdense
from skdense import _training
from skdense._backend import load_keras
from skdense._training import TrainingRun, cache

ARCHS = [(16,), (32,), (32, 32), (64,)]
ALPHAS = [1e-4, 1e-3]


@pytest.fixture(scope="module")
def keras():
    return load_keras()


@pytest.fixture(scope="module")
def cancer(breast_cancer):
    X_train, _, y_train, _ = breast_cancer
    mean, std = X_train.mean(0), X_train.std(0) + 1e-8
    return ((X_train - mean) / std).astype(np.float32), y_train


def _traces():
    return cache.cache_info()["train_traces"]


def test_the_issue_grid_traces_once_per_architecture(cancer):
    X, y = cancer
    est = skdense.DenseClassifier(epochs=2, batch_size=32, early_stopping=False, n_ensemble=1,
                                  random_state=0)
    grid = GridSearchCV(est, {"hidden_layer_sizes": ARCHS, "alpha": ALPHAS}, cv=3)
    cache.clear_cache()
    before = _traces()
    grid.fit(X, y)
    assert _traces() - before == len(ARCHS)  # was 8: one per architecture and alpha
    assert cache.cache_info()["train_keys"] == len(ARCHS)
    # A second search (warm) traces nothing.
    clone(grid).fit(X, y)
    assert _traces() - before == len(ARCHS)


_FRESH = """
import sys
import numpy as np
import skdense
X, y = np.load(sys.argv[1])["X"], np.load(sys.argv[1])["y"]
est = skdense.DenseClassifier((32,), alpha=1e-3, epochs=3, batch_size=32,
                              early_stopping=False, n_ensemble=1, random_state=0).fit(X, y)
np.savez(sys.argv[2], *est.model_.get_weights(), proba=est.predict_proba(X))
"""


def test_a_search_candidate_matches_its_fit_in_a_fresh_process(cancer, tmp_path):
    """(32,) with alpha=1e-3, fitted through the worker a search traced and used
    for alpha 1e-4 and 1e-2, against the same fit in a process that has traced
    nothing: the same bits."""
    X, y = cancer
    est = skdense.DenseClassifier(epochs=3, batch_size=32, early_stopping=False, n_ensemble=1,
                                  random_state=0)
    cache.clear_cache()
    GridSearchCV(est, {"hidden_layer_sizes": [(32,)], "alpha": [1e-4, 1e-2]}, cv=3).fit(X, y)
    before = _traces()
    here = clone(est).set_params(hidden_layer_sizes=(32,), alpha=1e-3).fit(X, y)
    assert _traces() == before  # the search's trace served it
    np.savez(tmp_path / "data.npz", X=X, y=y)
    root = os.path.dirname(os.path.dirname(os.path.abspath(skdense.__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    subprocess.run([sys.executable, "-c", _FRESH, str(tmp_path / "data.npz"),
                    str(tmp_path / "fresh.npz")], check=True, env=env, timeout=300)
    fresh = np.load(tmp_path / "fresh.npz")
    weights = here.model_.get_weights()
    assert len(weights) == len(fresh.files) - 1
    for i, w in enumerate(weights):
        np.testing.assert_array_equal(w, fresh[f"arr_{i}"])
    np.testing.assert_array_equal(here.predict_proba(X), fresh["proba"])


def _mlp(keras, n_in, l2, seed=0):
    reg = keras.regularizers.L2(l2)
    inputs = keras.Input((n_in,))
    x = keras.layers.Dense(16, activation="relu", kernel_regularizer=reg,
                           kernel_initializer=keras.initializers.GlorotUniform(seed=seed))(inputs)
    out = keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=reg,
                             kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1))(x)
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    return model


def _train(model, X, y):
    run = TrainingRun(epochs=5, batch_size=32, stop=None, seed=3)
    result = _training.fit_model(model, X, y.astype(np.float32), run)
    assert result.engine == "engine"
    return [w.copy() for w in model.get_weights()], result.history["loss"]


@pytest.mark.parametrize("l2", [1e-3, 0.05])
def test_a_shared_trace_gives_the_bits_of_one_with_alpha_as_a_constant(keras, cancer,
                                                                       monkeypatch, l2):
    """The cached worker, traced for another alpha, against Keras's own L2 with
    ``l2`` a traced constant: the user's model trained in place, uncached."""
    X, y = cancer
    cache.clear_cache()
    _train(_mlp(keras, X.shape[1], 0.3), X, y)  # the trace: made for another strength
    before = _traces()
    shared_w, shared_loss = _train(_mlp(keras, X.shape[1], l2), X, y)
    assert _traces() == before  # the same trace served this alpha

    monkeypatch.setattr(cache, "IN_PLACE_BYTES", 0)  # in place: Keras's L2, no cache
    model = _mlp(keras, X.shape[1], l2)
    own_w, own_loss = _train(model, X, y)
    assert _traces() == before + 1
    assert type(model.layers[1].kernel.regularizer) is keras.regularizers.L2  # left as it was
    assert shared_loss == own_loss
    for a, b in zip(shared_w, own_w):
        np.testing.assert_array_equal(a, b)


def test_the_strength_still_counts(keras, cancer):
    """Positive control: the runtime strength is applied, and set again each fit."""
    X, y = cancer
    small, _ = _train(_mlp(keras, X.shape[1], 1e-4), X, y)
    large, _ = _train(_mlp(keras, X.shape[1], 1.0), X, y)
    again, _ = _train(_mlp(keras, X.shape[1], 1e-4), X, y)
    assert np.sum(large[0] ** 2) < 0.5 * np.sum(small[0] ** 2)
    for a, b in zip(small, again):
        np.testing.assert_array_equal(a, b)


def test_other_regularizers_keep_their_strength_in_the_key(keras, cancer):
    """An activity regularizer is applied in the layer's call, not on a weight:
    its strength stays a constant of the trace, so another value traces anew."""
    X, y = cancer

    def model(l2):
        inputs = keras.Input((X.shape[1],))
        x = keras.layers.Dense(8, activity_regularizer=keras.regularizers.L2(l2))(inputs)
        out = keras.layers.Dense(1, activation="sigmoid")(x)
        m = keras.Model(inputs, out)
        m.compile(optimizer="adam", loss="binary_crossentropy")
        return m

    _train(model(1e-3), X, y)
    before = _traces()
    _train(model(1e-2), X, y)
    assert _traces() == before + 1


def test_a_run_without_stop_rule_or_validation_traces_neither_and_trains_alike(keras, cancer):
    """A trace is specialised on whether early stopping and validation run
    (Variant): a graph without them is smaller; the training arithmetic is the same."""
    from skdense._training import StopRule, Validation

    X, y = cancer
    y = y.astype(np.float32)
    never = StopRule("val_loss", patience=10_000, min_delta=0.0, restore_best_weights=False)
    cache.clear_cache()
    before = _traces()
    results = []
    for stop, validation in [(None, None), (never, Validation(X[:50], y[:50])), (None, None)]:
        model = _mlp(keras, X.shape[1], 1e-3)
        run = TrainingRun(epochs=4, batch_size=32, stop=stop, seed=3)
        result = _training.fit_model(model, X, y, run, validation=validation)
        assert result.engine == "engine"
        results.append((model.get_weights(), result.history))
    assert _traces() - before == 2  # one per variant, in one worker
    assert cache.cache_info()["train_keys"] == 1
    assert "val_loss" not in results[0][1] and len(results[1][1]["val_loss"]) == 4
    assert results[0][1]["loss"] == results[1][1]["loss"]
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
