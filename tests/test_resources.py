"""The memory guard (skdense._network.memory) and the engine's in-place worker for
large networks (skdense._training.engine.Worker(in_place=True))."""

import re

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skdense import DenseClassifier, DenseRegressor
from skdense._network import memory as _resources
from skdense._backend import load_keras
from skdense._network.memory import AvailableMemory, InsufficientMemoryError, Network


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 20)).astype(np.float32)
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


@pytest.fixture
def available(monkeypatch):
    """The machine's available memory, mocked: 8 GB unless a test sets ``.bytes``."""

    class Mock:
        bytes = 8 * 10**9

        def __call__(self):
            return AvailableMemory(self.bytes, "mocked in the test")

    mock = Mock()
    monkeypatch.setattr(_resources, "available_memory", mock)
    return mock


@pytest.fixture
def nothing_built(monkeypatch):
    """Building the network fails the test: the refusal must come first (and a
    network of 10**12 weights must never be allocated, even by the old code)."""
    from skdense import _scikeras

    def built(*args, **kwargs):
        raise AssertionError("the network was built before the memory check")

    monkeypatch.setattr(_scikeras, "_make_estimator", built)


@pytest.mark.parametrize(
    "sizes, weights_gb", [((30000, 30000), "3.60 GB"), ((10**6, 10**6), "4,000 GB")]
)
def test_a_network_too_large_is_refused_before_it_is_built(
    data, available, nothing_built, sizes, weights_gb
):
    X, y = data
    # one network (n_ensemble='auto' would make 8 members of it: the estimate below is of one)
    est = DenseClassifier(hidden_layer_sizes=sizes, n_ensemble=1, random_state=0)
    with pytest.raises(InsufficientMemoryError) as info:
        est.fit(X, y)
    message = str(info.value)
    assert isinstance(info.value, MemoryError)
    assert f"DenseClassifier(hidden_layer_sizes={sizes}) on 20 input features" in message
    # 10% of the rows are held out for early stopping.
    estimate = _resources.estimate_fit_memory(
        Network(20, sizes, 1), optimizer="adam", batch_size=64, n_rows=108, n_val_rows=12
    )
    assert 6 * estimate.weights < estimate.total < 8 * estimate.weights  # trained in place
    assert f"needs about {_resources._gb(estimate.total)} GB of memory" in message
    assert "only 8.00 GB are available (mocked in the test)" in message
    assert f"({weights_gb} as float32)" in message
    assert "smaller hidden_layer_sizes" in message and "fewer input features" in message
    assert not hasattr(est, "model_")
    # The widest network of the same depth that fits is suggested, and it fits.
    width = int(re.search(r"at most about \((\d+), \1\) fits", message).group(1))
    for w, refused in ((width, False), (width + 1, True)):
        total = _resources.estimate_fit_memory(
            Network(20, (w, w), 1), optimizer="adam", batch_size=64, n_rows=108, n_val_rows=12
        ).total
        assert (total > available.bytes) is refused


def test_the_advice_names_the_parameters_that_make_the_network_large(data, available, nothing_built):
    X, _ = data
    available.bytes = 10**8
    est = DenseRegressor(hidden_layer_sizes=(2000, 2000), n_ensemble=8, batch_size=4096)
    with pytest.raises(InsufficientMemoryError, match="n_ensemble=8") as info:
        est.fit(X, X[:, 0])
    message = str(info.value)
    assert "a smaller batch_size (now 4096)" in message
    assert "or a smaller n_ensemble (now 8)" in message


def test_a_network_that_fits_is_trained(data, available):
    # The behaviour under test is that the guard lets an ordinary fit through.
    X, y = data
    est = DenseClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
    assert est.n_iter_ == 2
    network = Network(n_features=20, hidden_layer_sizes=(8,), n_outputs=1)
    estimate = _resources.check_fit_memory(
        "DenseClassifier", network, optimizer="adam", batch_size=64, n_rows=108, n_val_rows=12
    )
    assert 0 < estimate.total < available.bytes


def test_a_users_model_is_checked_once_built(data, available):
    X, y = data
    keras = load_keras()

    def model():
        inputs = keras.Input((20,))
        hidden = keras.layers.Dense(64, activation="relu")(inputs)
        out = keras.Model(inputs, keras.layers.Dense(1, "sigmoid")(hidden))
        out.compile(optimizer="adam", loss="binary_crossentropy")
        return out

    available.bytes = 10_000
    with pytest.raises(InsufficientMemoryError, match="the model passed as model=: its 1,409 "):
        DenseClassifier(model=model, epochs=1).fit(X, y)


def test_a_users_model_with_a_large_target_is_refused(available):
    # Its weights are small; the one-hot target of 3,000 classes is not.
    keras = load_keras()
    n = 3000
    X = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)

    def model():
        inputs = keras.Input((4,))
        out = keras.Model(inputs, keras.layers.Dense(n, "softmax")(inputs))
        out.compile(optimizer="sgd", loss="categorical_crossentropy")
        return out

    available.bytes = 10**8  # the target alone: 3,000 x 3,000 x 12 bytes = 0.108 GB
    with pytest.raises(InsufficientMemoryError, match=r"0\.11 GB for the target"):
        DenseClassifier(model=model, epochs=1, early_stopping=False).fit(X, np.arange(n))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"hidden_layer_sizes": (7, 5), "feature_scaling": True},
        {"hidden_layer_sizes": (6,), "numeric_embedding": "periodic"},
        {"hidden_layer_sizes": (6, 4), "n_ensemble": 3, "ensemble_adapters": "mini"},
        {"hidden_layer_sizes": (6, 4), "n_ensemble": 3, "ensemble_adapters": "full"},
        {"hidden_layer_sizes": (6, 4), "n_ensemble": 3, "ensemble_adapters": "none"},
        {"hidden_layer_sizes": (5,), "feature_scaling": True, "numeric_embedding": "periodic",
         "n_ensemble": 2, "ensemble_adapters": "full"},
    ],
)
def test_the_weights_counted_are_those_the_network_has(kwargs):
    from skdense._network.build import build_dense_network

    n_features, n_classes = 9, 3
    continuous = [0, 2, 5, 7]
    meta = {"n_features_in_": n_features, "skdense_task_": "multiclass",
            "skdense_units_": n_classes}
    build = dict(kwargs)
    if build.get("numeric_embedding"):
        build["continuous"] = continuous
    model = build_dense_network(meta, {"optimizer": "adam", "loss": "mse"}, **build)
    network = Network(
        n_features=n_features,
        hidden_layer_sizes=kwargs.get("hidden_layer_sizes", (100,)),
        n_outputs=n_classes,
        n_ensemble=kwargs.get("n_ensemble", 1),
        ensemble_adapters=kwargs.get("ensemble_adapters", "mini"),
        feature_scaling=kwargs.get("feature_scaling", False),
        n_embedded=len(continuous) if kwargs.get("numeric_embedding") else 0,
    )
    assert network.n_params() == model.count_params()


def _estimate(**changes):
    network = Network(**{"n_features": 50, "hidden_layer_sizes": (256, 256), "n_outputs": 1,
                         **changes})
    return _resources.estimate_fit_memory(
        network, optimizer="adam", batch_size=64, n_rows=1000, n_val_rows=100
    )


def test_the_estimate_grows_with_ensemble_members_and_features():
    base = _estimate().total
    assert _estimate(n_ensemble=4).total > base
    assert _estimate(n_ensemble=8).total > _estimate(n_ensemble=4).total
    assert _estimate(n_features=500).total > base
    assert _estimate(n_embedded=20).total > base
    assert _estimate(hidden_layer_sizes=(512, 256)).total > base


def test_the_estimate_uses_the_measured_ratio_of_the_path_that_will_train():
    from skdense._training import cache

    small = _estimate()
    assert not small.in_place
    assert small.training_state == pytest.approx(small.weights * _resources.PEAK_RATIO_CLONED, 1e-6)
    large = _estimate(hidden_layer_sizes=(8000, 8000))
    assert large.in_place and large.weights * 3 > cache.IN_PLACE_BYTES
    assert large.training_state == pytest.approx(large.weights * _resources.PEAK_RATIO_IN_PLACE,
                                                 1e-6)
    sgd = _resources.estimate_fit_memory(
        Network(50, (8000, 8000), 1), optimizer="sgd", batch_size=64, n_rows=10, n_val_rows=0
    )
    assert sgd.training_state < large.training_state


def test_available_memory_takes_the_tighter_cgroup_limit(tmp_path, monkeypatch):
    mem = tmp_path / "memory"
    mem.mkdir()
    (mem / "memory.limit_in_bytes").write_text(str(4 * 2**30))
    (mem / "memory.usage_in_bytes").write_text(str(3 * 2**30))
    (mem / "memory.stat").write_text(f"cache 5\ntotal_inactive_file {2**30}\n")
    found = _resources._cgroup_available(str(tmp_path))
    assert found.bytes == 2 * 2**30 and "cgroup v1" in found.source
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text("100\n")
    assert _resources._cgroup_available(str(tmp_path)).bytes == 2 * 2**30  # v2 has no limit
    (tmp_path / "memory.max").write_text(f"{2**30}\n")
    v2 = _resources._cgroup_available(str(tmp_path))
    assert v2.bytes == 2**30 - 100 and "cgroup v2" in v2.source
    real = _resources.available_memory()
    assert real is not None and real.bytes > 0


# --- the in-place worker -------------------------------------------------------


@pytest.fixture
def in_place(monkeypatch):
    """``set(True)``: every model trains in place; ``set(False)``: none does."""
    from skdense._training import cache

    def set_(on):
        monkeypatch.setattr(cache, "IN_PLACE_BYTES", 0 if on else 1 << 50)

    return set_


def _weights(est):
    return [np.asarray(w) for w in est.model_.get_weights()]


@pytest.mark.parametrize(
    "params",
    [
        {"early_stopping": False},
        {"patience": 2, "restore_best_weights": True},
        {"patience": 2, "restore_best_weights": False, "verbose": 1},
    ],
)
def test_training_in_place_gives_the_weights_of_the_cloned_worker(data, in_place, params,
                                                                  capsys):
    X, y = data
    fits = {}
    for on in (False, True):
        in_place(on)
        est = DenseClassifier(hidden_layer_sizes=(16, 8), epochs=25, learning_rate=0.05,
                              random_state=0, **params).fit(X, y)
        assert est.training_engine_ == "engine"
        fits[on] = est
    a, b = fits[False], fits[True]
    assert a.history_ == b.history_ and a.best_epoch_ == b.best_epoch_
    for wa, wb in zip(_weights(a), _weights(b)):
        np.testing.assert_array_equal(wa, wb)


def test_a_continued_fit_in_place_gives_the_weights_of_the_cloned_worker(data, in_place):
    X, y = data
    weights = {}
    for on in (False, True):
        in_place(on)
        est = DenseClassifier(hidden_layer_sizes=(8,), epochs=3, warm_start=True,
                              early_stopping=False, random_state=0)
        est.fit(X, y).fit(X, y)
        est.partial_fit(X, y)
        weights[on] = _weights(est)
    for wa, wb in zip(weights[False], weights[True]):
        np.testing.assert_array_equal(wa, wb)


def test_training_in_place_leaves_nothing_in_the_cache(data, in_place):
    from skdense._training import cache

    cache.clear_cache()
    in_place(True)
    X, y = data
    DenseClassifier(hidden_layer_sizes=(5,), epochs=1, random_state=0).fit(X, y)
    assert cache.cache_info()["workers"] == 0


def test_a_diverged_run_in_place_keeps_the_last_finite_epoch_like_the_replay(in_place):
    # The cloned worker replays a diverged run up to its last finite epoch;
    # in place there is no copy of the start, so the stop state keeps that
    # epoch's weights.  Same weights either way.
    from skdense import _training
    from skdense._training import TrainingRun

    keras = load_keras()
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6)).astype(np.float32)
    y = (1000 * (X[:, 0] > 0)).astype(np.float32)
    n, batch, epochs = 200, 50, 3
    weights = {}
    for on in (False, True):
        in_place(on)
        rate = keras.optimizers.schedules.PiecewiseConstantDecay(
            [epochs * n // batch - 2], [1e-3, 3e38])
        inputs = keras.Input((6,))
        hidden = keras.layers.Dense(8, activation="relu",
                                    kernel_initializer=keras.initializers.GlorotUniform(1))(inputs)
        out = keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(2))(hidden)
        model = keras.Model(inputs, out)
        model.compile(optimizer=keras.optimizers.SGD(rate), loss="mse")
        plan = TrainingRun(epochs=epochs, batch_size=batch, stop=None, seed=0)
        with pytest.warns(ConvergenceWarning, match="epoch 3; kept the weights of epoch 2"):
            r = _training.fit_model(model, X, y, plan)
        assert r.engine == "engine"
        weights[on] = model.get_weights()
    assert all(np.isfinite(w).all() for w in weights[True])
    for wa, wb in zip(weights[False], weights[True]):
        np.testing.assert_array_equal(wa, wb)


def test_an_in_place_worker_and_its_copy_of_the_weights_end_with_the_fit(data, in_place,
                                                                          monkeypatch):
    # Without the garbage collector: a reference cycle through the worker
    # would keep its copy of the weights (as large as the network) alive
    # until the next collection.
    import gc
    import weakref

    from skdense._training import engine

    made = []
    init = engine.Worker.__init__

    def recording_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append((weakref.ref(self), [weakref.ref(v) for v in self.stop_state.saved]))

    monkeypatch.setattr(engine.Worker, "__init__", recording_init)
    in_place(True)
    X, y = data
    gc.disable()
    try:
        DenseClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
        (worker, saved), = made
        assert saved and worker() is None and all(s() is None for s in saved)
    finally:
        gc.enable()


def test_refusal_comes_before_tensorflow_loads():
    """The guard is arithmetic: a first fit that is refused does not pay the
    seconds of importing TensorFlow (a fresh process, so nothing is loaded yet)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from skdense import DenseClassifier\n"
        "try:\n"
        "    DenseClassifier((10**5, 10**5)).fit(np.zeros((20, 5)), [0, 1] * 10)\n"
        "except MemoryError as err:\n"
        "    print('refused', 'tensorflow' in sys.modules, 'GB' in str(err))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.split() == ["refused", "False", "True"], out.stdout + out.stderr


# --------------------------------------------------------------------------
# The target (issue 20): a one-hot row per class, a column per output
# --------------------------------------------------------------------------


def test_a_one_hot_target_too_large_is_refused_before_the_network_is_built(available,
                                                                          nothing_built):
    # The case: 6 features and as many classes as rows.  12,000 rows
    # were estimated at 0.046 GB and peaked at 2.45 GB: the one-hot target
    # (rows x classes float32, held three times) was not counted.
    rng = np.random.default_rng(0)
    n = 12_000
    X = rng.normal(size=(n, 6)).astype(np.float32)
    available.bytes = 15 * 10**8
    est = DenseClassifier((16,), epochs=1, early_stopping=False, batch_size=256)
    with pytest.raises(InsufficientMemoryError) as info:
        est.fit(X, np.arange(n))
    message = str(info.value)
    target_gb = _resources._gb(n * n * _resources.TARGET_BYTES["one-hot"])
    assert f"{target_gb} GB for the target (a one-hot row of 12,000 values)" in message
    assert message.index("fewer rows") < message.index("smaller hidden_layer_sizes")
    assert "loss='sparse_categorical_crossentropy' (one class index a row" in message


@pytest.mark.parametrize("spec, y, loss, per_row, kind", [
    (("multiclass", 1000), np.arange(5000) % 1000, None, 1000 * 12, "one-hot"),
    (("multiclass", 1000), np.arange(5000) % 1000, "sparse_categorical_crossentropy", 8,
     "indices"),
    (("binary", 2), np.arange(5000) % 2, None, 12, "one-hot"),
    (("regression", None), np.zeros((5000, 64)), None, 64 * 20, "regression"),
])
def test_the_target_is_counted_by_its_encoding(spec, y, loss, per_row, kind):
    from skdense._estimators.targets import TargetSpec

    task, n_classes = spec
    classes = None if n_classes is None else np.arange(n_classes)
    target = _resources.Target.of(TargetSpec(task, classes), y, loss)
    assert target.kind == kind
    n_outputs = _resources.output_width(TargetSpec(task, classes), y)
    network = Network(6, (16,), n_outputs)
    estimate = _resources.estimate_fit_memory(
        network, optimizer="adam", batch_size=256, n_rows=4500, n_val_rows=500, target=target
    )
    assert estimate.target == 5000 * per_row
    without = _resources.estimate_fit_memory(
        network, optimizer="adam", batch_size=256, n_rows=4500, n_val_rows=500,
        target=_resources.Target(0, 0, kind),
    )
    assert estimate.total == without.total + estimate.target


@pytest.mark.slow
def test_the_estimate_of_a_large_target_is_near_the_measured_peak():
    # benchmarks/bench_peak_memory.py --target measures more cases (0.89-1.14x).
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parents[1] / "benchmarks" / "bench_peak_memory.py"
    out = subprocess.run(
        [sys.executable, str(script), "--target-child", "classification", "6000", "1", "0",
         "default"], capture_output=True, text=True, check=True,
    )
    import json

    result = json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])
    assert result["target"] == 6000 * 6000 * 12
    # 0.97 alone; 0.66 after other fits in this run (TensorFlow held one of the
    # three float32 copies of the one-hot target fewer at its peak): the guard
    # counts the three it can hold.
    assert 0.6 < result["grew"] / result["estimate"] < 1.3, result
