"""TensorFlow is imported lazily and quietly, whatever log level the user set."""

import logging
import os
import subprocess
import sys

import pytest

from skdense import _backend

# Run in a fresh interpreter: `import skdense` must not import TensorFlow, and the
# first fit on generated data must print nothing.  The user's level must be left as
# set, and TensorFlow's Python logger must follow it.
_FIT = """
import os, sys
import skdense
assert "tensorflow" not in sys.modules and "keras" not in sys.modules
import numpy as np
from skdense import DenseClassifier
X = np.random.default_rng(0).normal(size=(40, 3))
DenseClassifier((4,), epochs=2, early_stopping=False).fit(X, X[:, 0] > 0)
import tensorflow as tf
assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == {level!r}, os.environ["TF_CPP_MIN_LOG_LEVEL"]
assert tf.get_logger().level == {python_level}, tf.get_logger().level
"""

# Fit once in the parent (which sets the level when unset), then in two loky workers,
# which inherit the parent's environment and import TensorFlow themselves.
_WORKERS = """
import numpy as np
from sklearn.model_selection import cross_val_score
from skdense import DenseClassifier
X = np.random.default_rng(0).normal(size=(40, 3))
y = X[:, 0] > 0
clf = DenseClassifier((4,), epochs=2, early_stopping=False)
clf.fit(X, y)
scores = cross_val_score(clf, X, y, cv=2, n_jobs=2)
assert len(scores) == 2
"""


def _run(code, level):
    """Run `code` in a fresh interpreter with TF_CPP_MIN_LOG_LEVEL set to `level` (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["OMP_NUM_THREADS"] = "1"
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )


@pytest.mark.parametrize(
    "level, effective, python_level",
    [
        (None, "2", logging.ERROR),  # unset: skdense chooses 2
        ("1", "1", logging.WARNING),
        ("2", "2", logging.ERROR),
        ("3", "3", logging.CRITICAL),
    ],
    ids=["unset", "1", "2", "3"],
)
def test_import_is_light_and_first_fit_is_quiet(level, effective, python_level):
    proc = _run(_FIT.format(level=effective, python_level=python_level), level)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == "", proc.stderr + proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("level", [None, "3"], ids=["unset", "3"])
def test_joblib_workers_are_quiet(level):
    proc = _run(_WORKERS, level)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == "", proc.stderr + proc.stdout


@pytest.mark.parametrize(
    "value, hide, python_level",
    [
        (None, True, logging.ERROR),
        ("1", True, logging.WARNING),
        ("2", True, logging.ERROR),
        ("3", True, logging.CRITICAL),
        ("5", True, logging.CRITICAL),
        # 0 asks for every log line: start-up lines shown, TF's Python logger untouched
        ("0", False, None),
        # TensorFlow reads a value it cannot parse as 0; so does skdense
        ("verbose", False, None),
    ],
)
def test_log_policy_follows_the_users_level(monkeypatch, value, hide, python_level):
    # setenv first, so that monkeypatch restores both variables as they were, even unset
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "tensorflow"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    if value is None:
        monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", value)
    policy = _backend._quiet_environment()
    assert policy == _backend.LogPolicy(hide_startup=hide, python_level=python_level)
    # the user's value is never changed; unset becomes skdense's 2, inherited by workers
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == (value or "2")


def test_silenced_stderr_hides_start_up_lines(capfd):
    with _backend._silenced_stderr(True):
        os.write(2, b"I0000 port.cc:153] oneDNN custom operations are on.\n")
    assert capfd.readouterr().err == ""


def test_silenced_stderr_gives_the_lines_back_when_the_import_fails(capfd):
    with pytest.raises(ImportError, match="no libcudart"), _backend._silenced_stderr(True):
        os.write(2, b"E0000 dso_loader.cc] Could not load libcudart.so.12\n")
        raise ImportError("no libcudart")
    assert capfd.readouterr().err == "E0000 dso_loader.cc] Could not load libcudart.so.12\n"
