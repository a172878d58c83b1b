"""The plan of one fit (skdense._estimators.fit_plan): validation rows, weights, stop rule."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skdense import DenseClassifier
from skdense._estimators.fit_plan import make_plan
from skdense._estimators.params import resolve, with_data
from skdense._estimators.targets import TargetSpec


def plan_for(estimator, X, y, sample_weight=None, **fit_params):
    settings = resolve(estimator, fit_params)
    target = TargetSpec("multiclass", np.unique(y))
    settings = with_data(settings, X.shape[1])  # as the fit path: "auto" resolved
    return make_plan(settings, X, y, sample_weight, target)


def test_validation_split_is_stratified_seeded_and_from_fit_data():
    X, y = load_digits(return_X_y=True)
    clf = DenseClassifier(random_state=0, validation_split=0.2)
    plan = plan_for(clf, X, y)
    X_val, y_val = plan.validation.x, plan.validation.y
    assert len(X_val) == int(np.ceil(0.2 * len(X)))
    assert plan.n_train + len(X_val) == len(X)
    # stratified: every class's share is the same in both parts, to a row
    for c in range(10):
        assert abs((y_val == c).sum() - 0.2 * (y == c).sum()) <= 1
    # not the last rows, as keras's validation_split would take
    assert not np.array_equal(X_val, X[-len(X_val):])
    np.testing.assert_array_equal(plan_for(clf, X, y).validation.x, X_val)


def test_plan_names_what_the_training_loop_reads():
    X, y = load_digits(return_X_y=True)
    plan = plan_for(DenseClassifier(random_state=3, patience=4), X, y, epochs=7)
    assert plan.seed == 3 and plan.user_model is False
    assert plan.training.epochs == 7 and plan.training.seed == 3
    assert plan.training.stop.patience == 4
    assert plan.training.stop.monitor == "val_loss"
    assert plan_for(DenseClassifier(early_stopping=False), X, y).training.stop is None
    with pytest.raises(AttributeError):
        plan.seed = 1  # frozen


def test_class_weight_weights_validation_rows_like_training_rows():
    # The validation loss must be the objective training minimises: each
    # validation row gets its class's weight, computed on the training rows.
    X, y = load_digits(return_X_y=True)
    y = (y == 0).astype(int)  # imbalanced: about 10 % positives
    clf = DenseClassifier(random_state=0, class_weight="balanced")
    plan = plan_for(clf, X, y)
    w_val = plan.validation.sample_weight
    assert w_val is not None
    train_weight = {c: plan.sample_weight[plan.y == c][0] for c in (0, 1)}
    assert train_weight[1] > 4 * train_weight[0]
    for c in (0, 1):
        np.testing.assert_allclose(w_val[plan.validation.y == c], train_weight[c], rtol=1e-6)
    # and times the sample weights where both are given
    sw = np.linspace(1.0, 2.0, len(y))
    plan = plan_for(DenseClassifier(random_state=0, class_weight={0: 1.0, 1: 3.0}), X, y, sw)
    ratio = plan.validation.sample_weight / np.where(plan.validation.y == 1, 3.0, 1.0)
    assert ratio.min() >= 1.0 and ratio.max() <= 2.0 and np.ptp(ratio) > 0.5
