"""The outer-test predictions of a job: kept in memory, saved as ``.npz`` beside the journal.

A job that ends ``ok`` returns, beside its row, what its refitted model predicted on
the outer test fold: ``rows`` (positions of the test rows in the dataset),
``y_true``, ``y_pred`` (labels or values) and, for a classifier with
``predict_proba``, ``proba`` with its ``classes``. The blend (``_blend``) is made
from them.

With a journal, the client (never a worker) saves them to
``predictions/<digest of the job key>.npz`` in the journal's folder *before* the
job's line is appended, so a journaled job always has its file; ``--resume`` finds
the file again from the key. Files are written with ``np.savez`` through
``atomic_open`` and read with ``allow_pickle=False``: labels that are text are
stored as Unicode arrays, never as Python objects. Each file holds its job's key
(as JSON), so a file that is not the job's is not used.
"""

import json
import os
import zipfile
import zlib

import numpy as np

from ._fs import atomic_open
from ._identity import digest
from ._output import PREDICTIONS as FOLDER

FIELDS = ("rows", "y_true", "y_pred", "proba", "classes")


def folder_of(journal):
    """The predictions folder of a run whose journal is at ``journal``."""
    return os.path.join(os.path.dirname(os.path.abspath(os.fspath(journal))), FOLDER)


def filename(key):
    """The file of the job with ``key`` (a tuple, ``_journal.KEY``): ``<16 hex digits>.npz``."""
    return f"{digest(list(key))}.npz"


def _plain_labels(values):
    """Labels as an array NumPy can save without pickle (text as Unicode, numbers as numbers)."""
    a = np.asarray(values)
    if a.dtype == object:
        a = a.astype(str)
    return a


def make(rows, y_true, y_pred, proba=None, classes=None):
    """One job's predictions: a dict of arrays (``proba`` and ``classes`` for classifiers only)."""
    out = {"rows": np.asarray(rows, dtype=np.int64), "y_true": _plain_labels(y_true),
           "y_pred": _plain_labels(y_pred)}
    if proba is not None:
        out["proba"] = np.asarray(proba, dtype=np.float64)
        out["classes"] = _plain_labels(classes)
    return out


def save(folder, key, predictions):
    """Write ``predictions`` of the job ``key`` to ``folder`` (created if missing); return the path."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, filename(key))
    with atomic_open(path, "wb") as fh:
        np.savez(fh, key=np.array(json.dumps(list(key))), **predictions)
    return path


def load(folder, key):
    """The predictions of job ``key`` saved in ``folder``, or None when no sound file is there.

    A missing or unreadable file, one that holds another job's key, or one that
    lacks an array ``make`` writes, is None.
    A damaged file is unreadable whatever the damage: besides ``BadZipFile`` and
    the like, ``zipfile`` raises a ``RuntimeError`` (or a subclass) for a
    corrupted compression method or version and for an "encrypted" flag, and
    ``zlib.error`` for a deflated member that does not inflate.
    """
    path = os.path.join(folder, filename(key))
    try:
        with np.load(path, allow_pickle=False) as npz:
            if json.loads(str(npz["key"])) != json.loads(json.dumps(list(key))):
                return None
            found = {name: npz[name] for name in FIELDS if name in npz.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, RuntimeError,
            zlib.error):
        return None
    # a damaged member name loses an array: what make() writes, or nothing
    if not {"rows", "y_true", "y_pred"} <= set(found) or ("proba" in found) != ("classes" in found):
        return None
    return found
