"""The training engine (skdense._training): same results as Keras ``model.fit``,
Keras's EarlyStopping semantics, the fallback path, no retracing, fast predict."""

import threading

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skdense import _training
from skdense._backend import load_keras
from skdense._training import StopRule, TrainingRun, Validation, cache, predict


def train(model, x, y, *, sample_weight=None, validation_data=None, epochs, batch_size,
          shuffle=True, seed=None, stop=None, callbacks=(), verbose=0, fit_kwargs=None):
    """_training.fit_model with the plan spelt as keyword arguments."""
    plan = TrainingRun(epochs=epochs, batch_size=batch_size, stop=stop, seed=seed,
                        shuffle=shuffle, verbose=verbose, callbacks=tuple(callbacks),
                        fit_kwargs=fit_kwargs or {})
    validation = Validation(*validation_data) if validation_data is not None else None
    return _training.fit_model(model, x, y, plan, sample_weight=sample_weight,
                               validation=validation)


def rule(monitor="val_loss", patience=5, min_delta=0.0, restore_best_weights=True):
    return StopRule(monitor, patience, min_delta, restore_best_weights)


@pytest.fixture(scope="module")
def keras():
    return load_keras()


def _scaled(split):
    X_train, X_test, y_train, y_test = split
    mean, std = X_train.mean(0), X_train.std(0) + 1e-8
    return (
        ((X_train - mean) / std).astype(np.float32),
        ((X_test - mean) / std).astype(np.float32),
        y_train,
        y_test,
    )


@pytest.fixture(scope="module")
def cancer(breast_cancer):
    X_train, X_test, y_train, y_test = _scaled(breast_cancer)
    return X_train, X_test, y_train.astype(np.float32), y_test


@pytest.fixture(scope="module")
def digits10(digits):
    X_train, X_test, y_train, y_test = _scaled(digits)
    return X_train, X_test, np.eye(10, dtype=np.float32)[y_train], y_test


def make_mlp(keras, n_in, hidden=(16,), n_out=1, seed=0, lr=1e-2, optimizer=None,
             loss=None, l2=0.0, dropout=0.0):
    """The estimators' network shape: Input -> Dense... -> output, compiled."""
    def init(i):
        return keras.initializers.GlorotUniform(seed=seed * 100 + i)

    reg = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input((n_in,))
    x = inputs
    for i, units in enumerate(hidden, 1):
        x = keras.layers.Dense(units, activation="relu", kernel_initializer=init(i),
                               kernel_regularizer=reg)(x)
        if dropout:
            x = keras.layers.Dropout(dropout, seed=seed + 7)(x)
    act = "sigmoid" if n_out == 1 else "softmax"
    out = keras.layers.Dense(n_out, activation=act, kernel_initializer=init(0),
                             kernel_regularizer=reg)(x)
    model = keras.Model(inputs, out)
    model.compile(
        optimizer=optimizer or keras.optimizers.Adam(learning_rate=lr),
        loss=loss or ("binary_crossentropy" if n_out == 1 else "categorical_crossentropy"),
    )
    return model


def twin(keras, model):
    """A second model with the same architecture, weights and compile settings."""
    other = type(model).from_config(model.get_config())  # clone_model would recompile
    other.set_weights(model.get_weights())
    opt = type(model.optimizer).from_config(model.optimizer.get_config())
    other.compile(optimizer=opt, loss=model.loss)
    return other


def accuracy(model, X, y):
    proba = predict(model, X)
    labels = (proba[:, 0] > 0.5).astype(int) if proba.shape[1] == 1 else proba.argmax(1)
    return float(np.mean(labels == y))


def keras_path(**kwargs):
    """Force the model.fit path with a callback that does nothing."""
    import keras as k

    return train(callbacks=[k.callbacks.Callback()], **kwargs)


# --------------------------------------------------------------------------
# Results as good as model.fit
# --------------------------------------------------------------------------


def _accuracy_gap(keras, data, seeds, epochs, hidden):
    X_train, X_test, y_train, y_test = data
    n_out = 1 if y_train.ndim == 1 else y_train.shape[1]
    gaps = []
    for seed in seeds:
        a = make_mlp(keras, X_train.shape[1], hidden, n_out, seed=seed, lr=3e-3)
        b = twin(keras, a)
        common = dict(x=X_train, y=y_train, epochs=epochs, batch_size=32, seed=seed)
        ra = train(a, **common)
        rb = keras_path(model=b, **common)
        assert (ra.engine, rb.engine) == ("engine", "keras")
        gaps.append(accuracy(a, X_test, y_test) - accuracy(b, X_test, y_test))
    return float(np.mean(gaps))


def test_engine_accuracy_matches_keras_fit(keras, cancer):
    # Two seeds keep this fast; the 5-seed, 1-point check is the slow test below.
    gap = _accuracy_gap(keras, cancer, seeds=(0, 1), epochs=10, hidden=(16,))
    assert abs(gap) <= 0.03


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["cancer", "digits10"])
def test_engine_accuracy_within_one_point_over_five_seeds(keras, dataset, request):
    data = request.getfixturevalue(dataset)
    gap = _accuracy_gap(keras, data, seeds=range(5), epochs=10, hidden=(32, 32))
    assert abs(gap) <= 0.01


def test_full_batch_history_equals_keras(keras, cancer):
    # Full batch, no shuffling, same weights: both paths do the same arithmetic,
    # including L2 regularisation in the loss and sample weights.
    X, _, y, _ = cancer
    w = np.linspace(0.5, 1.5, len(X)).astype(np.float32)
    a = make_mlp(keras, X.shape[1], (8,), l2=1e-3)
    b = twin(keras, a)
    common = dict(x=X, y=y, sample_weight=w, validation_data=(X[:50], y[:50], w[:50]),
                  epochs=5, batch_size=len(X), shuffle=False)
    ra, rb = train(a, **common), keras_path(model=b, **common)
    assert ra.engine == "engine"
    np.testing.assert_allclose(ra.history["loss"], rb.history["loss"], rtol=1e-4)
    np.testing.assert_allclose(ra.history["val_loss"], rb.history["val_loss"], rtol=1e-4)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-6)
    assert int(a.optimizer.iterations.numpy()) == int(b.optimizer.iterations.numpy()) == 5


# --------------------------------------------------------------------------
# Early stopping: keras.callbacks.EarlyStopping semantics
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stop",
    [
        rule("val_loss", patience=2, min_delta=0.0, restore_best_weights=True),
        rule("loss", patience=1, min_delta=0.02, restore_best_weights=False),
    ],
)
def test_early_stopping_stops_where_keras_stops(keras, cancer, stop):
    X, _, y, _ = cancer
    # A large learning rate on a small training set overfits within a few epochs.
    a = make_mlp(keras, X.shape[1], (16,), lr=0.05)
    b = twin(keras, a)
    common = dict(x=X[:80], y=y[:80], validation_data=(X[300:], y[300:]), epochs=60,
                  batch_size=80, shuffle=False, stop=stop)
    ra, rb = train(a, **common), keras_path(model=b, **common)
    assert ra.engine == "engine"
    assert ra.n_epochs < 60, "the case must actually stop early"
    assert (ra.n_epochs, ra.best_epoch) == (rb.n_epochs, rb.best_epoch)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize(
    "stop",
    [
        rule("val_loss", patience=2, min_delta=0.0, restore_best_weights=True),
        rule("loss", patience=1, min_delta=0.02, restore_best_weights=False),
    ],
)
def test_stop_rule_callback_matches_keras_early_stopping(keras, cancer, stop):
    # Both paths are checked against each other above; this pins the Keras
    # path's rule to keras.callbacks.EarlyStopping itself on finite runs.
    X, _, y, _ = cancer
    a = make_mlp(keras, X.shape[1], (16,), lr=0.05)
    b = twin(keras, a)
    common = dict(validation_data=(X[300:], y[300:]), epochs=60, batch_size=80, shuffle=False)
    ra = keras_path(model=a, x=X[:80], y=y[:80], stop=stop, **common)
    stopper = keras.callbacks.EarlyStopping(
        monitor=stop.monitor, patience=stop.patience, min_delta=stop.min_delta,
        restore_best_weights=stop.restore_best_weights,
    )
    hist = b.fit(X[:80], y[:80], callbacks=[stopper], verbose=0, **common)
    assert ra.n_epochs == len(hist.history["loss"]) < 60
    assert ra.best_epoch == stopper.best_epoch + 1
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_first_epoch_nan_is_never_the_best(keras, cancer):
    # Keras's EarlyStopping keeps a NaN first epoch's weights as "best" and
    # restores them; the rule never counts a non-finite loss and raises when
    # no epoch was finite.
    X, _, y, _ = cancer
    for callbacks in ((), (keras.callbacks.Callback(),)):
        model = make_mlp(keras, X.shape[1], (8,), lr=1e30)
        with pytest.raises(_training.TrainingDiverged, match="epoch 1, and no earlier epoch"):
            train(model, X[:80] * 1e20, y[:80], validation_data=(X[300:], y[300:]), epochs=5,
                  batch_size=80, stop=rule(), callbacks=callbacks)


@pytest.mark.parametrize("path", ["engine", "keras"])
def test_weights_overflowing_on_the_last_step_are_not_kept(keras, cancer, path):
    # The last optimizer step's learning rate is huge: every loss the run
    # reports is finite, but the weights after it overflow.  The rule treats
    # that epoch as diverged and keeps the one before.
    X, _, y, _ = cancer
    n, batch, epochs = 200, 50, 3
    rate = keras.optimizers.schedules.PiecewiseConstantDecay([epochs * n // batch - 2],
                                                             [1e-3, 3e38])
    # A squared error on targets of 1000 makes gradients far above 1.
    model = make_mlp(keras, X.shape[1], (8,), optimizer=keras.optimizers.SGD(rate), loss="mse")
    callbacks = (keras.callbacks.Callback(),) if path == "keras" else ()
    with pytest.warns(ConvergenceWarning, match="epoch 3; kept the weights of epoch 2"):
        r = train(model, X[:n], 1000 * y[:n], epochs=epochs, batch_size=batch, seed=0,
                  callbacks=callbacks)
    assert r.engine == path and (r.diverged_epoch, r.kept_epoch) == (3, 2)
    assert np.isfinite(r.history["loss"]).all()
    assert all(np.isfinite(w).all() for w in model.get_weights())
    if path == "engine":
        # The engine keeps no copy per epoch: it replays the run up to the kept
        # epoch, which must end on the weights of a run that stopped there.
        again = make_mlp(keras, X.shape[1], (8,), optimizer=keras.optimizers.SGD(rate), loss="mse")
        train(again, X[:n], 1000 * y[:n], epochs=2, batch_size=batch, seed=0)
        for wa, wb in zip(model.get_weights(), again.get_weights()):
            np.testing.assert_array_equal(wa, wb)


def test_a_model_that_cannot_be_rebuilt_from_its_config_trains_on_keras(keras, cancer):
    # A custom layer whose get_config misses a constructor argument: the engine
    # cannot clone it, so Keras's model.fit trains it and model.predict predicts.
    X, _, y, _ = cancer

    class Scale(keras.layers.Layer):
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

    inputs = keras.Input((X.shape[1],))
    hidden = keras.layers.Dense(8, activation="relu")(Scale(0.5)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    r = train(model, X, y, epochs=2, batch_size=64, seed=0)
    assert r.engine == "keras" and len(r.history["loss"]) == 2
    np.testing.assert_allclose(predict(model, X[:5]), model.predict(X[:5], verbose=0), atol=1e-6)


def test_a_trace_leaves_nothing_in_tensorflows_gradient_registry(keras, cancer):
    # Keras's optimizer traces a tf.custom_gradient, which TensorFlow registers
    # globally and never removes; the registered closure held the whole traced
    # graph, so evicted workers were never freed (8 MB a fit once a search had
    # more architectures than the cache).
    from tensorflow.python.framework import ops

    X, _, y, _ = cancer
    registry = ops._gradient_registry._registry
    train(make_mlp(keras, X.shape[1], (5,)), X, y, epochs=1, batch_size=64)
    before, traces = len(registry), cache.cache_info()["train_traces"]
    for width in (6, 7, 9):  # new architectures: each traces
        train(make_mlp(keras, X.shape[1], (width,)), X, y, epochs=1, batch_size=64)
    assert cache.cache_info()["train_traces"] == traces + 3
    assert len(registry) == before
    # Keras's model.fit (the fallback path) traces anew for every model.
    for _ in range(2):
        keras_path(model=make_mlp(keras, X.shape[1], (5,)), x=X, y=y, epochs=1, batch_size=64,
                   validation_data=(X[:40], y[:40]))
    assert len(registry) == before


def test_evicted_workers_are_dropped(keras, cancer, monkeypatch):
    X, _, y, _ = cancer
    monkeypatch.setattr(cache, "MAX_ARCHITECTURES", 2)
    for width in (3, 4, 5, 6):
        train(make_mlp(keras, X.shape[1], (width,)), X, y, epochs=1, batch_size=64)
    info = cache.cache_info()
    assert info["train_keys"] == info["workers"] == 2


def test_a_worker_that_does_not_match_the_model_hands_over_to_keras(keras, cancer, monkeypatch):
    # The engine copies weights by position; a worker whose variables do not
    # match the model's (shapes or dtypes) must never train it.
    from skdense._training import clones

    X, _, y, _ = cancer
    monkeypatch.setattr(clones, "same_structure", lambda a, b: False)
    r = train(make_mlp(keras, X.shape[1], (8,)), X, y, epochs=2, batch_size=64)
    assert r.engine == "keras" and len(r.history["loss"]) == 2


def test_clear_cache_empties_both_caches(keras, cancer):
    X, _, y, _ = cancer
    model = make_mlp(keras, X.shape[1], (7,))
    train(model, X, y, epochs=1, batch_size=64)
    predict(model, X[:2])
    assert cache.cache_info()["train_keys"] >= 1 and cache.cache_info()["predict_keys"] >= 1
    cache.clear_cache()
    info = cache.cache_info()
    assert info["train_keys"] == info["workers"] == info["predict_keys"] == 0
    train(make_mlp(keras, X.shape[1], (7,)), X, y, epochs=1, batch_size=64)  # still trains


def _val_loss(model, X, y):
    return float(model.evaluate(X, y, verbose=0))


def test_restore_best_weights_restores_even_without_stopping(keras, cancer):
    # Keras 3 restores the best epoch's weights at the end of training whether or
    # not stopping triggered; the engine does the same.
    X, _, y, _ = cancer
    model = make_mlp(keras, X.shape[1], (16,), lr=0.05)
    r = train(model, X[:80], y[:80], validation_data=(X[300:], y[300:]), epochs=25,
              batch_size=80, shuffle=False,
              stop=rule("val_loss", patience=100, restore_best_weights=True))
    assert r.n_epochs == 25
    best = int(np.argmin(r.history["val_loss"]))
    assert r.best_epoch == best + 1 < 25, "the best epoch must not be the last one"
    assert _val_loss(model, X[300:], y[300:]) == pytest.approx(r.history["val_loss"][best], rel=1e-4)


def test_no_restore_keeps_last_weights(keras, cancer):
    X, _, y, _ = cancer
    model = make_mlp(keras, X.shape[1], (16,), lr=0.05)
    r = train(model, X[:80], y[:80], validation_data=(X[300:], y[300:]), epochs=25,
              batch_size=80, shuffle=False,
              stop=rule("val_loss", patience=100, restore_best_weights=False))
    assert _val_loss(model, X[300:], y[300:]) == pytest.approx(r.history["val_loss"][-1], rel=1e-4)


# --------------------------------------------------------------------------
# Sample weights
# --------------------------------------------------------------------------


def test_zero_sample_weight_drops_the_row(keras, cancer):
    # Rows with weight 0 must not influence training: changing their targets
    # (or their features) leaves the trained weights unchanged.
    X, _, y, _ = cancer
    w = np.ones(len(X), np.float32)
    w[::3] = 0.0
    y2, X2 = y.copy(), X.copy()
    y2[::3] = 1.0 - y2[::3]
    X2[::3] = 100.0
    a = make_mlp(keras, X.shape[1], (8,))
    b, c = twin(keras, a), twin(keras, a)
    common = dict(sample_weight=w, epochs=3, batch_size=64, seed=3)
    train(a, X, y, **common)
    train(b, X2, y2, **common)
    train(c, X2, y2, **{**common, "sample_weight": None})  # control: rows do count
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    assert not np.allclose(a.get_weights()[0], c.get_weights()[0], atol=1e-3)


# --------------------------------------------------------------------------
# Fallback to model.fit
# --------------------------------------------------------------------------


def test_user_callback_falls_back_to_keras_with_history(keras, cancer):
    X, _, y, _ = cancer
    model = make_mlp(keras, X.shape[1], (8,))
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    r = train(model, X, y, validation_data=(X[:40], y[:40]), epochs=3, batch_size=64,
                  callbacks=[Record()], stop=rule("val_loss", patience=5))
    assert r.engine == "keras"
    assert seen == [0, 1, 2]
    assert len(r.history["loss"]) == len(r.history["val_loss"]) == r.n_epochs == 3
    assert 1 <= r.best_epoch <= 3


@pytest.mark.parametrize("case", ["dataset", "metrics", "fit_kwargs", "subclass"])
def test_what_the_engine_cannot_honour_runs_on_keras(keras, cancer, case):
    import tensorflow as tf

    X, _, y, _ = cancer
    model = make_mlp(keras, X.shape[1], (8,))
    kwargs = dict(x=X, y=y, epochs=2, batch_size=64)
    if case == "dataset":
        kwargs.update(x=tf.data.Dataset.from_tensor_slices((X, y)).batch(64), y=None)
    elif case == "metrics":
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        kwargs.update(validation_data=(X[:40], y[:40]), stop=rule("val_accuracy", 5))
    elif case == "fit_kwargs":
        kwargs["fit_kwargs"] = {"class_weight": {0: 1.0, 1: 2.0}}
    elif case == "subclass":
        class Custom(keras.Model):
            def train_step(self, data):
                return super().train_step(data)

        model = Custom(model.inputs, model.outputs)
        model.compile(optimizer="adam", loss="binary_crossentropy")
    r = train(model, **kwargs)
    assert r.engine == "keras"
    assert len(r.history["loss"]) == r.n_epochs == 2
    if case == "metrics":
        assert len(r.history["val_accuracy"]) == 2 and r.best_epoch in (1, 2)


def test_unknown_monitor_is_a_clear_error(keras, cancer):
    X, _, y, _ = cancer
    model = make_mlp(keras, X.shape[1], (8,))
    with pytest.raises(ValueError, match="monitor='loss_of_something', which this fit does not compute"):
        train(model, X, y, epochs=2, batch_size=64, stop=rule("loss_of_something", 1))


def test_uncompiled_model_gets_a_clear_error(keras):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match="compiled Keras model.*model.compile"):
        train(model, x, np.zeros(4, np.float32), epochs=1, batch_size=2)


# --------------------------------------------------------------------------
# Reuse of compiled work
# --------------------------------------------------------------------------


def test_same_architecture_does_not_retrace(keras, cancer):
    X, _, y, _ = cancer
    train(make_mlp(keras, X.shape[1], (12,)), X, y, epochs=1, batch_size=64)
    before = cache.cache_info()["train_traces"]
    # Fresh models, other seeds, another learning rate, batch size and row count.
    train(make_mlp(keras, X.shape[1], (12,), seed=5), X, y, epochs=2, batch_size=64)
    train(make_mlp(keras, X.shape[1], (12,), seed=6, lr=0.1), X[:100], y[:100],
              epochs=1, batch_size=17, shuffle=False)
    assert cache.cache_info()["train_traces"] == before
    # Positive control: a different architecture does trace.
    train(make_mlp(keras, X.shape[1], (13,)), X, y, epochs=1, batch_size=64)
    assert cache.cache_info()["train_traces"] == before + 1


def test_concurrent_fits_in_threads_match_sequential(keras, cancer):
    X, _, y, _ = cancer
    base = make_mlp(keras, X.shape[1], (12,))
    models = [twin(keras, base) for _ in range(4)]
    reference = twin(keras, base)
    common = dict(epochs=3, batch_size=32, seed=11)
    train(reference, X, y, **common)
    threads = [threading.Thread(target=train, args=(m, X, y), kwargs=common) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for m in models:
        for wa, wb in zip(m.get_weights(), reference.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# The trained object and verbose output
# --------------------------------------------------------------------------


def test_trained_model_is_a_normal_keras_model(keras, cancer, tmp_path):
    X, _, y, _ = cancer
    model = make_mlp(keras, X.shape[1], (8,))
    r = train(model, X, y, epochs=2, batch_size=100)
    assert r.engine == "engine"
    steps = int(np.ceil(len(X) / 100))
    assert int(model.optimizer.iterations.numpy()) == 2 * steps
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(X[:5], verbose=0), predict(model, X[:5]), atol=1e-6)


def test_verbose_prints_one_line_per_epoch(keras, cancer, capsys):
    X, _, y, _ = cancer
    model = make_mlp(keras, X.shape[1], (8,))
    r = train(model, X, y, validation_data=(X[:40], y[:40]), epochs=3, batch_size=64,
                  verbose=1)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert r.engine == "engine"
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert f"val_loss: {r.history['val_loss'][2]:.4f}" in lines[2]


def test_verbose_run_equals_silent_run(keras, cancer, capsys):
    # verbose runs epoch by epoch; early stopping state carries across calls.
    X, _, y, _ = cancer
    a = make_mlp(keras, X.shape[1], (16,), lr=0.05)
    b = twin(keras, a)
    common = dict(x=X[:80], y=y[:80], validation_data=(X[300:], y[300:]), epochs=40,
                  batch_size=16, seed=2, stop=rule("val_loss", patience=2))
    ra, rb = train(a, **common), train(b, verbose=1, **common)
    capsys.readouterr()
    assert (ra.n_epochs, ra.best_epoch) == (rb.n_epochs, rb.best_epoch)
    np.testing.assert_allclose(ra.history["val_loss"], rb.history["val_loss"], rtol=1e-6)


# --------------------------------------------------------------------------
# predict
# --------------------------------------------------------------------------


def test_predict_matches_model_predict_without_retracing(keras, digits10):
    X, _, y, _ = digits10
    model = make_mlp(keras, X.shape[1], (16, 16), n_out=10, dropout=0.2)
    train(model, X, y, epochs=1, batch_size=64)
    predict(model, X[:3])
    traces = cache.cache_info()["predict_traces"]
    for n in (1, 7, 257):
        np.testing.assert_allclose(predict(model, X[:n]), model.predict(X[:n], verbose=0),
                                   atol=1e-5)
    other = make_mlp(keras, X.shape[1], (16, 16), n_out=10, dropout=0.2, seed=9)
    np.testing.assert_allclose(predict(other, X[:5]), other.predict(X[:5], verbose=0), atol=1e-5)
    assert cache.cache_info()["predict_traces"] == traces


def test_predict_wrong_width_is_a_clear_error(keras, cancer):
    X, _, y, _ = cancer
    model = make_mlp(keras, X.shape[1], (8,))
    with pytest.raises(ValueError, match="30 features.*got 29"):
        predict(model, X[:, :29])


def test_kernel_cache_trim_keeps_results(keras, cancer, monkeypatch):
    # Clearing TF's eager kernel cache (the memory guard for thousands of fits)
    # must not change what a fit computes.
    X, _, y, _ = cancer
    base = make_mlp(keras, X.shape[1], (12,))
    a, b = twin(keras, base), twin(keras, base)
    train(a, X, y, epochs=2, batch_size=64, seed=1)
    calls = []
    monkeypatch.setattr(cache, "TRIM_KERNEL_CACHE_EVERY", 1)
    monkeypatch.setattr(cache, "trim_kernel_cache",
                        lambda real=cache.trim_kernel_cache: calls.append(1) or real())
    train(twin(keras, base), X, y, epochs=1, batch_size=64, seed=1)
    train(b, X, y, epochs=2, batch_size=64, seed=1)
    assert len(calls) == 2
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_custom_loss_function_runs_on_the_engine(keras, cancer):
    # An unregistered loss function cannot be deserialised (keras clone_model
    # would fail to recompile); the engine clones the structure and compiles
    # with the function object itself.
    X, _, y, _ = cancer

    def squared_error(y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)

    a = make_mlp(keras, X.shape[1], (8,), loss=squared_error)
    b = twin(keras, a)
    common = dict(x=X, y=y[:, None], epochs=3, batch_size=len(X), shuffle=False)
    ra, rb = train(a, **common), keras_path(model=b, **common)
    assert ra.engine == "engine"
    np.testing.assert_allclose(ra.history["loss"], rb.history["loss"], rtol=1e-4)
    assert train(a, X, y, epochs=0, batch_size=32).history == {}
