"""The data-dependent defaults (n_ensemble="auto", patience="auto") and the
ensemble's spread (DenseRegressor.predict(return_std=True)).  Small nets, few epochs."""

import numpy as np
import pytest
from sklearn.base import clone

from skdense import DenseClassifier, DenseRegressor
from skdense._estimators import params as _params
from skdense.compare._candidates import default_models


def settings_of(est, **fit_params):
    return _params.resolve(est, fit_params)


# ------------------------------------------------------------- the one rule
@pytest.mark.parametrize("cls", [DenseClassifier, DenseRegressor])
def test_defaults_are_auto(cls):
    params = cls().get_params()
    assert params["n_ensemble"] == "auto" and params["patience"] == "auto"


def test_auto_is_an_ensemble_with_longer_patience():
    s = _params.with_data(settings_of(DenseClassifier()), n_features=20)
    assert (s.n_ensemble, s.patience) == (_params.AUTO_MEMBERS, 20) == (8, 20)


@pytest.mark.parametrize(
    "params, n_features",
    [
        ({"model": lambda: None}, 20),  # the user's network: no ensemble of ours
        ({"metrics": ["accuracy"]}, 20),  # Keras would compute them on every member
        ({}, _params.AUTO_MAX_FEATURES + 1),  # wide input: k copies of the first layer
    ],
)
def test_auto_is_one_network_where_the_ensemble_does_not_apply(params, n_features):
    s = _params.with_data(settings_of(DenseClassifier(**params)), n_features=n_features)
    assert (s.n_ensemble, s.patience) == (1, 10)


def test_explicit_values_are_kept():
    s = _params.with_data(settings_of(DenseRegressor(n_ensemble=4, patience=3)), 5000)
    assert (s.n_ensemble, s.patience) == (4, 3)
    s = _params.with_data(settings_of(DenseRegressor(n_ensemble=1)), 5)
    assert (s.n_ensemble, s.patience) == (1, 10)
    s = _params.with_data(settings_of(DenseRegressor(patience=7)), 5)
    assert (s.n_ensemble, s.patience) == (8, 7)
    # A per-fit override may say "auto" too.
    s = _params.with_data(settings_of(DenseRegressor(patience=7), patience="auto"), 5)
    assert s.patience == 20


def test_a_continued_fit_keeps_the_fitted_members():
    s = _params.with_data(settings_of(DenseRegressor()), 5000, fitted_members=8)
    assert s.n_ensemble == 8


@pytest.mark.parametrize("value", ["all", 0, 2.5])
def test_bad_values_name_the_parameter_and_auto(value, diabetes):
    X, _, y, _ = diabetes
    with pytest.raises(ValueError, match=r"'n_ensemble' parameter.*'auto'"):
        DenseRegressor(n_ensemble=value).fit(X, y)


# ------------------------------------------------------------- fitted
@pytest.fixture(scope="module")
def fitted_default(diabetes):
    X, _, y, _ = diabetes
    return DenseRegressor((16,), epochs=30, learning_rate=0.01, random_state=0).fit(X, y)


def test_default_fit_records_the_members(fitted_default, diabetes):
    X, X_test, y, y_test = diabetes
    assert fitted_default.n_ensemble_ == 8
    assert fitted_default.model_.get_layer("heads").k == 8
    assert fitted_default.score(X_test, y_test) > 0.2


def test_one_network_records_one_member(iris):
    X, _, y, _ = iris
    est = DenseClassifier((8,), epochs=2, n_ensemble=1, random_state=0).fit(X, y)
    assert est.n_ensemble_ == 1
    assert "heads" not in [layer.name for layer in est.model_.layers]


def test_patience_auto_stops_an_ensemble_20_epochs_after_its_best(diabetes):
    X, _, y, _ = diabetes
    est = DenseRegressor((8,), epochs=300, learning_rate=0.05, random_state=0).fit(X, y)
    assert est.n_iter_ < 300  # it stopped early ...
    assert est.n_iter_ - est.best_epoch_ == 20  # ... after 20 epochs without improvement


def test_warm_start_continues_the_auto_ensemble(diabetes):
    X, _, y, _ = diabetes
    est = DenseRegressor((8,), epochs=3, early_stopping=False, warm_start=True, random_state=0)
    est.fit(X, y).fit(X, y)
    assert est.n_ensemble_ == 8 and est.n_iter_ == 6


# ------------------------------------------------------------- return_std
def test_return_std_is_the_members_spread_in_target_units(fitted_default, diabetes):
    X, X_test, _, _ = diabetes
    mean, std = fitted_default.predict(X_test, return_std=True)
    np.testing.assert_array_equal(mean, fitted_default.predict(X_test))
    assert std.shape == mean.shape == (len(X_test),)
    assert np.all(std > 0)
    # By hand: the members' outputs (the input of the last layer, MemberMean),
    # in standardised units, times the target's scale.
    members = fitted_default.model_.get_layer("heads").output
    import keras

    heads = keras.Model(fitted_default.model_.inputs, members)
    raw = np.asarray(heads.predict(X_test.astype("float32"), verbose=0))
    scale = fitted_default.keras_estimator_.target_encoder_.scale_
    np.testing.assert_allclose(std, raw.std(axis=1)[:, 0] * scale[0], rtol=1e-4)


def test_return_std_multioutput_shape(linnerud):
    X, y = linnerud
    est = DenseRegressor((8,), epochs=3, early_stopping=False, random_state=0).fit(X, y)
    mean, std = est.predict(X, return_std=True)
    assert mean.shape == std.shape == y.shape


def test_return_std_of_one_network_is_a_clear_error(diabetes):
    X, _, y, _ = diabetes
    est = DenseRegressor((8,), n_ensemble=1, epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"single one \(n_ensemble_=1\).*n_ensemble='auto'"):
        est.predict(X, return_std=True)


# ------------------------------------------------------------- compare
@pytest.mark.parametrize("quick", [False, True])
def test_compare_dense_row_is_the_default_network(quick):
    dense = default_models("classification", quick=quick, names=["dense"])["dense"][-1]
    defaults = DenseClassifier().get_params()
    assert dense.get_params()["n_ensemble"] == defaults["n_ensemble"] == "auto"
    assert dense.get_params()["patience"] == defaults["patience"] == "auto"
    if not quick:
        changed = {
            k: v for k, v in dense.get_params().items()
            if k in defaults and not (v is defaults[k] or v == defaults[k])
        }
        assert changed == {}, changed  # the compare row is DenseClassifier() itself
    assert clone(dense).get_params()["n_ensemble"] == "auto"


def test_return_std_of_an_ensemble_fitted_before_n_ensemble_existed(diabetes):
    """An estimator pickled or saved before n_ensemble_ existed recorded its members
    only in the parameters it was built with: return_std reads them there."""
    X, X_test, y, _ = diabetes
    est = DenseRegressor((8,), n_ensemble=4, epochs=3, early_stopping=False, random_state=0)
    est.fit(X, y)
    mean, std = est.predict(X_test, return_std=True)
    del est.n_ensemble_
    mean_old, std_old = est.predict(X_test, return_std=True)
    np.testing.assert_array_equal(std_old, std)
    np.testing.assert_array_equal(mean_old, mean)
