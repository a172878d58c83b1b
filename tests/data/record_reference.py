"""Record the reference behaviour that the layout refactor (issue 18) must keep.

Run once, with the code before a change of structure, from the repository root:

    python tests/data/record_reference.py

It writes, next to this script,

- ``reference_predictions.npz``: the predictions of a fixed set of fits
  (``tests/reference_cases.py``), compared bit for bit by
  ``tests/test_reference.py``;
- ``saved/<name>.skdense``: fitted objects written by ``skdense.save``, and
  ``saved_predictions.npz``: what they predicted when saved; the test loads
  the files with today's code and compares the predictions exactly.

Every parameter that shapes a fit is given explicitly, so that a later
change of a default does not change these fits.
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for reference_cases

import reference_cases  # noqa: E402

import skdense  # noqa: E402


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
    print(f"{len(out)} fit outputs, {len(preds)} saved-file outputs recorded")


if __name__ == "__main__":
    main()
