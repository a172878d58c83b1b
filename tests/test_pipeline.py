"""Tests for skdense.pipeline: make_dense_pipeline and AutoDense.

The task rule itself is tested in tests/test_task.py; here, that AutoDense
follows it (and agrees with ``skdense compare``), and the estimator plumbing.
"""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LogisticRegression

from skdense import DenseClassifier, DenseRegressor
from skdense.compare import compare
from skdense.pipeline import AutoDense, make_dense_pipeline

TINY = dict(hidden_layer_sizes=(4,), epochs=1, early_stopping=False, random_state=0)


def test_moved_names_say_where_they_are():
    # skdense.preprocessing no longer imports skdense.pipeline back (an import
    # circle); the names that moved there say where to import them from.
    import skdense
    import skdense.preprocessing as pre

    assert skdense.make_dense_pipeline is make_dense_pipeline
    for name in ("make_dense_pipeline", "AutoDense"):
        with pytest.raises(AttributeError, match=f"{name} is in skdense.pipeline"):
            getattr(pre, name)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        pre.nope  # noqa: B018 - the attribute access is the behaviour under test


def test_importing_pipeline_does_not_import_tensorflow():
    code = (
        "import sys, skdense.pipeline as p;"
        "p.make_dense_pipeline(); p.AutoDense().get_params();"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_task_picks_the_estimator_and_its_kind():
    clf = make_dense_pipeline(task="classification", scaler="minmax")
    assert isinstance(clf.named_steps["dense"], DenseClassifier) and is_classifier(clf)
    assert clf.named_steps["preprocess"].scaler == "minmax"
    reg = make_dense_pipeline(task="regression")
    assert isinstance(reg.named_steps["dense"], DenseRegressor) and is_regressor(reg)
    auto = make_dense_pipeline()
    assert not is_classifier(auto) and not is_regressor(auto)  # unknown until fit
    assert is_classifier(AutoDense(task="classification"))
    mine = DenseRegressor((4,))
    assert make_dense_pipeline(mine).named_steps["dense"] is mine


def test_autodense_params_clone_pickle_and_regression():
    est = AutoDense(hidden_layer_sizes=(32,), epochs=100, learning_rate=0.01, random_state=0)
    assert est.get_params(deep=False) == {
        "task": None,
        "hidden_layer_sizes": (32,),
        "epochs": 100,
        "learning_rate": 0.01,
        "random_state": 0,
    }
    deep = est.get_params(deep=True)
    assert deep["patience"] == "auto" and deep["class_weight"] is None  # every Dense parameter is listed
    twin = clone(est)
    assert twin.get_params(deep=False) == est.get_params(deep=False)
    est.set_params(patience=3, optimizer__beta_2=0.95)
    assert est.patience == 3 and est.get_params()["optimizer__beta_2"] == 0.95
    with pytest.raises(ValueError, match="Invalid parameter 'hiden_layer_sizes' for AutoDense"):
        est.set_params(hiden_layer_sizes=(3,))

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X[:, 0] ** 2 + np.sin(2 * X[:, 1]) + 0.05 * rng.normal(size=200)
    est.fit(X, y)
    assert est.task_ == "regression" and isinstance(est.estimator_, DenseRegressor)
    assert est.estimator_.get_params()["optimizer__beta_2"] == 0.95
    assert not hasattr(est, "predict_proba")
    assert est.score(X, y) > 0.5
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(again.predict(X[:5]), est.predict(X[:5]), rtol=1e-5)
    with pytest.raises(ValueError, match="class_weight, but the target is continuous"):
        clone(est).set_params(class_weight="balanced").fit(X, y)


def test_make_dense_pipeline_argument_errors():
    with pytest.raises(ValueError, match="task='classify'; allowed values are 'classification', 'regression'"):
        make_dense_pipeline(task="classify")
    with pytest.raises(ValueError, match="AutoDense got task='classify'; allowed values"):
        AutoDense(task="classify").fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="got both estimator and task"):
        make_dense_pipeline(LogisticRegression(), task="classification")
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['hidden_layer_sizes'\].*estimator=DenseClassifier"):
        make_dense_pipeline(hidden_layer_sizes=(3,))


def test_many_integer_values_are_regression_with_a_warning():
    # 30 whole-number values in 120 rows: regression (was: classification into 30
    # classes here, and regression in skdense compare); the warning says how to
    # get classification if they are labels.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = rng.integers(0, 30, 120)
    with pytest.warns(
        UserWarning,
        match=r"AutoDense: integer target with 30 distinct values \(more than 20\); treating it "
        r"as regression\. If these numbers are class labels, pass task='classification'",
    ):
        est = AutoDense(**TINY).fit(X, y)
    assert est.task_ == "regression" and isinstance(est.estimator_, DenseRegressor)
    # An explicit task is taken as given, without the warning.
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="AutoDense")
        est = AutoDense(task="classification", **TINY).fit(X, y)
    assert isinstance(est.estimator_, DenseClassifier) and len(est.classes_) == 30


def _data(case):
    rng = np.random.default_rng(0)
    if case == "30 integer classes":
        return rng.normal(size=(120, 2)), rng.integers(0, 30, 120)
    if case == "10 classes in 12 rows":
        return rng.normal(size=(12, 2)), np.r_[np.arange(10), 0, 1]
    if case == "3 integer classes":
        return rng.normal(size=(60, 2)), np.repeat([0, 1, 2], 20)
    X, y = load_diabetes(return_X_y=True)  # floats that are whole numbers: a quantity
    return X[:100], y[:100]


@pytest.mark.parametrize(
    "case", ["30 integer classes", "10 classes in 12 rows", "3 integer classes", "diabetes"]
)
def test_autodense_and_compare_decide_the_same_task(case):
    X, y = _data(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = AutoDense(**TINY).fit(X, y)
    result = compare(X, y, models=["linear"], cv=2, quick=True, progress=False)
    assert auto.task_ == result.info["tasks"]["data"]
    expected = "classification" if case == "3 integer classes" else "regression"
    assert auto.task_ == expected
