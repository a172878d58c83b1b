"""The row of one job: its columns and their types.

The runner makes one row a job (``_runner._run_job``), the journal keeps it and
checks it when it reads it back (``_journal``), and the results are a table of
rows (``CompareResult.results``). This module needs no pandas or NumPy: the
journal is read before the scientific stack is imported.
"""

from ._metrics import METRICS

TEXT = ("dataset", "task", "model", "family", "status", "error")
INTEGERS = ("fold", "repeat", "seed", "n_train", "n_test")
SECONDS = ("fit_seconds", "refit_seconds", "predict_seconds")
NOTES = ("best_params", "warnings")
STATUSES = ("ok", "error")  # of a journaled row; "skipped" rows are not journaled


def columns(task):
    """The columns of a row of ``task``, in the order of the results table."""
    return (*TEXT[:4], *INTEGERS, *TEXT[4:], *METRICS[task], *SECONDS, *NOTES)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


KINDS = {"text": lambda v: isinstance(v, str), "an integer": _is_int, "a number": _is_number}
"""What a field may hold (JSON numbers, NaN included, are numbers; true/false are not)."""


def shown(value, limit=40):
    """``repr(value)``, cut to ``limit`` characters, for a one-line message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def wrong_type(where, name, value, kind):
    """``"<where> 'name' is 'x' (str); expected <kind>"``, or None when ``value`` is of ``kind``."""
    if KINDS[kind](value):
        return None
    return f"{where} {name!r} is {shown(value)} ({type(value).__name__}); expected {kind}"


def problem(row):
    """What makes ``row`` (read from JSON) not a row of a job, in a few words; None if nothing.

    Scores and times are numbers (NaN where there is none, as the journal writes
    it), never text; every column is there, and no other.
    """
    if not isinstance(row, dict):
        return f"its row is {shown(row)} ({type(row).__name__}); expected an object"
    task = row.get("task")
    if task not in METRICS:
        return f"its row's 'task' is {shown(task)}; expected one of {', '.join(METRICS)}"
    expected = columns(task)
    for name in expected:
        if name not in row:
            return f"its row has no {name!r}"
    for name in row:
        if name not in expected:
            return f"its row has a column {name!r} that a {task} row does not have"
    for names, kind in ((TEXT + NOTES, "text"), (INTEGERS, "an integer"),
                        (METRICS[task] + SECONDS, "a number")):
        for name in names:
            found = wrong_type("its row's", name, row[name], kind)
            if found:
                return found
    if row["status"] not in STATUSES:
        return f"its row's 'status' is {shown(row['status'])}; expected 'ok' or 'error'"
    return None
