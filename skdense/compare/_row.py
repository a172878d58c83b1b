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
COSTS = ("latency_row_ms", "latency_1000_ms", "size_bytes", "peak_memory_mb")
"""What the refitted model costs (``_costs``); numbers, NaN where not measured."""
MEASURED = SECONDS + COSTS
"""Columns measured at run time: they differ between any two runs (and a resumed one)."""
NOTES = ("best_params", "warnings")
STATUSES = ("ok", "error")  # of a journaled row; "skipped" rows are not journaled


def columns(task):
    """The columns of a row of ``task``, in the order of the results table."""
    return (*TEXT[:4], *INTEGERS, *TEXT[4:], *METRICS[task], *SECONDS, *COSTS, *NOTES)


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


def _columns_problem(row, expected, what):
    """What is wrong with ``row``'s columns (one missing, one too many); None if nothing."""
    for name in expected:
        if name not in row:
            return f"its row has no {name!r}"
    for name in row:
        if name not in expected:
            return f"its row has a column {name!r} that {what} does not have"
    return None


def _types_problem(row, groups):
    for names, kind in groups:
        for name in names:
            found = wrong_type("its row's", name, row[name], kind)
            if found:
                return found
    return None


def problem(row):
    """What makes ``row`` (read from JSON) not a row of a job, in a few words; None if nothing.

    Scores, times and costs are numbers (NaN where there is none, as the journal
    writes it), never text; every column is there, and no other.
    """
    if not isinstance(row, dict):
        return f"its row is {shown(row)} ({type(row).__name__}); expected an object"
    task = row.get("task")
    if task not in METRICS:
        return f"its row's 'task' is {shown(task)}; expected one of {', '.join(METRICS)}"
    found = _columns_problem(row, columns(task), f"a {task} row") or _types_problem(
        row, ((TEXT + NOTES, "text"), (INTEGERS, "an integer"),
              (METRICS[task] + SECONDS + COSTS, "a number")))
    if found:
        return found
    if row["status"] not in STATUSES:
        return f"its row's 'status' is {shown(row['status'])}; expected 'ok' or 'error'"
    return None


# ------------------------------------------------- a point of a learning curve
CURVE_TEXT = ("dataset", "family", "model", "metric", "error")
CURVE_INTEGERS = ("fold", "n_train")
CURVE_NUMBERS = ("fraction", "score", "fit_seconds")
CURVE_COLUMNS = ("dataset", "family", "model", "fold", "fraction", "n_train", "metric", "score",
                 "fit_seconds", "error")
"""The columns of one learning-curve point (``_learning_curve``), in table order."""


def curve_problem(row):
    """What makes ``row`` not a learning-curve point, in a few words; None if nothing."""
    if not isinstance(row, dict):
        return f"its row is {shown(row)} ({type(row).__name__}); expected an object"
    return _columns_problem(row, CURVE_COLUMNS, "a learning-curve point") or _types_problem(
        row, ((CURVE_TEXT, "text"), (CURVE_INTEGERS, "an integer"), (CURVE_NUMBERS, "a number")))
