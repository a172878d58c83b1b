"""The fixed fits whose predictions ``tests/data/reference_predictions.npz`` records
(``tests/data/record_reference.py``) and ``tests/test_reference.py`` checks bit for bit.

Tiny networks, few epochs, fixed seeds, and every parameter that shapes a fit given
explicitly: a change of a default does not change these fits, a change of behaviour does.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn import datasets
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdense import DenseClassifier, DenseRegressor, TabularPreprocessor

# Every constructor parameter that shapes a fit, spelt out.
EXPLICIT = dict(
    hidden_layer_sizes=(8,),
    activation="relu",
    dropout=0.0,
    alpha=0.0,
    optimizer="adam",
    learning_rate=0.01,
    batch_size=32,
    epochs=6,
    early_stopping=True,
    validation_split=0.2,
    monitor="val_loss",
    patience=10,
    min_delta=0.0,
    restore_best_weights=True,
    refit_full=False,
    beta_1=0.9,
    beta_2=0.95,
    weight_decay=0.0,
    lr_schedule="constant",
    feature_scaling=False,
    numeric_embedding=None,
    n_ensemble=1,
    ensemble_adapters="mini",
    warm_start=False,
    random_state=0,
)


def params(**changes):
    return {**EXPLICIT, **changes}


def _iris():
    X, y = datasets.load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    return X, names[y]


def _cancer():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _diabetes():
    return datasets.load_diabetes(return_X_y=True)


def _frame():
    rng = np.random.RandomState(0)
    n = 200
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.uniform(0, 100, size=n),
            "c": rng.choice(["x", "y", "z"], size=n),
            "d": rng.randint(0, 2, size=n),
        }
    )
    y = ((df["a"] > 0) ^ (df["c"] == "x")).map({True: "yes", False: "no"}).to_numpy()
    return df, y


def _sparse():
    X, y = datasets.load_digits(return_X_y=True)
    X = sp.csr_matrix(X[:400] / 16.0)
    return X, y[:400]


def outputs(est, X):
    """What an estimator predicts on X, by name."""
    predicted = np.asarray(est.predict(X))
    if predicted.dtype == object:  # string labels; .npz keeps them without pickle as str
        predicted = predicted.astype(str)
    out = {"predict": predicted}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = np.asarray(est.predict_proba(X))
    return out


def _with_history(est, X):
    out = outputs(est, X)
    dense = est[-1] if hasattr(est, "steps") else est
    out["loss"] = np.asarray(dense.history_["loss"], dtype=np.float64)
    out["n_iter"] = np.asarray(dense.n_iter_)
    return out


FIT_CASES = (
    "classifier", "regressor", "ensemble", "sparse", "pipeline", "partial_fit",
    "refit_cosine", "warm_start",
)


def run_fit_case(name):
    """Fit case ``name`` and return its outputs (a dict of arrays)."""
    if name == "classifier":
        X, y = _iris()
        return _with_history(DenseClassifier(**params(dropout=0.1)).fit(X, y), X)
    if name == "regressor":
        X, y = _diabetes()
        return _with_history(DenseRegressor(**params(standardize_target=True)).fit(X, y), X)
    if name == "ensemble":
        X, y = _cancer()
        est = DenseClassifier(**params(n_ensemble=4, hidden_layer_sizes=(8, 8)))
        return _with_history(est.fit(X, y), X)
    if name == "sparse":
        X, y = _sparse()
        return _with_history(DenseClassifier(**params()).fit(X, y), X)
    if name == "pipeline":
        X, y = _frame()
        pipe = make_pipeline(TabularPreprocessor(), DenseClassifier(**params()))
        return _with_history(pipe.fit(X, y), X)
    if name == "partial_fit":
        X, y = _iris()
        est = DenseClassifier(**params(early_stopping=False))
        est.partial_fit(X[:75], y[:75], classes=np.unique(y))
        est.partial_fit(X[75:], y[75:])
        est.partial_fit(X, y)
        return _with_history(est, X)
    if name == "refit_cosine":
        X, y = _diabetes()
        est = DenseRegressor(**params(refit_full=True, lr_schedule="cosine", patience=2))
        out = _with_history(est.fit(X, y), X)
        out["refit_loss"] = np.asarray(est.refit_history_["loss"], dtype=np.float64)
        return out
    if name == "warm_start":
        X, y = _cancer()
        est = DenseClassifier(**params(warm_start=True, lr_schedule="cosine", epochs=3))
        est.fit(X, y)
        est.fit(X, y)
        return _with_history(est, X)
    raise AssertionError(name)


SAVE_CASES = ("classifier", "regressor", "ensemble", "pipeline", "grid_search")
# What a GridSearchCV file holds besides skops's default trusted types.
SAVE_TRUSTED = {
    "grid_search": ["sklearn.metrics._scorer._PassthroughScorer", "sklearn.model_selection._split.KFold"],
}


def save_case_data(name):
    """(X, y) of the saved-file case ``name``; the saved object predicts on X."""
    if name in ("classifier", "ensemble"):
        return _iris()
    if name == "regressor":
        X, y = datasets.load_linnerud(return_X_y=True)
        return X.astype(float), y.astype(float)
    if name == "pipeline":
        return _frame()
    if name == "grid_search":
        return _diabetes()
    raise AssertionError(name)


def fit_save_case(name):
    """(fitted object, X to predict on) for the saved-file case ``name``."""
    X, y = save_case_data(name)
    if name == "classifier":
        return DenseClassifier(**params(dropout=0.1)).fit(X, y), X
    if name == "regressor":
        return DenseRegressor(**params(feature_scaling=True)).fit(X, y), X
    if name == "ensemble":
        est = DenseClassifier(
            **params(n_ensemble=4, numeric_embedding="periodic", lr_schedule="cosine",
                     label_smoothing=0.1, class_weight="balanced")
        )
        return est.fit(X, y), X
    if name == "pipeline":
        pipe = make_pipeline(TabularPreprocessor(scaler="robust_clip"), DenseClassifier(**params()))
        return pipe.fit(X, y), X
    if name == "grid_search":
        search = GridSearchCV(
            make_pipeline(StandardScaler(), DenseRegressor(**params(epochs=2))),
            {"denseregressor__hidden_layer_sizes": [(4,), (8,)]},
            cv=2,
        )
        return search.fit(X, y), X
    raise AssertionError(name)
