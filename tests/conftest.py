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


# Files whose tests fit many networks or start processes: all their tests count as
# slow, so the development loop `pytest -m "not slow"` skips them (CI runs everything).
SLOW_FILES = {
    "test_cli.py", "test_common.py", "test_compare.py", "test_dask.py", "test_docs.py",
    "test_ensemble.py", "test_interrupt.py", "test_options.py", "test_persistence.py",
    "test_reference.py", "test_resources.py", "test_sparse.py", "test_incremental.py",
    "test_fit_contract.py", "test_plotting.py", "test_cache_memory.py", "test_training.py",
    "test_traces.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def rng():
    return np.random.RandomState(0)


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when a skdense module came from another checkout: an editable
    install elsewhere resolves a module name this tree no longer has (a stale
    import after a move) to that checkout's file, silently."""
    import os
    import sys

    import skdense

    root = os.path.dirname(os.path.abspath(skdense.__file__))
    foreign = sorted(
        name for name, module in list(sys.modules.items())
        if name.startswith("skdense.") and getattr(module, "__file__", None)
        and not os.path.abspath(module.__file__).startswith(root + os.sep)
    )
    if foreign:
        print(f"\nskdense modules imported from outside {root}: {foreign}")
        session.exitstatus = 1
