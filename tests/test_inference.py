"""The NumPy forward pass (skdense._inference) against Keras, the reference: every
architecture skdense builds, every supported activation, the output decoding,
sparse input, chunks, threads, the .keras reader without TensorFlow, and the
fallback for what it does not run.  Small networks, few epochs, fixed seeds.

Tolerance: the network's output agrees with Keras's to ``RTOL=1e-5, ATOL=1e-6``
(float32 rounding: BLAS and Eigen sum a matrix product in different orders).
Measured on the cases below (standardised inputs): the largest absolute
difference is 4.2e-7 (so ``atol=5e-7, rtol=0`` holds too), the largest
relative one 2e-5, on a regression output near 0.  The asserted tolerance
keeps a margin for other BLAS builds.  Labels are identical.  Given the same
network output, the decoding is exact (bit for bit).
"""

import concurrent.futures
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from skdense import DenseClassifier, DenseRegressor
from skdense._inference import (
    ACTIVATIONS,
    LAYERS,
    NumpyNetwork,
    OutputDecoder,
    UnsupportedNetwork,
    chunk_rows,
    network_from_config,
    network_from_keras,
    network_from_keras_file,
    predictor_for,
)

ROOT = Path(__file__).resolve().parents[1]
RTOL, ATOL = 1e-5, 1e-6
SMALL = dict(hidden_layer_sizes=(16,), epochs=3, early_stopping=False, n_ensemble=1, random_state=0)


def _keras_output(est, X):
    """The reference: Keras's own call of the network in inference mode."""
    x = X.toarray() if sp.issparse(X) else X
    return np.asarray(est.model_(np.asarray(x, dtype="float32"), training=False))


# name -> (estimator parameters, dataset fixture, classifier?)
CASES = {
    "binary": (dict(), "breast_cancer", True),
    "multiclass": (dict(), "iris", True),
    "multilabel": (dict(), "multilabel", True),
    "regression": (dict(), "diabetes", False),
    "multi-output": (dict(), "linnerud", False),
    "two-hidden-dropout": (dict(hidden_layer_sizes=(16, 8), dropout=0.3), "wine", True),
    "feature-scaling": (dict(feature_scaling=True), "iris", True),
    "periodic": (dict(numeric_embedding="periodic"), "breast_cancer", True),
    "periodic-regression": (dict(numeric_embedding="periodic", feature_scaling=True), "diabetes",
                            False),
    "ensemble-mini": (dict(n_ensemble=4, ensemble_adapters="mini"), "iris", True),
    "ensemble-full": (dict(n_ensemble=4, ensemble_adapters="full", hidden_layer_sizes=(16, 8),
                           dropout=0.1), "wine", True),
    "ensemble-none": (dict(n_ensemble=4, ensemble_adapters="none"), "breast_cancer", True),
    "ensemble-regression": (dict(n_ensemble=3, ensemble_adapters="full"), "linnerud", False),
    "ensemble-periodic": (dict(n_ensemble=3, numeric_embedding="periodic", feature_scaling=True),
                          "multilabel", True),
    "gelu": (dict(activation="gelu"), "iris", True),
    "swish": (dict(activation="swish", n_ensemble=3), "iris", True),
    "tanh": (dict(activation="tanh"), "diabetes", False),
    "elu-selu": (dict(activation="selu", hidden_layer_sizes=(8, 8)), "iris", True),
    "mish": (dict(activation="mish"), "iris", True),
}


def _data(request, fixture):
    """Training X, test X (standardised, as a Pipeline would: on raw breast_cancer
    columns in the thousands, float32 rounding of the first layer's sums alone is
    ~1e-4 of a logit), training y."""
    data = request.getfixturevalue(fixture)
    if fixture == "linnerud":
        X, y = data
        Xt = X
    else:
        X, Xt, y, _ = data
    mean, std = X.mean(0), X.std(0) + 1e-12
    return (X - mean) / std, (Xt - mean) / std, y


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request):
    params, fixture, classifier = CASES[request.param]
    X, Xt, y = _data(request, fixture)
    cls = DenseClassifier if classifier else DenseRegressor
    est = cls(**{**SMALL, **params}).fit(X, y)
    return request.param, est, Xt


def test_network_output_agrees_with_keras(fitted):
    name, est, X = fitted
    net = network_from_keras(est.model_)
    got = net.predict(X)
    want = _keras_output(est, X)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, err_msg=name)
    # ... and with the compiled forward pass the estimator predicts with today.
    np.testing.assert_allclose(got, est.model_.predict(X.astype("float32"), verbose=0),
                               rtol=RTOL, atol=ATOL, err_msg=name)


def test_predictions_agree_with_the_estimator(fitted):
    name, est, X = fitted
    predictor = predictor_for(est)
    if isinstance(est, DenseClassifier):
        np.testing.assert_array_equal(predictor.predict(X), est.predict(X), err_msg=name)
        np.testing.assert_allclose(predictor.predict_proba(X), est.predict_proba(X),
                                   rtol=RTOL, atol=ATOL, err_msg=name)
    else:
        np.testing.assert_allclose(predictor.predict(X), est.predict(X), rtol=RTOL, atol=ATOL)
        assert predictor.predict(X).shape == est.predict(X).shape


def test_decoding_is_exact_given_the_same_output(fitted):
    from skdense import _training

    name, est, X = fitted
    raw = _training.predict(est.model_, X.astype("float32"))
    decoder = OutputDecoder.from_target_encoder(est.keras_estimator_.target_encoder_)
    keras = est.keras_estimator_  # the Keras path: its forward pass, scikeras's decoding
    x32 = X.astype("float32")
    np.testing.assert_array_equal(decoder.predict(raw), keras.predict(x32), err_msg=name)
    if isinstance(est, DenseClassifier):
        np.testing.assert_array_equal(decoder.predict_proba(raw), keras.predict_proba(x32))


def test_keras_file_gives_the_same_network(fitted, tmp_path):
    name, est, X = fitted
    est.model_.save(tmp_path / "net.keras")
    from_file = network_from_keras_file(tmp_path / "net.keras")
    np.testing.assert_array_equal(from_file.predict(X), network_from_keras(est.model_).predict(X))
    assert from_file.row_floats == network_from_keras(est.model_).row_floats


# ----------------------------------------------------------------- activations
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_agrees_with_keras(name):
    from skdense._backend import load_keras

    keras = load_keras()
    x = np.concatenate([np.linspace(-30, 30, 6001), np.linspace(-2, 2, 4000),
                        [-80, -1, -0.5, -1e-8, 0, 1e-8, 0.5, 1, 80]]).astype("float32")
    x = x.reshape(-1, 5)
    want = np.asarray(keras.activations.get(name)(x))
    got = ACTIVATIONS[name](x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_every_activation_in_a_network(breast_cancer):
    """One network per activation Keras knows by name: those in the table agree with
    Keras; the rest (sparsemax...) are refused, so they predict through Keras."""
    from skdense._backend import load_keras

    keras = load_keras()
    X = breast_cancer[1][:50].astype("float32")
    X = (X - X.mean(0)) / X.std(0)
    from keras.src.activations import ALL_OBJECTS_DICT

    init = keras.initializers.GlorotUniform(seed=0)
    for name in sorted(ALL_OBJECTS_DICT):
        inputs = keras.Input((X.shape[1],))
        if name in ("threshold", "glu"):  # needs arguments; halves the width Dense declares
            continue
        h = keras.layers.Dense(8, activation=name, kernel_initializer=init)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
        if name in ACTIVATIONS:
            np.testing.assert_allclose(network_from_keras(model).predict(X),
                                       np.asarray(model(X)), rtol=RTOL, atol=ATOL, err_msg=name)
        else:
            with pytest.raises(UnsupportedNetwork, match=name):
                network_from_keras(model)


# ------------------------------------------------------------------ fallback
def test_user_model_keeps_keras(iris):
    from skdense._backend import load_keras

    keras = load_keras()
    X, _, y, _ = iris

    def build(meta, compile_kwargs):
        inputs = keras.Input((meta["n_features_in_"],))
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(inputs)
        model = keras.Model(inputs, outputs)
        model.compile(**compile_kwargs)
        return model

    est = DenseClassifier(model=build, epochs=2, random_state=0).fit(X, y)
    with pytest.raises(UnsupportedNetwork, match="model="):
        predictor_for(est)


def test_unsupported_layers_and_activations_are_named():
    from skdense._backend import load_keras

    keras = load_keras()
    inputs = keras.Input((4,))
    norm = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.BatchNormalization()(inputs)))
    with pytest.raises(UnsupportedNetwork, match="BatchNormalization"):
        network_from_keras(norm)

    def custom(x):
        return x * 2.0

    own = keras.Model(inputs, keras.layers.Dense(2, activation=custom)(inputs))
    with pytest.raises(UnsupportedNetwork, match="activation"):
        network_from_keras(own)
    branches = keras.layers.Concatenate()([keras.layers.Dense(2)(inputs), inputs])
    with pytest.raises(UnsupportedNetwork, match="chain|several"):
        network_from_keras(keras.Model(inputs, branches))
    seq = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(UnsupportedNetwork, match="Sequential"):
        network_from_keras(seq)
    half = keras.Model(inputs, keras.layers.Dense(2, dtype="float16")(inputs))
    with pytest.raises(UnsupportedNetwork, match="float16"):
        network_from_keras(half)
    # The tables list what is supported: the names a user reads in the errors.
    assert ("keras.layers", "Dense") in LAYERS and "gelu" in ACTIVATIONS


# ----------------------------------------------------------- inputs and chunks
def test_sparse_input(breast_cancer):
    X, Xt, y, _ = breast_cancer
    Xs = sp.csr_matrix(np.where(X > np.median(X, 0), X, 0.0))
    Xts = sp.csr_matrix(np.where(Xt > np.median(X, 0), Xt, 0.0))
    est = DenseClassifier(**SMALL).fit(Xs, y)
    predictor = predictor_for(est)
    np.testing.assert_allclose(predictor.predict_proba(Xts), est.predict_proba(Xts),
                               rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(predictor.predict(Xts), est.predict(Xts))


def test_chunks_give_the_rows_of_one_call(breast_cancer):
    import importlib

    keras_predict = importlib.import_module("skdense._training.predict")

    for floats in (1, 77, 10**6, 10**9):
        assert chunk_rows(floats) == keras_predict.chunk_rows(floats)
    X = breast_cancer[1]
    est = DenseClassifier(**{**SMALL, "n_ensemble": 3}).fit(*breast_cancer[0::2])
    net = network_from_keras(est.model_)
    # Make blocks of 7 rows: as many floats per row as BLOCK_BYTES / (4 * 7).
    from skdense._inference.network import BLOCK_BYTES

    small = NumpyNetwork(net.steps, net.n_features, net.n_outputs, BLOCK_BYTES // 28, net.name)
    assert small._chunk == 7
    np.testing.assert_allclose(small.predict(X), net.predict(X), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(small.predict(sp.csr_matrix(X)), net.predict(X), rtol=RTOL,
                               atol=ATOL)


def test_input_checks(iris):
    est = DenseClassifier(**SMALL).fit(*iris[0::2])
    net = network_from_keras(est.model_)
    with pytest.raises(ValueError, match="takes 4 features per row"):
        net.predict(np.zeros((2, 3)))
    with pytest.raises(AttributeError, match="immutable"):
        net.steps = ()
    with pytest.raises(AttributeError, match="immutable"):
        net.steps[0].kernel = None
    with pytest.raises(ValueError, match="read-only"):
        net.steps[0].kernel[0, 0] = 1.0
    assert net.predict(np.zeros((0, 4))).shape == (0, 3)
    # One row goes through BLAS's matrix-vector kernel, a batch through the
    # matrix-matrix one: the same values to float32 rounding (as in Keras).
    np.testing.assert_allclose(net.predict(iris[1][:1]), net.predict(iris[1])[:1],
                               rtol=RTOL, atol=ATOL)


def test_many_threads_give_the_sequential_results(breast_cancer):
    X = breast_cancer[1]
    est = DenseClassifier(**{**SMALL, "n_ensemble": 4, "numeric_embedding": "periodic"}).fit(
        *breast_cancer[0::2])
    predictor = predictor_for(est)
    rows = [X[i:i + 1 + i % 5] for i in range(len(X) - 5)]
    sequential = [predictor.predict_proba(r) for r in rows]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        threaded = list(pool.map(predictor.predict_proba, rows * 4))
    for a, b in zip(sequential * 4, threaded):
        np.testing.assert_array_equal(a, b)


def test_pickles(iris):
    import pickle

    est = DenseClassifier(**{**SMALL, "n_ensemble": 3, "ensemble_adapters": "full"}).fit(
        *iris[0::2])
    predictor = predictor_for(est)
    again = pickle.loads(pickle.dumps(predictor))
    np.testing.assert_array_equal(again.predict_proba(iris[1]), predictor.predict_proba(iris[1]))
    assert not again.network.steps[-2].kernel.flags.writeable


# ------------------------------------------------------ without TensorFlow
def test_keras_file_predicts_without_tensorflow(tmp_path, iris):
    """A new process reads the .keras member of a skdense.save file and predicts,
    importing neither TensorFlow nor Keras."""
    import skdense

    X, Xt, y, _ = iris
    est = DenseClassifier(**{**SMALL, "n_ensemble": 3, "numeric_embedding": "periodic"}).fit(X, y)
    skdense.save(est, tmp_path / "est.skdense")
    with zipfile.ZipFile(tmp_path / "est.skdense") as zf:
        member = next(n for n in zf.namelist() if n.endswith(".keras"))
    np.save(tmp_path / "x.npy", Xt)
    code = f"""
import sys, zipfile, numpy as np
from skdense._inference import network_from_keras_file
with zipfile.ZipFile({str(tmp_path / 'est.skdense')!r}) as zf:
    net = network_from_keras_file(zf.read({member!r}))
np.save({str(tmp_path / 'out.npy')!r}, net.predict(np.load({str(tmp_path / 'x.npy')!r})))
loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))
assert not loaded, loaded
"""
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), _keras_output(est, Xt),
                               rtol=RTOL, atol=ATOL)


def test_config_without_keras(iris):
    """network_from_config takes plain JSON and arrays: what a file holds."""
    import json

    est = DenseClassifier(**SMALL).fit(*iris[0::2])
    config = json.loads(json.dumps(est.model_.get_config()))
    weights = {layer.name: [np.asarray(w) for w in layer.get_weights()]
               for layer in est.model_.layers}
    net = network_from_config(config, weights)
    np.testing.assert_array_equal(net.predict(iris[1]), network_from_keras(est.model_).predict(
        iris[1]))
