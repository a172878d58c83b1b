"""Built-in datasets (shipped with scikit-learn, no download), CSV loading, target checks.

Every built-in dataset is returned as a pandas DataFrame of features and a Series
(or, for the multi-output ``linnerud``, a DataFrame) target, so that built-in and
user tables go through the same preprocessing (``TabularPreprocessor``).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._estimators.task import TASKS


@dataclass(frozen=True)
class DatasetInfo:
    """What the runner needs to know about one built-in dataset."""

    name: str
    task: str
    loader: str  # name of the sklearn.datasets loader
    description: str


DATASETS = {
    "breast_cancer": DatasetInfo(
        "breast_cancer", "classification", "load_breast_cancer", "569 x 30, 2 classes"
    ),
    "wine": DatasetInfo("wine", "classification", "load_wine", "178 x 13, 3 classes"),
    "iris": DatasetInfo("iris", "classification", "load_iris", "150 x 4, 3 classes"),
    "digits": DatasetInfo("digits", "classification", "load_digits", "1797 x 64, 10 classes"),
    "diabetes": DatasetInfo("diabetes", "regression", "load_diabetes", "442 x 10, 1 target"),
    "linnerud": DatasetInfo(
        "linnerud", "regression", "load_linnerud", "20 x 3, 3 targets (multi-output)"
    ),
}
"""Built-in datasets by name: ``{name: DatasetInfo(name, task, loader, description)}``."""


def load_dataset(name):
    """Load a built-in dataset by name.

    Parameters
    ----------
    name : str
        One of ``DATASETS`` (breast_cancer, wine, iris, digits, diabetes, linnerud).

    Returns
    -------
    X : pandas.DataFrame
    y : pandas.Series or pandas.DataFrame
        A DataFrame for the multi-output ``linnerud``.
    task : {"classification", "regression"}

    Examples
    --------
    >>> from skdense.compare import load_dataset
    >>> X, y, task = load_dataset("iris")
    >>> X.shape, task
    ((150, 4), 'classification')
    """
    if name not in DATASETS:
        raise ValueError(
            f"Unknown dataset {name!r}. Built-in datasets: {', '.join(DATASETS)}."
        )
    import sklearn.datasets

    info = DATASETS[name]
    bunch = getattr(sklearn.datasets, info.loader)(as_frame=True)
    X = bunch.data.astype("float64")
    y = bunch.target
    if info.task == "regression":  # linnerud's 3 targets too
        y = y.astype("float64")
    return X, y, info.task


def check_target(y, task):
    """Raise ValueError (a message a user can act on) when ``y`` does not fit ``task``."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS} or None, got {task!r}.")
    values = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
    series = pd.Series(values.ravel()) if values.ndim == 1 or values.shape[1] == 1 else None
    if series is not None and series.isna().any():
        raise ValueError(
            f"The target has {int(series.isna().sum())} missing values; drop those rows first."
        )
    if task == "classification":
        if series is None:
            raise ValueError(
                f"The target has {values.shape[1]} columns; compare supports several target "
                "columns for regression only. Pass one target column for classification, "
                "or task='regression' to fit the columns as numbers."
            )
        counts = series.value_counts()
        if len(counts) < 2:
            raise ValueError(
                f"The target has a single value ({counts.index[0]!r}); "
                "classification needs at least 2 classes."
            )
        if pd.api.types.is_float_dtype(series) and not np.all(
            series.to_numpy() == np.round(series.to_numpy())
        ):
            raise ValueError(
                "The target has non-integer numbers, which do not fit task='classification'; "
                "use task='regression'."
            )
    else:
        frame = pd.DataFrame(values.reshape(len(values), -1))
        for col in frame:
            if not pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(
                frame[col]
            ):
                raise ValueError(
                    "The target is not numeric, which does not fit task='regression'; "
                    "use task='classification'."
                )
        if frame.isna().any().any():
            raise ValueError("The target has missing values; drop those rows first.")
        n_inf = int(np.isinf(frame.to_numpy(dtype=float)).sum())
        if n_inf:
            raise ValueError(
                f"The target has {n_inf} infinite value(s) (inf); drop those rows first."
            )
        if (frame.nunique() < 2).all():
            raise ValueError(
                "The target has a single value; there is nothing to regress on."
            )


def check_finite(X, *, lines=False):
    """Raise ValueError naming the columns of ``X`` that hold infinite values (inf, -inf).

    Missing values are fine (they are imputed); infinities are not, and every model
    would fail on them with a message that names no column. With ``lines``, rows
    are reported as lines of a CSV file with a header (row 0 is line 2).
    """
    frame = X if hasattr(X, "columns") else pd.DataFrame(np.asarray(X).reshape(len(X), -1))
    bad = []
    for col in frame.columns:
        column = frame[col]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        where = np.flatnonzero(np.isinf(column.to_numpy(dtype=float, na_value=np.nan)))
        if len(where):
            bad.append((col, where))
    if not bad:
        return
    what = "line(s)" if lines else "row(s)"
    offset = 2 if lines else 0  # +2: the header line, 1-based lines
    parts = [
        f"{col!r} ({len(where)} value(s), {what} {', '.join(str(i + offset) for i in where[:5])}"
        f"{', ...' if len(where) > 5 else ''})"
        for col, where in bad[:5]
    ]
    more = f" and {len(bad) - 5} more column(s)" if len(bad) > 5 else ""
    raise ValueError(
        f"Infinite values (inf) in column(s) {'; '.join(parts)}{more}. Replace them with "
        "finite numbers or blank them (blank = missing, imputed)."
    )


_SEPARATORS = (",", ";", "\t", "|")


def sniff_separator(path, sample_lines=50):
    """Guess the column separator of a CSV file: ``,``, ``;``, tab or ``|``.

    The guess is the candidate that splits the header and the first
    ``sample_lines`` lines into the same number of fields, more than one, taking
    the most fields (``,`` on a tie, and when no candidate is consistent).
    Quoted fields are respected.
    """
    import csv
    import itertools

    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as fh:
            sample = list(itertools.islice(fh, sample_lines))
    except OSError:
        return ","
    best, best_fields = ",", 1
    for sep in _SEPARATORS:
        counts = {len(row) for row in csv.reader(sample, delimiter=sep) if row}
        if len(counts) == 1 and (n := counts.pop()) > best_fields:
            best, best_fields = sep, n
    return best


def _separator_hint(columns, sep):
    """A sentence suggesting --sep when the header looks split by another separator."""
    if len(columns) != 1:
        return ""
    header = str(columns[0])
    for other in _SEPARATORS:
        if other != sep and other in header:
            shown = "\\t" if other == "\t" else other
            return (f" The header holds {shown!r}: if that separates the columns, pass "
                    f"--sep '{shown}' (sep={shown!r}).")
    return ""


def _check_header(path, sep):
    """Raise ValueError when a name repeats in the header row of the CSV file at ``path``.

    pandas renames a repeated name (``target, target`` becomes ``target,
    target.1``), so the header is read again here, as a row of data: the same
    parser with the same separator (a multi-character one included), quoting,
    encoding and byte-order mark as the table, but no renaming. Blank names are
    not names (pandas calls them ``Unnamed: 2``, which cannot collide).
    """
    row = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
    where = {}
    for number, name in enumerate(row.iloc[0], 1):
        if name.strip():
            where.setdefault(name, []).append(number)
    repeated = [(name, numbers) for name, numbers in where.items() if len(numbers) > 1]
    if repeated:
        shown = ", ".join(
            f"{name!r} (columns {', '.join(map(str, numbers[:-1]))} and {numbers[-1]})"
            for name, numbers in repeated
        )
        raise ValueError(f"{path} has duplicate column names: {shown}. Rename the columns so "
                         "that each name appears once.")


def load_csv(path, target, *, sep=None, decimal="."):
    """Read a user's CSV file into ``(X, y)``, with errors a user can act on.

    ``sep`` is the column separator; None guesses it (:func:`sniff_separator`:
    comma, semicolon, tab or ``|``). ``decimal`` is the decimal mark of numbers
    (``","`` for ``3,14``).

    Columns of text become categorical features (imputed and one-hot encoded by the
    preprocessing). A column that is *mostly* numbers but holds a few other entries
    (``"12"``, ``"n/a?"``, ``"13"``) is an error, not silently a category: one-hot
    encoding numbers would discard their order, and the junk is usually a typo or a
    missing-value marker. The message names the column and the offending values;
    fix them, or declare the marker with ``na_values``-style cleaning first.
    A text column whose every entry is a number with a decimal comma (``"3,14"``)
    is an error too, unless ``decimal=","``. Infinite values (``inf``) are an
    error that names their columns and lines. Empty cells (and pandas' standard
    markers such as ``NA``) are missing values. A name that repeats in the
    header (``f1,f2,target,target``) is an error that names it: pandas would
    rename the second one, and ``--target target`` would take the first.
    """
    import os

    if not os.path.isfile(path):
        raise ValueError(f"CSV file not found: {path}")
    if sep is None:
        sep = sniff_separator(path)
    try:
        frame = pd.read_csv(path, sep=sep, decimal=decimal)
    except pd.errors.EmptyDataError:
        raise ValueError(f"CSV file {path} is empty.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"Could not parse {path} as CSV: {str(exc).strip()}") from None
    _check_header(path, sep)
    if target not in frame.columns:
        raise ValueError(
            f"Target column {target!r} is not in {path}. Columns: {', '.join(map(str, frame.columns))}."
            + _separator_hint(frame.columns, sep)
        )
    if frame.shape[1] < 2:
        raise ValueError(f"{path} has no feature columns besides the target {target!r}.")
    if len(frame) < 2:
        raise ValueError(f"{path} has {len(frame)} data row(s); cross-validation needs many more.")
    y = frame[target]
    X = frame.drop(columns=[target])
    for col in X.columns:
        column = X[col]
        if column.dtype != object and not pd.api.types.is_string_dtype(column):
            continue
        present = column.dropna()
        if present.empty:
            continue
        numeric = pd.to_numeric(present, errors="coerce")
        if decimal == "." and numeric.isna().all():
            commas = pd.to_numeric(present.astype(str).str.replace(",", ".", regex=False),
                                   errors="coerce")
            if commas.notna().all():
                raise ValueError(
                    f"Column {col!r} holds numbers with a decimal comma ({present.iloc[0]!r}); "
                    "pass --decimal ',' (decimal=',') to read them as numbers."
                )
        bad = present[numeric.isna()]
        if len(bad) and numeric.notna().mean() >= 0.5:
            shown = ", ".join(repr(v) for v in pd.unique(bad)[:5])
            rows = ", ".join(str(i + 2) for i in bad.index[:5])  # +2: header line, 1-based
            raise ValueError(
                f"Column {col!r} is numeric except for {len(bad)} value(s) ({shown}) on "
                f"line(s) {rows}. Fix or blank those cells (blank = missing, imputed)."
            )
    X = X.dropna(axis=1, how="all")
    check_finite(X, lines=True)
    if pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y):
        where = np.flatnonzero(np.isinf(y.to_numpy(dtype=float, na_value=np.nan)))
        if len(where):
            raise ValueError(
                f"The target column {target!r} has {len(where)} infinite value(s) (inf) on "
                f"line(s) {', '.join(str(i + 2) for i in where[:5])}; drop those rows."
            )
    return X, y
