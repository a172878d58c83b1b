"""Saving and loading fitted estimators and pipelines without pickle.

:func:`save` writes one zip file; :func:`load` reads it back without running
code from the file: no pickle, no Python names looked up from the file
except in fixed tables of skdense's own types.

- ``manifest.json``: the format, its version, the library versions, and
  what the file holds: one estimator, or an object stored with ``skops``.
- ``estimators/<i>.json``: a ``DenseClassifier`` or ``DenseRegressor``:
  its parameters, what ``fit`` learnt (``classes_``, ``history_``,
  ``n_iter_``, ``feature_names_in_``...), the target's encoding and scaling,
  in plain JSON (arrays as lists with their dtype).
- ``estimators/<i>.keras``: its network, Keras's own format, loaded with
  ``safe_mode=True`` after its configuration has been checked against the
  Keras and skdense types a network is made of.
- ``object.skops``: anything else (a ``Pipeline``, a ``ColumnTransformer``,
  ``GridSearchCV``...), stored with skops (scikit-learn's secure-persistence
  format), each skdense estimator inside replaced by a reference to its
  ``estimators/<i>`` entry.

Values go to JSON through :mod:`skdense.persistence._values`; Keras files and
objects are checked and loaded by :mod:`skdense.persistence._keras_files`.

:func:`load_network` loads a bare network saved with ``model_.save(path)``;
:func:`export_serving` writes a TensorFlow SavedModel whose outputs are
decoded (probabilities in ``classes_`` order, regression values in the
target's units).  See the "Saving and loading" page of the documentation.
"""

import copy
import json
import os
import re
import sys
import tempfile
import zipfile

import numpy as np

from .._inference import OutputDecoder
from ._archive import Archive, Budget, LoadLimits, limits_or_default, open_file, reading
from ._errors import MalformedFileError, UntrustedContentError, preview
from ._keras_files import NetworkFile, restore_unsaved_state, unsaved_state
from ._state import check_state, current_state, target_encoder_state
from ._values import decode, encode

__all__ = [
    "LoadLimits",
    "MalformedFileError",
    "UntrustedContentError",
    "export_serving",
    "load",
    "load_network",
    "save",
]

FORMAT = "skdense"
FORMAT_VERSION = 2  # 2: skdense's own fields for the scikeras estimator (1 still loads)

_MANIFEST = "manifest.json"
_SKOPS_MEMBER = "object.skops"
_SERVING_JSON = "skdense_serving.json"

# The types a skops part may hold besides scikit-learn's, NumPy's and SciPy's
# (which skops trusts by default); a user adds their own with load(trusted=...).
SKOPS_TRUSTED = (
    "skdense.persistence._EstimatorRef",
    "skdense.pipeline.AutoDense",
    "skdense.preprocessing.Flatten",
    "skdense.preprocessing.TabularPreprocessor",
    "skdense.preprocessing._to_float",
    "skdense.preprocessing._to_labels",
    "skdense.preprocessing.smooth_clip",
    # SimpleImputer's fitted dtype: skops rebuilds it from an empty array
    # loaded with allow_pickle=False (its DTypeNode), so no code runs.
    "numpy.dtype",
)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def save(obj, path):
    """Save a fitted estimator or pipeline to ``path``, in a format that loads without
    running code.

    Parameters
    ----------
    obj : DenseClassifier, DenseRegressor, or a fitted scikit-learn estimator
        A fitted skdense estimator, or any fitted scikit-learn object that
        holds them (``Pipeline``, ``make_dense_pipeline()``,
        ``ColumnTransformer`` steps, ``GridSearchCV``...).  Objects other than
        a bare skdense estimator are stored with skops (``pip install skops``).
    path : str or path-like
        The file to write (a zip archive; ``.skdense`` is a good suffix).  It
        is written to a temporary file first and moved into place, so an
        interrupted save never leaves a half-written file at ``path``; its
        permissions follow your umask, as ``open(path, "w")``'s would.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        ``obj`` is not fitted.
    ValueError
        A parameter or attribute holds something the format cannot store
        without code (a callback, a builder function, ``model=``...): the
        message names it.

    See Also
    --------
    load : read the file back.
    """
    from sklearn.base import BaseEstimator

    writer = _Writer()
    if _is_dense(obj):
        _check_fitted_dense(obj)
        writer.add_estimator(obj)
        root = "estimator"
        skops_bytes = None
    else:
        if not isinstance(obj, BaseEstimator):
            raise TypeError(
                f"save() stores scikit-learn estimators (a fitted DenseClassifier, "
                f"DenseRegressor, Pipeline...); got {type(obj).__name__}."
            )
        _check_fitted_object(obj)
        sio = _skops()
        substituted = _substitute(obj, writer, {})
        try:
            skops_bytes = sio.dumps(substituted)
        except Exception as err:
            raise ValueError(
                f"skops could not store this {type(obj).__name__}: {err}. Store the "
                "parts that it can, or use pickle/joblib for a destination you trust."
            ) from err
        stray = [t for t in sio.get_untrusted_types(data=skops_bytes) if _is_skdense_estimator_name(t)]
        if stray:
            raise ValueError(
                f"This {type(obj).__name__} holds {stray[0]} inside an object that save() "
                "does not look into (it looks into lists, tuples, dicts and "
                "scikit-learn's objects). Keep skdense estimators in Pipeline steps or "
                "estimator attributes."
            )
        root = "skops"
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "root": root,
        "estimators": len(writer.records),
        "versions": _versions(),
    }
    writer.write(os.fspath(path), manifest, skops_bytes)


def load(path, *, trusted=None, limits=None):
    """Load what :func:`save` wrote; nothing in the file runs as code, and what it
    may cost is bounded before anything is allocated.

    Parameters
    ----------
    path : str or path-like
    trusted : list of str, default=None
        Extra types the file may hold, by fully qualified name: your own
        transformers in a pipeline's skops part (``"mypkg.MyScaler"``), beyond
        what skops trusts by default (scikit-learn's estimators, NumPy's and
        SciPy's types) and skdense's own; and Keras layers of a network from
        ``model=`` beyond those skdense builds (``"keras.layers.BatchNormalization"``).
        The error for an untrusted type names what to pass; list only types
        whose loading you trust.
    limits : LoadLimits, default=None
        What the file may cost (sizes, counts, nesting); None is
        ``LoadLimits()``, whose defaults are on the "Saving and loading" page.

    Returns
    -------
    object
        The fitted estimator or pipeline, ready to predict, refit, clone or
        pickle.

    Raises
    ------
    UntrustedContentError
        The file names a type skdense does not load, or holds a Keras layer
        that runs stored code or reads other files; nothing was constructed
        from it.
    MalformedFileError
        The file is not one :func:`save` wrote, is damaged, is over a limit
        of ``limits``, or holds attributes that disagree with its network.
        Both errors are ``ValueError``s and name the file and the entry.
    """
    path = os.fspath(path)
    limits = limits_or_default(limits)
    trusted = tuple(str(t) for t in (trusted or ()))
    budget = Budget(limits)
    what = "a skdense file (written by skdense.save)"
    with Archive(open_file(path, what, limits), path, what, budget) as archive:
        manifest = _read_manifest(archive, path)
        n = manifest["estimators"]
        skops_bytes, skops_where = None, f"{path}: {_SKOPS_MEMBER}"
        if manifest["root"] == "skops":  # checked before any estimator is built
            with Archive(archive.open_member(_SKOPS_MEMBER), skops_where, "a skops file",
                         budget) as skops_archive:
                skops_archive.read_json("schema.json", "a skops file")  # size and depth
                skops_bytes = skops_archive.raw()
            allowed = _trusted_skops_types(skops_bytes, trusted, skops_where)
        estimators = [_read_estimator(archive, i, path, budget, trusted) for i in range(n)]
    if skops_bytes is None:
        return estimators[0]
    with reading(skops_where, "the skops part"):
        obj = _skops().loads(skops_bytes, trusted=allowed)
    used = set()
    obj = _resolve(obj, estimators, used, {}, skops_where)
    if used != set(range(n)):
        raise MalformedFileError(
            f"{skops_where} refers to estimators {sorted(used)}, but the file holds {n}; "
            "the file was altered or is damaged."
        )
    return obj


def load_network(path, *, trusted=None, limits=None):
    """Load a bare Keras network saved with ``est.model_.save(path)``.

    skdense's layers (``FeatureScaling``, ``PeriodicEmbedding``, the
    ensemble's ``EnsembleDense``...) are registered first, and the file's
    file is checked before Keras reads it, as :func:`load` checks a network:
    the layer types skdense builds and those in ``trusted`` load, no
    ``Lambda``, ``safe_mode=True``, within ``limits``.

    The bare network outputs what it was trained on, not what the estimator
    returns: a classifier's probabilities in ``classes_`` order (binary: one
    column, the probability of ``classes_[1]``), and a regressor's values
    standardised, ``(y - mean) / scale``.  The labels and the scaling are not
    in a ``.keras`` file: save the estimator with :func:`save` to keep them,
    or export it with :func:`export_serving`.

    Parameters
    ----------
    path : str or path-like
        A ``.keras`` file (a zip archive from its first byte to its last,
        whatever its name: a file that is another format, or holds one before
        or after the zip, is refused).
    trusted, limits
        As for :func:`load`.

    Returns
    -------
    keras.Model
    """
    path = os.fspath(path)
    limits = limits_or_default(limits)
    what = "a Keras .keras file"
    network = NetworkFile(open_file(path, what, limits), path, Budget(limits),
                          tuple(str(t) for t in (trusted or ())))
    return network.load_model()


def export_serving(estimator, path):
    """Export a fitted estimator's network as a TensorFlow SavedModel with decoded outputs.

    The SavedModel's endpoint ``serve`` (also its ``serving_default``
    signature) takes a float32 matrix ``(n_samples, n_features_in_)`` and
    returns, as float64:

    - for a ``DenseClassifier``, ``predict_proba``: the probability of each
      class in ``classes_`` order (binary: two columns), of each label for a
      multilabel target;
    - for a ``DenseRegressor``, ``predict``: values in the target's units (the
      standardisation is undone inside the function), shape ``(n,)`` for a
      one-column target.

    The labels are written next to it, in ``skdense_serving.json``
    (``classes``, ``task``, ``n_features_in``, ``feature_names_in``): the
    label of a row is ``classes[argmax(probabilities)]``.  Preprocessing
    steps of a Pipeline are not part of the export: apply them before.

    Parameters
    ----------
    estimator : fitted DenseClassifier or DenseRegressor
    path : str or path-like
        The SavedModel directory to write.
    """
    if not _is_dense(estimator):
        what = type(estimator).__name__
        hint = (
            " Export its last step (pipe[-1]) and apply pipe[:-1].transform(X) before "
            "calling the SavedModel: scikit-learn's preprocessing does not run inside "
            "TensorFlow."
            if hasattr(estimator, "steps")
            else ""
        )
        raise TypeError(
            f"export_serving exports a fitted DenseClassifier or DenseRegressor; got {what}."
            + hint
        )
    _check_fitted_dense(estimator, action="export_serving() exports")
    from .._backend import load_keras, load_tf

    tf, keras = load_tf(), load_keras()
    path = os.fspath(path)
    encoder = estimator.keras_estimator_.target_encoder_
    model = estimator.model_
    task = encoder.get_metadata()["skdense_task_"]
    n_features = estimator.n_features_in_

    if task == "regression":
        mean = tf.constant(np.asarray(encoder.mean_, dtype=np.float64))
        scale = tf.constant(np.asarray(encoder.scale_, dtype=np.float64))
        one_column = encoder.y_ndim_ == 1

        def serve(features):
            out = tf.cast(model(features, training=False), tf.float64) * scale + mean
            return tf.reshape(out, [-1]) if one_column else out

    elif task == "binary":

        def serve(features):
            p1 = tf.cast(model(features, training=False), tf.float64)[:, -1:]
            return tf.concat([1.0 - p1, p1], axis=1)

    else:

        def serve(features):
            return tf.cast(model(features, training=False), tf.float64)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve",
        serve,
        input_signature=[tf.TensorSpec((None, n_features), tf.float32, name="features")],
    )
    archive.write_out(path, verbose=False)
    names = getattr(estimator, "feature_names_in_", None)
    info = {
        "estimator": type(estimator).__name__,
        "task": task,
        "endpoint": "serve",
        "input": f"float32 matrix (n_samples, {n_features})",
        "output": (
            "float64 values in the target's units (predict)"
            if task == "regression"
            else "float64 probabilities, one column per entry of classes (predict_proba)"
        ),
        "classes": None if task == "regression" else _plain_list(estimator.classes_, "classes_"),
        "n_features_in": int(n_features),
        "feature_names_in": None if names is None else _plain_list(names, "feature_names_in_"),
        "versions": _versions(),
    }
    with open(os.path.join(path, _SERVING_JSON), "w") as f:
        json.dump(info, f, indent=2)


# ---------------------------------------------------------------------------
# Estimators <-> JSON records
# ---------------------------------------------------------------------------

_ESTIMATOR_NAMES = ("DenseClassifier", "DenseRegressor")
_NOT_FITTED_ATTRIBUTES = ("model_", "keras_estimator_")  # stored as the network
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def _estimator_classes():
    from .._estimators import DenseClassifier, DenseRegressor

    return {f"skdense.{c.__name__}": c for c in (DenseClassifier, DenseRegressor)}


def _is_dense(obj):
    module = sys.modules.get("skdense._estimators.base")
    return module is not None and isinstance(obj, module._DenseEstimator)


def _is_skdense_estimator_name(type_name):
    return type_name.startswith("skdense.") and type_name.rsplit(".", 1)[-1] in _ESTIMATOR_NAMES


def _class_key(est):
    key = f"skdense.{type(est).__name__}"
    if _estimator_classes().get(key) is not type(est):
        raise TypeError(
            f"save() stores DenseClassifier and DenseRegressor; {type(est).__qualname__} "
            "is a subclass, which the format cannot name without storing code. Use "
            "pickle/joblib for a destination you trust."
        )
    return key


def _check_fitted_dense(est, action="save() stores"):
    if not hasattr(est, "model_"):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(
            f"{action} a fitted {type(est).__name__}; this one is not fitted. Call "
            "fit(X, y) first (an unfitted estimator is only its parameters: "
            "get_params() and clone() rebuild it)."
        )


def _check_fitted_object(obj):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(obj)
    except NotFittedError:
        raise NotFittedError(
            f"save() stores fitted objects; this {type(obj).__name__} is not fitted. "
            "Call fit(X, y) first."
        ) from None


def _estimator_record(est):
    """(JSON record, network or None) of one skdense estimator."""
    name = type(est).__name__
    record = {
        "class": _class_key(est),
        "params": {
            k: encode(v, f"{name} parameter {k!r}")
            for k, v in est.get_params(deep=False).items()
        },
        "fitted": None,
    }
    if not hasattr(est, "model_"):
        return record, None  # e.g. GridSearchCV's unfitted template
    from .. import _scikeras

    attributes = {
        k: encode(v, f"{name}.{k}")
        for k, v in vars(est).items()
        if k.endswith("_") and not k.startswith("_") and k not in _NOT_FITTED_ATTRIBUTES
    }
    state = _scikeras.estimator_state(est.keras_estimator_)
    record["fitted"] = {
        "attributes": attributes,
        "keras_estimator": encode(state, f"{name}.keras_estimator_"),
        # what built the network: a continued fit (warm_start, partial_fit) compares it
        "network_params": encode(getattr(est, "_network_params", None), f"{name} parameters"),
        "network_state": encode(
            [[path, value] for path, value in unsaved_state(est.model_)], f"{name}.model_"
        ),
    }
    return record, est.model_


def _estimator_from_record(record, network, where, limits):
    """The estimator of :func:`_estimator_record`; ``network`` its checked
    :class:`~._keras_files.NetworkFile` (None for an unfitted estimator).

    Everything the record says is checked now: its types and names, its values
    within the limits, its saved scikeras state, and its fitted attributes
    against the network (:func:`_check_against_network`).  When the network runs
    in NumPy (:mod:`skdense._inference`), nothing loads Keras: the estimator
    predicts with the NumPy forward pass and the saved target decoding, and its
    ``model_`` and ``keras_estimator_`` are made on first access
    (:class:`_SavedNetwork`, TensorFlow imported then).  Otherwise they are made now.
    """
    if not isinstance(record, dict) or set(record) != {"class", "params", "fitted"}:
        raise MalformedFileError(f"{where}: not an estimator record (keys class, params, fitted).")
    classes = _estimator_classes()
    cls = classes.get(record["class"]) if isinstance(record["class"], str) else None
    if cls is None:
        raise UntrustedContentError(
            f"{where} names the type {repr(record['class'])[:120]}; skdense loads only "
            f"{sorted(classes)}. The file was altered or written by another program; "
            "nothing was loaded."
        )
    from .._estimators.params import is_routed

    params = _decoded_dict(record["params"], where, "params", limits)
    names = set(cls._get_param_names())
    for key in params:
        if not (_NAME.match(key) and (key in names or is_routed(key))):
            raise UntrustedContentError(f"{where}: {key!r} is not a parameter of {cls.__name__}.")
    est = cls(**params)
    fitted = record["fitted"]
    if fitted is None:
        if network is not None:
            raise MalformedFileError(f"{where}: an unfitted estimator with a network file.")
        return est
    if not isinstance(fitted, dict) or set(fitted) != set(_FITTED_FIELDS):
        raise MalformedFileError(
            f"{where}: the fitted part must have the fields {sorted(_FITTED_FIELDS)}.")
    attributes = _decoded_dict(fitted["attributes"], where, "attributes", limits)
    for key in attributes:
        if not (_NAME.match(key) and key.endswith("_")):
            raise UntrustedContentError(
                f"{where}: {key!r} is not a fitted attribute (a name ending in '_')."
            )
        if key in _NOT_FITTED_ATTRIBUTES:
            raise UntrustedContentError(f"{where}: {key} comes from the network file only.")
    if network is None:
        raise MalformedFileError(f"{where}: a fitted estimator without its network file.")
    state = check_state(fitted["keras_estimator"], where, limits)
    network_params = decode(fitted["network_params"], where, limits)
    if not isinstance(network_params, (dict, type(None))):
        raise MalformedFileError(f"{where}: network_params must be a dict.")
    saved = _SavedNetwork(est._estimator_type_name(), network, fitted, where, limits)
    keras_hooks = params.get("callbacks") is not None or any(
        k.startswith("predict__") for k in params)  # they act in Keras's predict
    predictor = None if keras_hooks else saved.numpy_predictor()
    if predictor is None:  # predicts through Keras: load it now
        keras_estimator = saved()
        model = keras_estimator.model_
        widths = (model.inputs[0].shape[-1], model.outputs[0].shape[-1])
        decoder = OutputDecoder.from_target_encoder(keras_estimator.target_encoder_)
    else:
        widths = (predictor.network.n_features, predictor.network.n_outputs)
        decoder = predictor.decoder
    _check_against_network(attributes, state, decoder, widths, where)
    vars(est).update(attributes)
    if network_params is not None:
        est._network_params = network_params
    if predictor is None:
        est.keras_estimator_ = keras_estimator
        est.model_ = model
    else:
        est._numpy_predictor_ = predictor
        est._network_loader = saved  # model_, keras_estimator_ on first access
    return est


_FITTED_FIELDS = ("attributes", "keras_estimator", "network_params", "network_state")


def _decoded_dict(node, where, what, limits):
    value = decode(node, where, limits)
    if not (isinstance(value, dict) and all(isinstance(k, str) for k in value)):
        raise MalformedFileError(f"{where}: {what} must be a dict with string keys.")
    return value


def _check_against_network(attributes, state, decoder, widths, where):
    """Refuse fitted attributes that disagree with the network and the target's
    decoding, which are what ``predict`` uses: ``n_features_in_`` (and
    ``feature_names_in_``) with the network's input, ``classes_`` with the labels
    the decoding returns and the output's width, a regressor's outputs likewise."""
    n_inputs, n_outputs = (int(w) for w in widths)

    def refuse(message):
        return MalformedFileError(
            f"{where}: {message}; the file was altered or is damaged. Nothing was loaded.")

    n_features = attributes.get("n_features_in_")
    if type(n_features) is not int or n_features != n_inputs or state["n_features_in"] != n_inputs:
        raise refuse(
            f"n_features_in_ is {n_features!r} (the saved scikeras state says "
            f"{state['n_features_in']!r}), but the network takes {n_inputs} columns")
    names = attributes.get("feature_names_in_")
    if names is not None and np.shape(names) != (n_features,):
        raise refuse(f"feature_names_in_ has shape {np.shape(names)}, not ({n_features},)")
    if not decoder.fits_output(n_outputs):
        raise refuse(
            f"the network outputs {n_outputs} columns, which a {decoder.task} target "
            f"of {decoder.n_targets} does not decode")
    if decoder.task == "regression":
        n_out = attributes.get("n_outputs_")
        if n_out is not None and n_out != decoder.n_targets:
            raise refuse(f"n_outputs_ is {n_out!r}, but the target has {decoder.n_targets}")
        return
    labels = attributes.get("classes_")
    if labels is None or not _same_labels(labels, decoder.classes):
        raise refuse(
            f"classes_ is {preview(_plain(labels))}, but predict decodes "
            f"{preview(_plain(decoder.classes))}")
    target_classes = state["target"].get("classes") if isinstance(state["target"], dict) else None
    if target_classes is not None and not _same_labels(target_classes, decoder.classes):
        raise refuse("the saved target's classes differ from the decoding's")


def _same_labels(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all(a == b))


def _plain(values):
    return None if values is None else np.asarray(values).tolist()


class _SavedNetwork:
    """What a saved estimator's network and scikeras estimator are made from: the
    checked :class:`~._keras_files.NetworkFile` and the record's ``fitted`` entry
    (still JSON).

    Calling it makes them: the network loaded by Keras (safe mode), the state a
    ``.keras`` file does not keep restored, the scikeras estimator restored around
    it.  Returns the scikeras estimator (its ``model_`` is the network).  Plain
    data, so a loaded estimator pickles before its first ``model_`` access too.
    """

    def __init__(self, estimator_type, network, fitted, where, limits):
        self.estimator_type, self.network, self.where = estimator_type, network, where
        self.limits = limits
        self.state = fitted["keras_estimator"]
        self.network_state = fitted["network_state"]

    def numpy_predictor(self):
        """The NumPy forward pass and decoding, or None when the network is not one
        the NumPy path runs (a network from ``model=``: it then loads Keras)."""
        from .._inference import NumpyPredictor, UnsupportedNetwork

        with reading(self.where, "the target's encoding"):
            decoder = OutputDecoder.from_encoder_state(
                target_encoder_state(self.state, self.where, self.limits))
        try:
            network = self.network.numpy_network()
        except UnsupportedNetwork:
            return None  # the Keras path loads it
        return NumpyPredictor(network, decoder)

    def __call__(self):
        from .. import _scikeras

        where = self.where
        with reading(where, "the saved scikeras state"):
            state = current_state(decode(self.state, where, self.limits), where)
            model = self.network.load_model()
            restore_unsaved_state(
                model, [tuple(item) for item in decode(self.network_state, where, self.limits)], where)
            return _scikeras.restore_estimator(self.estimator_type, state, model)


def _plain_list(values, name):
    out = np.asarray(values).tolist()
    try:
        json.dumps(out)
    except TypeError:
        raise ValueError(
            f"{name} holds values that JSON cannot write ({out[:3]}); use strings or numbers."
        ) from None
    return out


# ---------------------------------------------------------------------------
# The zip archive
# ---------------------------------------------------------------------------


class _Writer:
    """The estimators of one file, each stored once (shared objects stay shared)."""

    def __init__(self):
        self.records = []  # (record, network or None)
        self._index = {}  # id(estimator) -> index

    def add_estimator(self, est):
        key = id(est)
        if key not in self._index:
            self._index[key] = len(self.records)
            self.records.append((est, _estimator_record(est)))
        return self._index[key]

    def write(self, path, manifest, skops_bytes):
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp_path = tempfile.mkstemp(prefix=".skdense-", suffix=".tmp", dir=directory)
        os.close(fd)
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp's 0600, as open() would have made it
        try:
            with tempfile.TemporaryDirectory(prefix="skdense-save-") as tmp, zipfile.ZipFile(
                tmp_path, "w", compression=zipfile.ZIP_DEFLATED
            ) as zf:
                zf.writestr(_MANIFEST, json.dumps(manifest, indent=1))
                for i, (_, (record, network)) in enumerate(self.records):
                    zf.writestr(f"estimators/{i}.json", json.dumps(record, indent=1))
                    if network is not None:
                        keras_path = os.path.join(tmp, f"{i}.keras")
                        network.save(keras_path)
                        zf.write(keras_path, f"estimators/{i}.keras")
                if skops_bytes is not None:
                    zf.writestr(_SKOPS_MEMBER, skops_bytes)
            os.replace(tmp_path, path)
        except BaseException:
            if os.path.exists(tmp_path):
                os.remove(tmp_path)
            raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    out = {"skdense": __version__}
    for package in ("scikit-learn", "keras", "skops"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            pass
    return out


def _read_manifest(archive, path):
    """The manifest, checked against the archive: its root, its estimator count
    and the entries they name are exactly the file's entries."""
    manifest = archive.read_json(_MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise MalformedFileError(
            f"{path} is not a skdense file (its manifest names no skdense format).")
    version = manifest.get("format_version")
    if type(version) is not int or version > FORMAT_VERSION:
        raise MalformedFileError(
            f"{path} has format version {version!r}; this skdense reads version "
            f"{FORMAT_VERSION} and older. Upgrade skdense to load it."
        )
    root, n = manifest.get("root"), manifest.get("estimators")
    if root not in ("estimator", "skops"):
        raise MalformedFileError(f"{path}: unknown root {root!r} in manifest.json.")
    if type(n) is not int or n < 0 or (root == "estimator" and n != 1):
        raise MalformedFileError(
            f"{path}: manifest.json names {n!r} estimators; expected "
            f"{'1' if root == 'estimator' else 'a count'}.")
    expected = {_MANIFEST} | {f"estimators/{i}.json" for i in range(n)}
    optional = {f"estimators/{i}.keras" for i in range(n)}  # unfitted: no network
    if root == "skops":
        expected.add(_SKOPS_MEMBER)
    names = archive.names
    missing, extra = sorted(expected - names), sorted(names - expected - optional)
    if missing or extra:
        raise MalformedFileError(
            f"{path}: its manifest (root {root!r}, {n} estimators) does not describe its "
            f"entries: missing {missing}, unexpected {extra[:5]}. The file was altered "
            "or is damaged; nothing was loaded."
        )
    return manifest


def _read_estimator(archive, i, path, budget, trusted):
    where = f"{path}: estimators/{i}.json"
    record = archive.read_json(f"estimators/{i}.json")
    member = f"estimators/{i}.keras"
    network = None
    if member in archive.names:
        network = NetworkFile(archive.open_member(member), f"{path}: {member}", budget, trusted)
    return _estimator_from_record(record, network, where, budget.limits)


# ---------------------------------------------------------------------------
# skops: everything around the skdense estimators
# ---------------------------------------------------------------------------


class _EstimatorRef:
    """Stands in the skops part for the skdense estimator stored as ``estimators/<index>``."""

    def __init__(self, index):
        self.index = index


def _skops():
    try:
        import skops.io
    except ImportError:
        raise ImportError(
            "Saving or loading a Pipeline (anything but a bare DenseClassifier or "
            "DenseRegressor) needs skops, scikit-learn's secure-persistence format: "
            "pip install skops"
        ) from None
    return skops.io


def _trusted_skops_types(data, trusted, path):
    """The types skops may load from ``data``: skdense's and ``trusted``; raises
    UntrustedContentError, naming them, when ``data`` holds others."""
    allowed = list(SKOPS_TRUSTED) + [str(t) for t in (trusted or ())]
    with reading(path, "the skops part"):
        found = _skops().get_untrusted_types(data=data)
    untrusted = [t for t in found if t not in allowed]
    if untrusted:
        raise UntrustedContentError(
            f"{path} holds types that are not trusted: {untrusted}. skdense trusts "
            "what skops trusts by default (scikit-learn's estimators, NumPy's and SciPy's "
            "types) and its own types. If you know these types and trust this file, pass "
            f"them: skdense.persistence.load(path, trusted={untrusted!r}). Nothing was "
            "loaded."
        )
    return allowed


def _substitute(obj, writer, memo):
    """A copy of ``obj`` whose skdense estimators are :class:`_EstimatorRef`s.

    Looks into lists, tuples, dicts and the attributes of scikit-learn
    estimators and of scikit-learn's other objects (a search's scorer holds
    its estimator); copies only what contains a skdense estimator (the
    original is untouched).
    """
    key = id(obj)
    if key in memo:
        return memo[key]
    if _is_dense(obj):
        out = _EstimatorRef(writer.add_estimator(obj))
    elif type(obj) is list:
        out = [_substitute(v, writer, memo) for v in obj]
        out = obj if all(a is b for a, b in zip(out, obj)) else out
    elif type(obj) is tuple:
        items = tuple(_substitute(v, writer, memo) for v in obj)
        out = obj if all(a is b for a, b in zip(items, obj)) else items
    elif isinstance(obj, dict):
        items = {k: _substitute(v, writer, memo) for k, v in obj.items()}
        if all(items[k] is v for k, v in obj.items()):
            out = obj
        else:
            out = copy.copy(obj)
            out.update(items)
    elif _looked_into(obj):
        attrs = {k: _substitute(v, writer, memo) for k, v in vars(obj).items()}
        if all(attrs[k] is v for k, v in vars(obj).items()):
            out = obj
        else:
            out = copy.copy(obj)
            vars(out).update(attrs)
    else:
        out = obj
    memo[key] = out
    return out


def _looked_into(obj):
    """Whether :func:`_substitute` and :func:`_resolve` look into ``obj``'s attributes."""
    from sklearn.base import BaseEstimator

    if isinstance(obj, type) or not hasattr(obj, "__dict__"):
        return False
    return isinstance(obj, BaseEstimator) or type(obj).__module__.startswith("sklearn.")


def _resolve(obj, estimators, used, memo, where):
    """Put the loaded estimators in place of the :class:`_EstimatorRef`s (in place;
    a tuple is rebuilt).  The same traversal as :func:`_substitute`."""
    if isinstance(obj, _EstimatorRef):
        index = vars(obj).get("index")
        if type(index) is not int or not 0 <= index < len(estimators):
            raise MalformedFileError(
                f"{where}: a reference to estimator {index!r}, which the file does not hold.")
        used.add(index)
        return estimators[index]
    key = id(obj)
    if key in memo:
        return memo[key]
    memo[key] = obj
    if type(obj) is list:
        obj[:] = [_resolve(v, estimators, used, memo, where) for v in obj]
    elif type(obj) is tuple:
        items = tuple(_resolve(v, estimators, used, memo, where) for v in obj)
        if any(a is not b for a, b in zip(items, obj)):
            memo[key] = obj = items
    elif isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _resolve(obj[k], estimators, used, memo, where)
    elif _looked_into(obj) and not _is_dense(obj):
        for k, v in list(vars(obj).items()):
            vars(obj)[k] = _resolve(v, estimators, used, memo, where)
    return obj
