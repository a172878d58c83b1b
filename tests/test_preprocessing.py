"""Tests for skdense.preprocessing: TabularPreprocessor and Flatten.

The transformer tests at the top do not need TensorFlow (they import only
skdense.preprocessing and scikit-learn); the tests at the bottom train networks
behind TabularPreprocessor with make_dense_pipeline (whose own tests are in
tests/test_pipeline.py).
"""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdense.pipeline import make_dense_pipeline
from skdense.preprocessing import Flatten, TabularPreprocessor, smooth_clip

# --------------------------------------------------------------------------
# Data built here (no downloads).
# --------------------------------------------------------------------------


def mixed_frame(n=300, seed=0):
    """A table with every supported kind of column, NaNs, and a nonlinear target.

    Columns: float (with NaN), int, bool, object strings (with None), pandas
    category (with NaN), pandas 3 ``str`` (with NaN), nullable Int64 (with NA).
    """
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10, 0.8, n)
    age = rng.integers(18, 80, n)
    member = rng.random(n) < 0.4
    city = rng.choice(["oslo", "rome", "lima", "kyiv"], n, p=[0.4, 0.3, 0.2, 0.1])
    plan = rng.choice(["basic", "plus", "pro"], n)
    channel = rng.choice(["web", "shop", "phone"], n)
    visits = rng.poisson(3, n)
    score = (
        np.log(income) - 10
        + 1.5 * np.sin(age / 10.0)
        + 1.0 * member
        + np.select([city == "oslo", city == "rome"], [1.0, -1.0], 0.0)
        + 0.8 * (plan == "pro")
        + 0.3 * visits * (channel == "web")
        + rng.normal(0, 0.3, n)
    )
    y = np.where(score > np.median(score), "churn", "stay")
    df = pd.DataFrame(
        {
            "income": income,
            "age": age,
            "member": member,
            "city": pd.Series(city, dtype=object),
            "plan": pd.Categorical(plan),
            "channel": pd.Series(channel, dtype="str"),
            "visits": pd.array(visits, dtype="Int64"),
        }
    )
    # Missing values in numeric and categorical columns.
    for col, frac in [("income", 0.1), ("city", 0.1), ("plan", 0.05), ("channel", 0.05), ("visits", 0.05)]:
        idx = rng.choice(n, int(frac * n), replace=False)
        df.loc[idx, col] = None
    return df, y


@pytest.fixture
def frame():
    return mixed_frame(200, seed=1)


# --------------------------------------------------------------------------
# TabularPreprocessor: column kinds
# --------------------------------------------------------------------------


def test_kinds_detected_from_dtypes(frame):
    df, _ = frame
    pre = TabularPreprocessor().fit(df)
    assert pre.numeric_features_ == ["income", "age", "visits"]
    assert pre.boolean_features_ == ["member"]
    assert pre.categorical_features_ == ["city", "plan", "channel"]
    assert pre.n_features_in_ == 7
    assert list(pre.feature_names_in_) == list(df.columns)
    Xt = pre.transform(df)
    assert Xt.dtype == np.float32
    assert Xt.flags.c_contiguous
    assert not np.isnan(Xt).any()
    # 3 numeric + 1 boolean + (4 cities + 3 plans + 3 channels) one-hot columns
    assert Xt.shape == (len(df), 3 + 1 + 10)
    names = pre.get_feature_names_out()
    assert len(names) == Xt.shape[1]
    assert "categorical__city_oslo" in names and "boolean__member" in names


@pytest.mark.parametrize(
    "series, kind",
    [
        (pd.Series([1.5, np.nan, 2.0, 3.0]), "numeric"),
        (pd.Series([1, 2, 3, 4], dtype="int8"), "numeric"),
        (pd.array([1, None, 3, 4], dtype="Int64"), "numeric"),
        (pd.array([0.5, None, 3.0, 1.0], dtype="Float64"), "numeric"),
        (pd.Series([True, False, True, True]), "boolean"),
        (pd.array([True, None, False, True], dtype="boolean"), "boolean"),
        (pd.Series([True, None, False, True], dtype=object), "boolean"),
        (pd.Series(["a", "b", None, "a"], dtype="str"), "categorical"),
        (pd.Series(["a", "b", None, "a"], dtype="string"), "categorical"),
        (pd.Series(["a", "b", None, "a"], dtype=object), "categorical"),
        (pd.Series(["a", 1, 2.5, "a"], dtype=object), "categorical"),
        (pd.Series([1, 2.5, None, 4], dtype=object), "numeric"),
        (pd.Categorical([1, 2, 1, None]), "categorical"),
    ],
)
def test_kind_of_each_dtype(series, kind):
    df = pd.DataFrame({"c": series, "other": [0.0, 1.0, 2.0, 3.0]})
    pre = TabularPreprocessor().fit(df)
    groups = {
        "numeric": pre.numeric_features_,
        "boolean": pre.boolean_features_,
        "categorical": pre.categorical_features_,
    }
    assert "c" in groups[kind]
    Xt = pre.transform(df)
    assert Xt.dtype == np.float32 and not np.isnan(Xt).any()


def test_numpy_arrays_numeric_and_object():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    pre = TabularPreprocessor(scaler="standard").fit(X)
    assert pre.numeric_features_ == ["x0", "x1", "x2"]
    assert not hasattr(pre, "feature_names_in_")
    np.testing.assert_allclose(pre.transform(X).mean(axis=0), 0, atol=1e-6)

    Xo = np.array([[1.0, "a", True], [2.0, "b", False], [np.nan, None, True], [4.0, "a", False]], dtype=object)
    pre = TabularPreprocessor().fit(Xo)
    assert pre.numeric_features_ == ["x0"]
    assert pre.categorical_features_ == ["x1"]
    assert pre.boolean_features_ == ["x2"]
    assert list(pre.get_feature_names_out()) == [
        "numeric__x0",
        "boolean__x2",
        "categorical__x1_a",
        "categorical__x1_b",
    ]


def test_explicit_feature_lists_by_name_and_position():
    df = pd.DataFrame({"zip": [10, 20, 10, 30, 20], "price": [1.0, 2.0, 3.0, 4.0, 5.0], "code": ["1", "2", "3", "4", "5"]})
    pre = TabularPreprocessor(categorical_features=["zip"], numeric_features=[2]).fit(df)
    assert pre.categorical_features_ == ["zip"]
    assert pre.numeric_features_ == ["price", "code"]
    assert "categorical__zip_20" in pre.get_feature_names_out()


def test_integer_category_codes_survive_a_nan_at_predict():
    # An int column becomes float once it holds a NaN; 20 and 20.0 must be the same category.
    train = pd.DataFrame({"zip": [10, 20, 10, 30, 20], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    test = pd.DataFrame({"zip": [20.0, np.nan], "x": [1.0, 2.0]})
    pre = TabularPreprocessor(categorical_features=["zip"]).fit(train)
    out = pd.DataFrame(pre.transform(test), columns=pre.get_feature_names_out())
    assert out.loc[0, "categorical__zip_20"] == 1.0
    assert out.loc[1, "categorical__zip_10"] == 1.0  # NaN -> most frequent (10, tie broken by order)


# --------------------------------------------------------------------------
# Numeric columns: imputation and scalers
# --------------------------------------------------------------------------


def _numeric_column(scaler, values, **kw):
    df = pd.DataFrame({"v": values})
    return TabularPreprocessor(scaler=scaler, **kw).fit_transform(df)[:, 0].astype(np.float64)


def test_smooth_clip_function():
    x = np.array([-1e6, -3.0, 0.0, 0.1, 3.0, 1e6])
    out = smooth_clip(x)
    assert np.all(np.abs(out) < 3.0)
    assert np.all(np.diff(out) > 0)  # monotone
    np.testing.assert_allclose(out[[1, 2, 4]], [-3 / np.sqrt(2), 0.0, 3 / np.sqrt(2)])
    assert out[3] == pytest.approx(0.1, rel=1e-3)  # ~identity near 0


def test_scalers_do_what_they_say():
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(5, 2, 500), [1e4]])  # one huge outlier

    std = _numeric_column("standard", v)
    assert std.mean() == pytest.approx(0, abs=1e-5) and std.std() == pytest.approx(1, rel=1e-4)

    mm = _numeric_column("minmax", v)
    assert mm.min() == pytest.approx(0) and mm.max() == pytest.approx(1)

    rob = _numeric_column("robust", v)
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    np.testing.assert_allclose(rob, (v - med) / (q3 - q1), rtol=1e-5, atol=1e-6)

    clip = _numeric_column("robust_clip", v)
    np.testing.assert_allclose(clip, smooth_clip((v - med) / (q3 - q1)), rtol=1e-5, atol=1e-6)
    assert clip.max() < 3.0 and rob.max() > 1000  # the outlier is tamed only by the clip

    qt = _numeric_column("quantile", v)
    assert np.median(qt) == pytest.approx(0, abs=0.01) and abs(qt.max()) < 6

    raw = _numeric_column(None, v)
    np.testing.assert_allclose(raw, v, rtol=1e-6)


def test_numeric_imputation_and_indicator():
    v = np.array([1.0, np.nan, 3.0, 10.0])
    assert _numeric_column(None, v)[1] == pytest.approx(3.0)  # median
    assert _numeric_column(None, v, numeric_imputer="mean")[1] == pytest.approx(14 / 3, rel=1e-6)

    df = pd.DataFrame({"a": v, "b": [1.0, 2.0, 3.0, 4.0]})
    pre = TabularPreprocessor(scaler=None, add_indicator=True).fit(df)
    names = list(pre.get_feature_names_out())
    assert names == ["numeric__a", "numeric__b", "missing__missingindicator_a"]
    np.testing.assert_array_equal(pre.transform(df)[:, 2], [0, 1, 0, 0])
    # A column that had no NaN at fit but has one at predict is imputed, not an error.
    out = pre.transform(pd.DataFrame({"a": [1.0], "b": [np.nan]}))
    assert out[0, 1] == pytest.approx(2.5)


# --------------------------------------------------------------------------
# Categorical columns
# --------------------------------------------------------------------------


def test_unseen_category_is_all_zeros_not_an_error():
    train = pd.DataFrame({"city": ["oslo", "rome", "oslo", "lima"], "x": [1.0, 2.0, 3.0, 4.0]})
    test = pd.DataFrame({"city": ["paris", "rome"], "x": [1.0, 2.0]})
    pre = TabularPreprocessor().fit(train)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Found unknown categories")
        out = pd.DataFrame(pre.transform(test), columns=pre.get_feature_names_out())
    city_cols = [c for c in out.columns if c.startswith("categorical__city_")]
    assert out.loc[0, city_cols].sum() == 0
    assert out.loc[1, "categorical__city_rome"] == 1


def test_missing_category_strategies():
    df = pd.DataFrame({"c": ["a", "a", "b", None, np.nan], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    frequent = TabularPreprocessor().fit(df)
    out = pd.DataFrame(frequent.transform(df), columns=frequent.get_feature_names_out())
    assert list(out["categorical__c_a"]) == [1, 1, 0, 1, 1]

    own = TabularPreprocessor(categorical_imputer="missing").fit(df)
    out = pd.DataFrame(own.transform(df), columns=own.get_feature_names_out())
    assert list(out["categorical__c_missing"]) == [0, 0, 0, 1, 1]


def test_rare_categories_grouped_and_cardinality_capped():
    rng = np.random.default_rng(0)
    cats = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 10 + [f"r{i}" for i in range(10)])
    df = pd.DataFrame({"c": cats, "x": rng.normal(size=len(cats))})

    pre = TabularPreprocessor(min_frequency=5).fit(df)
    names = [n for n in pre.get_feature_names_out() if n.startswith("categorical__")]
    assert names == ["categorical__c_a", "categorical__c_b", "categorical__c_c", "categorical__c_infrequent_sklearn"]
    # A category unseen at fit goes to the infrequent column.
    out = pd.DataFrame(pre.transform(pd.DataFrame({"c": ["zzz"], "x": [0.0]})), columns=pre.get_feature_names_out())
    assert out.loc[0, "categorical__c_infrequent_sklearn"] == 1

    capped = TabularPreprocessor(max_categories=3).fit(df)
    names = [n for n in capped.get_feature_names_out() if n.startswith("categorical__")]
    assert names == ["categorical__c_a", "categorical__c_b", "categorical__c_infrequent_sklearn"]


# --------------------------------------------------------------------------
# Columns at predict, dropped columns, unsupported dtypes, bad parameters
# --------------------------------------------------------------------------


def test_missing_or_renamed_column_names_it(frame):
    df, _ = frame
    pre = TabularPreprocessor().fit(df)
    with pytest.raises(ValueError, match=r"Missing column\(s\): \['city'\]"):
        pre.transform(df.drop(columns="city"))
    with pytest.raises(ValueError, match=r"Missing column\(s\): \['city'\]\. Unexpected column\(s\): \['town'\]\. Was a column renamed"):
        pre.transform(df.rename(columns={"city": "town"}))


def test_reordered_columns_are_matched_by_name(frame):
    df, _ = frame
    pre = TabularPreprocessor().fit(df)
    np.testing.assert_array_equal(pre.transform(df[df.columns[::-1]]), pre.transform(df))


def test_array_with_wrong_width_is_refused():
    pre = TabularPreprocessor().fit(np.random.default_rng(0).normal(size=(10, 3)))
    with pytest.raises(ValueError, match="X has 2 features, but TabularPreprocessor is expecting 3"):
        pre.transform(np.zeros((4, 2)))


def test_constant_and_all_missing_columns_dropped():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "const": ["k", "k", "k"], "empty": [np.nan] * 3, "one_and_nan": [1.0, np.nan, 1.0]})
    with pytest.warns(UserWarning, match=r"dropping column\(s\) \['empty'\] with no observed value"):
        pre = TabularPreprocessor().fit(df)
    assert pre.dropped_features_ == {"const": "constant", "empty": "all missing"}
    # A single value plus NaN is not constant: missingness carries information.
    assert pre.numeric_features_ == ["x", "one_and_nan"]
    assert pre.transform(df).shape == (3, 2)
    kept = TabularPreprocessor(drop_constant=False)
    with pytest.warns(UserWarning):
        kept.fit(df)
    assert "const" in kept.categorical_features_


@pytest.mark.parametrize(
    "column, message",
    [
        (pd.date_range("2020-01-01", periods=4), r"column 'c': it holds dates .*df\['c'\]\.dt\.year"),
        (pd.to_timedelta([1, 2, 3, 4], unit="s"), r"durations .*dt\.total_seconds\(\)"),
        (pd.Series([[1], [2, 3], [], [4]]), r"nested values such as list"),
        (pd.Series([{"a": 1}, {"b": 2}, None, {"a": 3}]), r"nested values such as dict"),
        (np.array([1 + 1j, 2, 3, 4]), r"Complex data not supported"),
    ],
)
def test_unsupported_dtypes_raise_naming_the_column(column, message):
    df = pd.DataFrame({"c": column, "x": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match=message):
        TabularPreprocessor().fit(df)


@pytest.mark.parametrize(
    "params, message",
    [
        # scikit-learn's InvalidParameterError (a ValueError): the parameter, the allowed
        # values (a set, in no fixed order) and the value given.
        ({"scaler": "zscore"}, r"'scaler' parameter of TabularPreprocessor must be a str among \{.*'robust_clip'.*\} or None\. Got 'zscore'"),
        ({"numeric_imputer": "mode"}, r"'numeric_imputer' parameter of TabularPreprocessor must be a str among \{.*'median'.*\}\. Got 'mode'"),
        ({"categorical_imputer": "drop"}, r"'categorical_imputer' parameter .* Got 'drop'"),
        ({"min_frequency": 0}, r"'min_frequency' parameter .* an int in the range \[1, inf\), a float in the range \(0\.0, 1\.0\) or None\. Got 0"),
        ({"max_categories": 1}, r"'max_categories' parameter .* an int in the range \[2, inf\) or None\. Got 1"),
        ({"add_indicator": "yes"}, r"'add_indicator' parameter .* an instance of 'bool' or an instance of 'numpy.bool'.*Got 'yes'"),
        ({"drop_constant": 1}, r"'drop_constant' parameter .*Got 1"),
        ({"categorical_features": 2.5}, r"'categorical_features' parameter .*Got 2.5"),
        ({"categorical_features": ["nope"]}, r"categorical_features names column 'nope', which is not in X"),
        ({"numeric_features": [9]}, r"numeric_features has position 9, but X has 2 columns"),
        ({"categorical_features": ["a"], "numeric_features": ["a"]}, r"both categorical_features and numeric_features: \['a'\]"),
        ({"numeric_features": ["b"]}, r"numeric_features lists column 'b', but its values are not numbers"),
    ],
)
def test_bad_parameters_raise_at_fit_naming_them(params, message):
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["u", "v", "u"]})
    pre = TabularPreprocessor(**params)  # __init__ only stores
    assert pre.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(ValueError, match=message):
        pre.fit(df)
    with pytest.raises(ValueError, match=message):
        pre.fit_transform(df)


def test_every_parameter_is_declared_and_checked_by_scikit_learn():
    # One declaration (_parameter_constraints) covers every parameter, and
    # scikit-learn's own validation enforces it at fit (its check feeds each
    # parameter a value of the wrong type and expects an InvalidParameterError).
    from sklearn.utils._param_validation import InvalidParameterError
    from sklearn.utils.estimator_checks import check_param_validation

    assert set(TabularPreprocessor._parameter_constraints) == set(TabularPreprocessor._get_param_names())
    check_param_validation("TabularPreprocessor", TabularPreprocessor())
    for good in ({"min_frequency": 5}, {"min_frequency": 0.1}, {"max_categories": 2},
                 {"scaler": None}, {"categorical_features": "b"}, {"numeric_features": 0},
                 {"add_indicator": np.bool_(True)}):
        TabularPreprocessor(**good).fit(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["u", "v", "u"]}))
    with pytest.raises(InvalidParameterError):
        TabularPreprocessor(min_frequency=1.0).fit([[1.0], [2.0]])  # a fraction must be < 1


def test_wrong_shapes_explain_what_to_do():
    with pytest.raises(ValueError, match=r"3 dimension\(s\).*Flatten\(\)"):
        TabularPreprocessor().fit(np.zeros((4, 2, 2)))
    with pytest.raises(ValueError, match="got a pandas Series; pass a DataFrame"):
        TabularPreprocessor().fit(pd.Series([1.0, 2.0]))
    twice = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], columns=["a", "a"])
    with pytest.raises(ValueError, match=r"duplicate column name\(s\) \['a'\]"):
        TabularPreprocessor().fit(twice)


# --------------------------------------------------------------------------
# scikit-learn integration
# --------------------------------------------------------------------------


@parametrize_with_checks([TabularPreprocessor(), Flatten()])
def test_sklearn_compatible(estimator, check):
    # No check is skipped.
    check(estimator)


def test_set_output_pandas_and_pickle(frame):
    df, _ = frame
    pre = TabularPreprocessor().set_output(transform="pandas").fit(df)
    out = pre.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(pre.get_feature_names_out())
    assert (out.dtypes == np.float32).all()
    again = pickle.loads(pickle.dumps(pre))
    pd.testing.assert_frame_equal(again.transform(df), out)
    np.testing.assert_array_equal(clone(pre).fit(df).transform(df).to_numpy(), out.to_numpy())


def test_inside_column_transformer(frame):
    df, _ = frame
    ct = ColumnTransformer(
        [("tab", TabularPreprocessor(scaler="minmax"), ["income", "city"]), ("keep", "passthrough", ["age"])]
    )
    out = ct.fit_transform(df)
    assert out.shape == (len(df), 1 + 4 + 1)
    assert list(ct.get_feature_names_out())[:2] == ["tab__numeric__income", "tab__categorical__city_kyiv"]


def test_grid_search_over_scaler_without_tensorflow(frame):
    df, y = frame
    pipe = make_pipeline(TabularPreprocessor(), LogisticRegression(max_iter=500))
    grid = GridSearchCV(
        pipe,
        {"tabularpreprocessor__scaler": ["standard", "robust_clip", "quantile"]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    ).fit(df, y)
    assert grid.best_params_["tabularpreprocessor__scaler"] in ("standard", "robust_clip", "quantile")
    assert grid.best_score_ > 0.7  # the linear model sees real signal through the preprocessor


def test_importing_preprocessing_does_not_import_tensorflow():
    code = (
        "import sys, skdense.preprocessing as p, pandas as pd;"
        "p.TabularPreprocessor().fit(pd.DataFrame({'a': [1.0, 2.0]}));"
        "p.Flatten().fit_transform([[[1]], [[2]]]);"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------
# Flatten
# --------------------------------------------------------------------------


def test_flatten_shapes_and_names():
    X3 = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    f = Flatten()
    assert f.fit(X3) is f
    np.testing.assert_array_equal(f.transform(X3), X3.reshape(2, 12))
    assert f.n_features_in_ == 12 and f.input_shape_ == (3, 4)
    assert list(f.get_feature_names_out()[:5]) == ["x_0_0", "x_0_1", "x_0_2", "x_0_3", "x_1_0"]

    X4 = np.zeros((5, 8, 8, 3), dtype=np.float32)
    out = Flatten().fit_transform(X4)
    assert out.shape == (5, 192) and out.dtype == np.float32

    X2 = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(Flatten().fit_transform(X2), X2)
    df = pd.DataFrame(X2, columns=["a", "b"])
    assert list(Flatten().fit(df).get_feature_names_out()) == ["a", "b"]
    # Stateless: transform works without fit.
    assert Flatten().transform(X3).shape == (2, 12)


def test_flatten_errors_are_clear():
    with pytest.raises(ValueError, match=r"at least 2 dimensions .* got shape \(64,\)\. .*X\[None\]"):
        Flatten().fit(np.zeros(64))
    f = Flatten().fit(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(8, 8\), got shape \(28, 28\)"):
        f.transform(np.zeros((2, 28, 28)))


# --------------------------------------------------------------------------
# With the Dense estimators (these train small networks).
# --------------------------------------------------------------------------

SMALL = dict(hidden_layer_sizes=(32,), epochs=60, learning_rate=0.01, patience=5, random_state=0)


@pytest.fixture(scope="module")
def split_frame():
    """Train/test split of the mixed table; the test split has a city never seen in training."""
    df, y = mixed_frame(300, seed=0)
    train, test = df.iloc[:220].copy(), df.iloc[220:].reset_index(drop=True)
    test.loc[0, "city"] = "paris"
    return train, test, y[:220], y[220:]


def test_make_dense_pipeline_on_a_mixed_frame(split_frame):
    from skdense import DenseClassifier

    train, test, y_train, y_test = split_frame
    pipe = make_dense_pipeline()
    assert [name for name, _ in pipe.steps] == ["preprocess", "dense"]
    pipe.set_params(**{f"dense__{k}": v for k, v in SMALL.items()})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Found unknown categories")
        pipe.fit(train, y_train)
        proba = pipe.predict_proba(test)
        pred = pipe.predict(test)
        accuracy = pipe.score(test, y_test)
    auto = pipe.named_steps["dense"]
    assert auto.task_ == "classification" and isinstance(auto.estimator_, DenseClassifier)
    assert list(auto.classes_) == ["churn", "stay"]
    assert proba.shape == (len(test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(pred) <= {"churn", "stay"}
    assert accuracy > 0.7  # majority class is ~0.5: the pipeline learnt the signal
    # Fit parameters reach the estimator through the pipeline.
    pipe.fit(train, y_train, dense__patience=1, dense__epochs=3)
    assert pipe.named_steps["dense"].estimator_.n_iter_ <= 3


def test_grid_search_over_scaler_and_layers(split_frame):
    train, _, y_train, _ = split_frame
    pipe = make_dense_pipeline(task="classification")
    pipe.set_params(**{f"dense__{k}": v for k, v in {**SMALL, "epochs": 20}.items()})
    grid = GridSearchCV(
        pipe,
        {"preprocess__scaler": ["standard", "robust_clip"], "dense__hidden_layer_sizes": [(8,), (32,)]},
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
    ).fit(train, y_train)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_score_ > 0.65
    assert grid.best_estimator_.named_steps["dense"].hidden_layer_sizes == grid.best_params_["dense__hidden_layer_sizes"]


@pytest.mark.slow
def test_digits_images_flatten_scale_dense():
    # The seed's image flow: (n, 8, 8) images -> Flatten -> MinMaxScaler -> DenseClassifier.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler

    from skdense import DenseClassifier

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.images, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    assert X_train.ndim == 3
    clf = make_pipeline(Flatten(), MinMaxScaler(), DenseClassifier((256, 256), random_state=0))
    clf.fit(X_train, y_train)
    assert clf.named_steps["denseclassifier"].best_epoch_ is not None  # early stopping ran
    assert clf.score(X_test, y_test) >= 0.95


@pytest.mark.slow
def test_dense_within_two_points_of_hgb_on_a_mixed_table():
    # Same TabularPreprocessor, same folds; full-size run: benchmarks/bench_tabular.py.
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_tabular.py"
    spec = importlib.util.spec_from_file_location("bench_tabular", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.compare(
        n=1500, folds=3, hidden=(128, 128), scaler="standard", hgb_threads=1, verbose=False
    )
    assert result["difference"] > -0.02, result
