"""Every fit ends in a usable model or a clear error, and leaves nothing half-done.

Divergence (NaN/inf losses), failed refits, threads with a user model, the
objective early stopping watches, and which path trained.
"""

import threading
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_class_weight_classifiers

from skdense import DenseClassifier, DenseRegressor


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X)[:200], y[:200]


@pytest.fixture(scope="module")
def diabetes_scaled():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# --------------------------------------------------------------------------
# The default fit runs the engine (a silent fall back to model.fit would be
# 5-10x slower and pass every other test).
# --------------------------------------------------------------------------


def test_default_estimators_train_on_the_engine(cancer, diabetes_scaled):
    X, y = cancer
    assert DenseClassifier(epochs=3, random_state=0).fit(X, y).training_engine_ == "engine"
    X, y = diabetes_scaled
    assert DenseRegressor(epochs=3, random_state=0).fit(X, y).training_engine_ == "engine"


# --------------------------------------------------------------------------
# No silent NaN model
# --------------------------------------------------------------------------


def test_extreme_feature_is_a_clear_error_not_nan_predictions(cancer):
    X, y = cancer
    X = X.copy()
    X[:, 1] *= 1e30
    with pytest.raises(ValueError, match="Training diverged.*Scale the inputs.*learning_rate"):
        DenseClassifier(epochs=5, random_state=0).fit(X, y)


def test_huge_learning_rate_is_a_clear_error(diabetes_scaled):
    X, y = diabetes_scaled
    with pytest.raises(ValueError, match="Training diverged.*epoch 1.*lower learning_rate"):
        DenseRegressor(learning_rate=1e6, epochs=5, random_state=0).fit(X, y)


def test_a_diverged_fit_leaves_the_fitted_estimator_usable(diabetes_scaled):
    X, y = diabetes_scaled
    reg = DenseRegressor(epochs=3, random_state=0).fit(X, y)
    before = reg.predict(X[:5])
    with pytest.raises(ValueError, match="Training diverged"):
        reg.set_params(learning_rate=1e6).fit(X, y)
    np.testing.assert_array_equal(reg.predict(X[:5]), before)


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_a_diverged_continuation_says_the_weights_before_it_were_restored(cancer, how):
    # Issue 20: partial_fit(X * 1e30) said "no earlier epoch had a finite loss,
    # so there are no weights to keep" while it kept (and restored) them.
    import pickle

    from skdense._training import TrainingDiverged

    X, y = cancer
    clf = DenseClassifier((8,), epochs=2, n_ensemble=1, random_state=0).fit(X, y)
    before = [w.copy() for w in clf.model_.get_weights()]
    proba = clf.predict_proba(X[:5])
    with pytest.raises(TrainingDiverged) as caught:
        if how == "partial_fit":
            clf.partial_fit(X * 1e30, y)
        else:
            clf.set_params(warm_start=True, epochs=2).fit(X * 1e30, y)
    message = str(caught.value)
    assert "no weights to keep" not in message
    assert "at epoch 3, the first epoch of this call" in message
    assert "from before it (after epoch 2) were restored" in message
    for a, b in zip(before, clf.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(clf.predict_proba(X[:5]), proba)
    assert clf.n_iter_ == 2
    again = pickle.loads(pickle.dumps(caught.value))  # to and from joblib's workers
    assert str(again) == message and again.restored_epoch == 2


def test_divergence_after_good_epochs_keeps_the_last_good_weights(diabetes_scaled):
    # A user model whose learning rate jumps to 1e30 after 20 steps: the first
    # epochs are finite, then the loss overflows.
    import keras

    X, y = diabetes_scaled

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.Dense(16, activation="relu")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        rate = keras.optimizers.schedules.PiecewiseConstantDecay([20], [1e-3, 1e30])
        model.compile(optimizer=keras.optimizers.SGD(rate), loss="mse")
        return model

    for early_stopping in (True, False):
        reg = DenseRegressor(model=build, epochs=30, batch_size=32, random_state=0,
                             early_stopping=early_stopping)
        with pytest.warns(ConvergenceWarning, match="diverged.*kept the weights of epoch"):
            reg.fit(X, y)
        assert np.isfinite(reg.predict(X)).all()
        assert not np.isfinite(reg.history_["loss"][-1])
        assert reg.training_engine_ == "engine"


def test_nan_in_validation_data_is_refused_up_front(diabetes_scaled):
    X, y = diabetes_scaled
    y_val = y[:50].copy()
    y_val[3] = np.nan
    with pytest.raises(ValueError, match=r"y_val holds NaN or infinity in rows \[3\]"):
        DenseRegressor(epochs=3).fit(X[50:], y[50:], validation_data=(X[:50], y_val))
    X_val = X[:50].copy()
    X_val[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        DenseRegressor(epochs=3).fit(X[50:], y[50:], validation_data=(X_val, y[:50]))


def test_mismatched_validation_data_is_a_clear_error(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="50 rows in X_val but 40 in y_val"):
        DenseClassifier(epochs=3).fit(X, y, validation_data=(X[:50], y[:40]))
    with pytest.raises(ValueError, match="y_val holds labels that y does not: \\['7'\\]"):
        DenseClassifier(epochs=3).fit(X, y, validation_data=(X[:3], np.array([0, 1, 7])))


def test_validation_data_forms(cancer, diabetes_scaled):
    X, y = cancer
    with pytest.raises(ValueError, match=r"must be a tuple \(X_val, y_val\)"):
        DenseClassifier(epochs=2).fit(X, y, validation_data=X[:10])
    with pytest.raises(ValueError, match=r"y_val has shape \(10, 2\), but y has shape \(200,\)"):
        DenseClassifier(epochs=2).fit(X, y, validation_data=(X[:10], np.zeros((10, 2))))
    # weighted validation rows, and a column-vector y_val, are accepted
    w_val = np.linspace(0.5, 2.0, 50)
    clf = DenseClassifier(epochs=2, random_state=0)
    clf.fit(X, y, validation_data=(X[:50], y[:50, None], w_val))
    assert len(clf.history_["val_loss"]) == clf.n_iter_
    Xd, yd = diabetes_scaled
    reg = DenseRegressor(epochs=2, random_state=0)
    reg.fit(Xd, yd, validation_data=(Xd[:20], yd[:20].astype(str)))  # numbers as text
    assert np.isfinite(reg.history_["val_loss"]).all()
    reg.fit(Xd, yd, validation_data=(Xd[:20], yd[:20, None]))  # a one-column y_val
    assert np.isfinite(reg.history_["val_loss"]).all()


# --------------------------------------------------------------------------
# Fit is all or nothing
# --------------------------------------------------------------------------


class _Boom(Exception):
    pass


def _failing_callback():
    import keras

    class Fail(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise _Boom("failure inside Keras")

    return Fail()


def test_failed_refit_on_new_labels_leaves_the_estimator_as_it_was(cancer):
    X, y = cancer
    clf = DenseClassifier(epochs=3, random_state=0).fit(X, y)
    state = dict(vars(clf))
    proba = clf.predict_proba(X[:10])
    y3 = np.array(["a", "b", "c"])[np.arange(len(y)) % 3]
    with pytest.raises(_Boom):
        clf.fit(X, y3, callbacks=[_failing_callback()])
    assert vars(clf).keys() == state.keys()
    assert all(vars(clf)[k] is v for k, v in state.items())
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    np.testing.assert_array_equal(clf.predict_proba(X[:10]), proba)


def test_failed_refit_on_other_features_leaves_the_estimator_as_it_was(cancer):
    X, y = cancer
    clf = DenseClassifier(epochs=3, random_state=0).fit(X[:, :5], y)
    pred = clf.predict(X[:10, :5])
    with pytest.raises(_Boom):
        clf.fit(X[:, :3], y, callbacks=[_failing_callback()])
    assert clf.n_features_in_ == 5
    np.testing.assert_array_equal(clf.predict(X[:10, :5]), pred)


def test_failed_first_fit_leaves_the_estimator_unfitted(cancer):
    X, y = cancer
    clf = DenseClassifier(epochs=3)
    params = dict(vars(clf))
    with pytest.raises(_Boom):
        clf.fit(X, y, callbacks=[_failing_callback()])
    assert vars(clf) == params
    with pytest.raises(NotFittedError):
        clf.predict(X)


# --------------------------------------------------------------------------
# Reproducible under threads with a user model
# --------------------------------------------------------------------------


def _user_model(meta, compile_kwargs):
    import keras

    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    hidden = keras.layers.Dropout(0.2)(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(**compile_kwargs)
    return model


def test_user_model_is_reproducible_under_threads(cancer):
    X, y = cancer
    protos = [DenseClassifier(model=_user_model, epochs=3, random_state=s) for s in (1, 2)] * 3
    sequential = [clone(p).fit(X, y).model_.get_weights() for p in protos[:2]]
    fitted = [clone(p) for p in protos]
    threads = [threading.Thread(target=est.fit, args=(X, y)) for est in fitted]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, est in enumerate(fitted):
        for a, b in zip(est.model_.get_weights(), sequential[i % 2]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# Early stopping watches the objective that training minimises
# --------------------------------------------------------------------------


def test_default_classifier_passes_check_class_weight_classifiers():
    # With early stopping on, the validation loss is weighted by class_weight too.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_class_weight_classifiers("DenseClassifier", DenseClassifier(random_state=0))
