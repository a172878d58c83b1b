"""The tabular-training options (issue 6): each reaches the Keras model and is searchable."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from skdense import DenseClassifier, DenseRegressor


@pytest.fixture(scope="module")
def scaled_cancer(breast_cancer):
    X_train, X_test, y_train, y_test = breast_cancer
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def test_optimizer_options_reach_the_optimizer(scaled_cancer):
    X_train, _, y_train, _ = scaled_cancer
    clf = DenseClassifier(
        (8,), epochs=2, optimizer="adamw", beta_2=0.95, weight_decay=0.01, random_state=0
    ).fit(X_train, y_train)
    opt = clf.model_.optimizer
    assert type(opt).__name__ == "AdamW"
    assert float(opt.beta_2) == pytest.approx(0.95)
    assert float(opt.weight_decay) == pytest.approx(0.01)


def test_beta_on_an_optimizer_without_betas_is_a_clear_error(scaled_cancer):
    X_train, _, y_train, _ = scaled_cancer
    with pytest.raises(ValueError, match="'beta_2' parameter does not apply to optimizer SGD"):
        DenseClassifier((8,), epochs=1, optimizer="sgd", beta_2=0.9).fit(X_train, y_train)
    # the defaults themselves never get in the way of an optimizer without betas
    clf = DenseClassifier((8,), epochs=1, optimizer="sgd").fit(X_train, y_train)
    assert type(clf.model_.optimizer).__name__ == "SGD"


@pytest.mark.parametrize("schedule, cls", [("cosine", "CosineDecay"), ("multicycle", "CosineDecayRestarts")])
def test_lr_schedules(scaled_cancer, schedule, cls):
    X_train, _, y_train, _ = scaled_cancer
    clf = DenseClassifier((8,), epochs=4, lr_schedule=schedule, early_stopping=False, random_state=0)
    clf.fit(X_train, y_train)
    lr = clf.model_.optimizer.get_config()["learning_rate"]
    assert lr["class_name"] == cls
    n_fit = len(X_train)  # early_stopping=False: no validation rows held out
    steps = int(np.ceil(n_fit / clf.batch_size)) * 4
    # cosine spans the whole run; multicycle restarts every quarter of it
    decay = lr["config"].get("decay_steps", lr["config"].get("first_decay_steps"))
    assert decay == (steps if schedule == "cosine" else steps // 4)
    # at the end of a cosine run the rate is (nearly) zero
    if schedule == "cosine":
        assert float(clf.model_.optimizer.learning_rate) < 1e-5


def test_optimizer_instance_is_used_as_given(scaled_cancer):
    import keras

    X_train, _, y_train, _ = scaled_cancer
    clf = DenseClassifier((8,), epochs=1, optimizer=keras.optimizers.SGD(learning_rate=0.05),
                          random_state=0).fit(X_train, y_train)
    assert type(clf.model_.optimizer).__name__ == "SGD"
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.05)


def test_routed_predict_arguments_use_keras_predict(scaled_cancer):
    X_train, X_test, y_train, _ = scaled_cancer
    fast = DenseClassifier((8,), epochs=1, random_state=0).fit(X_train, y_train)
    routed = DenseClassifier((8,), epochs=1, random_state=0, predict__batch_size=7)
    routed.fit(X_train, y_train)
    np.testing.assert_allclose(routed.predict_proba(X_test), fast.predict_proba(X_test), atol=1e-6)


def test_label_smoothing(iris):
    X_train, _, y_train, _ = iris
    clf = DenseClassifier((8,), epochs=2, label_smoothing=0.1, random_state=0).fit(X_train, y_train)
    # the default ensemble wraps the task's (smoothed) loss in its member-mean loss
    assert clf.model_.loss.base_loss.get_config()["label_smoothing"] == pytest.approx(0.1)


def _uncompiled_builder(meta, compile_kwargs):
    """A user's builder in scikeras's style: it compiles with the arguments it is given."""
    import keras

    inputs = keras.Input((meta["n_features_in_"],))
    outputs = keras.layers.Dense(meta["n_classes_"] if meta["n_classes_"] > 2 else 1,
                                 activation="softmax" if meta["n_classes_"] > 2 else "sigmoid")(
        keras.layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(**compile_kwargs)
    return model


def _self_compiled_builder(meta):
    """A user's builder that compiles with its own optimizer and loss."""
    import keras

    inputs = keras.Input((meta["n_features_in_"],))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    return model


def test_schedule_and_smoothing_reach_a_user_model_built_from_compile_kwargs(scaled_cancer):
    X_train, _, y_train, _ = scaled_cancer
    clf = DenseClassifier(model=_uncompiled_builder, epochs=2, lr_schedule="cosine",
                          label_smoothing=0.2, random_state=0).fit(X_train, y_train)
    assert clf.model_.optimizer.get_config()["learning_rate"]["class_name"] == "CosineDecay"
    assert clf.model_.loss.get_config()["label_smoothing"] == pytest.approx(0.2)
    assert clf.training_engine_ == "engine"


@pytest.mark.parametrize("param, match", [
    ({"lr_schedule": "cosine"}, "lr_schedule='cosine' cannot take effect.*compiled with its own optimizer"),
    ({"label_smoothing": 0.1}, "label_smoothing=0.1 cannot take effect.*compiled with its own loss"),
])
def test_schedule_or_smoothing_on_a_self_compiled_model_is_a_clear_error(scaled_cancer, param, match):
    X_train, _, y_train, _ = scaled_cancer
    with pytest.raises(ValueError, match=match):
        DenseClassifier(model=_self_compiled_builder, epochs=1, **param).fit(X_train, y_train)


def test_label_smoothing_with_a_loss_it_cannot_smooth_is_a_clear_error(iris):
    X_train, _, y_train, _ = iris
    with pytest.raises(ValueError, match="label_smoothing=0.1 applies to the default cross-entropy"):
        DenseClassifier((8,), epochs=1, loss="sparse_categorical_crossentropy",
                        label_smoothing=0.1).fit(X_train, y_train)


def test_feature_scaling_and_periodic_embedding(scaled_cancer, tmp_path):
    X_train, X_test, y_train, y_test = scaled_cancer
    X_train = np.column_stack([X_train, (X_train[:, 0] > 0).astype(float)])  # a binary column
    X_test = np.column_stack([X_test, (X_test[:, 0] > 0).astype(float)])
    clf = DenseClassifier(
        (32,), feature_scaling=True, numeric_embedding="periodic", random_state=0
    ).fit(X_train, y_train)
    names = [layer.name for layer in clf.model_.layers]
    assert names[1:3] == ["feature_scaling", "periodic_embedding"]
    emb = clf.model_.get_layer("periodic_embedding")
    assert emb.indices == list(range(30))  # the binary column passes through
    assert clf.score(X_test, y_test) > 0.93
    # custom layers survive pickling, in a fresh process too
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X_test)
    code = (
        "import pickle, numpy as np, sys; "
        f"clf = pickle.loads(open({str(path)!r}, 'rb').read()); "
        f"np.save({str(tmp_path / 'p.npy')!r}, clf.predict_proba(np.load({str(tmp_path / 'X.npy')!r})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), clf.predict_proba(X_test), rtol=1e-5)


def test_options_are_searchable(diabetes):
    X_train, X_test, y_train, y_test = diabetes
    X_train = StandardScaler().fit_transform(X_train)
    grid = GridSearchCV(
        DenseRegressor((16,), epochs=20, random_state=0),
        {"lr_schedule": ["constant", "cosine"], "beta_2": [0.95, 0.999]},
        cv=2,
    ).fit(X_train, y_train)
    assert len(grid.cv_results_["params"]) == 4
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()


def test_standardize_target(diabetes):
    X_train, X_test, y_train, y_test = diabetes
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    reg = DenseRegressor((16,), epochs=30, learning_rate=0.01, random_state=0).fit(X_train, y_train)
    enc = reg.keras_estimator_.target_encoder_
    assert enc.mean_[0] == pytest.approx(y_train.mean(), rel=0.02)  # the rows left after the validation split
    # predictions come back in the target's units
    assert abs(reg.predict(X_test).mean() - y_train.mean()) < 0.25 * y_train.std()
    raw = DenseRegressor((16,), epochs=30, learning_rate=0.01, random_state=0, standardize_target=False)
    raw.fit(X_train, y_train)
    assert reg.score(X_test, y_test) > raw.score(X_test, y_test)


def test_refit_full_trains_on_every_row_for_the_chosen_epochs(scaled_cancer):
    X_train, X_test, y_train, y_test = scaled_cancer
    n = len(X_train)
    clf = DenseClassifier((16,), batch_size=64, refit_full=True, random_state=0)
    clf.fit(X_train, y_train)
    assert clf.best_epoch_ is not None and clf.refit_epochs_ == clf.best_epoch_
    # the kept network took best_epoch_ passes over all n rows, not over the 90 % left
    # after the validation split
    assert int(clf.model_.optimizer.iterations) == clf.best_epoch_ * int(np.ceil(n / 64))
    # the curves are those of the run that chose the epoch count
    assert len(clf.history_["val_loss"]) == clf.n_iter_
    assert clf.score(X_test, y_test) > 0.93
    again = DenseClassifier((16,), batch_size=64, refit_full=True, random_state=0)
    np.testing.assert_allclose(
        again.fit(X_train, y_train).predict_proba(X_test), clf.predict_proba(X_test), atol=1e-6
    )


def test_refit_history_records_the_refit_run(scaled_cancer):
    X_train, _, y_train, _ = scaled_cancer
    clf = DenseClassifier((8,), epochs=6, patience=2, refit_full=True, random_state=0)
    clf.fit(X_train, y_train)
    assert clf.refit_epochs_ is not None
    # the refit's own curve: one loss per refit epoch, no validation rows
    assert set(clf.refit_history_) == {"loss"}
    assert len(clf.refit_history_["loss"]) == clf.refit_epochs_
    assert np.all(np.isfinite(clf.refit_history_["loss"]))
    # trained on every row from fresh weights: not a copy of the first run's curve
    assert clf.refit_history_["loss"] != clf.history_["loss"][: clf.refit_epochs_]
    # a later fit without a refit leaves no stale curve
    clf.fit(X_train, y_train, refit_full=False)
    assert clf.refit_history_ is None and clf.refit_epochs_ is None
    reg = DenseRegressor((8,), epochs=2, early_stopping=False).fit(X_train, y_train.astype(float))
    assert reg.refit_history_ is None


def test_refit_full_only_when_rows_were_held_out(scaled_cancer):
    X_train, X_test, y_train, y_test = scaled_cancer
    # a given validation set: every fit row already trains the network
    clf = DenseClassifier((8,), epochs=30, refit_full=True, random_state=0)
    clf.fit(X_train, y_train, validation_data=(X_test, y_test))
    assert clf.best_epoch_ is not None and clf.refit_epochs_ is None
    # per-fit override, and no early stopping: nothing to refit
    clf.fit(X_train, y_train, early_stopping=False, epochs=3)
    assert clf.refit_epochs_ is None and clf.n_iter_ == 3
    # restore_best_weights=False keeps the last epoch, so the refit runs them all
    clf.fit(X_train, y_train, refit_full=True, restore_best_weights=False, patience=2)
    assert clf.refit_epochs_ == clf.n_iter_
