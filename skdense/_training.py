"""Training a compiled Keras model on in-memory arrays.

This module owns the training loop, early stopping and the compiled-function
cache.  The estimators call :func:`fit_model` and :func:`predict`; nothing else
here is used by them.

Two paths train a model:

``"engine"``
    The whole training run (shuffling, minibatch steps, validation loss, early
    stopping, restoring the best weights) runs inside one compiled
    ``tf.function`` on a cached *worker*: a clone of the model, compiled the
    same way, that lives in a module-level cache keyed by everything that
    changes the graph (see :func:`_graph_key`).  A fit copies the user's
    weights and optimizer state into a free worker, runs, and copies them
    back, so the trained object is the user's own Keras model and every fit of
    the same architecture (grid-search folds and candidates, fresh clones)
    reuses one trace.  The per-step graph is Keras's own ``train_step``: the
    model's call, its compiled loss (``compute_loss``, with regularisation
    losses) and its optimizer's ``apply_gradients``.

``"keras"``
    ``model.fit`` with ``keras.callbacks.EarlyStopping``.  Used for whatever the
    engine cannot honour: user callbacks, non-array data, unknown ``fit_kwargs``,
    a model class with its own ``train_step``/``compute_loss``, compiled
    metrics, a monitor other than ``loss``/``val_loss``.

Why a cached worker rather than ``stateless_call``/``stateless_apply``: Keras
3's TensorFlow optimizer refuses ``stateless_apply`` (and its ``assign``
bypasses the stateless scope), and the copy in and out costs well under a
millisecond for MLP-sized nets (measured in ``benchmarks/bench_fit.py``).

Early stopping follows ``keras.callbacks.EarlyStopping`` of Keras 3.15
(``keras/src/callbacks/early_stopping.py``) step for step, with
``mode="auto"`` for ``loss``/``val_loss`` (minimise), ``baseline=None`` and
``start_from_epoch=0``: at each epoch end ``wait += 1``; the value improves when
``current + min_delta < best`` (strictly; the first value always improves);
an improvement records best value, best epoch and (if restoring) the weights
and resets ``wait``; otherwise training stops when ``wait >= patience`` and the
epoch is not the first.  With ``restore_best_weights`` the best epoch's weights
are restored at the end of training *whether or not stopping triggered*
(Keras 3 restores in ``on_train_end`` whenever best weights exist; Keras 2
only did so when it had stopped early).  As in Keras, the optimizer state is
not restored and the weights restored are ``model.weights`` (trainable and
non-trainable weights; not seed-generator states).
"""

import collections
import json
import sys
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from ._backend import load_keras, load_tf


@dataclass(frozen=True)
class StopRule:
    """Early-stopping settings, with ``keras.callbacks.EarlyStopping`` semantics."""

    monitor: str = "val_loss"
    patience: int = 5
    min_delta: float = 0.0
    restore_best_weights: bool = True


@dataclass
class TrainResult:
    """What one training run produced."""

    history: dict = field(default_factory=dict)  # name -> list of per-epoch floats
    n_epochs: int = 0  # epochs actually run
    best_epoch: int | None = None  # 1-based epoch of the best monitored value, if stopping ran
    engine: str = "keras"  # which path trained: "engine" or "keras"


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------


def fit_model(
    model,
    x,
    y,
    *,
    sample_weight=None,
    validation_data=None,
    epochs,
    batch_size,
    shuffle=True,
    seed=None,
    stop=None,
    callbacks=(),
    verbose=0,
    fit_kwargs=None,
):
    """Train ``model`` (compiled) on arrays ``x``, ``y``; return a :class:`TrainResult`.

    ``validation_data`` is ``(x_val, y_val)`` or ``(x_val, y_val, w_val)`` or None;
    ``stop`` is a :class:`StopRule` or None (no early stopping); ``callbacks`` are
    user Keras callbacks; ``fit_kwargs`` are extra ``model.fit`` arguments routed
    by the user (``fit__...``).  The compiled engine trains when it can honour
    every argument, Keras ``model.fit`` otherwise; ``TrainResult.engine`` says
    which ran.
    """
    _check_compiled(model)
    epochs = int(epochs)
    batch_size = int(batch_size)
    if epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer; got {epochs}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}.")
    reason = _engine_refusal(
        model, x, y, sample_weight, validation_data, shuffle, stop, callbacks, fit_kwargs
    )
    if reason is None:
        try:
            return _fit_engine(
                model,
                x,
                y,
                sample_weight=sample_weight,
                validation_data=validation_data,
                epochs=epochs,
                batch_size=batch_size,
                shuffle=bool(shuffle),
                seed=seed,
                stop=stop,
                verbose=verbose,
            )
        except _Unsupported:
            pass  # structure the engine cannot clone or copy: Keras trains it
    return _fit_keras(
        model,
        x,
        y,
        sample_weight=sample_weight,
        validation_data=validation_data,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        stop=stop,
        callbacks=callbacks,
        verbose=verbose,
        fit_kwargs=fit_kwargs,
    )


def predict(model, x):
    """Forward pass of ``model`` on array ``x`` (no progress bar, no callbacks).

    Uses a compiled forward function cached per architecture (it takes the
    weights as arguments, so every model of the same structure shares one
    trace and any number of rows runs without retracing); models the cache
    cannot key fall back to ``model.predict``.
    """
    plan = _PREDICT_PLANS.get(model) if _hashable(model) else None
    if plan is None:
        plan = _predict_plan(model)
    if plan is False or not isinstance(x, np.ndarray) or x.ndim != 2:
        return np.asarray(model.predict(x, verbose=0))
    fn, tf_vars, n_features, dtype = plan
    if x.shape[1] != n_features:
        raise ValueError(
            f"The model takes {n_features} features per row; got {x.shape[1]}. "
            "Pass X with the columns the model was trained on."
        )
    tf = load_tf()
    read = tf.raw_ops.ReadVariableOp
    values = [read(resource=v.handle, dtype=v.dtype) for v in tf_vars]
    xt = tf.convert_to_tensor(np.asarray(x, dtype=dtype))
    try:
        # The flat call skips matching the structured signature (~0.5 ms).
        out = fn._call_flat(values + [xt], fn.captured_inputs)
    except (AttributeError, TypeError):
        out = fn(values, xt)
    if isinstance(out, list | tuple):
        out = out[0]
    return out.numpy()


_PREDICT_PLANS = weakref.WeakKeyDictionary()  # model -> (fn, tf variables, width, dtype) or False


def _hashable(model):
    try:
        hash(model)
        return True
    except TypeError:
        return False


def _predict_plan(model):
    """What :func:`predict` needs for ``model``, remembered per model object."""
    keras = load_keras()
    plan = False
    if _plain_model_class(model, keras) and len(model.inputs) == 1 and len(model.outputs) == 1:
        n_features = model.inputs[0].shape[-1]
        fn = _predictor_for(model) if n_features is not None else None
        variables = [*model.trainable_variables, *model.non_trainable_variables]
        tf_vars = [getattr(v, "value", None) for v in variables]
        if fn is not None and all(hasattr(v, "handle") for v in tf_vars):
            plan = (fn, tf_vars, n_features, np.dtype(model.inputs[0].dtype))
    if _hashable(model):
        _PREDICT_PLANS[model] = plan
    return plan


def clear_cache():
    """Drop every cached worker and compiled function (frees their memory)."""
    with _CACHE_LOCK:
        _WORKERS.clear()
        _PREDICTORS.clear()
        _PREDICT_PLANS.clear()


def cache_info():
    """Sizes of the caches and how many traces ran (for tests and benchmarks)."""
    with _CACHE_LOCK:
        return {
            "train_keys": len(_WORKERS),
            "workers": sum(len(p.idle) + p.busy for p in _WORKERS.values()),
            "predict_keys": len(_PREDICTORS),
            "train_traces": _TRACES["train"],
            "predict_traces": _TRACES["predict"],
        }


# --------------------------------------------------------------------------
# Choosing a path
# --------------------------------------------------------------------------

_MONITORS = ("loss", "val_loss")


class _Unsupported(Exception):
    """The engine cannot train this model; the Keras path will."""


def _check_compiled(model):
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise ValueError(
            "fit_model needs a compiled Keras model; call "
            "model.compile(optimizer=..., loss=...) first."
        )


def _plain_model_class(model, keras):
    """True for Keras's own Functional/Sequential classes (no user overrides)."""
    from keras.src.models.functional import Functional

    return type(model) in (Functional, keras.Sequential) or type(model) is keras.Model


def _engine_refusal(model, x, y, sample_weight, validation_data, shuffle, stop, callbacks, fit_kwargs):
    """Why the engine cannot honour this fit (a short string), or None if it can."""
    keras = load_keras()
    if callbacks:
        return "user callbacks"
    if fit_kwargs:
        return f"fit arguments {sorted(fit_kwargs)}"
    if not _plain_model_class(model, keras):
        return f"model class {type(model).__name__}"
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return "several inputs or outputs"
    if getattr(model, "_compile_metrics", None) is not None:
        return "compiled metrics"
    if not isinstance(shuffle, bool | np.bool_):
        return f"shuffle={shuffle!r}"
    if stop is not None and stop.monitor not in _MONITORS:
        return f"monitor={stop.monitor!r}"
    if stop is not None and stop.monitor == "val_loss" and validation_data is None:
        return "val_loss monitored without validation data"
    arrays = [x, y]
    if sample_weight is not None:
        arrays.append(sample_weight)
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
            return "validation_data not (x, y) or (x, y, w)"
        arrays.extend(v for v in validation_data if v is not None)
    if not all(isinstance(a, np.ndarray) for a in arrays):
        return "non-ndarray data"
    if x.ndim != 2 or len(x) == 0 or len(y) != len(x):
        return "x is not a non-empty 2-D array matching y"
    if sample_weight is not None and sample_weight.shape != (len(x),):
        return "sample_weight not of shape (n_samples,)"
    if validation_data is not None:
        xv, yv = validation_data[0], validation_data[1]
        if xv.ndim != 2 or xv.shape[1] != x.shape[1] or len(yv) != len(xv) or len(xv) == 0:
            return "validation x/y shapes"
        if yv.shape[1:] != y.shape[1:] or yv.dtype.kind != y.dtype.kind:
            return "validation y shape differs from y"
        if len(validation_data) == 3 and validation_data[2] is not None:
            if validation_data[2].shape != (len(xv),):
                return "validation sample weights not of shape (n_val,)"
    return None


# --------------------------------------------------------------------------
# The Keras path
# --------------------------------------------------------------------------


def _fit_keras(
    model, x, y, *, sample_weight, validation_data, epochs, batch_size, shuffle, stop,
    callbacks, verbose, fit_kwargs,
):
    keras = load_keras()
    cbs = list(callbacks)
    stopper = None
    if stop is not None:
        stopper = keras.callbacks.EarlyStopping(
            monitor=stop.monitor,
            patience=stop.patience,
            min_delta=stop.min_delta,
            restore_best_weights=stop.restore_best_weights,
        )
        cbs.append(stopper)
    hist = model.fit(
        x,
        y,
        sample_weight=sample_weight,
        validation_data=validation_data,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        callbacks=cbs,
        verbose=verbose,
        **(fit_kwargs or {}),
    )
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    n_epochs = len(next(iter(history.values()), []))
    best_epoch = None
    if stopper is not None and stop.monitor in history and n_epochs:
        best_epoch = int(stopper.best_epoch) + 1
    return TrainResult(history=history, n_epochs=n_epochs, best_epoch=best_epoch, engine="keras")


# --------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------

_CACHE_LOCK = threading.Lock()
_MAX_KEYS = 16  # architectures kept; least recently used dropped first
_MAX_IDLE_WORKERS = 4  # per architecture (threads fitting the same structure at once)
_WORKERS = collections.OrderedDict()  # key -> _Pool
_PREDICTORS = collections.OrderedDict()  # key -> tf.function
_TRACES = {"train": 0, "predict": 0}  # Python bodies traced (tests count retraces)

# Layers whose ``seed`` only initialises a SeedGenerator state variable; that
# state is copied like any weight, so the seed does not change the graph.
_SEED_STATE_LAYERS = {
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout",
}


class _Pool:
    def __init__(self):
        self.idle = []
        self.busy = 0


def _canonical(obj, names):
    """``obj`` (a config) with layer names replaced by their position, seeds of
    initializers and seeded-noise layers dropped: what changes the graph only."""
    if isinstance(obj, dict):
        out = {}
        is_init = obj.get("module") == "keras.initializers"
        is_seed_layer = obj.get("class_name") in _SEED_STATE_LAYERS
        for k, v in obj.items():
            if k == "seed" or (k == "config" and is_init):
                continue  # initial values are overwritten by the copied weights
            if k == "config" and is_seed_layer and isinstance(v, dict):
                v = {kk: vv for kk, vv in v.items() if kk != "seed"}
            out[k] = _canonical(v, names)
        return out
    if isinstance(obj, list | tuple):
        return [_canonical(v, names) for v in obj]
    if isinstance(obj, str) and obj in names:
        return names[obj]
    return obj


def _json_key(obj):
    return json.dumps(obj, sort_keys=True, default=repr)


_ARCH_KEYS = weakref.WeakKeyDictionary()  # model -> its _arch_key (get_config costs ms)


def _arch_key(model):
    """:func:`_model_arch_key`, remembered per model object (a functional
    model's graph cannot change after construction)."""
    try:
        return _ARCH_KEYS[model]
    except (KeyError, TypeError):
        pass
    key = _model_arch_key(model)
    try:
        _ARCH_KEYS[model] = key
    except TypeError:
        pass
    return key


def _model_arch_key(model):
    """A hashable description of the network's graph, independent of layer names,
    weight values and initializer seeds.  Raises _Unsupported if unserialisable."""
    try:
        config = model.get_config()
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot key"
        raise _Unsupported(f"get_config failed: {exc}") from exc
    config = dict(config)
    config.pop("name", None)
    layers = config.get("layers", [])
    names = {}
    for i, layer in enumerate(layers):
        name = layer.get("config", {}).get("name") or layer.get("name")
        if isinstance(name, str):
            names[name] = f"#L{i}"
    return (type(model).__name__, _json_key(_canonical(config, names)))


def _compile_key(model):
    """What of the compile settings changes the training graph: the loss, loss
    weights and the optimizer's class and config except its learning rate when
    that is a variable (its value is copied in)."""
    opt = model.optimizer
    opt_config = dict(opt.get_config())
    opt_config.pop("name", None)
    if not isinstance(opt_config.get("learning_rate"), dict):
        opt_config.pop("learning_rate", None)  # a variable, copied like a weight
    loss = model.loss
    if hasattr(loss, "get_config"):
        loss_key = (type(loss).__module__, type(loss).__qualname__, _json_key(loss.get_config()))
    elif isinstance(loss, str) or loss is None:
        loss_key = loss
    elif callable(loss):
        loss_key = ("callable", id(loss))  # identity: a function's body is unknown
    else:
        loss_key = _json_key(loss)
    return (
        type(opt).__module__,
        type(opt).__qualname__,
        _json_key(opt_config),
        loss_key,
        _json_key(getattr(model, "loss_weights", None)),
        _json_key(model.dtype_policy.name if hasattr(model, "dtype_policy") else None),
    )


def _clone_structure(model):
    """A new, uncompiled model with ``model``'s architecture (fresh weights).

    ``from_config`` first: ``keras.models.clone_model`` also recompiles the
    clone from the serialised compile config, which fails for an unregistered
    custom loss function and costs time we spend again in ``compile``.
    """
    keras = load_keras()
    try:
        return type(model).from_config(model.get_config())
    except Exception:  # noqa: BLE001 - try Keras's own cloning next
        pass
    try:
        return keras.models.clone_model(model)
    except Exception as exc:  # noqa: BLE001
        raise _Unsupported(f"cannot clone the model: {exc}") from exc


def _clone_compiled(model):
    """A clone of ``model`` compiled like it (fresh, unbuilt optimizer)."""
    clone = _clone_structure(model)
    opt = model.optimizer
    try:
        new_opt = type(opt).from_config(opt.get_config())
    except Exception as exc:  # noqa: BLE001
        raise _Unsupported(f"optimizer from_config failed: {exc}") from exc
    clone.compile(
        optimizer=new_opt,
        loss=model.loss,
        loss_weights=getattr(model, "loss_weights", None),
    )
    return clone


class _Worker:
    """A clone of a model with a compiled whole-training function."""

    def __init__(self, model, has_w, has_val, x_dtype, y_spec):
        tf = load_tf()
        keras = load_keras()
        self.model = m = _clone_compiled(model)
        opt = m.optimizer
        opt.build(m.trainable_variables)
        self.vars = list(m.trainable_variables) + list(m.non_trainable_variables)
        self.opt_vars = list(opt.variables)
        weight_ids = {id(v) for v in m.weights}
        self.restore_mask = [id(v) in weight_ids for v in self.vars]
        # Early-stopping state lives in variables so a run can be split in
        # chunks of epochs (verbose) without changing its result.
        with tf.init_scope():
            self.best_vars = [
                tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False) for v in self.vars
            ]
            self.es_best = tf.Variable(0.0, dtype=tf.float64, trainable=False)
            self.es_has_best = tf.Variable(False, trainable=False)
            self.es_wait = tf.Variable(0, dtype=tf.int64, trainable=False)
            self.es_best_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
            self.es_has_best_weights = tf.Variable(False, trainable=False)
            self.es_stopped = tf.Variable(False, trainable=False)
        self.has_w = has_w
        self.has_val = has_val
        del keras
        self.run = self._make_run(tf, x_dtype, y_spec)

    def _make_run(self, tf, x_dtype, y_spec):
        m = self.model
        opt = m.optimizer
        tvars = m.trainable_variables
        has_w, has_val = self.has_w, self.has_val
        n_features = m.inputs[0].shape[-1]
        y_shape, y_dtype = y_spec
        compute_loss = getattr(m, "_compute_loss", m.compute_loss)
        eval_rows = 8192

        def train_step(xb, yb, wb):
            with tf.GradientTape() as tape:
                y_pred = m(xb, training=True)
                loss = compute_loss(x=xb, y=yb, y_pred=y_pred, sample_weight=wb, training=True)
                scaled = opt.scale_loss(loss)
            grads = tape.gradient(scaled, tvars)
            opt.apply_gradients(zip(grads, tvars))
            return tf.cast(loss, tf.float64)

        f64 = tf.float64

        def eval_loss(xv, yv, wv):
            # Keras evaluates in batches and averages weighting by batch size;
            # chunks of eval_rows give the same mean with fewer steps.
            n = tf.shape(xv)[0]

            def body(start, total):
                stop_ = tf.minimum(start + eval_rows, n)
                xc = xv[start:stop_]
                wc = wv[start:stop_] if wv is not None else None
                y_pred = m(xc, training=False)
                loss = compute_loss(
                    x=xc, y=yv[start:stop_], y_pred=y_pred, sample_weight=wc, training=False
                )
                return stop_, total + tf.cast(loss, f64) * tf.cast(stop_ - start, f64)

            _, total = tf.while_loop(
                lambda start, total: start < n, body, (tf.constant(0), tf.constant(0.0, f64))
            )
            return total / tf.cast(n, f64)

        vars_ = self.vars
        best_vars = self.best_vars
        mask = self.restore_mask
        es = self

        def save_best():
            for b, v in zip(best_vars, vars_):
                b.assign(v)
            es.es_has_best_weights.assign(True)
            return tf.constant(True)

        def noop():
            return tf.constant(True)

        def early_stopping(current, epoch, patience, min_delta, restore):
            """keras.callbacks.EarlyStopping.on_epoch_end (mode "min", no baseline)."""

            def first_weights():
                save_best()
                es.es_best_epoch.assign(epoch)
                return tf.constant(True)

            tf.cond(
                tf.logical_and(restore, tf.logical_not(es.es_has_best_weights.read_value())),
                first_weights,
                noop,
            )
            es.es_wait.assign_add(1)
            improved = tf.logical_or(
                tf.logical_not(es.es_has_best.read_value()),
                current + min_delta < es.es_best.read_value(),
            )

            def on_improvement():
                es.es_best.assign(current)
                es.es_has_best.assign(True)
                es.es_best_epoch.assign(epoch)
                tf.cond(restore, save_best, noop)
                es.es_wait.assign(0)
                return tf.constant(True)

            def otherwise():
                patience_out = tf.logical_and(es.es_wait.read_value() >= patience, epoch > 0)

                def stop():
                    es.es_stopped.assign(True)
                    return tf.constant(True)

                return tf.cond(patience_out, stop, noop)

            return tf.cond(improved, on_improvement, otherwise)

        def run(x, y, w, xv, yv, wv, batch_size, epoch_start, epoch_stop, seed,
                do_shuffle, use_stop, monitor_val, patience, min_delta, restore):
            # Written with explicit tf.while_loop/tf.cond (no autograph: its
            # source transformation alone cost ~2 s on the first fit).
            _TRACES["train"] += 1  # runs only while tracing
            n = tf.shape(x)[0]
            bs = tf.cast(batch_size, tf.int32)
            steps = (n + bs - 1) // bs
            losses = tf.TensorArray(f64, size=0, dynamic_size=True, element_shape=[])
            val_losses = tf.TensorArray(f64, size=0, dynamic_size=True, element_shape=[])

            def epoch_cond(epoch, i, losses, val_losses):
                return tf.logical_and(
                    epoch < epoch_stop, tf.logical_not(es.es_stopped.read_value())
                )

            def epoch_body(epoch, i, losses, val_losses):
                order = tf.cond(
                    do_shuffle,
                    lambda: tf.argsort(
                        tf.random.stateless_uniform([n], seed=tf.stack([seed, epoch]))
                    ),
                    lambda: tf.range(n),
                )

                def step(s, total):
                    lo = s * bs
                    hi = tf.minimum(lo + bs, n)
                    idx = order[lo:hi]
                    xb = tf.gather(x, idx)
                    yb = tf.gather(y, idx)
                    wb = tf.gather(w, idx) if has_w else None
                    return s + 1, total + train_step(xb, yb, wb) * tf.cast(hi - lo, f64)

                _, total = tf.while_loop(
                    lambda s, total: s < steps, step, (tf.constant(0), tf.constant(0.0, f64))
                )
                epoch_loss = total / tf.cast(n, f64)
                losses = losses.write(i, epoch_loss)
                current = epoch_loss
                if has_val:
                    vloss = eval_loss(xv, yv, wv)
                    val_losses = val_losses.write(i, vloss)
                    current = tf.where(monitor_val, vloss, epoch_loss)
                done = tf.cond(
                    use_stop,
                    lambda: early_stopping(current, epoch, patience, min_delta, restore),
                    noop,
                )
                with tf.control_dependencies([done]):
                    return epoch + 1, i + 1, losses, val_losses

            epoch, _, losses, val_losses = tf.while_loop(
                epoch_cond, epoch_body, (epoch_start, tf.constant(0), losses, val_losses)
            )
            return losses.stack(), val_losses.stack(), epoch

        def restore_best():
            for b, v, keep in zip(best_vars, vars_, mask):
                if keep:
                    v.assign(b)
            return tf.constant(0)

        self.restore_best = tf.function(restore_best, autograph=False)
        scalar = lambda dt: tf.TensorSpec([], dt)  # noqa: E731
        w_spec = tf.TensorSpec([None], tf.float32) if has_w else None
        signature = [
            tf.TensorSpec([None, n_features], x_dtype),
            tf.TensorSpec([None, *y_shape], y_dtype),
            w_spec,
            tf.TensorSpec([None, n_features], x_dtype) if has_val else None,
            tf.TensorSpec([None, *y_shape], y_dtype) if has_val else None,
            (tf.TensorSpec([None], tf.float32) if has_w else None) if has_val else None,
            scalar(tf.int64), scalar(tf.int64), scalar(tf.int64), scalar(tf.int64),
            scalar(tf.bool), scalar(tf.bool), scalar(tf.bool), scalar(tf.int64),
            scalar(tf.float64), scalar(tf.bool),
        ]
        # None entries are not tensors: bind them in a Python wrapper so the
        # tf.function's signature has only tensors.
        tensor_pos = [k for k, s in enumerate(signature) if s is not None]
        specs = [signature[k] for k in tensor_pos]

        def bound(*tensors):
            args = [None] * len(signature)
            for k, t in zip(tensor_pos, tensors):
                args[k] = t
            return run(*args)

        compiled = tf.function(bound, input_signature=specs, autograph=False)

        def call(*args):
            return compiled(*[args[k] for k in tensor_pos])

        return call

    def reset_stop_state(self):
        self.es_best.assign(0.0)
        self.es_has_best.assign(False)
        self.es_wait.assign(0)
        self.es_best_epoch.assign(0)
        self.es_has_best_weights.assign(False)
        self.es_stopped.assign(False)


def _train_key(model, x, y, has_w, has_val):
    return (
        _arch_key(model),
        _compile_key(model),
        str(x.dtype),
        str(y.dtype),
        y.shape[1:],
        has_w,
        has_val,
    )


def _checkout(model, x, y, has_w, has_val):
    key = _train_key(model, x, y, has_w, has_val)
    with _CACHE_LOCK:
        pool = _WORKERS.get(key)
        if pool is None:
            pool = _WORKERS[key] = _Pool()
        _WORKERS.move_to_end(key)
        while len(_WORKERS) > _MAX_KEYS:
            _WORKERS.popitem(last=False)
        worker = pool.idle.pop() if pool.idle else None
        pool.busy += 1
    if worker is None:
        try:
            tf = load_tf()
            y_spec = (tuple(y.shape[1:]), tf.as_dtype(y.dtype))
            worker = _Worker(model, has_w, has_val, tf.as_dtype(x.dtype), y_spec)
        except BaseException:
            with _CACHE_LOCK:
                pool.busy -= 1
            raise
    return key, pool, worker


def _checkin(pool, worker):
    with _CACHE_LOCK:
        pool.busy -= 1
        if len(pool.idle) < _MAX_IDLE_WORKERS:
            pool.idle.append(worker)
        _FITS_SINCE_TRIM[0] += 1
        trim = _FITS_SINCE_TRIM[0] >= TRIM_KERNEL_CACHE_EVERY > 0 and not any(
            p.busy for p in _WORKERS.values()
        )
        if trim:
            _FITS_SINCE_TRIM[0] = 0
    if trim:
        _trim_kernel_cache()


# Every Keras model a fit builds creates named variables; TensorFlow's eager
# kernel cache keeps one VarHandleOp kernel per variable name (names carry a
# unique id), about 0.5 MB per fit of a small MLP, never freed.  Clearing the
# cache (what keras.backend.clear_session does) every few hundred fits keeps
# memory flat; it costs ~0.5 s once (compiled functions are re-instantiated
# on their next call), i.e. ~2 ms a fit.  0 switches it off.
TRIM_KERNEL_CACHE_EVERY = 250
_FITS_SINCE_TRIM = [0]


def _trim_kernel_cache():
    try:
        from tensorflow.python.eager import context

        context.context().clear_kernel_cache()
    except Exception:  # noqa: BLE001 - an optimisation; never fail a fit for it
        pass


def _tf_variable(v):
    """The tf.Variable behind a Keras variable (assigning it directly is 2x faster)."""
    inner = getattr(v, "value", v)
    return inner if hasattr(inner, "assign") and hasattr(inner, "handle") else v


def _copy(dst, src):
    for d, s in zip(dst, src):
        d = _tf_variable(d)
        d.assign(_tf_variable(s), read_value=False)


def _same_structure(a, b):
    return len(a) == len(b) and all(
        tuple(u.shape) == tuple(v.shape) and u.dtype == v.dtype for u, v in zip(a, b)
    )


# --------------------------------------------------------------------------
# The engine path
# --------------------------------------------------------------------------


def _fit_engine(model, x, y, *, sample_weight, validation_data, epochs, batch_size,
                shuffle, seed, stop, verbose):
    tf = load_tf()
    in_dtype = np.dtype(model.inputs[0].dtype)
    x = np.ascontiguousarray(x, dtype=in_dtype)
    y = np.ascontiguousarray(y if y.dtype.kind in "iub" else y.astype(np.float32, copy=False))
    has_w = sample_weight is not None
    w = np.ascontiguousarray(sample_weight, dtype=np.float32) if has_w else None
    has_val = validation_data is not None
    xv = yv = wv = None
    if has_val:
        xv = np.ascontiguousarray(validation_data[0], dtype=in_dtype)
        yv = np.ascontiguousarray(validation_data[1], dtype=y.dtype)
        if len(validation_data) == 3 and validation_data[2] is not None:
            wv = np.ascontiguousarray(validation_data[2], dtype=np.float32)
        elif has_w:
            wv = np.ones(len(xv), dtype=np.float32)  # weights given for train only
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    if epochs == 0:
        return TrainResult(history={}, n_epochs=0, best_epoch=None, engine="engine")

    opt = model.optimizer
    if not opt.built:
        opt.build(model.trainable_variables)
    user_vars = list(model.trainable_variables) + list(model.non_trainable_variables)

    key, pool, worker = _checkout(model, x, y, has_w, has_val)
    try:
        if not (_same_structure(worker.vars, user_vars)
                and _same_structure(worker.opt_vars, opt.variables)):
            raise _Unsupported("worker structure differs from the model")
        _copy(worker.vars, user_vars)
        _copy(worker.opt_vars, opt.variables)
        worker.reset_stop_state()

        use_stop = stop is not None
        args_const = dict(
            batch_size=tf.constant(batch_size, tf.int64),
            seed=tf.constant(int(seed) % (2**63), tf.int64),
            do_shuffle=tf.constant(bool(shuffle)),
            use_stop=tf.constant(use_stop),
            monitor_val=tf.constant(use_stop and stop.monitor == "val_loss"),
            patience=tf.constant(int(stop.patience) if use_stop else 0, tf.int64),
            min_delta=tf.constant(abs(float(stop.min_delta)) if use_stop else 0.0, tf.float64),
            restore=tf.constant(bool(use_stop and stop.restore_best_weights)),
        )
        data = [tf.convert_to_tensor(a) if a is not None else None for a in (x, y, w, xv, yv, wv)]
        chunk = 1 if verbose else max(epochs, 1)
        losses, val_losses = [], []
        epoch = 0
        while epoch < epochs:
            upto = min(epoch + chunk, epochs)
            l, vl, reached = worker.run(
                *data,
                args_const["batch_size"],
                tf.constant(epoch, tf.int64),
                tf.constant(upto, tf.int64),
                args_const["seed"],
                args_const["do_shuffle"],
                args_const["use_stop"],
                args_const["monitor_val"],
                args_const["patience"],
                args_const["min_delta"],
                args_const["restore"],
            )
            l, vl = l.numpy().tolist(), vl.numpy().tolist()
            losses += l
            val_losses += vl
            if verbose:
                for j in range(len(l)):
                    line = f"Epoch {epoch + j + 1}/{epochs} - loss: {l[j]:.4f}"
                    if has_val:
                        line += f" - val_loss: {vl[j]:.4f}"
                    print(line, file=sys.stdout, flush=True)
            epoch = int(reached)
            if bool(worker.es_stopped.numpy()):
                break
        if use_stop and stop.restore_best_weights and bool(worker.es_has_best_weights.numpy()):
            worker.restore_best()
        _copy(user_vars, worker.vars)
        _copy(opt.variables, worker.opt_vars)
        best_epoch = None
        if use_stop and losses:
            best_epoch = int(worker.es_best_epoch.numpy()) + 1
    finally:
        _checkin(pool, worker)
    del key
    # Keras reports float32 loss values; do the same so histories compare.
    history = {"loss": [float(np.float32(v)) for v in losses]}
    if has_val:
        history["val_loss"] = [float(np.float32(v)) for v in val_losses]
    if verbose and use_stop and best_epoch is not None and len(losses) < epochs:
        print(f"Epoch {len(losses)}: early stopping", flush=True)
    return TrainResult(history=history, n_epochs=len(losses), best_epoch=best_epoch, engine="engine")


# --------------------------------------------------------------------------
# Prediction
# --------------------------------------------------------------------------


def _predictor_for(model):
    """A concrete function ``f(weight_values, x)`` for ``model``'s architecture, or None."""
    try:
        key = (_arch_key(model), str(np.dtype(model.inputs[0].dtype)))
    except _Unsupported:
        return None
    with _CACHE_LOCK:
        fn = _PREDICTORS.get(key)
        if fn is not None:
            _PREDICTORS.move_to_end(key)
            return fn
    fn = _make_predictor(model)
    with _CACHE_LOCK:
        fn = _PREDICTORS.setdefault(key, fn)
        _PREDICTORS.move_to_end(key)
        while len(_PREDICTORS) > _MAX_KEYS:
            _PREDICTORS.popitem(last=False)
    return fn


def _make_predictor(model):
    tf = load_tf()
    keras = load_keras()
    try:
        template = _clone_structure(model)
    except _Unsupported:
        return None
    tvars = list(template.trainable_variables) + list(template.non_trainable_variables)
    specs = [tf.TensorSpec(v.shape, v.dtype) for v in tvars]
    n_features = template.inputs[0].shape[-1]
    dtype = tf.as_dtype(template.inputs[0].dtype)
    scope_cls = keras.src.backend.StatelessScope

    @tf.function(input_signature=[specs, tf.TensorSpec([None, n_features], dtype)], autograph=False)
    def forward(values, x):
        _TRACES["predict"] += 1
        with scope_cls(state_mapping=list(zip(tvars, values))):
            return template(x, training=False)

    # Calling the concrete function skips tf.function's argument binding
    # (about 1 ms a call); the signature already fixes every shape but n.
    return forward.get_concrete_function()
