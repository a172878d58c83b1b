"""TabularPreprocessor.transform's direct path computes what its ColumnTransformer
computes, bit for bit, on varied data (every scaler, imputer and encoder option,
DataFrames of every supported dtype, arrays, unseen categories, one row and many);
inputs it does not take go through the ColumnTransformer, errors included."""

import numpy as np
import pandas as pd
import pytest

from skdense.preprocessing import TabularPreprocessor, _direct_transform


def _frame(n, seed):
    rng = np.random.RandomState(seed)
    f = pd.DataFrame({
        "x": rng.randn(n) * 100,
        "small": rng.randn(n).astype("float32"),
        "count": rng.randint(0, 50, n),
        "big": rng.randint(-2**62, 2**62, n, dtype=np.int64),
        "flag": rng.rand(n) > 0.5,
        "nullable_int": pd.array(rng.randint(0, 5, n), dtype="Int64"),
        "nullable_float": pd.array(rng.randn(n), dtype="Float64"),
        "nullable_bool": pd.array(rng.rand(n) > 0.3, dtype="boolean"),
        "numbers_as_objects": pd.Series(rng.randint(0, 9, n).tolist(), dtype=object),
        "city": rng.choice(["Oslo", "Rome", "Paris", "Lima"], n),
        "tag": pd.Series(rng.choice(["a", "b", None], n), dtype=object),
        "cat": pd.Categorical(rng.choice(["u", "v", "w"], n)),
        "string": pd.array(rng.choice(["p", "q"], n), dtype="string"),
        "code": rng.randint(0, 4, n),
    })
    for col in ("x", "small", "nullable_int", "nullable_float", "nullable_bool", "city", "cat"):
        f.loc[rng.rand(n) < 0.15, col] = None
    return f


TRAIN, TEST = _frame(120, 0), _frame(40, 1)
TEST.loc[0, "city"] = "Tokyo"  # unseen at fit
TEST.loc[1, "cat"] = None

OPTIONS = [
    dict(),
    dict(scaler="standard", add_indicator=True),
    dict(scaler="minmax", categorical_imputer="missing"),
    dict(scaler="robust", numeric_imputer="mean"),
    dict(scaler="quantile"),
    dict(scaler=None, categorical_features=["code"]),
    dict(min_frequency=10),
    dict(max_categories=2, add_indicator=True),
    dict(numeric_features=["numbers_as_objects"], drop_constant=False),
]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
def test_frame_transform_is_the_column_transformers(options):
    pre = TabularPreprocessor(**options).fit(TRAIN)
    for X in (TEST, TEST.iloc[:1], TEST.iloc[3:4], TEST[TEST.columns[::-1]]):
        want = pre._transform_with_column_transformer(X)
        assert _direct_transform(pre, X) is not None  # the direct path ran
        got = pre.transform(X)
        assert got.dtype == want.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("scaler", ["robust_clip", "standard", "minmax", "quantile", None])
def test_numeric_frame_and_array(scaler):
    rng = np.random.RandomState(0)
    X = rng.randn(200, 6) * [1, 10, 100, 1e3, 1e-3, 1]
    X[rng.rand(*X.shape) < 0.1] = np.nan
    Xi = rng.randint(0, 7, (200, 3))
    for fit_on, test_on in [
        (X, X[150:]),
        (pd.DataFrame(X, columns=list("abcdef")), pd.DataFrame(X[150:], columns=list("abcdef"))),
        (Xi, Xi[150:]),
        (Xi > 3, Xi[150:] > 3),
    ]:
        pre = TabularPreprocessor(scaler=scaler).fit(fit_on)
        for rows in (test_on, test_on[:1]):
            assert _direct_transform(pre, rows) is not None
            np.testing.assert_array_equal(pre.transform(rows),
                                          pre._transform_with_column_transformer(rows))


def test_other_inputs_take_the_column_transformer():
    pre = TabularPreprocessor().fit(TRAIN)
    renamed = TEST.rename(columns={"x": "y"})
    assert _direct_transform(pre, renamed) is None
    with pytest.raises(ValueError, match="Missing column"):
        pre.transform(renamed)
    # Fitted on a DataFrame, given an array: positions, through the ColumnTransformer.
    numeric = TabularPreprocessor().fit(TRAIN[["x", "count"]])
    arr = TEST[["x", "count"]].to_numpy()
    assert _direct_transform(numeric, arr) is None
    np.testing.assert_array_equal(numeric.transform(arr), numeric.transform(TEST[["x", "count"]]))
    # An object array, an infinity: the ColumnTransformer's own answer.
    on_array = TabularPreprocessor().fit(np.arange(12.0).reshape(6, 2))
    assert _direct_transform(on_array, np.ones((1, 2), dtype=object)) is None
    with pytest.raises(ValueError, match="[Ii]nfinity"):
        on_array.transform(np.array([[np.inf, 1.0]]))
    with pytest.raises(ValueError, match="0 sample"):
        pre.transform(TEST.iloc[:0])


def test_pandas_output_still_applies():
    pre = TabularPreprocessor().fit(TRAIN).set_output(transform="pandas")
    out = pre.transform(TEST.iloc[:2])
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(pre.get_feature_names_out())
