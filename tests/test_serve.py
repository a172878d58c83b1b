"""predict, predict_proba and score through the NumPy forward pass (issue 19, phase 2):
after fit and continued fits, after skdense.load without TensorFlow, the Keras
fallback, return_std, the fast check of a 2-D float X, threads, ONNX's public name.

Tolerance as tests/test_inference.py states it: ``RTOL=1e-5, ATOL=1e-6`` (float32
rounding: BLAS and Eigen sum a matrix product in different orders); labels identical.
"""

import concurrent.futures
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skdense
from skdense import DenseClassifier, DenseRegressor, _training
from skdense._inference import NumpyPredictor

ROOT = Path(__file__).resolve().parents[1]
RTOL, ATOL = 1e-5, 1e-6
SMALL = dict(hidden_layer_sizes=(16,), epochs=3, early_stopping=False, random_state=0)


def _std(X, Xt):
    mean, std = X.mean(0), X.std(0) + 1e-12
    return (X - mean) / std, (Xt - mean) / std


CASES = {
    "binary": (DenseClassifier, dict(n_ensemble=1), "breast_cancer"),
    "binary-ensemble": (DenseClassifier, dict(), "breast_cancer"),
    "multiclass-ensemble-full": (DenseClassifier, dict(n_ensemble=4, ensemble_adapters="full"),
                                 "iris"),
    "multilabel": (DenseClassifier, dict(numeric_embedding="periodic"), "multilabel"),
    "regression": (DenseRegressor, dict(n_ensemble=1, feature_scaling=True), "diabetes"),
    "regression-ensemble": (DenseRegressor, dict(n_ensemble=4), "diabetes"),
    "multi-output": (DenseRegressor, dict(n_ensemble=3), "linnerud"),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request):
    cls, params, fixture = CASES[request.param]
    data = request.getfixturevalue(fixture)
    if fixture == "linnerud":
        X, y = data
        Xt = X
    else:
        X, Xt, y, _ = data
    X, Xt = _std(X, Xt)
    est = cls(**{**SMALL, **params}).fit(X, y)
    return request.param, est, X, Xt, y


def _keras_predict(est, X, proba=False):
    """The Keras path (scikeras's predict with skdense's compiled forward pass)."""
    ke, X = est.keras_estimator_, np.asarray(X, dtype="float32")  # as the estimator passes it
    return ke.predict_proba(X) if proba else ke.predict(X)


def test_predictions_after_fit_equal_the_keras_path(fitted):
    name, est, _, Xt, y = fitted
    assert isinstance(est._numpy_predictor_, NumpyPredictor), name
    got = est.predict(Xt)
    want = _keras_predict(est, Xt)
    assert got.shape == want.shape and got.dtype == want.dtype
    if isinstance(est, DenseClassifier):
        np.testing.assert_array_equal(got, want, err_msg=name)
        np.testing.assert_allclose(est.predict_proba(Xt), _keras_predict(est, Xt, True),
                                   rtol=RTOL, atol=ATOL, err_msg=name)
    else:
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=name)
    # one row, float64 and float32 alike (the fast check of X)
    one = Xt[:1]
    np.testing.assert_array_equal(est.predict(one), est.predict(one.astype("float32")))
    np.testing.assert_allclose(est.predict(one) if not isinstance(est, DenseClassifier)
                               else est.predict_proba(one),
                               (want if not isinstance(est, DenseClassifier)
                                else _keras_predict(est, Xt, True))[:1], rtol=RTOL, atol=ATOL)


def test_numpy_path_is_the_one_used(fitted, monkeypatch):
    name, est, _, Xt, y = fitted
    want = est.predict(Xt)

    def no_keras(*args, **kwargs):
        raise AssertionError("predicted through Keras")

    monkeypatch.setattr(_training, "predict", no_keras)
    monkeypatch.setattr(_training, "predict_members", no_keras)
    np.testing.assert_array_equal(est.predict(Xt), want)
    est.score(Xt[: len(y)], y[: len(Xt)])
    if isinstance(est, DenseClassifier):
        est.predict_proba(Xt)
    elif est.n_ensemble_ > 1:
        est.predict(Xt, return_std=True)


def test_return_std_equals_the_keras_members(diabetes, linnerud):
    X, Xt, y, _ = diabetes
    X, Xt = _std(X, Xt)
    for est, rows in (
        (DenseRegressor(**{**SMALL, "n_ensemble": 4}).fit(X, y), Xt),
        (DenseRegressor(**{**SMALL, "n_ensemble": 3}).fit(linnerud[0], linnerud[1]), linnerud[0]),
    ):
        mean, std = est.predict(rows, return_std=True)
        outputs = _training.predict_members(est.model_, rows.astype("float32"))
        scale = est.keras_estimator_.target_encoder_.scale_
        want = (outputs.std(axis=1) * np.asarray(scale)).reshape(mean.shape)
        np.testing.assert_allclose(std, want, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(mean, _keras_predict(est, rows), rtol=RTOL, atol=ATOL)
        members = est._numpy_predictor_.network.member_outputs(rows)
        assert members.shape == outputs.shape  # (n, k, units)
        with pytest.raises(ValueError, match="single one"):
            DenseRegressor(**{**SMALL, "n_ensemble": 1}).fit(X, y).predict(Xt, return_std=True)


def test_continued_fits_rebuild_the_numpy_network(iris):
    X, Xt, y, _ = iris
    X, Xt = _std(X, Xt)
    est = DenseClassifier(**{**SMALL, "warm_start": True}).fit(X, y)
    first = est._numpy_predictor_
    before = est.predict_proba(Xt)
    est.fit(X, y)  # warm start: the weights move
    assert est._numpy_predictor_ is not first
    np.testing.assert_allclose(est.predict_proba(Xt), _keras_predict(est, Xt, True),
                               rtol=RTOL, atol=ATOL)
    assert not np.allclose(est.predict_proba(Xt), before)
    second = est._numpy_predictor_
    est.partial_fit(X, y)
    assert est._numpy_predictor_ is not second
    np.testing.assert_allclose(est.predict_proba(Xt), _keras_predict(est, Xt, True),
                               rtol=RTOL, atol=ATOL)


def test_user_model_and_predict_hooks_keep_keras(iris):
    keras = pytest.importorskip("keras")
    X, Xt, y, _ = iris

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(inputs)
        model = keras.Model(inputs, outputs)
        model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
        return model

    user = DenseClassifier(model=build, epochs=2, random_state=0).fit(X, y)
    assert user._numpy_path() is None  # the fallback
    np.testing.assert_array_equal(user.predict(Xt), _keras_predict(user, Xt))
    hooked = DenseClassifier(**SMALL, predict__batch_size=7).fit(X, y)
    assert hooked._numpy_path() is None
    np.testing.assert_array_equal(hooked.predict(Xt), _keras_predict(hooked, Xt))


def test_fast_check_keeps_every_error(iris):
    from sklearn.exceptions import NotFittedError

    X, Xt, y, _ = iris
    with pytest.raises(NotFittedError):
        DenseClassifier().predict(Xt)
    est = DenseClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but DenseClassifier is expecting 4"):
        est.predict(Xt[:, :3])
    bad = Xt[:2].copy()
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.predict(bad)
    bad[0, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.predict_proba(bad)
    with pytest.raises(ValueError, match="0 sample"):
        est.predict(Xt[:0])
    cols = ["a", "b", "c", "d"]
    named = DenseClassifier(**SMALL).fit(pd.DataFrame(X, columns=cols), y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        named.predict(Xt)
    with pytest.raises(ValueError, match="feature names"):
        named.predict(pd.DataFrame(Xt, columns=["a", "b", "c", "x"]))
    np.testing.assert_array_equal(named.predict(pd.DataFrame(Xt, columns=cols)),
                                  est.__class__(**SMALL).fit(X, y).predict(Xt))


def test_many_threads_give_the_sequential_results(breast_cancer):
    X, Xt, y, _ = breast_cancer
    X, Xt = _std(X, Xt)
    est = DenseClassifier(**SMALL).fit(X, y)
    rows = [Xt[i:i + 1 + i % 7] for i in range(64)]
    want = [est.predict_proba(r) for r in rows]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        got = list(pool.map(est.predict_proba, rows * 4))
    for g, w in zip(got, want * 4):
        np.testing.assert_array_equal(g, w)


def test_pickled_periodic_network_keeps_integer_indices(breast_cancer):
    X, Xt, y, _ = breast_cancer
    X, Xt = _std(X, Xt)
    est = DenseClassifier(**SMALL, numeric_embedding="periodic").fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(Xt), est.predict_proba(Xt))


def test_static_registered_names_match_keras():
    from skdense.persistence._keras_files import SKDENSE_REGISTERED, register_skdense_objects

    assert register_skdense_objects() == SKDENSE_REGISTERED


def test_loaded_estimator_pickles_before_and_after_the_network_loads(iris, tmp_path):
    X, Xt, y, _ = iris
    est = DenseClassifier(**SMALL).fit(X, y)
    skdense.save(est, tmp_path / "m.skdense")
    loaded = skdense.load(tmp_path / "m.skdense")
    assert "model_" not in vars(loaded) and "_network_loader" in vars(loaded)
    np.testing.assert_array_equal(loaded.predict_proba(Xt), est.predict_proba(Xt))
    again = pickle.loads(pickle.dumps(loaded))
    np.testing.assert_array_equal(again.predict_proba(Xt), est.predict_proba(Xt))
    assert again.model_.count_params() == est.model_.count_params()
    assert "_network_loader" not in vars(again)
    np.testing.assert_array_equal(again.predict_proba(Xt), est.predict_proba(Xt))


def test_load_falls_back_to_keras_for_what_numpy_does_not_run(iris, tmp_path, monkeypatch):
    from skdense import _inference

    X, Xt, y, _ = iris
    est = DenseClassifier(**SMALL).fit(X, y)
    skdense.save(est, tmp_path / "m.skdense")

    def unsupported(*args, **kwargs):
        raise _inference.UnsupportedNetwork("a layer the NumPy path does not run")

    monkeypatch.setattr(_inference, "network_from_config", unsupported)
    loaded = skdense.load(tmp_path / "m.skdense")
    assert "model_" in vars(loaded)  # loaded by Keras at once, as before
    np.testing.assert_allclose(loaded.predict_proba(Xt), est.predict_proba(Xt),
                               rtol=RTOL, atol=ATOL)


_NO_TF = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import skdense
    path, X = sys.argv[1], np.load(sys.argv[2], allow_pickle=False)
    obj = skdense.load(path, trusted=json.loads(sys.argv[3]))
    out = {"predict": obj.predict(X).tolist()}
    if hasattr(obj, "predict_proba"):
        out["proba"] = obj.predict_proba(X).tolist()
    out["loaded"] = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
    dense = obj.best_estimator_ if hasattr(obj, "best_estimator_") else (
        obj[-1] if hasattr(obj, "steps") else obj)
    if len(sys.argv) > 4:
        dense.partial_fit(X, obj.predict(X) if dense is obj else dense.predict(obj[:-1].transform(X)))
        out["after_partial_fit"] = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
        out["n_iter"] = dense.n_iter_
        out["params"] = int(dense.model_.count_params())
        dense.summary(print_fn=lambda *a, **k: None)
    print(json.dumps(out))
""")


def _in_new_process(path, X, tmp_path, *extra, trusted=()):
    np.save(tmp_path / "X.npy", X)
    script = tmp_path / "child.py"
    script.write_text(_NO_TF)
    done = subprocess.run(
        [sys.executable, str(script), str(path), str(tmp_path / "X.npy"),
         json.dumps(list(trusted)), *extra],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_load_and_predict_never_import_tensorflow(iris, tmp_path):
    from sklearn.model_selection import GridSearchCV

    X, Xt, y, _ = iris
    X, Xt = _std(X, Xt)
    est = DenseClassifier(**SMALL).fit(X, y)
    skdense.save(est, tmp_path / "est.skdense")
    out = _in_new_process(tmp_path / "est.skdense", Xt, tmp_path, "partial_fit")
    assert out["loaded"] == []
    np.testing.assert_array_equal(out["predict"], est.predict(Xt))
    np.testing.assert_array_equal(out["proba"], est.predict_proba(Xt))
    assert out["after_partial_fit"] == ["keras", "tensorflow"]  # training imports it
    assert out["n_iter"] == est.n_iter_ + 1 and out["params"] == est.model_.count_params()

    frame = pd.DataFrame(X, columns=list("abcd")).assign(
        kind=np.where(X[:, 0] > 0, "big", "small"))
    pipe = skdense.make_dense_pipeline(DenseClassifier(**SMALL)).fit(frame, y)
    skdense.save(pipe, tmp_path / "pipe.skdense")
    rows = frame.iloc[:5]
    rows.to_pickle(tmp_path / "rows.pkl")
    script = (tmp_path / "pipe.py")
    script.write_text(textwrap.dedent("""
        import json, sys
        import pandas as pd
        import skdense
        pipe = skdense.load(sys.argv[1])
        rows = pd.read_pickle(sys.argv[2])
        out = {"proba": pipe.predict_proba(rows).tolist(), "predict": pipe.predict(rows).tolist(),
               "loaded": sorted(m for m in ("tensorflow", "keras") if m in sys.modules)}
        print(json.dumps(out))
    """))
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "pipe.skdense"),
                           str(tmp_path / "rows.pkl")], capture_output=True, text=True,
                          timeout=600, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["loaded"] == []
    np.testing.assert_array_equal(out["proba"], pipe.predict_proba(rows))
    np.testing.assert_array_equal(out["predict"], pipe.predict(rows))

    search = GridSearchCV(DenseClassifier(**SMALL), {"alpha": [0.0, 1e-4]}, cv=2).fit(X, y)
    skdense.save(search, tmp_path / "search.skdense")
    out = _in_new_process(tmp_path / "search.skdense", Xt, tmp_path, trusted=[
        "sklearn.metrics._scorer._PassthroughScorer",
        "sklearn.model_selection._split.StratifiedKFold"])
    assert out["loaded"] == []
    np.testing.assert_array_equal(out["proba"], search.predict_proba(Xt))


def test_import_and_load_import_no_tensorflow():
    code = ("import sys, skdense, skdense.persistence, skdense._inference; "
            "skdense.load, skdense.to_onnx; "
            "bad = [m for m in ('tensorflow', 'keras', 'h5py', 'skl2onnx') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_to_onnx_is_public_and_names_the_extra(iris, monkeypatch):
    from skdense._inference import onnx as onnx_module

    assert "to_onnx" in skdense.__all__ and skdense.to_onnx is onnx_module.to_onnx
    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # as if not installed
    X, Xt, y, _ = iris
    est = DenseClassifier(**SMALL).fit(X, y)
    with pytest.raises(ImportError, match=r"pip install \"skdense\[onnx\]\""):
        skdense.to_onnx(est, Xt[:2])
