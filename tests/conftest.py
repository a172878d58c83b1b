"""Shared fixtures: scikit-learn's bundled datasets (no download), split once."""

import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import train_test_split


def _split(X, y, stratify=True):
    return train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y if stratify else None
    )


@pytest.fixture(scope="session")
def breast_cancer():
    X, y = datasets.load_breast_cancer(return_X_y=True)
    return _split(X, y)


@pytest.fixture(scope="session")
def iris():
    X, y = datasets.load_iris(return_X_y=True)
    return _split(X, y)


@pytest.fixture(scope="session")
def digits():
    X, y = datasets.load_digits(return_X_y=True)
    return _split(X, y)


@pytest.fixture(scope="session")
def wine():
    X, y = datasets.load_wine(return_X_y=True)
    return _split(X, y)


@pytest.fixture(scope="session")
def diabetes():
    X, y = datasets.load_diabetes(return_X_y=True)
    return _split(X, y, stratify=False)


@pytest.fixture(scope="session")
def linnerud():
    X, y = datasets.load_linnerud(return_X_y=True)
    return X.astype(float), y.astype(float)


@pytest.fixture(scope="session")
def multilabel():
    X, y = datasets.make_multilabel_classification(
        n_samples=300, n_features=10, n_classes=4, random_state=0
    )
    return _split(X.astype(float), y, stratify=False)


@pytest.fixture
def rng():
    return np.random.RandomState(0)
