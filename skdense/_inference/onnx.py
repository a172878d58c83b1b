"""ONNX export of fitted skdense estimators and Pipelines, through skl2onnx.

The optional extra ``skdense[onnx]`` installs ``skl2onnx``, ``onnx`` and
``onnxruntime``; this module imports them only when called.  :func:`register`
adds converters for ``DenseClassifier``, ``DenseRegressor`` and
``TabularPreprocessor`` to skl2onnx's registry, so any Pipeline made of them
and scikit-learn's own steps converts with ``skl2onnx.convert_sklearn``;
:func:`to_onnx` does it in one call, and :func:`onnx_inputs` turns a DataFrame
or array into what the ONNX model takes.

The network is written from its :class:`~skdense._inference.network.NumpyNetwork`
(one ONNX op per NumPy operation, float32); a network that path does not run
(``model=``, custom layers) cannot be exported, and the error names why.

Outputs: a classifier gives ``label`` (its ``classes_``; per label 0/1 for a
multilabel target) and ``probabilities`` (float32, ``predict_proba``'s
columns); a regressor ``variable`` (float32, ``(n, n_outputs)``).

Inputs.  An array gives one input ``X`` (float32 for an estimator, float64 for
a ``TabularPreprocessor``); a DataFrame gives one input per column, named as
the column (:func:`input_name`: other characters than letters, digits and ``_``
become ``_``), shape ``(n, 1)``: float64 for numeric and boolean columns (NaN for
missing), strings for categorical columns, holding the labels
``TabularPreprocessor`` makes (``str(value)``, whole floats as ints, ``""``
for missing).  :func:`onnx_inputs` builds exactly that.
"""

import re
import warnings

import numpy as np
from sklearn.base import is_classifier

from .activations import ACTIVATIONS
from .errors import UnsupportedNetwork
from .decode import OutputDecoder
from .network import network_from_keras
from .predictor import NumpyPredictor

_KERAS_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)


def _deps():
    try:
        import onnx  # noqa: F401
        import skl2onnx  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "ONNX export needs skl2onnx and onnx, the optional extra: "
            'pip install "skdense[onnx]" '
            f"(missing: {err.name})."
        ) from None


class _Graph:
    """Emits ONNX nodes and initializers into skl2onnx's container."""

    def __init__(self, scope, operator, container):
        from onnx import TensorProto

        self.scope, self.container, self.tp = scope, container, TensorProto
        self.prefix = operator.full_name
        self.opset = container.target_opset

    def name(self, hint):
        return self.scope.get_unique_variable_name(f"{self.prefix}_{hint}")

    def const(self, value, dtype=np.float32, hint="c"):
        arr = np.asarray(value, dtype=dtype)
        name = self.name(hint)
        if arr.dtype.kind in "OUS":
            onnx_type = self.tp.STRING
            content = [str(v).encode() for v in arr.ravel()]
        else:
            onnx_type = {np.dtype(np.float32): self.tp.FLOAT, np.dtype(np.float64): self.tp.DOUBLE,
                         np.dtype(np.int64): self.tp.INT64}[arr.dtype]
            content = arr.ravel().tolist()
        self.container.add_initializer(name, onnx_type, list(arr.shape), content)
        return name

    def op(self, op_type, inputs, domain="", output=None, **attrs):
        """One node; its output's name.  (ai.onnx.ml: LabelEncoder version 3.)"""
        out = output or self.name(op_type.lower())
        self.container.add_node(op_type, list(inputs), [out], op_domain=domain,
                                name=self.scope.get_unique_operator_name(op_type),
                                op_version=3 if domain == "ai.onnx.ml" else None, **attrs)
        return out

    def cast(self, x, to):
        return self.op("Cast", [x], to=to)

    def reduce_mean0(self, x):
        if self.opset >= 18:
            return self.op("ReduceMean", [x, self.const([0], np.int64)], keepdims=0)
        return self.op("ReduceMean", [x], axes=[0], keepdims=0)


# -- activations: ONNX for each name in ACTIVATIONS -----------------------------------


def _act(g, name, x):
    f = np.float32
    simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus",
              "softsign": "Softsign", "exponential": "Exp"}
    if name == "linear":
        return x
    if name in simple:
        return g.op(simple[name], [x])
    if name in ("softmax", "log_softmax"):
        return g.op("Softmax" if name == "softmax" else "LogSoftmax", [x], axis=-1)
    if name in ("silu", "swish"):
        return g.op("Mul", [x, g.op("Sigmoid", [x])])
    if name == "gelu":  # exact: 0.5 x (1 + erf(x / sqrt 2))
        erf = g.op("Erf", [g.op("Mul", [x, g.const(f(0.7071067811865476))])])
        return g.op("Mul", [g.op("Mul", [x, g.const(f(0.5))]), g.op("Add", [erf, g.const(f(1))])])
    if name == "elu":
        return g.op("Elu", [x], alpha=1.0)
    if name == "celu":
        return g.op("Celu", [x], alpha=1.0)
    if name == "selu":
        return g.op("Selu", [x], alpha=_KERAS_SELU[0], gamma=_KERAS_SELU[1])
    if name == "leaky_relu":
        return g.op("LeakyRelu", [x], alpha=0.2)
    if name in ("relu6", "hard_tanh"):
        lo, hi = (0, 6) if name == "relu6" else (-1, 1)
        return g.op("Clip", [x, g.const(f(lo)), g.const(f(hi))])
    if name in ("hard_sigmoid", "hard_silu", "hard_swish"):
        hs = g.op("Div", [g.op("Clip", [g.op("Add", [x, g.const(f(3))]), g.const(f(0)),
                                        g.const(f(6))]), g.const(f(6))])
        return hs if name == "hard_sigmoid" else g.op("Mul", [x, hs])
    if name == "mish":
        return g.op("Mul", [x, g.op("Tanh", [g.op("Softplus", [x])])])
    if name in ("hard_shrink", "soft_shrink"):
        return g.op("Shrink", [x], lambd=0.5, bias=0.0 if name == "hard_shrink" else 0.5)
    if name == "tanh_shrink":
        return g.op("Sub", [x, g.op("Tanh", [x])])
    if name == "log_sigmoid":
        return g.op("Neg", [g.op("Softplus", [g.op("Neg", [x])])])
    if name == "squareplus":
        root = g.op("Sqrt", [g.op("Add", [g.op("Mul", [x, x]), g.const(f(4))])])
        return g.op("Div", [g.op("Add", [x, root]), g.const(f(2))])
    if name == "sparse_sigmoid":
        return g.op("Clip", [g.op("Mul", [g.op("Add", [x, g.const(f(1))]), g.const(f(0.5))]),
                             g.const(f(0)), g.const(f(1))])
    if name == "sparse_plus":
        sq = g.op("Mul", [g.const(f(0.25)), g.op("Mul", [g.op("Add", [x, g.const(f(1))])] * 2)])
        mid = g.op("Where", [g.op("Less", [x, g.const(f(1))]), sq, x])
        return g.op("Where", [g.op("LessOrEqual", [x, g.const(f(-1))]), g.const(f(0)), mid])
    raise UnsupportedNetwork(f"The activation {name!r} has no ONNX conversion.")


ONNX_ACTIVATIONS = frozenset(ACTIVATIONS)  # every one above (tested)


# -- the network -----------------------------------------------------------------------


def _network(g, network, x):
    """ONNX nodes computing ``network``'s output from float32 ``x`` (n, d)."""
    for step in network.steps:
        kind = step.kind
        if kind == "dense":
            y = g.op("MatMul", [x, g.const(step.kernel)])
            if step.bias is not None:
                y = g.op("Add", [y, g.const(step.bias)])
            x = _act(g, step.activation, y)
        elif kind == "feature_scaling":
            x = g.op("Mul", [x, g.const(step.scale)])
        elif kind == "periodic_embedding":
            x = _periodic(g, step, x)
        elif kind == "ensemble_input":
            x = g.op("Mul", [g.op("Unsqueeze", [x, g.const([0], np.int64)]),
                             g.const(step.r[:, None, :])])
        elif kind == "ensemble_dense":
            if step.r is not None:
                x = g.op("Mul", [x, g.const(step.r)])
            y = g.op("MatMul", [x, g.const(step.kernel)])
            if step.s is not None:
                y = g.op("Mul", [y, g.const(step.s)])
            x = _act(g, step.activation, g.op("Add", [y, g.const(step.bias)]))
        elif kind == "ensemble_head":
            y = g.op("Add", [g.op("MatMul", [x, g.const(step.kernel)]), g.const(step.bias)])
            x = _act(g, step.activation, y)
        elif kind == "member_mean":
            x = g.reduce_mean0(x)
        else:
            raise UnsupportedNetwork(f"The step {kind!r} has no ONNX conversion.")
    return x


def _periodic(g, step, x):
    f, k = step.frequencies.shape
    xe = g.op("Gather", [x, g.const(step.indices, np.int64)], axis=1)  # (n, f)
    xe = g.op("Unsqueeze", [g.op("Mul", [g.const(np.float32(2.0 * np.pi)), xe]),
                            g.const([-1], np.int64)])  # (n, f, 1)
    angles = g.op("Transpose", [g.op("Mul", [xe, g.const(step.frequencies)])], perm=[1, 0, 2])
    periodic = g.op("Concat", [g.op("Sin", [angles]), g.op("Cos", [angles])], axis=-1)
    emb = g.op("Add", [g.op("MatMul", [periodic, g.const(step.kernel)]),
                       g.const(step.bias[:, None, :])])
    emb = g.op("Transpose", [g.op("Relu", [emb])], perm=[1, 0, 2])
    emb = g.op("Reshape", [emb, g.const([0, -1], np.int64)])
    if not len(step.rest):
        return emb
    rest = g.op("Gather", [x, g.const(step.rest, np.int64)], axis=1)
    return g.op("Concat", [rest, emb], axis=1)


# -- converters ------------------------------------------------------------------------


def _parts(estimator):
    """(NumpyNetwork, OutputDecoder) of a fitted estimator, or a clear error."""
    name = type(estimator).__name__
    if getattr(estimator, "model", None) is not None:
        raise UnsupportedNetwork(
            f"{name} with model= (a user's Keras model) cannot be exported to ONNX by "
            "skdense: only the networks skdense builds convert. Export the Keras network "
            "with tf2onnx, or use skdense.persistence.export_serving."
        )
    predictor = vars(estimator).get("_numpy_predictor_")
    if isinstance(predictor, NumpyPredictor):  # after fit or skdense.load: no Keras needed
        return predictor.network, predictor.decoder
    try:
        network = network_from_keras(estimator.model_)
    except UnsupportedNetwork as err:
        raise UnsupportedNetwork(f"{name}'s network cannot be exported to ONNX: {err}") from None
    decoder = OutputDecoder.from_target_encoder(estimator.keras_estimator_.target_encoder_)
    return network, decoder


def _float_input(g, var):
    from onnx import TensorProto

    from skl2onnx.common.data_types import FloatTensorType

    if isinstance(var.type, FloatTensorType):
        return var.full_name
    return g.cast(var.full_name, TensorProto.FLOAT)


def _parse_dense(scope, model, inputs, custom_parsers=None):
    from sklearn.base import is_classifier
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType

    from skl2onnx._parse import _get_sklearn_operator_name

    op = scope.declare_local_operator(_get_sklearn_operator_name(type(model)), model)
    op.inputs = inputs
    if is_classifier(model):
        _, decoder = _parts(model)
        classes = decoder.classes
        if decoder.task == "multilabel" or classes.dtype.kind in "iub":
            label_type = Int64TensorType()
        else:
            label_type = StringTensorType()
        op.outputs.append(scope.declare_local_variable("label", label_type))
        op.outputs.append(scope.declare_local_variable("probabilities", FloatTensorType()))
    else:
        op.outputs.append(scope.declare_local_variable("variable", FloatTensorType()))
    return op.outputs


def _shape_dense(operator):
    n = operator.inputs[0].get_first_dimension()
    model = operator.raw_operator
    network, decoder = _parts(model)
    if decoder.task == "regression":
        operator.outputs[0].type.shape = [n, network.n_outputs]
        return
    width = 2 if decoder.task == "binary" else network.n_outputs
    operator.outputs[0].type.shape = [n, width] if decoder.task == "multilabel" else [n]
    operator.outputs[1].type.shape = [n, width]


def _convert_dense(scope, operator, container):
    from onnx import TensorProto

    g = _Graph(scope, operator, container)
    network, decoder = _parts(operator.raw_operator)
    if len(operator.inputs) != 1:
        raise UnsupportedNetwork(
            f"{type(operator.raw_operator).__name__} takes one numeric matrix; got "
            f"{len(operator.inputs)} ONNX inputs. Put a TabularPreprocessor before it."
        )
    raw = _network(g, network, _float_input(g, operator.inputs[0]))
    outputs = [v.full_name for v in operator.outputs]
    if decoder.task == "regression":
        y = g.op("Add", [g.op("Mul", [raw, g.const(decoder.scale)]), g.const(decoder.mean)])
        g.op("Identity", [y], output=outputs[0])
        return
    if decoder.task == "binary":
        proba = g.op("Concat", [g.op("Sub", [g.const(np.float32(1)), raw]), raw], axis=1)
    else:
        proba = raw
    g.op("Identity", [proba], output=outputs[1])
    if decoder.task == "multilabel":
        above = g.op("Greater", [raw, g.const(np.float32(0.5))])
        g.op("Cast", [above], output=outputs[0], to=TensorProto.INT64)
        return
    index = g.op("ArgMax", [proba], axis=1, keepdims=0)
    classes = decoder.classes
    if classes.dtype.kind in "iub":
        labels = g.const(classes.astype(np.int64), np.int64)
    else:
        labels = g.const(classes.astype(str), object)
    g.op("Gather", [labels, index], output=outputs[0], axis=0)


# -- TabularPreprocessor -----------------------------------------------------------------


def _parse_tabular(scope, model, inputs, custom_parsers=None):
    from skl2onnx.common.data_types import FloatTensorType

    from skl2onnx._parse import _get_sklearn_operator_name

    op = scope.declare_local_operator(_get_sklearn_operator_name(type(model)), model)
    op.inputs = inputs
    op.outputs.append(scope.declare_local_variable("features", FloatTensorType()))
    return op.outputs


def _shape_tabular(operator):
    pre = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type.shape = [n, len(pre.get_feature_names_out())]


def _convert_tabular(scope, operator, container):
    from onnx import TensorProto

    from skl2onnx.common.data_types import StringTensorType

    g = _Graph(scope, operator, container)
    pre = operator.raw_operator
    inputs = operator.inputs
    names = list(pre._columns_in)
    by_name = {v.raw_name: v for v in inputs}
    single = inputs[0] if len(inputs) == 1 and inputs[0].raw_name not in map(
        input_name, names) else None

    def doubles(cols):
        if single is not None:
            x = g.cast(single.full_name, TensorProto.DOUBLE)
            return g.op("Gather", [x, g.const([names.index(c) for c in cols], np.int64)], axis=1)
        return g.op("Concat", [g.cast(by_name[input_name(c)].full_name, TensorProto.DOUBLE)
                               for c in cols], axis=1)

    parts = []
    for name, pipe, cols in pre.column_transformer_.transformers_:
        if isinstance(pipe, str):
            continue
        steps = [step for _, step in pipe.steps]
        if name == "categorical":
            if single is not None or any(
                    not isinstance(by_name[input_name(c)].type, StringTensorType) for c in cols):
                raise UnsupportedNetwork(
                    f"TabularPreprocessor's categorical columns {cols} need string ONNX "
                    "inputs (one per column): convert it with a DataFrame sample "
                    "(skdense's to_onnx(pipe, df)); categorical_features on an array has "
                    "no ONNX conversion.")
            parts.append(_categorical(g, steps, [by_name[input_name(c)].full_name for c in cols]))
            continue
        x = doubles(cols)
        for step in steps[1:]:
            x = _numeric_step(g, step, x)
        parts.append(x)
    out = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)
    g.op("Cast", [out], output=operator.outputs[0].full_name, to=TensorProto.FLOAT)


def _numeric_step(g, step, x):
    from onnx import TensorProto

    kind = type(step).__name__
    d = np.float64
    if kind == "Pipeline":
        for _, inner in step.steps:
            x = _numeric_step(g, inner, x)
        return x
    if isinstance(step, str):
        return x
    if kind == "SimpleImputer":
        return g.op("Where", [g.op("IsNaN", [x]), g.const(step.statistics_.astype(d), d), x])
    if kind == "StandardScaler":
        return g.op("Div", [g.op("Sub", [x, g.const(step.mean_, d)]), g.const(step.scale_, d)])
    if kind == "RobustScaler":
        return g.op("Div", [g.op("Sub", [x, g.const(step.center_, d)]), g.const(step.scale_, d)])
    if kind == "MinMaxScaler":
        return g.op("Add", [g.op("Mul", [x, g.const(step.scale_, d)]), g.const(step.min_, d)])
    if kind == "FunctionTransformer" and getattr(step.func, "__name__", "") == "smooth_clip":
        t = g.op("Div", [x, g.const(3.0, d)])
        root = g.op("Sqrt", [g.op("Add", [g.const(1.0, d), g.op("Mul", [t, t])])])
        return g.op("Div", [x, root])
    if kind == "MissingIndicator":
        nan = g.op("IsNaN", [g.op("Gather", [x, g.const(step.features_, np.int64)], axis=1)])
        return g.cast(nan, TensorProto.DOUBLE)
    what = "scaler='quantile'" if kind == "QuantileTransformer" else kind
    raise UnsupportedNetwork(
        f"TabularPreprocessor's {what} has no ONNX conversion in skdense; use scaler= "
        "'robust_clip', 'standard', 'robust', 'minmax' or None to export.")


def _categorical(g, steps, names):
    """One-hot columns of string inputs: missing ("") imputed, then each label mapped
    to its output column as the fitted OneHotEncoder maps it."""
    from onnx import TensorProto

    imputer, encoder = steps[1], steps[2]
    widths = encoder._n_features_outs
    blocks = []
    for j, (x, cats) in enumerate(zip(names, encoder.categories_)):
        fill = g.const(np.array([str(imputer.statistics_[j])], dtype=object), object)
        x = g.op("Where", [g.op("Equal", [x, g.const(np.array([""], dtype=object), object)]),
                           fill, x])
        keys, columns, unknown = _one_hot_columns(encoder, j, cats)
        idx = g.op("LabelEncoder", [x], domain="ai.onnx.ml", keys_strings=keys,
                   values_int64s=columns, default_int64=unknown)
        hot = g.op("Equal", [idx, g.const(np.arange(widths[j]), np.int64)])
        blocks.append(g.cast(hot, TensorProto.DOUBLE))
    return blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, axis=1)


def _one_hot_columns(encoder, j, cats):
    """Each category's output column within feature ``j``'s block, and an unknown
    label's (-1: none), read from the fitted encoder's own transform."""
    widths = encoder._n_features_outs
    start = int(sum(widths[:j]))
    probe = np.array([[c[0] for c in encoder.categories_]] * (len(cats) + 1), dtype=object)
    probe[:, j] = list(cats) + ["\x00skdense-unknown\x00"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        block = np.asarray(encoder.transform(probe))[:, start:start + widths[j]]
    columns = [int(np.argmax(row)) if row.any() else -1 for row in block]
    return [str(c) for c in cats], columns[:-1], columns[-1]


# -- public ------------------------------------------------------------------------------


def register():
    """Register skdense's converters with skl2onnx (idempotent)."""
    _deps()
    from skl2onnx import update_registered_converter

    from .. import DenseClassifier, DenseRegressor
    from ..preprocessing import TabularPreprocessor

    for cls in (DenseClassifier, DenseRegressor):
        update_registered_converter(cls, f"Skdense{cls.__name__}", _shape_dense, _convert_dense,
                                    parser=_parse_dense)
    update_registered_converter(TabularPreprocessor, "SkdenseTabularPreprocessor",
                                _shape_tabular, _convert_tabular, parser=_parse_tabular)


def input_name(column):
    """The ONNX input name of a DataFrame column: its name, with every character
    other than a letter, a digit or ``_`` made ``_`` (as skl2onnx names inputs)."""
    return re.sub(r"[^0-9a-zA-Z_]", "_", str(column))


def _check_names(columns):
    names = [input_name(c) for c in columns]
    if len(set(names)) != len(names):
        raise ValueError(
            f"Columns {list(columns)} give the ONNX input names {names}, some alike; "
            "rename the columns so that they differ in letters, digits or '_'.")


def initial_types(model, X):
    """skl2onnx's input types for ``X``: see the module docstring."""
    import pandas as pd
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, StringTensorType

    first = model.steps[0][1] if hasattr(model, "steps") else model
    kinds = _column_kinds(first)
    if isinstance(X, pd.DataFrame):
        _check_names(X.columns)
        return [(input_name(c), StringTensorType([None, 1]) if kinds.get(str(c)) == "categorical"
                 else DoubleTensorType([None, 1])) for c in X.columns]
    X = np.asarray(X)
    tensor = DoubleTensorType if kinds else FloatTensorType
    return [("X", tensor([None, X.shape[1]]))]


def _column_kinds(first):
    if type(first).__name__ != "TabularPreprocessor":
        return {}
    kinds = {c: "numeric" for c in first._columns_in}
    kinds.update({c: "categorical" for c in first.categorical_features_})
    return kinds


def onnx_inputs(model, X):
    """The ``onnxruntime`` feed for ``X``: one float array, or one ``(n, 1)`` array per
    DataFrame column (float64 numbers, NaN for missing; str labels, "" for missing)."""
    import pandas as pd

    from ..preprocessing import _category_labels, _to_float

    first = model.steps[0][1] if hasattr(model, "steps") else model
    kinds = _column_kinds(first)
    if not isinstance(X, pd.DataFrame):
        return {"X": np.asarray(X, dtype=np.float64 if kinds else np.float32)}
    feed = {}
    for c in X.columns:
        if kinds.get(str(c)) == "categorical":
            labels = _category_labels(X[c])
            feed[input_name(c)] = np.array(["" if v != v else v for v in labels],
                                           dtype=object).reshape(-1, 1)
        else:
            feed[input_name(c)] = _to_float(X[[c]]).reshape(-1, 1)
    return feed


def to_onnx(model, X_sample, *, target_opset=None):
    """An ONNX model (``onnx.ModelProto``) of a fitted skdense estimator or Pipeline.

    Parameters
    ----------
    model : DenseClassifier, DenseRegressor or sklearn Pipeline
        Fitted; a Pipeline may hold ``TabularPreprocessor`` and scikit-learn
        steps skl2onnx converts.
    X_sample : DataFrame or array
        A few rows like those to predict: they fix the ONNX inputs (see
        :func:`onnx_inputs`).
    target_opset : int or None
        The ONNX opset (None: skl2onnx's latest tested); ``ai.onnx.ml`` 3 (its
        LabelEncoder maps a category to its one-hot column).

    Raises
    ------
    UnsupportedNetwork
        A part cannot be converted (a ``model=`` network, a quantile scaler...);
        the message names it.
    ImportError
        skl2onnx or onnx is not installed: ``pip install "skdense[onnx]"``.
    """
    register()
    from skl2onnx import convert_sklearn, get_latest_tested_opset_version

    opset = {"": target_opset or get_latest_tested_opset_version(), "ai.onnx.ml": 3}
    return convert_sklearn(model, initial_types=initial_types(model, X_sample),
                           target_opset=opset)
