"""Behaviour kept bit for bit across changes of structure (issue 18).

``tests/data/reference_predictions.npz`` holds what a fixed set of fits
(``reference_cases.py``) predicted before the layout refactor;
``tests/data/saved/`` holds files that ``skdense.save`` wrote then, with
their predictions in ``saved_predictions.npz``.  Both are compared exactly:
a difference in the last bit is a change of behaviour, with the library
versions the records were made with (``data/reference_versions.json``).  With
other versions (a newer TensorFlow, Keras or NumPy rounds differently) the
comparison allows their rounding (``OTHER_VERSIONS_RTOL``): labels identical,
values within 1e-3, so a change of skdense's behaviour still fails.  Re-record
only for an intended change of behaviour or of those versions:
``python tests/data/record_reference.py``.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import skdense
from reference_cases import FIT_CASES, SAVE_CASES, SAVE_TRUSTED, outputs, run_fit_case, save_case_data

DATA = Path(__file__).parent / "data"


def _versions():
    from importlib.metadata import version

    recorded = json.loads((DATA / "reference_versions.json").read_text())
    return recorded, {name: version(name) for name in recorded}


RECORDED_VERSIONS, VERSIONS = _versions()
SAME_VERSIONS = RECORDED_VERSIONS == VERSIONS


def test_the_records_versions_are_reported():
    # Not a failure: which comparison the tests below make, in the report (-ra).
    if not SAME_VERSIONS:
        pytest.skip(f"library versions {VERSIONS} differ from the records' {RECORDED_VERSIONS}: "
                    "outputs compared within their rounding, not bit for bit")
# Measured between numpy 2.x/TensorFlow 2.2x/Keras 3.15.0 and 3.15.1 records: up to
# 1.4e-5 on a fit's probabilities, 1e-4 on a regressor's values in target units.
OTHER_VERSIONS_RTOL, OTHER_VERSIONS_ATOL = 1e-3, 1e-4


def _recorded(file, case):
    with np.load(DATA / file, allow_pickle=False) as data:
        found = {k.split("/", 1)[1]: data[k] for k in data.files if k.split("/", 1)[0] == case}
    assert found, f"{file} has no outputs for {case!r}"
    return found


def _assert_identical(got, want):
    """Bit for bit with the recorded versions; within their rounding with others."""
    if not SAME_VERSIONS:
        return _assert_close(got, want)
    assert set(got) == set(want)
    for key, expected in want.items():
        value = np.asarray(got[key])
        assert value.dtype == expected.dtype, key
        np.testing.assert_array_equal(value, expected, err_msg=key, strict=True)


# The recorded outputs are Keras's forward pass; predict now runs in NumPy (issue 19),
# equal to float32 rounding (tests/test_inference.py).  Bit for bit, the tests below
# compare the Keras path, so the fits (and loads) stay checked to the last bit; the
# NumPy path is compared to the same records within that tolerance, labels identical.
RTOL, ATOL = 1e-5, 1e-6


def _assert_close(got, want):
    """Within float32 rounding (the NumPy path against Keras's), or, with other
    library versions than the records', within their rounding too."""
    rtol, atol = (RTOL, ATOL) if SAME_VERSIONS else (OTHER_VERSIONS_RTOL, OTHER_VERSIONS_ATOL)
    assert set(got) == set(want)
    for key, expected in want.items():
        value = np.asarray(got[key])
        assert value.dtype == expected.dtype, key
        if key == "predict" and expected.dtype.kind not in "f":
            np.testing.assert_array_equal(value, expected, err_msg=key)
        else:
            np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol, err_msg=key)


@pytest.mark.parametrize("case", FIT_CASES)
def test_fit_predictions_unchanged(case, monkeypatch):
    import reference_cases
    from skdense._estimators.base import _DenseEstimator

    through_numpy = {}
    original = reference_cases.outputs

    def both_paths(est, X):
        through_numpy.update(original(est, X))
        with monkeypatch.context() as m:
            m.setattr(_DenseEstimator, "_numpy_path", lambda self: None)  # Keras's
            return original(est, X)

    monkeypatch.setattr(reference_cases, "outputs", both_paths)
    want = _recorded("reference_predictions.npz", case)
    _assert_identical(run_fit_case(case), want)
    assert through_numpy
    _assert_close(through_numpy, {k: want[k] for k in through_numpy})


@pytest.mark.parametrize("case", SAVE_CASES)
def test_file_saved_before_loads_and_predicts_the_same(case):
    from skdense._estimators.base import _DenseEstimator

    loaded = skdense.load(DATA / "saved" / f"{case}.skdense", trusted=SAVE_TRUSTED.get(case))
    X, _ = save_case_data(case)
    want = _recorded("saved_predictions.npz", case)
    _assert_close(outputs(loaded, X), want)  # NumPy, without TensorFlow until now
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_DenseEstimator, "_numpy_path", lambda self: None)  # Keras's
        _assert_identical(outputs(loaded, X), want)


def test_other_versions_allow_their_rounding_but_not_a_change(monkeypatch):
    want = {"predict_proba": np.array([[0.25, 0.75]], dtype=np.float32),
            "predict": np.array([1])}
    rounded = {"predict_proba": want["predict_proba"] + np.float32(2e-5), "predict": np.array([1])}
    changed = {"predict_proba": want["predict_proba"] + np.float32(0.01), "predict": np.array([1])}
    this = sys.modules[__name__]
    monkeypatch.setattr(this, "SAME_VERSIONS", True)
    with pytest.raises(AssertionError):
        _assert_identical(rounded, want)
    monkeypatch.setattr(this, "SAME_VERSIONS", False)
    _assert_identical(rounded, want)
    with pytest.raises(AssertionError):
        _assert_identical(changed, want)
    with pytest.raises(AssertionError):
        _assert_identical({**rounded, "predict": np.array([0])}, want)
