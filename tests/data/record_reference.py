"""Record the reference behaviour that the layout refactor (issue 18) must keep.

Run once, with the code before a change of structure, from the repository root:

    python tests/data/record_reference.py

It writes, next to this script,

- ``reference_predictions.npz``: the predictions of a fixed set of fits
  (``tests/reference_cases.py``), compared bit for bit by
  ``tests/test_reference.py``;
- ``saved/<name>.skdense``: fitted objects written by ``skdense.save``, and
  ``saved_predictions.npz``: what they predicted when saved; the test loads
  the files with today's code and compares the predictions exactly;
- ``reference_versions.json``: the versions of the libraries whose arithmetic
  the records hold (``VERSIONED``); with others, the test allows their rounding.

The records were re-recorded on 2026-12-07 for numpy 2.4.6, TensorFlow 2.21.0 and
Keras 3.15.1 (a fresh install no longer gave the bits of the first records) with
the code of 8b09af3, whose fits CI had shown equal to the first records; the
saved files are still the ones written before the layout refactor.

Every parameter that shapes a fit is given explicitly, so that a later
change of a default does not change these fits.
"""

import json
import os
import sys
from importlib.metadata import version

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for reference_cases

import reference_cases  # noqa: E402

import skdense  # noqa: E402

VERSIONED = ("numpy", "scipy", "scikit-learn", "tensorflow", "keras", "scikeras", "h5py")


def versions():
    """``{package: version}`` of the libraries whose arithmetic a record holds."""
    return {name: version(name) for name in VERSIONED}


def main():
    out = {}
    for name in reference_cases.FIT_CASES:
        for key, value in reference_cases.run_fit_case(name).items():
            out[f"{name}/{key}"] = value
    np.savez_compressed(os.path.join(HERE, "reference_predictions.npz"), **out)

    saved_dir = os.path.join(HERE, "saved")
    os.makedirs(saved_dir, exist_ok=True)
    preds = {}
    for name in reference_cases.SAVE_CASES:
        obj, X = reference_cases.fit_save_case(name)
        skdense.save(obj, os.path.join(saved_dir, f"{name}.skdense"))
        for key, value in reference_cases.outputs(obj, X).items():
            preds[f"{name}/{key}"] = value
    np.savez_compressed(os.path.join(HERE, "saved_predictions.npz"), **preds)
    with open(os.path.join(HERE, "reference_versions.json"), "w") as fh:
        json.dump(versions(), fh, indent=1)
    print(f"{len(out)} fit outputs, {len(preds)} saved-file outputs recorded")


if __name__ == "__main__":
    main()
