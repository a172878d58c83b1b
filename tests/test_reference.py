"""Behaviour kept bit for bit across changes of structure (issue 18).

``tests/data/reference_predictions.npz`` holds what a fixed set of fits
(``reference_cases.py``) predicted before the layout refactor;
``tests/data/saved/`` holds files that ``skdense.save`` wrote then, with
their predictions in ``saved_predictions.npz``.  Both are compared exactly:
a difference in the last bit is a change of behaviour.  Re-record only for
an intended change of behaviour: ``python tests/data/record_reference.py``.
"""

from pathlib import Path

import numpy as np
import pytest

import skdense
from reference_cases import FIT_CASES, SAVE_CASES, SAVE_TRUSTED, outputs, run_fit_case, save_case_data

DATA = Path(__file__).parent / "data"


def _recorded(file, case):
    with np.load(DATA / file, allow_pickle=False) as data:
        found = {k.split("/", 1)[1]: data[k] for k in data.files if k.split("/", 1)[0] == case}
    assert found, f"{file} has no outputs for {case!r}"
    return found


def _assert_identical(got, want):
    assert set(got) == set(want)
    for key, expected in want.items():
        value = np.asarray(got[key])
        assert value.dtype == expected.dtype, key
        np.testing.assert_array_equal(value, expected, err_msg=key, strict=True)


@pytest.mark.parametrize("case", FIT_CASES)
def test_fit_predictions_unchanged(case):
    _assert_identical(run_fit_case(case), _recorded("reference_predictions.npz", case))


@pytest.mark.parametrize("case", SAVE_CASES)
def test_file_saved_before_loads_and_predicts_the_same(case):
    loaded = skdense.load(DATA / "saved" / f"{case}.skdense", trusted=SAVE_TRUSTED.get(case))
    X, _ = save_case_data(case)
    _assert_identical(outputs(loaded, X), _recorded("saved_predictions.npz", case))
