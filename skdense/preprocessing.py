"""Preprocessing for dense networks, as scikit-learn transformers.

Dense (MLP) networks need a 2-D float matrix with no missing values, on a
sensible scale.  This module turns real inputs into that matrix inside a
:class:`~sklearn.pipeline.Pipeline`, so the preprocessing is fitted on the
training folds only and travels with the model:

- :class:`TabularPreprocessor`: a pandas DataFrame (or a numpy array) with
  numeric, boolean and categorical columns and missing values -> float32.
- :class:`Flatten`: images ``(n, h, w[, c])`` -> ``(n, h*w[*c])``.

The one-line way in, ``make_dense_pipeline().fit(df, y)``, and ``AutoDense``
live in :mod:`skdense.pipeline`; their old names here still work.

Only scikit-learn, numpy and pandas are imported here.
"""

import numbers
import warnings

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.compose import ColumnTransformer
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["TabularPreprocessor", "Flatten"]

# make_dense_pipeline and AutoDense live in skdense.pipeline (which imports this
# module); an old import from here says where they are rather than import them back.
_MOVED = {"make_dense_pipeline": "skdense.pipeline", "AutoDense": "skdense.pipeline"}


def __getattr__(name):
    if name in _MOVED:
        raise AttributeError(
            f"{name} is in {_MOVED[name]}, not {__name__}: "
            f"`from {_MOVED[name]} import {name}`."
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------
# Column coercion helpers (module level so that fitted objects pickle).
# --------------------------------------------------------------------------


def _to_float(X):
    """Numeric or boolean DataFrame columns (any pandas dtype, pd.NA included) -> float64.

    Inside the fitted ColumnTransformer ``X`` is always a DataFrame: fit and
    transform turn every input into one first (``_as_frame``).
    """
    return np.column_stack(
        [
            pd.to_numeric(X.iloc[:, j], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
            for j in range(X.shape[1])
        ]
    )


def _category_labels(column):
    """One column -> object array of str labels, missing values as np.nan.

    Labels are strings so that mixed columns (``[1, "a"]``) sort, and a
    whole-number float (``3.0``, what an int column becomes once it holds a
    NaN) gives the same label as the int ``3``.
    """
    return _labels_of(pd.Series(column).astype(object).to_numpy())


def _labels_of(values):
    """:func:`_category_labels` of a 1-D object array of the column's values."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            out[i] = np.nan
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out[i] = str(int(v))
        else:
            out[i] = str(v)
    return out


def _to_labels(X):
    """Categorical DataFrame columns -> 2-D object array of str labels (np.nan for missing)."""
    return np.column_stack([_category_labels(X.iloc[:, j]) for j in range(X.shape[1])])


def smooth_clip(X):
    """Clip smoothly to (-3, 3): ``x / sqrt(1 + (x / 3) ** 2)``.

    Close to the identity for ``|x| << 3`` and bounded by 3 in absolute
    value, so outliers cannot dominate a dense layer's pre-activations.
    """
    X = np.asarray(X, dtype=np.float64)
    return X / np.sqrt(1.0 + (X / 3.0) ** 2)


def _make_scaler(name, n_samples):
    if name == "minmax":
        return MinMaxScaler()
    if name == "standard":
        return StandardScaler()
    if name == "robust":
        return RobustScaler()
    if name == "quantile":
        return QuantileTransformer(
            output_distribution="normal", n_quantiles=max(1, min(1000, n_samples))
        )
    if name == "robust_clip":
        return make_pipeline(
            RobustScaler(),
            FunctionTransformer(smooth_clip, feature_names_out="one-to-one"),
        )
    return "passthrough"  # scaler=None


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Turn a mixed-type table into a float32 matrix a dense network can use.

    Each column's kind is decided at ``fit`` from its dtype (or from the
    explicit ``categorical_features`` / ``numeric_features`` lists):

    - numeric (int, float, nullable ``Int64``/``Float64``): missing values
      imputed (``numeric_imputer``), optional missing-value indicators, then
      scaled (``scaler``);
    - boolean (``bool``, nullable ``boolean``, object columns holding only
      True/False): imputed with the most frequent value, encoded 0/1;
    - categorical (``str``/``string``, ``object`` holding strings,
      ``category``): imputed (``categorical_imputer``), then one-hot encoded;
      categories not seen at fit are encoded as all zeros.

    Columns with a single value (counting "missing" as a value) are dropped;
    columns with no observed value are dropped with a warning.  Datetime,
    timedelta, period, interval and complex columns, and object columns that
    hold lists, dicts or other containers, raise a ``ValueError`` naming the
    column: extract numeric features from them first.

    Parameters
    ----------
    scaler : {"standard", "minmax", "robust", "quantile", "robust_clip"} or None, \
            default="robust_clip"
        How numeric columns are scaled after imputation. ``"standard"``: zero
        mean, unit variance. ``"minmax"``: to [0, 1]. ``"robust"``: median and
        inter-quartile range (IQR). ``"quantile"``: rank-based map to a
        standard normal (any monotone distribution becomes Gaussian).
        ``"robust_clip"``: median/IQR scaling then the smooth clip
        ``x / sqrt(1 + (x/3)**2)`` (bounded to (-3, 3); for heavy tails). The
        default, chosen on skdense's development suite (docs: "Why these
        defaults").
        ``None``: no scaling.
    numeric_imputer : {"median", "mean"}, default="median"
        How missing numeric values are filled.
    add_indicator : bool, default=False
        Add a 0/1 column per numeric column that had missing values at fit.
    categorical_imputer : {"most_frequent", "missing"}, default="most_frequent"
        Fill missing categories with the most frequent one, or treat
        ``"missing"`` as a category of its own.
    min_frequency : int, float or None, default=None
        Categories seen fewer times than this (or in a smaller fraction of
        rows, if a float in (0, 1)) are grouped into one "infrequent" column.
        Passed to :class:`~sklearn.preprocessing.OneHotEncoder`.
    max_categories : int or None, default=None
        At most this many one-hot columns per categorical column, the rarest
        categories grouped as "infrequent".
    categorical_features : list of str or int, or None, default=None
        Columns (names, or positions) to treat as categorical whatever their
        dtype, e.g. integer codes.
    numeric_features : list of str or int, or None, default=None
        Columns to treat as numeric whatever their dtype.
    drop_constant : bool, default=True
        Drop columns with a single distinct value at fit.

    Attributes
    ----------
    column_transformer_ : sklearn.compose.ColumnTransformer
        The fitted composition of imputers, scalers and encoders that does
        the work; it accepts the same input as this transformer.
    numeric_features_, boolean_features_, categorical_features_ : list
        Column names (or ``"x<i>"`` for arrays) in each group.
    dropped_features_ : dict
        Column name -> reason (``"constant"`` or ``"all missing"``).
    n_features_in_ : int
        Number of input columns seen at fit.
    feature_names_in_ : ndarray of str
        Input column names; only when ``X`` at fit was a DataFrame whose
        column names are all strings.

    See Also
    --------
    make_dense_pipeline : This transformer followed by a Dense estimator.
    sklearn.compose.ColumnTransformer : Per-column preprocessing by hand.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skdense.preprocessing import TabularPreprocessor
    >>> df = pd.DataFrame({"age": [22.0, np.nan, 41.0, 35.0],
    ...                    "city": ["Oslo", "Rome", None, "Oslo"]})
    >>> pre = TabularPreprocessor(scaler="minmax").fit(df)
    >>> pre.get_feature_names_out().tolist()
    ['numeric__age', 'categorical__city_Oslo', 'categorical__city_Rome']
    >>> pre.transform(df).dtype
    dtype('float32')
    """

    _parameter_constraints = {
        "scaler": [
            StrOptions({"standard", "minmax", "robust", "quantile", "robust_clip"}),
            None,
        ],
        "numeric_imputer": [StrOptions({"median", "mean"})],
        "add_indicator": ["boolean"],
        "categorical_imputer": [StrOptions({"most_frequent", "missing"})],
        "min_frequency": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
            None,
        ],
        "max_categories": [Interval(numbers.Integral, 2, None, closed="left"), None],
        "categorical_features": ["array-like", str, numbers.Integral, None],
        "numeric_features": ["array-like", str, numbers.Integral, None],
        "drop_constant": ["boolean"],
    }

    def __init__(
        self,
        scaler="robust_clip",
        *,
        numeric_imputer="median",
        add_indicator=False,
        categorical_imputer="most_frequent",
        min_frequency=None,
        max_categories=None,
        categorical_features=None,
        numeric_features=None,
        drop_constant=True,
    ):
        self.scaler = scaler
        self.numeric_imputer = numeric_imputer
        self.add_indicator = add_indicator
        self.categorical_imputer = categorical_imputer
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.categorical_features = categorical_features
        self.numeric_features = numeric_features
        self.drop_constant = drop_constant

    # ---------------------------------------------------------------- checks
    @staticmethod
    def _as_frame(X, where):
        """X -> (DataFrame with str column names, feature names or None)."""
        if isinstance(X, pd.DataFrame):
            names = list(X.columns)
            if not names:
                raise ValueError(
                    f"TabularPreprocessor.{where} got 0 feature(s) (shape={X.shape}) while "
                    "a minimum of 1 is required."
                )
            duplicated = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
            if duplicated:
                raise ValueError(
                    f"TabularPreprocessor.{where} got duplicate column name(s) {duplicated}; "
                    "column names must be unique."
                )
            if all(isinstance(c, str) for c in names):
                return X, np.asarray(names, dtype=object)
            X = X.copy(deep=False)
            X.columns = [str(c) for c in names]
            return X, None
        if isinstance(X, pd.Series):
            raise ValueError(
                f"TabularPreprocessor.{where} got a pandas Series; pass a DataFrame "
                "(e.g. series.to_frame()) or a 2-D array."
            )
        if hasattr(X, "toarray") or hasattr(X, "tocsr"):
            raise ValueError(
                f"TabularPreprocessor.{where} got a sparse matrix; it expects a DataFrame "
                "or a dense 2-D array (call X.toarray() if it fits in memory)."
            )
        arr = np.asarray(X)
        if arr.ndim != 2:
            hint = (
                " For images, put skdense.preprocessing.Flatten() in the pipeline instead."
                if arr.ndim > 2
                else " Reshape your data: X.reshape(-1, 1) for a single feature."
            )
            raise ValueError(
                f"TabularPreprocessor.{where} expects 2-D input (n_samples, n_features); "
                f"got an array with {arr.ndim} dimension(s), shape {arr.shape}.{hint}"
            )
        if arr.shape[1] == 0:
            raise ValueError(
                f"TabularPreprocessor.{where} got 0 feature(s) (shape={arr.shape}) while "
                "a minimum of 1 is required."
            )
        cols = [f"x{j}" for j in range(arr.shape[1])]
        if arr.dtype == object:
            return pd.DataFrame(arr, columns=cols, dtype=object), None
        return pd.DataFrame(arr, columns=cols), None

    def _resolve_explicit(self, listed, param, columns, feature_names):
        """User list of names/positions -> set of internal column names."""
        if listed is None:
            return set()
        if isinstance(listed, (str, numbers.Integral)):
            listed = [listed]
        out = set()
        for item in listed:
            if isinstance(item, numbers.Integral) and not isinstance(item, bool):
                if not -len(columns) <= item < len(columns):
                    raise ValueError(
                        f"TabularPreprocessor: {param} has position {item}, but X has "
                        f"{len(columns)} columns."
                    )
                out.add(columns[item])
            elif isinstance(item, str):
                if feature_names is None or item not in columns:
                    known = list(columns) if feature_names is not None else "none (X has no column names; use positions)"
                    raise ValueError(
                        f"TabularPreprocessor: {param} names column {item!r}, which is not "
                        f"in X. Known columns: {known}."
                    )
                out.add(item)
            else:
                raise ValueError(
                    f"TabularPreprocessor: {param} must list column names (str) or "
                    f"positions (int); got {item!r}."
                )
        return out

    @staticmethod
    def _unsupported(col, kind, hint):
        return ValueError(
            f"TabularPreprocessor cannot use column {col!r}: it holds {kind}. {hint} "
            "Then pass the result, or drop the column."
        )

    def _detect_kind(self, col, series):
        """Return 'numeric', 'boolean', 'categorical' or raise for unsupported dtypes."""
        dtype = series.dtype
        if ptypes.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
            raise self._unsupported(
                col,
                f"dates ({dtype})",
                f"Extract numeric features first, e.g. df[{col!r}].dt.year, "
                f".dt.dayofweek, or (df[{col!r}] - reference).dt.days.",
            )
        if ptypes.is_timedelta64_dtype(dtype):
            raise self._unsupported(
                col,
                f"durations ({dtype})",
                f"Convert it to a number first, e.g. df[{col!r}].dt.total_seconds().",
            )
        if isinstance(dtype, pd.IntervalDtype) or ptypes.is_complex_dtype(dtype):
            raise self._unsupported(
                col,
                f"values of dtype {dtype} (Complex data not supported)",
                "Convert it to real numbers or strings first.",
            )
        if isinstance(dtype, pd.CategoricalDtype):
            return "categorical"
        if ptypes.is_bool_dtype(dtype):
            return "boolean"
        if ptypes.is_numeric_dtype(dtype):
            return "numeric"
        if ptypes.is_string_dtype(dtype) and not ptypes.is_object_dtype(dtype):
            return "categorical"  # pandas 3 "str", "string[python]", "string[pyarrow]"
        if ptypes.is_object_dtype(dtype):
            non_missing = series[series.notna()]
            for v in non_missing:
                if isinstance(v, (list, tuple, dict, set, frozenset, np.ndarray, pd.Series)):
                    raise self._unsupported(
                        col,
                        f"nested values such as {type(v).__name__} ({v!r:.40})",
                        "Expand them into one column per element (e.g. pd.json_normalize, "
                        "Series.str.len, MultiLabelBinarizer) first.",
                    )
            inferred = ptypes.infer_dtype(non_missing, skipna=True)
            if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
                return "numeric"
            if inferred == "boolean":
                return "boolean"
            if inferred in ("datetime", "datetime64", "date", "time", "period"):
                raise self._unsupported(
                    col,
                    f"date/time objects ({inferred})",
                    f"Extract numeric features first (pd.to_datetime(df[{col!r}]).dt.year, ...).",
                )
            if inferred == "timedelta":
                raise self._unsupported(
                    col,
                    "durations (timedelta objects)",
                    f"Convert it first, e.g. pd.to_timedelta(df[{col!r}]).dt.total_seconds().",
                )
            if inferred == "complex":
                raise self._unsupported(
                    col,
                    "complex numbers (Complex data not supported)",
                    "Split real and imaginary parts first.",
                )
            return "categorical"  # strings, bytes, mixed strings and numbers, ...
        raise self._unsupported(
            col, f"values of dtype {dtype}", "Convert it to numbers or strings first."
        )

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Decide each column's kind, then fit the imputers, scalers and encoders.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : TabularPreprocessor
        """
        frame, names = self._as_frame(X, "fit")
        if frame.shape[0] == 0:
            raise ValueError("TabularPreprocessor.fit got 0 samples; at least 1 is required.")
        columns = list(frame.columns)
        forced_cat = self._resolve_explicit(
            self.categorical_features, "categorical_features", columns, names
        )
        forced_num = self._resolve_explicit(
            self.numeric_features, "numeric_features", columns, names
        )
        both = forced_cat & forced_num
        if both:
            raise ValueError(
                "TabularPreprocessor: columns listed in both categorical_features and "
                f"numeric_features: {sorted(both)}."
            )

        kinds, dropped = {}, {}
        all_missing = []
        for col in columns:
            s = frame[col]
            if col in forced_cat:
                kind = "categorical"
            elif col in forced_num:
                try:
                    _to_float(s.to_frame())
                except (TypeError, ValueError) as exc:
                    raise ValueError(
                        f"TabularPreprocessor: numeric_features lists column {col!r}, "
                        f"but its values are not numbers ({exc})."
                    ) from None
                kind = "numeric"
            else:
                kind = self._detect_kind(col, s)
            if s.isna().all():
                dropped[col] = "all missing"
                all_missing.append(col)
                continue
            if self.drop_constant and s.nunique(dropna=False) <= 1:
                dropped[col] = "constant"
                continue
            kinds[col] = kind
        if all_missing:
            warnings.warn(
                f"TabularPreprocessor: dropping column(s) {all_missing} with no observed "
                "value at fit (all missing).",
                UserWarning,
                stacklevel=2,
            )
        if not kinds:
            raise ValueError(
                "TabularPreprocessor: no usable column left after dropping "
                f"{dropped} (constant or all-missing columns; with 1 sample every "
                "column is constant). Pass drop_constant=False to keep constant columns."
            )

        numeric = [c for c in columns if kinds.get(c) == "numeric"]
        boolean = [c for c in columns if kinds.get(c) == "boolean"]
        categorical = [c for c in columns if kinds.get(c) == "categorical"]

        transformers = []
        if numeric:
            transformers.append(
                (
                    "numeric",
                    make_pipeline(
                        FunctionTransformer(_to_float, feature_names_out="one-to-one"),
                        SimpleImputer(strategy=self.numeric_imputer),
                        _make_scaler(self.scaler, frame.shape[0]),
                    ),
                    numeric,
                )
            )
            if self.add_indicator:
                transformers.append(
                    (
                        "missing",
                        make_pipeline(
                            FunctionTransformer(_to_float, feature_names_out="one-to-one"),
                            MissingIndicator(features="missing-only", error_on_new=False),
                        ),
                        numeric,
                    )
                )
        if boolean:
            transformers.append(
                (
                    "boolean",
                    make_pipeline(
                        FunctionTransformer(_to_float, feature_names_out="one-to-one"),
                        SimpleImputer(strategy="most_frequent"),
                    ),
                    boolean,
                )
            )
        if categorical:
            if self.categorical_imputer == "missing":
                imputer = SimpleImputer(strategy="constant", fill_value="missing")
            else:
                imputer = SimpleImputer(strategy="most_frequent")
            grouped = self.min_frequency is not None or self.max_categories is not None
            transformers.append(
                (
                    "categorical",
                    make_pipeline(
                        FunctionTransformer(_to_labels, feature_names_out="one-to-one"),
                        imputer,
                        OneHotEncoder(
                            handle_unknown="infrequent_if_exist" if grouped else "ignore",
                            min_frequency=self.min_frequency,
                            max_categories=self.max_categories,
                            sparse_output=False,
                            dtype=np.float32,
                        ),
                    ),
                    categorical,
                )
            )
        ct = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
        # Keep the inner output numpy whatever the global transform_output; our
        # own set_output (from TransformerMixin) decides what users get.
        ct.set_output(transform="default")
        with warnings.catch_warnings():
            # SimpleImputer(most_frequent) on str labels may warn about ties; harmless.
            warnings.simplefilter("ignore", category=FutureWarning)
            ct.fit(frame)

        self.column_transformer_ = ct
        self.numeric_features_ = numeric
        self.boolean_features_ = boolean
        self.categorical_features_ = categorical
        self.dropped_features_ = dropped
        self.n_features_in_ = len(columns)
        self._columns_in = columns
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    # ------------------------------------------------------------- transform
    def _check_columns(self, frame, had_names):
        expected = self._columns_in
        fitted_with_names = hasattr(self, "feature_names_in_")
        if fitted_with_names and not had_names:
            if frame.shape[1] != len(expected):
                raise ValueError(
                    f"X has {frame.shape[1]} features, but TabularPreprocessor is expecting "
                    f"{len(expected)} features as input (the DataFrame columns {expected})."
                )
            frame = frame.set_axis(expected, axis=1)
            return frame
        if not fitted_with_names and had_names:
            # Fitted on an array: use positions, as scikit-learn does.
            if frame.shape[1] != len(expected):
                raise ValueError(
                    f"X has {frame.shape[1]} features, but TabularPreprocessor is "
                    f"expecting {len(expected)} features as input."
                )
            return frame.set_axis(expected, axis=1)
        got = list(frame.columns)
        if got == expected:
            return frame
        missing = [c for c in expected if c not in got]
        extra = [c for c in got if c not in expected]
        if missing or extra:
            if not fitted_with_names:
                raise ValueError(
                    f"X has {len(got)} features, but TabularPreprocessor is "
                    f"expecting {len(expected)} features as input."
                )
            msg = "TabularPreprocessor: X's columns differ from those seen at fit."
            if missing:
                msg += f" Missing column(s): {missing}."
            if extra:
                msg += f" Unexpected column(s): {extra}."
            if missing and extra:
                msg += " Was a column renamed?"
            raise ValueError(msg)
        return frame[expected]  # same columns in another order: select by name

    def transform(self, X):
        """Impute, scale and encode ``X`` with what was learnt at fit.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Same columns as at fit (by name for DataFrames; order may differ).

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features_out), float32
        """
        check_is_fitted(self, "column_transformer_")
        out = _direct_transform(self, X)
        if out is not None:
            return out
        return self._transform_with_column_transformer(X)

    def _transform_with_column_transformer(self, X):
        """``transform`` through the fitted ColumnTransformer (every input, every check)."""
        frame, names = self._as_frame(X, "transform")
        frame = self._check_columns(frame, names is not None)
        out = self.column_transformer_.transform(frame)
        return np.ascontiguousarray(np.asarray(out, dtype=np.float32))

    def get_feature_names_out(self, input_features=None):
        """Output column names, e.g. ``numeric__age``, ``categorical__city_Oslo``.

        Parameters
        ----------
        input_features : ignored
            Accepted for scikit-learn compatibility; names come from fit.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "column_transformer_")
        return np.asarray(self.column_transformer_.get_feature_names_out(), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


# --------------------------------------------------------------------------
# TabularPreprocessor.transform without the ColumnTransformer's machinery.
# --------------------------------------------------------------------------
# The fitted ColumnTransformer spends milliseconds per call on joblib, pandas
# indexing and validation in every step: 20 times the network's 1-row predict.
# _direct_transform computes the same float32 matrix from the same fitted
# steps, with the same arithmetic in the same order, for the inputs where that
# is certain (a numeric ndarray, or a DataFrame with the fitted string column
# names); it returns None for anything else, and for values the steps would
# refuse (infinity), and transform takes the ColumnTransformer path.
# tests/test_preprocessing_transform.py compares the two bit for bit.


def _direct_transform(pre, X):
    columns = _direct_columns(pre, X)
    if columns is None or len(X) == 0:  # no rows: the steps' own error
        return None
    parts = []
    for name, pipe, cols in pre.column_transformer_.transformers_:
        if name == "remainder" or isinstance(pipe, str):
            if pipe != "drop":
                return None
            continue
        steps = [step for _, step in getattr(pipe, "steps", [(None, None)])]
        first = steps[0]
        if type(first) is not FunctionTransformer or first.func not in (_to_float, _to_labels):
            return None
        if first.func is _to_float:
            values = _direct_floats(columns, cols)
        else:
            values = np.column_stack([columns.labels(c) for c in cols])
        if values is None:
            return None
        for step in steps[1:]:
            values = _direct_step(step, values)
            if values is None:
                return None
        parts.append(values)
    n = parts[0].shape[0] if parts else 0
    out = np.empty((n, sum(p.shape[1] for p in parts)), dtype=np.float32)
    at = 0
    for part in parts:  # np.hstack, then the cast to float32, in one copy
        out[:, at:at + part.shape[1]] = part
        at += part.shape[1]
    return out


def _direct_columns(pre, X):
    """Column access by the fitted names for the inputs the direct path takes, or None."""
    expected = pre._columns_in
    if isinstance(X, pd.DataFrame):
        names = list(X.columns)
        if not (hasattr(pre, "feature_names_in_") and all(isinstance(c, str) for c in names)
                and len(names) == len(expected) and set(names) == set(expected)):
            return None
        return _Columns(X, names)
    if hasattr(pre, "feature_names_in_") or not isinstance(X, np.ndarray):
        return None
    if X.ndim != 2 or X.shape[1] != len(expected) or X.dtype.kind not in "biuf":
        return None
    return _Columns(X, expected)


def _numpy_number(dtype):
    return isinstance(dtype, np.dtype) and dtype.kind in "biuf"


class _Columns:
    """The input's columns by the fitted names: float64 blocks as ``_to_float`` makes
    them, and single columns for ``_to_labels``."""

    def __init__(self, X, names):
        self.position = {c: j for j, c in enumerate(names)}
        self.frame = X if isinstance(X, pd.DataFrame) else None
        self.array = X if self.frame is None else None
        self.dtypes = None if self.frame is None else list(X.dtypes)
        self._objects = None

    def objects(self):
        if self._objects is None:  # one pass over pandas' blocks, not one per column
            self._objects = self.frame.to_numpy(dtype=object)
        return self._objects

    def labels(self, name):
        """``_category_labels`` of one column."""
        j = self.position[name]
        if self.frame is None:
            return _category_labels(self.array[:, j])
        if _numpy_number(self.dtypes[j]):  # keep int64 exact: no object detour
            return _category_labels(self.frame.iloc[:, j])
        return _labels_of(self.objects()[:, j])  # the values Series.astype(object) gives

    def floats(self, cols):
        idx = [self.position[c] for c in cols]
        if self.frame is None:
            return np.asarray(self.array[:, idx], dtype=np.float64)
        if all(_numpy_number(self.dtypes[j]) for j in range(len(self.dtypes))):
            return self.frame.to_numpy(dtype=np.float64)[:, idx]  # one float block
        plain = [k for k, j in enumerate(idx) if _numpy_number(self.dtypes[j])]
        out = np.empty((len(self.frame), len(cols)))
        if plain:  # Python numbers of those dtypes, widened to float64 as astype does
            out[:, plain] = np.asarray(self.objects()[:, [idx[k] for k in plain]],
                                       dtype=np.float64)
        for k in sorted(set(range(len(idx))) - set(plain)):
            # pd.NA, numbers held as objects...: pandas' own conversion
            out[:, k] = _to_float(self.frame.iloc[:, [idx[k]]])[:, 0]
        return out


def _direct_floats(columns, cols):
    values = columns.floats(cols)
    if np.isinf(values).any():
        return None  # SimpleImputer refuses infinity: let it say so
    return values


def _direct_step(step, X):
    """``step.transform(X)``, computed directly for the steps TabularPreprocessor makes."""
    kind = type(step)
    if isinstance(step, str):
        return X if step == "passthrough" else None
    if kind.__name__ == "Pipeline" and kind.__module__ == "sklearn.pipeline":  # "robust_clip"
        for _, inner in step.steps:
            X = _direct_step(inner, X)
            if X is None:
                return None
        return X
    if kind is SimpleImputer:
        stats = step.statistics_
        if step.add_indicator or step.keep_empty_features or X.shape[1] != len(stats):
            return None
        if X.dtype == object:
            missing = X != X  # NaN labels: what SimpleImputer's mask finds in object columns
            if any(v != v for v in stats):
                return None
        else:
            missing = np.isnan(X)
            if np.isnan(stats.astype(np.float64)).any():
                return None
        if missing.any():
            X = X.copy()
            rows, cols = np.nonzero(missing)
            X[rows, cols] = stats[cols]
        return X
    if kind is StandardScaler and step.with_mean and step.with_std:
        X = X - step.mean_
        X /= step.scale_
        return X
    if kind is RobustScaler and step.with_centering and step.with_scaling:
        X = X - step.center_
        X /= step.scale_
        return X
    if kind is MinMaxScaler and not step.clip:
        X = X * step.scale_
        X += step.min_
        return X
    if kind is FunctionTransformer and step.func is smooth_clip and not step.kw_args:
        return smooth_clip(X)
    if kind is MissingIndicator and step.features == "missing-only":
        return np.isnan(X[:, step.features_])
    if (kind is OneHotEncoder and step.handle_unknown == "ignore" and step.drop is None
            and not step._infrequent_enabled and not step.sparse_output):
        return _one_hot(step, X)
    return step.transform(X)  # any other step: its own transform, as the Pipeline calls it


def _one_hot(encoder, X):
    widths = [len(c) for c in encoder.categories_]
    out = np.zeros((X.shape[0], sum(widths)), dtype=encoder.dtype)
    rows = np.arange(X.shape[0])
    at = 0
    for j, cats in enumerate(encoder.categories_):
        values = X[:, j]
        idx = np.searchsorted(cats, values).clip(0, len(cats) - 1)  # categories are sorted
        known = cats[idx] == values  # an unknown category is all zeros (handle_unknown)
        out[rows[known], at + idx[known]] = 1
        at += len(cats)
    return out


class Flatten(TransformerMixin, BaseEstimator):
    """Reshape images ``(n, h, w)`` or ``(n, h, w, c)`` to ``(n, h*w[*c])``.

    Stateless: ``fit`` only records the input shape, so ``transform`` can
    check that later inputs have the same shape. 2-D input passes through.
    Put it before a scaler and a Dense estimator::

        make_pipeline(Flatten(), MinMaxScaler(), DenseClassifier((256, 256)))

    Attributes
    ----------
    input_shape_ : tuple of int
        Shape of one sample at fit (without the sample axis).
    n_features_in_ : int
        Values per sample, ``prod(input_shape_)``.
    feature_names_in_ : ndarray of str
        Only for a 2-D DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from skdense.preprocessing import Flatten
    >>> Flatten().fit_transform(np.zeros((5, 8, 8))).shape
    (5, 64)
    """

    def __init__(self):
        pass

    @staticmethod
    def _array(X, where):
        frame = X if isinstance(X, pd.DataFrame) else None
        if frame is None and not hasattr(X, "toarray"):  # sparse: check_array refuses it
            X = np.asarray(X)
            if X.ndim < 2:
                raise ValueError(
                    f"Flatten.{where} expects a batch of samples with at least 2 "
                    "dimensions (n_samples, ...), e.g. images (n, h, w) or (n, h, w, c); "
                    f"got shape {X.shape}. Reshape your data: a single image needs a "
                    "leading sample axis, X[None]."
                )
        arr = check_array(
            X,
            allow_nd=True,
            dtype="numeric",
            ensure_all_finite=False,
            input_name="X",
            estimator="Flatten",
        )
        return arr, frame

    def fit(self, X, y=None):
        """Record the shape of one sample; return self."""
        arr, frame = self._array(X, "fit")
        self.input_shape_ = tuple(int(d) for d in arr.shape[1:])
        self.n_features_in_ = int(np.prod(self.input_shape_))
        if (
            frame is not None
            and len(frame.columns)
            and all(isinstance(c, str) for c in frame.columns)
        ):
            self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def transform(self, X):
        """Return ``X`` reshaped to ``(n_samples, prod(sample_shape))``."""
        arr, _ = self._array(X, "transform")
        shape = getattr(self, "input_shape_", None)
        if shape is not None and tuple(arr.shape[1:]) != shape:
            n = int(np.prod(arr.shape[1:]))
            raise ValueError(
                f"X has {n} features, but Flatten is expecting {self.n_features_in_} "
                f"features as input: it was fitted on samples of shape {shape}, "
                f"got shape {tuple(arr.shape[1:])}."
            )
        return arr.reshape(arr.shape[0], -1)

    def get_feature_names_out(self, input_features=None):
        """``x_<i>_<j>[_<k>]`` per pixel (row-major), or the 2-D input's names."""
        check_is_fitted(self, "input_shape_")
        if len(self.input_shape_) == 1:
            if input_features is not None:
                return np.asarray(input_features, dtype=object)
            if hasattr(self, "feature_names_in_"):
                return self.feature_names_in_.copy()
            return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
        idx = np.indices(self.input_shape_).reshape(len(self.input_shape_), -1).T
        return np.asarray(["x_" + "_".join(map(str, ix)) for ix in idx], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.allow_nan = True
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
