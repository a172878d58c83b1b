"""ONNX export (skdense._inference.onnx): onnxruntime's outputs agree with skdense's
predict / predict_proba to float32 rounding, for estimators and Pipelines with
TabularPreprocessor (numeric arrays, DataFrames with categorical columns), and
what cannot be converted is a clear error.  Needs the optional extra ``onnx``."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

from skdense import DenseClassifier, DenseRegressor, TabularPreprocessor  # noqa: E402
from skdense._inference import ACTIVATIONS, UnsupportedNetwork  # noqa: E402
from skdense._inference.onnx import onnx_inputs, to_onnx  # noqa: E402

SMALL = dict(hidden_layer_sizes=(16,), epochs=3, early_stopping=False, random_state=0)
ATOL = 2e-6  # probabilities: float32 throughout in ONNX, float64 decoding in skdense


def _run(model, X, sample=None):
    onx = to_onnx(model, X[:5] if sample is None else sample)
    sess = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, onnx_inputs(model, X))))


@pytest.mark.parametrize("params", [
    dict(),
    dict(n_ensemble=4, ensemble_adapters="mini"),
    dict(n_ensemble=3, ensemble_adapters="full", numeric_embedding="periodic",
         feature_scaling=True, activation="gelu"),
    dict(n_ensemble=3, ensemble_adapters="none", activation="swish"),
], ids=["mlp", "mini", "full-periodic", "none"])
def test_numeric_pipeline(params, breast_cancer, iris):
    for X, Xt, y, _ in (breast_cancer, iris):
        pipe = make_pipeline(TabularPreprocessor(), DenseClassifier(**{**SMALL, **params}))
        pipe.fit(X, y)
        out = _run(pipe, Xt)
        np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(Xt), atol=ATOL)
        np.testing.assert_array_equal(out["label"], pipe.predict(Xt))


def _table(n, seed):
    rng = np.random.RandomState(seed)
    df = pd.DataFrame({
        "age": rng.randint(18, 90, n),
        "income": rng.lognormal(10, 1, n),
        "city": rng.choice(["Oslo", "Rome", "Lima", "Pune"], n),
        "plan": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "member": rng.rand(n) > 0.5,
    })
    df.loc[rng.rand(n) < 0.1, "income"] = np.nan
    df.loc[rng.rand(n) < 0.1, "city"] = None
    y = np.where(df["age"] + 10 * (df["city"] == "Oslo") > 55, "yes", "no")
    return df, y


@pytest.mark.parametrize("pre", [dict(), dict(scaler="standard", add_indicator=True,
                                              min_frequency=40)])
def test_dataframe_with_categories(pre):
    df, y = _table(300, 0)
    test, _ = _table(60, 1)
    test.loc[0, "city"] = "Tokyo"  # unseen at fit
    pipe = make_pipeline(TabularPreprocessor(**pre), DenseClassifier(**{**SMALL,
                                                                       "n_ensemble": 3}))
    pipe.fit(df, y)
    out = _run(pipe, test, sample=df)
    np.testing.assert_allclose(out["probabilities"], pipe.predict_proba(test), atol=ATOL)
    np.testing.assert_array_equal(out["label"], pipe.predict(test))


def test_regressor_and_multilabel(diabetes, linnerud, multilabel):
    X, Xt, y, _ = diabetes
    reg = make_pipeline(StandardScaler(), DenseRegressor(**SMALL)).fit(X, y)
    out = _run(reg, Xt.astype(np.float32))
    np.testing.assert_allclose(out["variable"].ravel(), reg.predict(Xt), rtol=1e-5, atol=1e-3)
    X, Y = linnerud
    reg = DenseRegressor(**{**SMALL, "n_ensemble": 3}).fit(X, Y)
    np.testing.assert_allclose(_run(reg, X)["variable"], reg.predict(X), rtol=1e-5, atol=1e-3)
    X, Xt, y, _ = multilabel
    clf = DenseClassifier(**SMALL).fit(X, y)
    out = _run(clf, Xt)
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(Xt), atol=ATOL)
    np.testing.assert_array_equal(out["label"], clf.predict(Xt))


def test_every_activation(iris):
    X, Xt, y, _ = iris
    X, Xt = (X - X.mean(0)) / X.std(0), (Xt - X.mean(0)) / X.std(0)
    for name in sorted(ACTIVATIONS):
        if name in ("softmax", "log_softmax", "exponential"):
            continue  # as hidden activations they train to NaN or saturate in 3 epochs
        params = {**SMALL, "activation": name, "n_ensemble": 2, "epochs": 1}
        clf = DenseClassifier(**params).fit(X, y)
        out = _run(clf, Xt)
        np.testing.assert_allclose(out["probabilities"], clf.predict_proba(Xt), atol=ATOL,
                                   err_msg=name)


def test_what_cannot_be_converted_is_named(iris):
    from skdense._backend import load_keras

    keras = load_keras()
    X, _, y, _ = iris

    def build(meta, compile_kwargs):
        inputs = keras.Input((meta["n_features_in_"],))
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(
            keras.layers.BatchNormalization()(inputs)))
        model.compile(**compile_kwargs)
        return model

    clf = DenseClassifier(model=build, epochs=1, random_state=0).fit(X, y)
    with pytest.raises(UnsupportedNetwork, match="model=.*cannot be exported to ONNX"):
        to_onnx(clf, X)
    pipe = make_pipeline(TabularPreprocessor(scaler="quantile"), DenseClassifier(**SMALL))
    with pytest.raises(UnsupportedNetwork, match="scaler='quantile'"):
        to_onnx(pipe.fit(X, y), X)
