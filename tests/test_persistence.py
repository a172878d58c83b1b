"""Saving and loading without pickle (skdense.persistence): round trips, tampered
files refused before anything runs, the serving export, the docs page."""

import contextlib
import copy
import json
import pickle
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skdense
from skdense import DenseClassifier, DenseRegressor, TabularPreprocessor, persistence
from skdense.persistence import MalformedFileError, UntrustedContentError, _keras_files

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(hidden_layer_sizes=(8,), epochs=3, random_state=0)


def _iris_strings(iris):
    X_train, X_test, y_train, y_test = iris
    names = np.array(["setosa", "versicolor", "virginica"])
    return X_train, X_test, names[y_train], names[y_test]


def _fit(name, iris, breast_cancer, diabetes, linnerud):
    """(fitted estimator, X_test, y_test) for each round-trip case."""
    if name == "multiclass-strings":
        X, Xt, y, yt = _iris_strings(iris)
        return DenseClassifier(**SMALL).fit(X, y), Xt, yt
    if name == "binary":  # a DataFrame: feature_names_in_ round-trips too
        X, Xt, y, yt = breast_cancer
        columns = [f"feature_{j}" for j in range(X.shape[1])]
        X, Xt = pd.DataFrame(X, columns=columns), pd.DataFrame(Xt, columns=columns)
        return DenseClassifier(**SMALL, feature_scaling=True).fit(X, y), Xt, yt
    if name == "regressor":
        X, Xt, y, yt = diabetes
        return DenseRegressor(**SMALL, standardize_target=True).fit(X, y), Xt, yt
    if name == "multi-output":
        X, y = linnerud
        return DenseRegressor(**SMALL).fit(X, y), X, y
    if name == "ensemble-periodic":
        X, Xt, y, yt = _iris_strings(iris)
        est = DenseClassifier(
            **SMALL, n_ensemble=3, numeric_embedding="periodic", lr_schedule="cosine",
            label_smoothing=0.1, class_weight={"setosa": 2.0, "versicolor": 1.0, "virginica": 1.0},
        )
        return est.fit(X, y), Xt, yt
    raise AssertionError(name)


CASES = ["multiclass-strings", "binary", "regressor", "multi-output", "ensemble-periodic"]


@pytest.fixture(scope="module")
def fitted(iris, breast_cancer, diabetes, linnerud):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _fit(name, iris, breast_cancer, diabetes, linnerud)
        return cache[name]

    return get


def _outputs(est, X, y):
    out = {"predict": est.predict(X), "score": est.score(X, y)}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
    return out


def _assert_same_outputs(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


@contextlib.contextmanager
def no_pickle():
    """Loading must not unpickle anything: pickle's loaders raise while it runs."""

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used while loading")

    with pytest.MonkeyPatch.context() as m:
        for name in ("loads", "load", "Unpickler"):
            m.setattr(pickle, name, refuse)
        yield


@pytest.mark.parametrize("case", CASES)
def test_estimator_round_trip(case, fitted, tmp_path):
    est, X, y = fitted(case)
    before = _outputs(est, X, y)
    path = tmp_path / "est.skdense"
    persistence.save(est, path)

    with no_pickle():
        back = persistence.load(path)

    assert type(back) is type(est)
    _assert_same_outputs(before, _outputs(back, X, y))
    assert back.get_params() == est.get_params()
    assert back.model_ is back.keras_estimator_.model_
    learnt = {k for k in vars(est) if k.endswith("_")}
    assert {k for k in vars(back) if k.endswith("_")} == learnt
    for key in ("history_", "n_iter_", "best_epoch_", "refit_epochs_", "n_features_in_"):
        assert getattr(back, key) == getattr(est, key), key
    if hasattr(est, "feature_names_in_"):
        assert np.array_equal(back.feature_names_in_, est.feature_names_in_)
    if hasattr(est, "classes_"):
        assert np.array_equal(back.classes_, est.classes_)
        assert back.classes_.dtype == est.classes_.dtype
    # fully usable: pickles, clones and refits like the original
    _assert_same_outputs(before, _outputs(pickle.loads(pickle.dumps(back)), X, y))
    assert clone(back).get_params() == est.get_params()
    X_fit = X[:60]
    y_fit = y[:60]
    assert back.fit(X_fit, y_fit) is back
    assert back.model_ is back.keras_estimator_.model_


def _options_case(name):
    keras = pytest.importorskip("keras")
    if name == "full-adapters":  # RandomSigns initializer, L2, dropout, AdamW, restarts
        return DenseClassifier(
            (8, 4), epochs=3, random_state=0, n_ensemble=2, ensemble_adapters="full",
            alpha=1e-4, dropout=0.2, lr_schedule="multicycle", optimizer="adamw",
            weight_decay=0.01,
        )
    if name == "keras-path":  # compiled metrics, a sparse loss, Keras's model.fit
        return DenseClassifier(
            (8,), epochs=3, random_state=0, loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    if name == "loss-object":  # a Keras loss object and a routed optimizer argument
        return DenseRegressor(
            (8,), epochs=3, random_state=0, loss=keras.losses.Huber(delta=2.0),
            optimizer__amsgrad=True, refit_full=True,
        )
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["full-adapters", "keras-path", "loss-object"])
def test_round_trip_of_options(name, iris, diabetes, tmp_path):
    X, Xt, y, yt = diabetes if name == "loss-object" else iris
    est = _options_case(name).fit(X, y)
    path = tmp_path / "est.skdense"
    persistence.save(est, path)
    back = persistence.load(path)
    assert np.array_equal(back.predict(Xt), est.predict(Xt))
    assert back.training_engine_ == est.training_engine_
    if name == "loss-object":
        # a Keras object comes back as a new object with the same configuration
        assert back.loss is not est.loss
        assert back.loss.get_config() == est.loss.get_config()
        assert back.refit_epochs_ == est.refit_epochs_
    else:
        assert back.get_params() == est.get_params()


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_loaded_estimator_trains_on_as_the_original(how, iris, tmp_path):
    """A loaded estimator continues training exactly as the saved one would: the
    optimizer state travels in the .keras file, the built-network check in the JSON."""
    X, Xt, y, yt = _iris_strings(iris)
    est = DenseClassifier(**SMALL).fit(X, y)
    path = tmp_path / "est.skdense"
    persistence.save(est, path)
    back = persistence.load(path)
    for model in (est, back):
        if how == "partial_fit":
            model.partial_fit(X, y)
        else:
            model.set_params(warm_start=True, epochs=2).fit(X, y)
    assert np.array_equal(back.predict_proba(Xt), est.predict_proba(Xt))
    assert back.n_iter_ == est.n_iter_ and back.history_ == est.history_
    back.set_params(warm_start=True, hidden_layer_sizes=(16,))
    with pytest.raises(ValueError, match=r"hidden_layer_sizes=\(8,\) -> \(16,\)"):
        back.fit(X, y)


def test_file_is_plain_json_and_keras(fitted, tmp_path):
    est, X, y = fitted("multiclass-strings")
    path = tmp_path / "est.skdense"
    persistence.save(est, path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["estimators/0.json", "estimators/0.keras", "manifest.json"]
        manifest = json.loads(zf.read("manifest.json"))
        record = json.loads(zf.read("estimators/0.json"))
    assert manifest["format"] == "skdense" and manifest["root"] == "estimator"
    assert record["class"] == "skdense.DenseClassifier"
    assert record["params"]["hidden_layer_sizes"] == {"__tuple__": [8]}
    classes = record["fitted"]["attributes"]["classes_"]["__ndarray__"]
    assert classes["data"] == ["setosa", "versicolor", "virginica"]


# What scikeras sets on its estimators (fitted attributes, private state) and its
# parameters that skdense never sets: none belongs in a file skdense writes.
SCIKERAS_NAMES = (
    "target_type_", "y_dtype_", "y_ndim_", "X_dtype_", "X_shape_", "n_outputs_expected_",
    "model_n_outputs_", "n_classes_", "skdense_task_", "skdense_units_", "feature_encoder_",
    "target_encoder_", "_random_state", "_fit_callbacks", "_predict_callbacks", "build_fn",
    "run_eagerly", "validation_batch_size", "ClassifierTargetEncoder", "RegressorTargetEncoder",
)
ENCODER_FIELDS = {
    "classification": {"task", "classes", "one_hot"},
    "regression": {"task", "standardize", "y_ndim", "mean", "scale"},
}


def _keys(node):
    """Every dict key in a JSON value, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


@pytest.mark.parametrize("case", ["multiclass-strings", "binary", "multi-output"])
def test_file_holds_skdense_fields_not_scikeras_attributes(case, fitted, tmp_path):
    from skdense._estimators.params import is_wrapper_param
    from skdense._scikeras import STATE_FIELDS

    est, X, y = fitted(case)
    path = tmp_path / "est.skdense"
    persistence.save(est, path)
    with zipfile.ZipFile(path) as zf:
        text = zf.read("estimators/0.json").decode()
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format_version"] == persistence.FORMAT_VERSION == 2
    for name in SCIKERAS_NAMES:
        assert f'"{name}"' not in text, name
    state = json.loads(text)["fitted"]["keras_estimator"]
    assert set(state) == set(STATE_FIELDS)
    assert set(state["target"]) == {"task", "classes", "standardize"}
    family = "regression" if state["target"]["task"] == "regression" else "classification"
    assert set(state["target_encoder"]) == ENCODER_FIELDS[family]
    assert state["X_dtype"] == {"__dtype__": "<f4"}
    assert state["n_features_in"] == est.n_features_in_
    assert all(is_wrapper_param(k) for k in state["params"]), sorted(state["params"])
    # no fitted or private attribute name anywhere in it (tags such as __tuple__ aside)
    odd = {k for k in _keys(state) if not k.startswith("__") and (k.endswith("_") or k.startswith("_"))}
    assert odd == set()


def _v1_states():
    """(file, estimator index, decoded format-1 state) of the files in tests/data/saved."""
    from skdense.persistence._values import decode

    for path in sorted((Path(__file__).parent / "data" / "saved").glob("*.skdense")):
        with zipfile.ZipFile(path) as zf:
            assert json.loads(zf.read("manifest.json"))["format_version"] == 1
            for name in zf.namelist():
                if name.endswith(".json") and name.startswith("estimators/"):
                    fitted = json.loads(zf.read(name))["fitted"]
                    if fitted is not None:
                        yield path.name, name, decode(fitted["keras_estimator"], name)


def test_format_1_state_converts_to_skdense_fields():
    """Files of format 1 (tests/data/saved, written by e99d76d) held the scikeras
    estimator's attributes; state_from_v1 turns them into format 2's fields, and the
    target encoder rebuilt from those is the saved one, attribute for attribute.
    (That these files load and predict bit for bit: tests/test_reference.py.)"""
    from skdense._estimators.params import is_wrapper_param
    from skdense._estimators.targets import encoder_from_state
    from skdense._scikeras import STATE_FIELDS
    from skdense.persistence._state import current_state, state_from_v1

    seen = set()
    for file, member, old in _v1_states():
        new = state_from_v1(old, member)
        assert set(new) == set(STATE_FIELDS), file
        assert current_state(old, member).keys() == new.keys()
        assert current_state(new, member) is new  # format 2 as it is
        assert all(is_wrapper_param(k) for k in new["params"])
        assert {k for k in old["params"] if not is_wrapper_param(k)} <= {
            "build_fn", "warm_start", "random_state", "validation_batch_size",
            "validation_split", "shuffle", "run_eagerly", "class_weight",
        }
        assert new["X_dtype"] == old["attributes"]["X_dtype_"] == np.dtype("float32")
        assert new["n_features_in"] == old["n_features_in"] == old["attributes"]["n_features_in_"]
        assert new["history"] == old["history"] and new["target"] == old["target"]
        encoder = encoder_from_state(new["target_encoder"])
        saved = old["target_encoder"]
        assert type(encoder).__name__ == saved["class"]
        assert vars(encoder).keys() == saved["state"].keys()
        for key, value in saved["state"].items():
            got = vars(encoder)[key]
            assert type(got) is type(value) and np.array_equal(got, value), (file, key)
            assert np.asarray(got).dtype == np.asarray(value).dtype, (file, key)
        seen.add(saved["class"])
    assert seen == {"ClassifierTargetEncoder", "RegressorTargetEncoder"}
    with pytest.raises(ValueError, match="unknown target encoder 'os.system'"):
        state_from_v1({**old, "target_encoder": {"class": "os.system", "state": {}}}, "x")
    with pytest.raises(ValueError, match="format-1 estimator state without"):
        state_from_v1({**old, "attributes": {}}, "x")


def _frame(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "size": rng.normal(size=n),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
            "count": rng.integers(0, 6, n).astype(float),
        }
    )
    y = np.where(X["size"] + (X["colour"] == "red") > 0.3, "yes", "no")
    return X, y


@pytest.mark.parametrize(
    "make",
    [
        lambda: skdense.make_dense_pipeline(DenseClassifier(**SMALL)),
        lambda: Pipeline([("prep", TabularPreprocessor()), ("net", DenseClassifier(**SMALL))]),
        lambda: Pipeline(
            [
                (
                    "prep",
                    ColumnTransformer(
                        [("num", StandardScaler(), ["size", "count"]), ("cat", OneHotEncoder(), ["colour"])]
                    ),
                ),
                ("net", DenseClassifier(**SMALL, n_ensemble=2)),
            ]
        ),
    ],
    ids=["make_dense_pipeline", "TabularPreprocessor", "ColumnTransformer-ensemble"],
)
def test_pipeline_round_trip(make, tmp_path):
    X, y = _frame()
    pipe = make().fit(X, y)
    path = tmp_path / "pipe.skdense"
    persistence.save(pipe, path)
    with no_pickle():
        back = persistence.load(path)
    assert type(back) is Pipeline
    assert np.array_equal(back.predict_proba(X), pipe.predict_proba(X))
    assert np.array_equal(back.predict(X), pipe.predict(X))
    assert back.score(X, y) == pipe.score(X, y)
    net = back[-1]
    assert net.model_ is net.keras_estimator_.model_
    assert list(back.feature_names_in_) == ["size", "colour", "count"]
    # the original pipeline was not modified by saving
    assert isinstance(pipe[-1], DenseClassifier)


@pytest.mark.parametrize("scaler", ["standard", "minmax", "robust", "quantile", "robust_clip", None])
def test_preprocessors_round_trip(scaler, tmp_path):
    """skdense's transformers load with no trusted= (their helper functions are trusted)."""
    X, _ = _frame()
    X.loc[::7, "size"] = np.nan
    X.loc[::5, "colour"] = np.nan
    prep = TabularPreprocessor(scaler=scaler, add_indicator=True).fit(X)
    path = tmp_path / "prep.skdense"
    persistence.save(prep, path)
    with no_pickle():
        back = persistence.load(path)
    assert np.array_equal(back.transform(X), prep.transform(X), equal_nan=True)

    images = np.arange(24.0).reshape(2, 3, 4)
    flatten = skdense.Flatten().fit(images)
    persistence.save(flatten, path)
    assert np.array_equal(persistence.load(path).transform(images), flatten.transform(images))


def test_auto_dense_pipeline_round_trip(tmp_path):
    X, y = _frame()
    pipe = skdense.make_dense_pipeline().set_params(
        dense__hidden_layer_sizes=(8,), dense__epochs=2, dense__random_state=0
    )
    pipe.fit(X, y)
    path = tmp_path / "auto.skdense"
    persistence.save(pipe, path)
    back = persistence.load(path)
    assert np.array_equal(back.predict_proba(X), pipe.predict_proba(X))
    assert back[-1].estimator_.model_ is back[-1].estimator_.keras_estimator_.model_


def test_shared_estimator_stays_shared(fitted, tmp_path):
    """One estimator referenced twice is stored once and comes back as one object."""
    from sklearn.model_selection import GridSearchCV

    X, y = _frame()
    search = GridSearchCV(
        skdense.make_dense_pipeline(DenseClassifier(hidden_layer_sizes=(4,), epochs=2, random_state=0)),
        {"dense__hidden_layer_sizes": [(4,), (8,)]},
        cv=2,
    ).fit(X, y)
    path = tmp_path / "search.skdense"
    persistence.save(search, path)
    with pytest.raises(UntrustedContentError, match="_PassthroughScorer"):
        persistence.load(path)
    trusted = ["sklearn.metrics._scorer._PassthroughScorer", "sklearn.model_selection._split.StratifiedKFold"]
    back = persistence.load(path, trusted=trusted)
    assert np.array_equal(back.predict_proba(X), search.predict_proba(X))
    # the scorer holds the same pipeline as the search's template
    assert search.scorer_._estimator is search.estimator
    assert back.scorer_._estimator[-1] is back.estimator[-1]
    assert not hasattr(back.estimator[-1], "model_")  # the unfitted template, parameters only
    assert back.estimator[-1].get_params() == search.estimator[-1].get_params()


# -- refused: unfitted, unstorable ------------------------------------------------


def test_unfitted_refused(tmp_path):
    path = tmp_path / "x.skdense"
    with pytest.raises(NotFittedError, match=r"save\(\) stores a fitted DenseRegressor.*Call fit"):
        persistence.save(DenseRegressor(), path)
    with pytest.raises(NotFittedError, match="this Pipeline is not fitted"):
        persistence.save(skdense.make_dense_pipeline(task="classification"), path)
    assert not path.exists()


def test_code_in_a_parameter_refused_and_nothing_written(fitted, tmp_path):
    est, X, y = fitted("regressor")
    est = copy.copy(est)
    est.callbacks = [lambda epoch: None]
    path = tmp_path / "x.skdense"
    path.write_bytes(b"previous")
    with pytest.raises(ValueError, match=r"DenseRegressor parameter 'callbacks'.*function.*pickle"):
        persistence.save(est, path)
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["x.skdense"]  # no temporary left


# -- refused: altered files, before anything runs -------------------------------


def _rewrite(path, member, data):
    """Replace one member of a zip file."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members[member] = data
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)


@pytest.fixture
def saved(fitted, tmp_path):
    est, X, y = fitted("multiclass-strings")
    path = tmp_path / "est.skdense"
    persistence.save(est, path)
    return path


def _record(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("estimators/0.json"))


def test_tampered_class_refused_without_import(saved):
    assert "smtplib" not in sys.modules
    record = _record(saved)
    record["class"] = "smtplib.SMTP"
    _rewrite(saved, "estimators/0.json", json.dumps(record))
    with no_pickle(), pytest.raises(
        UntrustedContentError, match="names the type 'smtplib.SMTP'.*nothing was loaded"
    ):
        persistence.load(saved)
    assert "smtplib" not in sys.modules


def test_tampered_value_tag_refused(saved):
    record = _record(saved)
    record["params"]["hidden_layer_sizes"] = {"__reduce__": ["os.system", ["echo hi"]]}
    _rewrite(saved, "estimators/0.json", json.dumps(record))
    with no_pickle(), pytest.raises(UntrustedContentError, match="unknown value.*__reduce__"):
        persistence.load(saved)


def test_tampered_parameter_name_refused(saved):
    record = _record(saved)
    record["params"]["predict"] = 1  # would shadow a method
    _rewrite(saved, "estimators/0.json", json.dumps(record))
    with pytest.raises(UntrustedContentError, match="'predict' is not a parameter"):
        persistence.load(saved)
    del record["params"]["predict"]
    state = record["fitted"]["keras_estimator"]
    for name in ("predict", "_random_state", "X_dtype_"):
        state["params"][name] = 1
        _rewrite(saved, "estimators/0.json", json.dumps(record))
        with pytest.raises(ValueError, match=f"invalid parameter {name!r}"):
            persistence.load(saved)
        del state["params"][name]
    state["attributes"] = {"predict": 1}  # format 1's field, beside format 2's
    _rewrite(saved, "estimators/0.json", json.dumps(record))
    with pytest.raises(ValueError, match="has the fields"):
        persistence.load(saved)


def _lambda_network(tmp_path):
    keras = pytest.importorskip("keras")
    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    return path


def test_keras_lambda_layer_refused(saved, tmp_path):
    network = _lambda_network(tmp_path)
    with pytest.raises(UntrustedContentError, match="Lambda.*stores Python code"):
        persistence.load_network(network)
    _rewrite(saved, "estimators/0.keras", network.read_bytes())
    with no_pickle(), pytest.raises(
        UntrustedContentError, match=r"estimators/0.keras holds a 'Lambda'"
    ):
        persistence.load(saved)


def test_keras_config_naming_other_module_refused(saved):
    with zipfile.ZipFile(saved) as zf:
        network = zf.read("estimators/0.keras")
    inner = Path(saved.parent / "inner.keras")
    inner.write_bytes(network)
    with zipfile.ZipFile(inner) as zf:
        config = json.loads(zf.read("config.json"))
    layer = config["config"]["layers"][1]
    layer["module"], layer["class_name"], layer["registered_name"] = "os", "system", None
    _rewrite(inner, "config.json", json.dumps(config))
    with pytest.raises(UntrustedContentError, match=r"names the Keras object os\.system"):
        persistence.load_network(inner)
    _rewrite(saved, "estimators/0.keras", inner.read_bytes())
    with pytest.raises(UntrustedContentError, match=r"os\.system"):
        persistence.load(saved)


def test_not_a_zip_refused(saved, tmp_path):
    _rewrite(saved, "estimators/0.keras", b"not a zip file")
    with pytest.raises(MalformedFileError,
                       match="is not a Keras .keras file: it does not start as a zip archive"):
        persistence.load(saved)
    junk = tmp_path / "junk.skdense"
    junk.write_bytes(b"\x80\x04junk")
    with pytest.raises(MalformedFileError, match="is not a skdense file.*not a zip archive"):
        persistence.load(junk)


class Doubler(TransformerMixin, BaseEstimator):
    """A transformer of this test module: skops does not trust it by default."""

    def fit(self, X, y=None):
        self.n_features_in_ = np.shape(X)[1]
        return self

    def transform(self, X):
        return np.asarray(X) * 2.0


def test_untrusted_type_in_skops_part_refused(iris, tmp_path):
    X, Xt, y, yt = iris
    pipe = Pipeline([("double", Doubler()), ("net", DenseClassifier(**SMALL))]).fit(X, y)
    path = tmp_path / "pipe.skdense"
    persistence.save(pipe, path)
    name = f"{Doubler.__module__}.Doubler"
    with no_pickle(), pytest.MonkeyPatch.context() as m:
        # refused before any network is loaded
        m.setattr(_keras_files, "load_keras_model", lambda path: pytest.fail("loaded a network"))
        with pytest.raises(UntrustedContentError, match=re.escape(f"trusted=['{name}']")):
            persistence.load(path)
    with no_pickle():
        back = persistence.load(path, trusted=[name])
    assert np.array_equal(back.predict_proba(Xt), pipe.predict_proba(Xt))


# -- the bare network and the serving export ------------------------------------


def test_load_network_outputs_encoded_values(fitted, tmp_path):
    est, X, y = fitted("regressor")
    path = tmp_path / "net.keras"
    est.model_.save(path)
    network = persistence.load_network(path)
    raw = np.asarray(network.predict(X.astype("float32"), verbose=0), dtype="float64")
    encoder = est.keras_estimator_.target_encoder_
    assert not np.allclose(raw.ravel(), est.predict(X))  # standardised, not the target's units
    np.testing.assert_allclose((raw * encoder.scale_ + encoder.mean_).ravel(), est.predict(X), rtol=1e-5)


@pytest.mark.parametrize("case", ["multiclass-strings", "binary", "regressor", "multi-output"])
def test_export_serving(case, fitted, tmp_path):
    tf = pytest.importorskip("tensorflow")
    est, X, y = fitted(case)
    before = _outputs(est, X, y)
    path = tmp_path / "serving"
    persistence.export_serving(est, path)
    loaded = tf.saved_model.load(str(path))  # kept: its functions need its variables
    served = loaded.serve(tf.constant(X, tf.float32)).numpy()
    info = json.loads((path / "skdense_serving.json").read_text())
    if hasattr(est, "predict_proba"):
        # TensorFlow against the NumPy forward pass: float32 rounding (test_inference.py)
        np.testing.assert_allclose(served, est.predict_proba(X), rtol=1e-5, atol=1e-6)
        labels = np.asarray(info["classes"])[served.argmax(axis=1)]
        assert np.array_equal(labels, est.predict(X))
    else:
        np.testing.assert_allclose(served, est.predict(X), rtol=1e-5, atol=1e-6)
        assert info["classes"] is None
    assert info["n_features_in"] == est.n_features_in_
    _assert_same_outputs(before, _outputs(est, X, y))  # exporting changed nothing


def test_export_serving_loads_without_skdense(fitted, tmp_path):
    """The SavedModel of an ensemble with periodic embeddings runs in a process that
    never imports skdense (TensorFlow Serving's situation)."""
    est, X, y = fitted("ensemble-periodic")
    path = tmp_path / "serving"
    persistence.export_serving(est, path)
    np.save(tmp_path / "X.npy", X.astype("float32"))
    code = (
        "import sys, numpy as np, tensorflow as tf\n"
        f"m = tf.saved_model.load({str(path)!r})\n"
        f"x = tf.constant(np.load({str(tmp_path / 'X.npy')!r}))\n"
        "out = m.signatures['serving_default'](features=x)\n"
        f"np.save({str(tmp_path / 'out.npy')!r}, list(out.values())[0].numpy())\n"
        "assert 'skdense' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, capture_output=True)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), est.predict_proba(X), rtol=1e-5,
                               atol=1e-6)


def test_export_serving_refuses_a_pipeline():
    pipe = skdense.make_dense_pipeline(task="classification")
    with pytest.raises(TypeError, match=r"Export its last step \(pipe\[-1\]\)"):
        persistence.export_serving(pipe, "unused")


# -- packaging --------------------------------------------------------------------


def test_public_names_and_no_tensorflow_on_import():
    assert skdense.save is persistence.save and skdense.load is persistence.load
    code = "import sys, skdense.persistence; assert 'tensorflow' not in sys.modules, 'TF imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _python_blocks(page):
    text = (ROOT / "docs" / page).read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_docs_page_runs():
    """docs/persistence.md: its blocks run in order, in one namespace."""
    namespace = {"__name__": "__docs__"}
    blocks = _python_blocks("persistence.md")
    assert len(blocks) >= 4
    for i, code in enumerate(blocks):
        exec(compile(code, f"docs/persistence.md[{i}]", "exec"), namespace)
