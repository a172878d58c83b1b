"""Sparse X stays sparse: minibatches are densified one at a time, never the whole matrix.

Also: predict runs in bounded chunks (the same outputs as one call).
"""

import importlib

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from skdense import DenseClassifier, DenseRegressor
from skdense import _training
from skdense._inference import NumpyPredictor, network_from_keras
from skdense._network.build import continuous_columns

predict_module = importlib.import_module("skdense._training.predict")
chunks_module = importlib.import_module("skdense._inference.chunks")  # the one chunk rule


def _problem(rows=300, cols=400, density=0.05, seed=0):
    """A float64 CSR matrix and a binary target a linear model of it separates."""
    rng = np.random.default_rng(seed)
    X = sp.random(rows, cols, density=density, format="csr", random_state=seed)
    X.data = rng.uniform(0.2, 1.0, X.nnz)
    score = X @ rng.normal(size=cols)
    return X, (score > np.median(score)).astype(int), score


@pytest.fixture
def no_full_densify(monkeypatch):
    """Make densifying more than ``limit`` rows of a sparse matrix raise; yield the
    row counts of every densify (scipy's toarray is what every densify calls)."""
    calls = []
    limit = {"rows": 64}

    def guard(original):
        def toarray(self, *args, **kwargs):
            calls.append(self.shape[0])
            if self.shape[0] > limit["rows"]:
                raise AssertionError(f"densified a {self.shape} sparse matrix whole")
            return original(self, *args, **kwargs)

        return toarray

    from scipy.sparse import _compressed, _coo

    monkeypatch.setattr(_compressed._cs_matrix, "toarray", guard(_compressed._cs_matrix.toarray))
    monkeypatch.setattr(_coo._coo_base, "toarray", guard(_coo._coo_base.toarray))
    # < 64-row chunks (raising=False: code without chunks fails on the densify instead)
    monkeypatch.setattr(chunks_module, "CHUNK_BYTES", 4 * 32 * 1000, raising=False)
    return calls


def test_sparse_fit_never_densifies_the_whole_matrix(no_full_densify):
    # The old code called X.toarray() on the whole matrix in _validate_X.
    X, y, _ = _problem()
    clf = DenseClassifier((16,), epochs=3, random_state=0).fit(X, y)
    assert clf.training_engine_ == "engine"
    assert clf.predict_proba(X).shape == (300, 2)
    assert no_full_densify and max(no_full_densify) <= 64  # predict: chunk by chunk


def test_validate_keeps_float32_csr():
    X, y, _ = _problem()
    Xv, _ = DenseClassifier()._validate_X(X.tocoo(), y, reset=True)
    assert sp.issparse(Xv) and Xv.format == "csr" and Xv.dtype == np.float32
    assert (Xv != X.astype(np.float32)).nnz == 0


@pytest.mark.parametrize("early_stopping", [False, True])
def test_classifier_sparse_equals_dense(early_stopping):
    X, y, _ = _problem()
    params = dict(hidden_layer_sizes=(16,), epochs=8, patience=2, random_state=0,
                  early_stopping=early_stopping, validation_split=0.2)
    a = DenseClassifier(**params).fit(X, y)
    b = DenseClassifier(**params).fit(X.toarray(), y)
    assert a.training_engine_ == b.training_engine_ == "engine"
    assert a.history_.keys() == b.history_.keys()
    for key in a.history_:
        np.testing.assert_allclose(a.history_[key], b.history_[key], rtol=1e-5)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X.toarray()), atol=1e-5)


def test_regressor_sparse_equals_dense_with_validation_split_and_weights():
    X, _, score = _problem(seed=1)
    w = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    params = dict(hidden_layer_sizes=(16,), epochs=6, patience=2, random_state=0)
    a = DenseRegressor(**params).fit(X, score, sample_weight=w)
    b = DenseRegressor(**params).fit(X.toarray(), score, sample_weight=w)
    np.testing.assert_allclose(a.history_["val_loss"], b.history_["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(a.predict(X), b.predict(X.toarray()), rtol=1e-4, atol=1e-4)


def _dense(X):
    """X densified without toarray() (which the guard below watches)."""
    coo = X.tocoo()
    out = np.zeros(X.shape, X.dtype)
    np.add.at(out, (coo.row, coo.col), coo.data)
    return out


def test_sparse_validation_data(no_full_densify):
    X, y, _ = _problem(rows=400)
    params = dict(hidden_layer_sizes=(16,), epochs=5, patience=2, random_state=0)
    a = DenseClassifier(**params).fit(X[:300], y[:300], validation_data=(X[300:], y[300:]))
    assert a.training_engine_ == "engine" and len(a.history_["val_loss"]) == a.n_iter_
    D = _dense(X)
    b = DenseClassifier(**params).fit(D[:300], y[:300], validation_data=(D[300:], y[300:]))
    np.testing.assert_allclose(a.history_["val_loss"], b.history_["val_loss"], rtol=1e-5)


def test_dense_validation_data_with_sparse_x_matches():
    X, y, _ = _problem(rows=400)
    params = dict(hidden_layer_sizes=(16,), epochs=4, patience=2, random_state=0)
    a = DenseClassifier(**params).fit(X[:300], y[:300], validation_data=(X[300:], y[300:]))
    b = DenseClassifier(**params).fit(X[:300], y[:300],
                                      validation_data=(X[300:].toarray(), y[300:]))
    np.testing.assert_allclose(a.history_["val_loss"], b.history_["val_loss"], rtol=1e-6)


def test_wide_validation_chunks_are_bounded(monkeypatch):
    # Validation rows go through in chunks of at most EVAL_BYTES of input: the
    # loss is the same whatever the chunk size (weighted by rows).
    engine = importlib.import_module("skdense._training.engine")
    X, y, _ = _problem()
    assert engine.eval_rows(100_000) == 167
    params = dict(hidden_layer_sizes=(8,), epochs=3, random_state=0, validation_split=0.3)
    a = DenseClassifier(**params).fit(X, y)
    monkeypatch.setattr(engine, "EVAL_BYTES", 4 * 400 * 7)  # 7-row chunks: a new trace
    from skdense._training import clear_cache

    clear_cache()
    b = DenseClassifier(**params).fit(X, y)
    np.testing.assert_allclose(a.history_["val_loss"], b.history_["val_loss"], rtol=1e-5)


def test_sparse_and_dense_fits_use_different_cached_graphs():
    from skdense._training import cache_info

    X, y, _ = _problem()
    params = dict(hidden_layer_sizes=(13,), epochs=1, early_stopping=False, random_state=0)
    before = cache_info()["train_keys"]
    DenseClassifier(**params).fit(X, y)
    DenseClassifier(**params).fit(X.toarray(), y)
    DenseClassifier(**params).fit(X, y)
    assert cache_info()["train_keys"] - before == 2


def _corpus(n, seed=0):
    """Documents of random words; the label says whether "good" words outnumber "bad" ones
    (three of one kind, one of the other, among twelve filler words)."""
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(300)]
    good, bad = ["great", "fine", "superb"], ["awful", "poor", "dull"]
    docs, labels = [], []
    for _ in range(n):
        label = int(rng.integers(2))
        mood = rng.choice(good if label else bad, size=3)
        other = rng.choice(bad if label else good, size=1)
        words = [*rng.choice(filler, size=12), *mood, *other]
        rng.shuffle(words)
        docs.append(" ".join(words))
        labels.append(label)
    return docs, np.array(labels)


def test_tfidf_pipeline(no_full_densify):
    docs, y = _corpus(600)
    pipe = make_pipeline(TfidfVectorizer(),
                         DenseClassifier((32,), epochs=30, learning_rate=0.01, random_state=0))
    pipe.fit(docs[:500], y[:500])
    assert pipe[-1].n_features_in_ > 300
    assert pipe.score(docs[500:], y[500:]) > 0.8


def test_keras_path_feeds_densified_minibatches(no_full_densify):
    keras = pytest.importorskip("keras")
    X, y, _ = _problem()
    seen = []

    class Widths(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    clf = DenseClassifier((16,), epochs=3, patience=1, n_ensemble=1, random_state=0,
                          feature_scaling=True, callbacks=[Widths()]).fit(X, y)
    assert clf.training_engine_ == "keras"
    assert seen and clf.n_iter_ >= 1 and len(clf.history_["val_loss"]) == clf.n_iter_
    assert max(no_full_densify) <= 64  # batches of batch_size rows
    dense = DenseClassifier((16,), epochs=3, patience=1, n_ensemble=1, random_state=0,
                            feature_scaling=True, callbacks=[Widths()]).fit(_dense(X), y)
    assert abs(clf.score(X, y) - dense.score(_dense(X), y)) < 0.1


def test_keras_path_refuses_fit_validation_split_with_sparse_x():
    X, y, _ = _problem()
    clf = DenseClassifier((8,), epochs=1, early_stopping=False, fit__validation_split=0.2)
    with pytest.raises(ValueError, match="fit__validation_split cannot be used with sparse X"):
        clf.fit(X, y)
    assert DenseClassifier((8,), epochs=1, early_stopping=False,
                           fit__validation_split=0.2).fit(X.toarray(), y).n_iter_ == 1


def test_feature_scaling_and_periodic_embedding_on_sparse_x():
    X, y, _ = _problem(cols=30, density=0.2)
    for params in (dict(feature_scaling=True), dict(numeric_embedding="periodic")):
        a = DenseClassifier((8,), epochs=3, random_state=0, **params).fit(X, y)
        b = DenseClassifier((8,), epochs=3, random_state=0, **params).fit(X.toarray(), y)
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X.toarray()), atol=1e-5)


def test_continuous_columns_of_sparse_match_dense():
    rng = np.random.default_rng(0)
    dense = np.zeros((50, 6))
    dense[:, 0] = rng.normal(size=50)  # continuous
    dense[::2, 1] = 1.0  # binary, with implicit zeros
    dense[:, 2] = rng.integers(0, 2, 50) * 3 + 1  # two values, no zeros
    dense[:3, 3] = [1.0, 2.0, 5.0]  # three values with the zeros
    dense[:, 4] = [1.0, 2.0, 3.0] * 16 + [1.0, 2.0]  # three values, no zeros
    assert continuous_columns(sp.csr_matrix(dense)) == continuous_columns(dense) == [0, 3, 4]


def test_batched_predict_equals_one_call(monkeypatch):
    X, y, score = _problem()
    clf = DenseClassifier((16,), epochs=2, random_state=0).fit(X.toarray(), y)
    reg = DenseRegressor((16,), epochs=2, random_state=0).fit(X, score)
    whole_c, whole_r = clf.predict_proba(X.toarray()), reg.predict(X)
    whole_k = _training.predict(clf.model_, X.toarray())
    monkeypatch.setattr(chunks_module, "CHUNK_BYTES", 4 * 1000 * 7)  # a handful of rows
    assert predict_module.chunk_rows(1000) == 7
    # the NumPy path, with networks built under the small chunks
    clf._numpy_predictor_ = NumpyPredictor(network_from_keras(clf.model_),
                                           clf._numpy_predictor_.decoder)
    reg._numpy_predictor_ = NumpyPredictor(network_from_keras(reg.model_),
                                           reg._numpy_predictor_.decoder)
    assert clf._numpy_predictor_.network._chunk < 300
    # (BLAS may sum a block of rows in another order: float32 rounding, as
    # tests/test_inference.py states)
    close = dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X.toarray()), whole_c, **close)
    np.testing.assert_allclose(clf.predict_proba(X), whole_c, **close)  # sparse, chunk by chunk
    np.testing.assert_allclose(reg.predict(X), whole_r, **close)
    # the compiled Keras forward pass, with the same rule
    np.testing.assert_allclose(_training.predict(clf.model_, X.toarray()), whole_k, **close)
    np.testing.assert_allclose(_training.predict(clf.model_, X), whole_k, **close)


def test_predict_chunk_size_follows_the_network_width():
    X, y, _ = _problem()
    clf = DenseClassifier((16,), epochs=1, early_stopping=False, n_ensemble=1).fit(X, y)
    compiled = predict_module._compiled(clf.model_)
    # input 400 + input layer 400 + hidden 16 + dropout 16 + output 1
    assert compiled.row_floats == 833
    assert predict_module.chunk_rows(compiled.row_floats) == (64 << 20) // (4 * 833)


def test_docs_sparse_page_runs(capsys):
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "sparse.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    assert blocks
    namespace = {"__name__": "__docs__"}
    for block in blocks:
        exec(compile(block, "docs/sparse.md", "exec"), namespace)
    assert "held-out accuracy" in capsys.readouterr().out
    assert namespace["text_clf"].score(namespace["docs"][500:], namespace["labels"][500:]) > 0.8


def test_memory_guard_counts_sparse_x_by_its_stored_values(monkeypatch):
    from skdense._network import memory as _resources

    X, y, _ = _problem(rows=2000, cols=100_000, density=0.0005)  # dense float32: 0.8 GB
    assert _resources.input_bytes(X) == X.nnz * 12 + 2001 * 8
    assert _resources.input_bytes(X.toarray()) == 2000 * 100_000 * 4
    one_gb = _resources.AvailableMemory(1 << 30, "test")
    monkeypatch.setattr(_resources, "available_memory", lambda: one_gb)
    clf = DenseClassifier((8,), epochs=1, early_stopping=False, random_state=0).fit(X, y)
    assert clf.n_iter_ == 1
    with pytest.raises(MemoryError):  # the same rows dense need 1.6 GB of data copies
        DenseClassifier((8,), epochs=1, early_stopping=False).fit(X[:1500].toarray(), y[:1500])


def test_in_place_worker_trains_sparse_x_like_the_cloned_one(monkeypatch):
    cache = importlib.import_module("skdense._training.cache")
    X, y, _ = _problem()
    params = dict(hidden_layer_sizes=(16,), epochs=4, patience=2, random_state=0)
    cloned = DenseClassifier(**params).fit(X, y)
    monkeypatch.setattr(cache, "IN_PLACE_BYTES", 0)  # every network trains in place
    in_place = DenseClassifier(**params).fit(X, y)
    assert in_place.history_ == cloned.history_
    np.testing.assert_array_equal(in_place.predict_proba(X), cloned.predict_proba(X))


def test_warm_start_and_partial_fit_on_sparse_x(no_full_densify):
    X, y, _ = _problem()
    clf = DenseClassifier((16,), epochs=2, early_stopping=False, warm_start=True, random_state=0)
    clf.fit(X, y).fit(X, y)
    clf.partial_fit(X[:100], y[:100])
    assert clf.training_engine_ == "engine" and clf.predict(X).shape == (300,)
