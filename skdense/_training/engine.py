"""The engine: a whole training run in one compiled TensorFlow function.

Shuffling, minibatch steps, the validation loss, early stopping and the
divergence guard run inside one ``tf.function`` on a *worker*: a clone of the
user's model, compiled the same way, kept in :mod:`.cache` under a key of
everything that changes the graph.  A fit copies the model's weights and
optimizer state into a free worker, runs, and copies them back, so the trained
object is the user's own Keras model and every fit of one architecture
(grid-search folds and candidates, fresh clones) reuses one trace.  A large
network (weights and optimizer state above :data:`.cache.IN_PLACE_BYTES`)
trains in place instead: its worker is built around the user's model itself,
for this fit only, so the weights and optimizer state exist once
(``benchmarks/bench_peak_memory.py``).  The
per-step graph is Keras's own: the model's call, its compiled loss
(``compute_loss``, with regularisation losses) and its optimizer's
``apply_gradients``.

Why a cached worker rather than ``stateless_call``/``stateless_apply``: Keras
3's TensorFlow optimizer refuses ``stateless_apply`` (and its ``assign``
bypasses the stateless scope), and the copy in and out costs well under a
millisecond for MLP-sized nets (``benchmarks/bench_fit.py``).

The compiled function takes three named structures: :class:`EngineData` (the
arrays), :class:`LoopArgs` (epochs, minibatches, shuffling) and
:class:`StopArgs` (the stop rule's numbers), so a call site reads by names.

Sparse inputs (a scipy CSR matrix, e.g. TF-IDF features) stay sparse: ``x``
is then a :class:`CsrRows` of three tensors, and each minibatch (and each
chunk of validation rows) is densified inside the graph by
:func:`_rows`, so memory grows with the stored values, not with
rows x features.  Minibatch order, seed and results are those of the dense
path on the same matrix.
"""

import contextlib
import sys
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._backend import load_tf
from . import cache, clones
from .clones import Unsupported, clone_compiled
from .penalties import Penalties
from .run import TrainResult
from .stop_rule import StopState

EVAL_ROWS = 8192  # validation rows per forward pass at most (Keras averages per batch alike)
# ... and at most this many input bytes per pass: wide inputs (100,000 TF-IDF
# columns) get fewer rows, so a sparse chunk densified in the graph stays small.
EVAL_BYTES = 64 << 20


def eval_rows(n_features):
    """Validation rows per forward pass for inputs ``n_features`` wide."""
    return int(max(1, min(EVAL_ROWS, EVAL_BYTES // (4 * max(int(n_features), 1)))))


class CsrRows(NamedTuple):
    """A CSR matrix as tensors (its ``data``, ``indices``, ``indptr``); the
    engine densifies the rows of one minibatch at a time (:func:`_rows`)."""

    values: object  # [nnz], the model's input dtype
    columns: object  # int64 [nnz]
    row_splits: object  # int64 [n + 1]


class EngineData(NamedTuple):
    """The arrays of one run, as tensors.  Weights are always given (ones when
    the user gave none: Keras's weighted loss is then the same number); the
    validation arrays have 0 rows when there is no validation set.  ``x`` and
    ``x_val`` are both dense tensors or both :class:`CsrRows`."""

    x: object
    y: object
    w: object
    x_val: object
    y_val: object
    w_val: object


class LoopArgs(NamedTuple):
    batch_size: object  # int64
    epoch_start: object  # int64, 0-based first epoch of this call
    epoch_stop: object  # int64, run epochs [epoch_start, epoch_stop)
    seed: object  # int64, seeds the minibatch order (stateless)
    shuffle: object  # bool
    monitor_val: object  # bool: the rule watches val_loss (else loss)


class StopArgs(NamedTuple):
    patience: object  # int64
    min_delta: object  # float64
    restore: object  # bool: restore the best epoch's weights


class Variant(NamedTuple):
    """What a trace is specialised on: Python values, fixed in its graph.  A run
    without early stopping carries no stop rule in its graph, a run without
    validation rows no validation pass (tracing them cost ~40 % of a trace,
    and the first call of a smaller graph is quicker too).  A worker traces
    each variant it is asked for once (:meth:`Worker.run`); a search uses one."""

    stop_rule: bool  # early stopping runs
    validate: bool  # val_loss is computed each epoch


class Worker:
    """The compiled whole-training function, the stop state, and the model it trains.

    By default the model is a clone of the user's (cached, see :mod:`.cache`):
    a fit copies the user's weights and optimizer state in (:meth:`load`) and
    back out (:meth:`unload`).  ``in_place=True`` trains the user's model
    itself: no clone, no copies, not cached; for large networks, whose clone
    would double the weights and optimizer state in memory while the trace it
    saves is worth nothing next to their compute (see
    :data:`.cache.IN_PLACE_BYTES`).  Both give bit-identical results.
    """

    def __init__(self, model, x_dtype, y_spec, x_format="dense", *, in_place=False):
        tf = load_tf()
        self.in_place = in_place
        self.model = m = model if in_place else clone_compiled(model)
        opt = m.optimizer
        if not opt.built:
            opt.build(m.trainable_variables)
        self.vars = list(m.trainable_variables) + list(m.non_trainable_variables)
        self.opt_vars = list(opt.variables)
        weight_ids = {id(v) for v in m.weights}
        self.restore_mask = [id(v) in weight_ids for v in self.vars]
        # A clone's L1/L2 strengths (alpha) are variables, set at each load: one
        # trace serves every alpha.  In place, the user's model is left as it is.
        self.penalties = None if in_place else Penalties(tf, self.vars)
        # In place there is no copy of the starting weights to replay a
        # diverged run from: the stop state keeps the last finite epoch's.
        self.stop_state = StopState(tf, self.vars, keep_last_finite=in_place)
        self._specs = (x_dtype, y_spec, x_format)
        self._functions = {}  # Variant -> its traced function
        # for cache.MAX_BYTES; each trace adds its graph's (see _trace)
        self.cost = clones.variable_bytes([*self.vars, *self.opt_vars, *self.stop_state.saved])
        self.restore_saved = tf.function(_restorer(self.stop_state, self.restore_mask),
                                         autograph=False)

    def load(self, user_vars, user_opt_vars):
        """Start a fit from the user's weights and optimizer state."""
        if not self.in_place:
            copy_values(self.vars, user_vars)
            copy_values(self.opt_vars, user_opt_vars)
            self.penalties.load(user_vars)
        self.stop_state.reset()

    def unload(self, user_vars, user_opt_vars):
        """Hand the trained weights and optimizer state back to the user's model."""
        if not self.in_place:
            copy_values(user_vars, self.vars)
            copy_values(user_opt_vars, self.opt_vars)

    def run(self, variant, data, loop, stop):
        """Run epochs ``[loop.epoch_start, loop.epoch_stop)`` with the function of
        ``variant`` (traced on its first use); returns the epochs' losses,
        validation losses (NaN without validation) and the epoch reached."""
        fn = self._functions.get(variant)
        if fn is None:
            fn = self._functions[variant] = self._trace(variant)
        return fn(data, loop, stop)

    def _trace(self, variant):
        fn = self._compile(load_tf(), *self._specs, variant)
        # Trace now (the signature fixes every shape but n), then drop what the
        # trace left in TensorFlow's global registries (see cache.forget_trace).
        n_nodes = cache.forget_trace(fn.get_concrete_function().graph) or 1000
        self.cost += n_nodes * cache.BYTES_PER_NODE
        return fn

    def _compile(self, tf, x_dtype, y_spec, x_format, variant):
        m = self.model
        opt = m.optimizer
        tvars = m.trainable_variables
        n_features = m.inputs[0].shape[-1]
        y_shape, y_dtype = y_spec
        compute_loss = getattr(m, "_compute_loss", m.compute_loss)
        state = self.stop_state
        f64 = tf.float64
        sparse = x_format == "csr"
        chunk_rows = eval_rows(n_features)

        def n_rows(x):
            return tf.shape(x.row_splits)[0] - 1 if sparse else tf.shape(x)[0]

        def rows(x, idx):
            return _rows(tf, x, idx, n_features) if sparse else tf.gather(x, idx)

        def row_range(x, start, stop):
            return _rows(tf, x, tf.range(start, stop), n_features) if sparse else x[start:stop]

        def train_step(xb, yb, wb):
            with tf.GradientTape() as tape:
                y_pred = m(xb, training=True)
                loss = compute_loss(x=xb, y=yb, y_pred=y_pred, sample_weight=wb, training=True)
                scaled = opt.scale_loss(loss)
            grads = tape.gradient(scaled, tvars)
            opt.apply_gradients(zip(grads, tvars))
            return tf.cast(loss, f64)

        float_vars = [v.value for v in tvars if tf.as_dtype(v.dtype).is_floating]

        def weights_finite():
            # A last step can overflow the weights while its loss (computed
            # before the update) was finite.
            return tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(v)) for v in float_vars]))

        def eval_loss(xv, yv, wv):
            # Keras evaluates in batches and averages weighting by batch size;
            # chunks of eval_rows() give the same mean with fewer steps.
            n = n_rows(xv)

            def body(start, total):
                stop = tf.minimum(start + chunk_rows, n)
                xb = row_range(xv, start, stop)
                y_pred = m(xb, training=False)
                loss = compute_loss(
                    x=xb, y=yv[start:stop], y_pred=y_pred,
                    sample_weight=wv[start:stop], training=False,
                )
                return stop, total + tf.cast(loss, f64) * tf.cast(stop - start, f64)

            _, total = tf.while_loop(
                lambda start, total: start < n, body, (tf.constant(0), tf.constant(0.0, f64))
            )
            return total / tf.cast(n, f64)

        def run(data, loop, stop):
            # Written with explicit tf.while_loop/tf.cond (no autograph: its
            # source transformation alone cost ~2 s on the first fit).
            cache.count_trace("train")  # runs only while tracing
            n = n_rows(data.x)
            bs = tf.cast(loop.batch_size, tf.int32)
            steps = (n + bs - 1) // bs
            nan = tf.constant(float("nan"), f64)

            def epoch_cond(epoch, i, losses, val_losses):
                return tf.logical_and(epoch < loop.epoch_stop, state.running())

            def epoch_body(epoch, i, losses, val_losses):
                order = tf.cond(
                    loop.shuffle,
                    lambda: tf.argsort(
                        tf.random.stateless_uniform([n], seed=tf.stack([loop.seed, epoch]))
                    ),
                    lambda: tf.range(n),
                )

                def step(s, total):
                    lo = s * bs
                    hi = tf.minimum(lo + bs, n)
                    idx = order[lo:hi]
                    batch = (rows(data.x, idx), tf.gather(data.y, idx), tf.gather(data.w, idx))
                    return s + 1, total + train_step(*batch) * tf.cast(hi - lo, f64)

                _, total = tf.while_loop(
                    lambda s, total: s < steps, step, (tf.constant(0), tf.constant(0.0, f64))
                )
                epoch_loss = total / tf.cast(n, f64)
                finite = tf.logical_and(tf.math.is_finite(epoch_loss), weights_finite())
                val_loss = nan
                if variant.validate:
                    val_loss = eval_loss(data.x_val, data.y_val, data.w_val)
                    finite = tf.logical_and(finite, tf.math.is_finite(val_loss))
                current = tf.where(loop.monitor_val, val_loss, epoch_loss)
                done = state.on_epoch_end(stop, epoch, current, finite, rule=variant.stop_rule)
                with tf.control_dependencies([done]):
                    return epoch + 1, i + 1, losses.write(i, epoch_loss), val_losses.write(i, val_loss)

            def log():
                return tf.TensorArray(f64, size=0, dynamic_size=True, element_shape=[])

            epoch, _, losses, val_losses = tf.while_loop(
                epoch_cond, epoch_body, (loop.epoch_start, tf.constant(0), log(), log())
            )
            return losses.stack(), val_losses.stack(), epoch

        scalar = lambda dtype: tf.TensorSpec([], dtype)  # noqa: E731
        if sparse:
            x_spec = CsrRows(tf.TensorSpec([None], x_dtype), tf.TensorSpec([None], tf.int64),
                             tf.TensorSpec([None], tf.int64))
        else:
            x_spec = tf.TensorSpec([None, n_features], x_dtype)
        y_spec_ = tf.TensorSpec([None, *y_shape], y_dtype)
        w_spec = tf.TensorSpec([None], tf.float32)
        signature = [
            EngineData(x_spec, y_spec_, w_spec, x_spec, y_spec_, w_spec),
            LoopArgs(*(scalar(tf.int64),) * 4, scalar(tf.bool), scalar(tf.bool)),
            StopArgs(scalar(tf.int64), scalar(tf.float64), scalar(tf.bool)),
        ]
        return tf.function(run, input_signature=signature, autograph=False)


def _rows(tf, x, idx, n_features):
    """Rows ``idx`` of :class:`CsrRows` ``x`` as a dense ``[len(idx), n_features]``
    tensor, built in the graph: only these rows' stored values are read."""
    idx = tf.cast(idx, tf.int64)
    starts = tf.gather(x.row_splits, idx)
    limits = tf.gather(x.row_splits, idx + 1)
    pos = tf.ragged.range(starts, limits)  # positions of the rows' stored values
    flat = pos.flat_values
    at = tf.stack([pos.value_rowids(), tf.gather(x.columns, flat)], axis=1)
    shape = tf.stack([tf.size(idx, out_type=tf.int64), tf.constant(n_features, tf.int64)])
    # scatter_nd adds duplicate entries, as scipy's toarray() does.
    dense = tf.scatter_nd(at, tf.gather(x.values, flat), shape)
    return tf.ensure_shape(dense, [None, n_features])


def _x_tensors(tf, x, in_dtype):
    """``x`` as the engine takes it: a dense tensor, or :class:`CsrRows` for a
    scipy sparse matrix (never densified here)."""
    if sp.issparse(x):
        x = x.tocsr()
        return CsrRows(
            values=tf.convert_to_tensor(np.asarray(x.data, dtype=in_dtype)),
            columns=tf.convert_to_tensor(x.indices.astype(np.int64)),
            row_splits=tf.convert_to_tensor(x.indptr.astype(np.int64)),
        )
    return tf.convert_to_tensor(np.ascontiguousarray(x, dtype=in_dtype))


def _engine_data(tf, x, y, sample_weight, validation, in_dtype):
    n = x.shape[0]
    y = np.ascontiguousarray(y if y.dtype.kind in "iub" else y.astype(np.float32, copy=False))
    w = (
        np.ones(n, np.float32)
        if sample_weight is None
        else np.ascontiguousarray(sample_weight, dtype=np.float32)
    )
    if validation is None:
        xv, yv, wv = x[:0], y[:0], w[:0]
    else:
        xv = validation.x  # in x's format (the engine's graph takes one)
        if sp.issparse(x) and not sp.issparse(xv):
            xv = sp.csr_matrix(np.asarray(xv, dtype=in_dtype))
        elif sp.issparse(xv) and not sp.issparse(x):
            xv = xv.toarray()  # x itself is dense: xv is no wider
        yv = np.ascontiguousarray(validation.y, dtype=y.dtype)
        wv = (
            np.ones(xv.shape[0], np.float32)
            if validation.sample_weight is None
            else np.ascontiguousarray(validation.sample_weight, dtype=np.float32)
        )
    return EngineData(
        _x_tensors(tf, x, in_dtype),
        *(tf.convert_to_tensor(a) for a in (y, w)),
        _x_tensors(tf, xv, in_dtype),
        *(tf.convert_to_tensor(a) for a in (yv, wv)),
    )


def fit_engine(model, x, y, training, *, sample_weight, validation):
    """Train ``model`` in the engine (see :func:`skdense._training.fit_model`)."""
    tf = load_tf()
    in_dtype = np.dtype(model.inputs[0].dtype)
    data = _engine_data(tf, x, y, sample_weight, validation, in_dtype)
    if training.epochs == 0:
        return TrainResult(history={}, n_epochs=0, best_epoch=None, engine="engine")
    seed = training.seed if training.seed is not None else int(np.random.randint(0, 2**31 - 1))
    rule = training.stop
    validate = validation is not None
    loop = dict(
        batch_size=tf.constant(training.batch_size, tf.int64),
        seed=tf.constant(int(seed) % (2**63), tf.int64),
        shuffle=tf.constant(bool(training.shuffle)),
        monitor_val=tf.constant(rule is not None and rule.monitor == "val_loss"),
    )
    variant = Variant(stop_rule=rule is not None, validate=validate)
    stop = StopArgs(
        patience=tf.constant(rule.patience if rule else 0, tf.int64),
        min_delta=tf.constant(rule.min_delta if rule else 0.0, tf.float64),
        restore=tf.constant(bool(rule and rule.restore_best_weights)),
    )

    opt = model.optimizer
    if not opt.built:
        opt.build(model.trainable_variables)
    user_vars = list(model.trainable_variables) + list(model.non_trainable_variables)
    y_spec = (tuple(data.y.shape[1:]), data.y.dtype)
    x_format = "csr" if isinstance(data.x, CsrRows) else "dense"
    x_dtype = data.x.values.dtype if x_format == "csr" else data.x.dtype
    with _acquire_worker(model, user_vars, x_dtype, y_spec, x_format) as worker:
        state = worker.stop_state
        worker.load(user_vars, opt.variables)
        # verbose prints after every epoch, so it runs one epoch per call.
        chunk = 1 if training.verbose else training.epochs
        losses, val_losses = [], []
        first = training.first_epoch  # a continued run numbers (and shuffles) on from here
        last = first + training.epochs
        epoch = first
        while epoch < last:
            upto = min(epoch + chunk, last)
            args = LoopArgs(epoch_start=tf.constant(epoch, tf.int64),
                            epoch_stop=tf.constant(upto, tf.int64), **loop)
            l, vl, reached = worker.run(variant, data, args, stop)
            l, vl = l.numpy().tolist(), vl.numpy().tolist()
            if training.verbose:
                _print_epochs(epoch, last, l, vl if validate else None)
            losses += l
            val_losses += vl
            epoch = int(reached)
            if bool(state.stopped.numpy()) or bool(state.diverged.numpy()):
                break
        diverged = bool(state.diverged.numpy())
        restore = rule is not None and rule.restore_best_weights
        best_epoch = int(state.best_epoch.numpy()) + 1 if rule and bool(state.has_best.numpy()) else None
        kept_epoch = None
        if restore and bool(state.has_saved.numpy()):
            worker.restore_saved()  # the best epoch's weights (always a finite one)
            kept_epoch = best_epoch if diverged else None
        elif diverged and len(losses) > 1 and worker.in_place:
            # In place, the stop state kept the last finite epoch's weights.
            worker.restore_saved()
            kept_epoch = first + len(losses) - 1
        elif diverged and len(losses) > 1:
            # No copy of the last finite epoch was kept (it would cost a copy of
            # the weights every epoch): replay the run from the same start,
            # seed and data up to it.  The engine is deterministic, so this
            # ends on the same weights.
            worker.load(user_vars, opt.variables)
            args = LoopArgs(epoch_start=tf.constant(first, tf.int64),
                            epoch_stop=tf.constant(first + len(losses) - 1, tf.int64), **loop)
            worker.run(variant._replace(stop_rule=False), data, args, stop)
            kept_epoch = first + len(losses) - 1
        worker.unload(user_vars, opt.variables)
    # Keras reports float32 loss values; do the same so histories compare.
    history = {"loss": [float(np.float32(v)) for v in losses]}
    if validate:
        history["val_loss"] = [float(np.float32(v)) for v in val_losses]
    if training.verbose and rule is not None and best_epoch is not None and len(losses) < training.epochs:
        print(f"Epoch {first + len(losses)}: early stopping", flush=True)
    return TrainResult(
        history=history,
        n_epochs=len(losses),
        best_epoch=best_epoch,
        engine="engine",
        diverged_epoch=first + len(losses) if diverged else None,
        kept_epoch=kept_epoch,
    )


def _restorer(state, mask):
    """The body of ``Worker.restore_saved``.  A closure over the stop state, not
    a bound method: the worker holding a function that holds the worker would
    be a reference cycle, and an in-place worker's copy of the weights would
    then live until the garbage collector runs, not end with the fit."""

    def restore_saved():
        state.restore_saved(mask)
        return load_tf().constant(0)

    return restore_saved


def _acquire_worker(model, user_vars, x_dtype, y_spec, x_format):
    """The worker for this fit: a cached clone, or, when the weights and
    optimizer state exceed :data:`.cache.IN_PLACE_BYTES`, one that trains
    ``model`` in place (built for this fit only, dropped after it)."""
    opt = model.optimizer
    if clones.variable_bytes([*user_vars, *opt.variables]) > cache.IN_PLACE_BYTES:
        return contextlib.nullcontext(Worker(model, x_dtype, y_spec, x_format, in_place=True))
    return _cached_worker(model, user_vars, x_dtype, y_spec, x_format)


@contextlib.contextmanager
def _cached_worker(model, user_vars, x_dtype, y_spec, x_format):
    opt = model.optimizer
    with cache.worker_for(model, lambda: Worker(model, x_dtype, y_spec, x_format),
                          x_dtype=x_dtype, y_spec=y_spec, x_format=x_format) as worker:
        if not (clones.same_structure(worker.vars, user_vars)
                and clones.same_structure(worker.opt_vars, opt.variables)):
            raise Unsupported("worker structure differs from the model")
        yield worker


def _print_epochs(first, total, losses, val_losses):
    for j, loss in enumerate(losses):
        line = f"Epoch {first + j + 1}/{total} - loss: {loss:.4f}"
        if val_losses is not None:
            line += f" - val_loss: {val_losses[j]:.4f}"
        print(line, file=sys.stdout, flush=True)


def _tf_variable(v):
    """The tf.Variable behind a Keras variable (assigning it directly is 2x faster)."""
    inner = getattr(v, "value", v)
    return inner if hasattr(inner, "assign") and hasattr(inner, "handle") else v


def copy_values(dst, src):
    for d, s in zip(dst, src):
        _tf_variable(d).assign(_tf_variable(s), read_value=False)
