"""warm_start and partial_fit: training a fitted network on, scikit-learn's way."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from skdense import DenseClassifier, DenseRegressor


@pytest.fixture(scope="module")
def iris_scaled(iris):
    X_train, X_test, y_train, y_test = iris
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="module")
def diabetes_scaled():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _weights(est):
    return [w.copy() for w in est.model_.get_weights()]


def test_partial_fit_epochs_equal_one_fit(iris_scaled):
    """Three partial_fit calls are the three epochs of one fit: same seed, same
    minibatch order (the shuffle is numbered by epoch), bit-identical weights."""
    X, _, y, _ = iris_scaled
    whole = DenseClassifier((16,), epochs=3, early_stopping=False, random_state=0).fit(X, y)
    parts = DenseClassifier((16,), random_state=0)
    for _ in range(3):
        parts.partial_fit(X, y, classes=np.unique(y))
    assert parts.n_iter_ == 3
    assert parts.history_["loss"] == whole.history_["loss"]
    for a, b in zip(_weights(parts), _weights(whole)):
        np.testing.assert_array_equal(a, b)
    assert parts.training_engine_ == "engine"


def test_partial_fit_learns_in_batches(iris_scaled):
    X, X_test, y, y_test = iris_scaled
    clf = DenseClassifier((32,), learning_rate=0.01, n_ensemble=1, random_state=0)
    classes = np.unique(y)
    rng = np.random.default_rng(0)
    for epoch in range(15):
        for rows in np.array_split(rng.permutation(len(X)), 3):
            clf.partial_fit(X[rows], y[rows], classes=classes)
    assert clf.n_iter_ == 45
    assert len(clf.history_["loss"]) == 45
    assert clf.score(X_test, y_test) > 0.85


def test_partial_fit_needs_classes_first(iris_scaled):
    X, _, y, _ = iris_scaled
    clf = DenseClassifier((8,), random_state=0)
    with pytest.raises(ValueError, match="needs classes=... on the first call"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "model_")
    # a first batch with one class is fine when classes says there are three
    clf.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (len(X), 3)
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels the network was not built for: \[7\]"):
        clf.partial_fit(X, np.where(y == 2, 7, y))
    with pytest.raises(ValueError, match="holds labels"):
        DenseClassifier().partial_fit(X, y, classes=[0, 1])


def test_partial_fit_regressor(diabetes_scaled):
    X, y = diabetes_scaled
    reg = DenseRegressor((32,), learning_rate=0.01, random_state=0)
    for _ in range(20):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 20
    assert reg.score(X, y) > 0.3
    with pytest.raises(ValueError, match=r"built for 1 target column\(s\)"):
        reg.partial_fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="features"):
        reg.partial_fit(X[:, :4], y)


def test_warm_start_trains_on(iris_scaled):
    X, _, y, _ = iris_scaled
    clf = DenseClassifier((16,), epochs=4, early_stopping=False, warm_start=True, random_state=0)
    clf.fit(X, y)
    before = _weights(clf)
    model = clf.model_
    clf.fit(X, y)
    assert clf.model_ is model  # the same network, trained on
    assert clf.n_iter_ == 8 and len(clf.history_["loss"]) == 8
    assert any(not np.array_equal(a, b) for a, b in zip(before, _weights(clf)))
    # the same as one fit of 8 epochs: the optimizer state went on too
    once = DenseClassifier((16,), epochs=8, early_stopping=False, random_state=0).fit(X, y)
    for a, b in zip(_weights(clf), _weights(once)):
        np.testing.assert_array_equal(a, b)
    # without warm_start, fit builds a new network
    clf.set_params(warm_start=False).fit(X, y)
    assert clf.model_ is not model and clf.n_iter_ == 4


def test_warm_start_with_early_stopping_counts_on(iris_scaled):
    X, _, y, _ = iris_scaled
    clf = DenseClassifier((16,), epochs=6, patience=100, warm_start=True, random_state=0)
    clf.fit(X, y)
    assert clf.best_epoch_ <= 6
    clf.fit(X, y, early_stopping=False, epochs=3)
    assert clf.n_iter_ == 9
    assert clf.best_epoch_ is None
    # val_loss was not computed in the last 3 epochs: NaN keeps the epochs aligned
    assert len(clf.history_["val_loss"]) == 9
    assert np.isnan(clf.history_["val_loss"][6:]).all()
    clf.fit(X, y, patience=100, epochs=2)
    assert clf.n_iter_ == 11 and clf.best_epoch_ in (10, 11)


def test_warm_start_refuses_a_changed_network_or_target(iris_scaled):
    X, _, y, _ = iris_scaled
    clf = DenseClassifier((16,), epochs=2, warm_start=True, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    clf.set_params(hidden_layer_sizes=(8,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(16,\) -> \(8,\)"):
        clf.fit(X, y)
    clf.set_params(hidden_layer_sizes=(16,), learning_rate=0.1)
    with pytest.raises(ValueError, match="learning_rate=0.001 -> 0.1"):
        clf.fit(X, y)
    clf.set_params(learning_rate=0.001, refit_full=True)
    with pytest.raises(ValueError, match="refit_full=True trains a new network"):
        clf.fit(X, y)
    clf.set_params(refit_full=False)
    with pytest.raises(ValueError, match="features"):
        clf.fit(X[:, :3], y)
    with pytest.raises(ValueError, match="not built for"):
        clf.fit(X, y + 10)
    # nothing changed by the refused fits
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert clf.n_iter_ == 2


def test_failed_continuation_leaves_the_network_as_it_was(iris_scaled, monkeypatch):
    """A continued fit that raises inside training restores weights and optimizer state."""
    X, _, y, _ = iris_scaled
    clf = DenseClassifier((16,), epochs=2, warm_start=True, random_state=0).fit(X, y)
    weights = _weights(clf)
    iterations = int(clf.model_.optimizer.iterations.numpy())
    proba = clf.predict_proba(X)

    from skdense import _training

    real = _training.fit.fit_engine

    def train_then_fail(*args, **kwargs):
        real(*args, **kwargs)  # the weights change...
        raise RuntimeError("interrupted")  # ...then the run fails

    monkeypatch.setattr(_training.fit, "fit_engine", train_then_fail)
    with pytest.raises(RuntimeError, match="interrupted"):
        clf.fit(X, y)
    for a, b in zip(weights, _weights(clf)):
        np.testing.assert_array_equal(a, b)
    assert int(clf.model_.optimizer.iterations.numpy()) == iterations
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    assert clf.n_iter_ == 2


def test_warm_start_keeps_the_target_scaling(diabetes_scaled):
    X, y = diabetes_scaled
    reg = DenseRegressor((16,), epochs=3, warm_start=True, random_state=0).fit(X, y)
    encoder = reg.keras_estimator_.target_encoder_
    mean = encoder.mean_.copy()
    reg.fit(X[:100], y[:100] + 1000.0)  # another mean: the network's scaling stays
    np.testing.assert_array_equal(reg.keras_estimator_.target_encoder_.mean_, mean)


def test_warm_start_and_partial_fit_on_the_keras_path(iris_scaled):
    """User callbacks train with model.fit: epochs number on there too."""
    from keras.callbacks import Callback

    seen = []

    class Epochs(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    X, _, y, _ = iris_scaled
    clf = DenseClassifier(
        (8,), epochs=2, warm_start=True, callbacks=[Epochs()], random_state=0
    ).fit(X, y)
    clf.fit(X, y)
    clf.partial_fit(X, y)
    assert clf.training_engine_ == "keras"
    assert seen == [0, 1, 2, 3, 4]
    assert clf.n_iter_ == 5


def test_routing_enabled_per_fit_parameters(iris):
    """With metadata routing on, set_fit_request routes the per-fit overrides."""
    import sklearn
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    X, _, y, _ = iris
    with sklearn.config_context(enable_metadata_routing=True):
        clf = DenseClassifier((8,), epochs=50, random_state=0)
        clf.set_fit_request(epochs=True, patience=True, validation_split=True)
        pipe = make_pipeline(StandardScaler(), clf)
        pipe.fit(X, y, epochs=5, patience=100, validation_split=0.2)
        assert pipe[-1].n_iter_ == 5
        search = GridSearchCV(pipe, {"denseclassifier__alpha": [0.0, 1e-4]}, cv=2)
        search.fit(X, y, epochs=3, patience=100, validation_split=0.2)
        assert search.best_estimator_[-1].n_iter_ == 3
        # not requested: scikit-learn's own error, before any training
        plain = make_pipeline(StandardScaler(), DenseClassifier((8,), epochs=2))
        with pytest.raises((TypeError, ValueError), match="patience"):
            plain.fit(X, y, patience=3)


def test_warm_start_after_a_refit_numbers_on_from_the_refit(iris_scaled):
    """After refit_full, model_ is the refit network: a continued fit extends its curve."""
    X, _, y, _ = iris_scaled
    clf = DenseClassifier((16,), epochs=30, patience=2, refit_full=True, random_state=0)
    clf.fit(X, y)
    assert clf.refit_epochs_ is not None
    refit_loss = list(clf.refit_history_["loss"])
    clf.set_params(warm_start=True, refit_full=False).fit(X, y, early_stopping=False, epochs=2)
    assert clf.n_iter_ == len(refit_loss) + 2
    assert clf.history_["loss"][: len(refit_loss)] == refit_loss
    assert clf.refit_history_ is None and clf.refit_epochs_ is None


def test_partial_fit_refuses_malformed_classes(iris_scaled):
    X, _, y, _ = iris_scaled
    with pytest.raises(ValueError, match=r"classes has missing values \(None or NaN\) in 1 position"):
        DenseClassifier((8,)).partial_fit(X, y, classes=[0, 1, None])
    with pytest.raises(ValueError, match=r"classes must be a 1-D list.*shape \(2, 2\)"):
        DenseClassifier((8,)).partial_fit(X, y, classes=[[0, 1], [2, 3]])
