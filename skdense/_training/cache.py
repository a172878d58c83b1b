"""The compiled-function cache: workers for training, forward functions for predict.

Both are keyed by :func:`.clones.arch_key` (the graph of the network, not its
weights), so every fit of one architecture reuses one trace.  Both are bounded
least-recently-used maps; an entry that falls out is dropped outside the
lock, and nothing else holds its traced graph (:func:`forget_trace`), so
memory stays flat however many architectures a search cycles through.
"""

import collections
import contextlib
import threading

from .clones import arch_key, compile_key

# Keys kept per map; least recently used dropped first.  A cached worker of an
# MLP costs 10-25 MB (docs/performance.md), so 64 hold a typical grid.
MAX_ARCHITECTURES = 64
# Estimated bytes of the cached workers, at most: a worker costs about
# BYTES_PER_NODE per node of its traced graph (fitted to measured RSS,
# TensorFlow 2.21 on CPU: ~14 MB for one hidden layer, ~23 MB for four) plus
# its variables.  The most recently used key is always kept.
MAX_BYTES = 1 << 30
BYTES_PER_NODE = 21_000
# A model whose weights and optimizer state exceed this many bytes trains in
# place (engine.Worker(in_place=True)): no clone, not cached.  A clone doubles
# them in memory (benchmarks/bench_peak_memory.py: peak 9.6-10x the weights
# with the clone, 6.6-6.7x in place; docs/performance.md), and the trace the cache saves
# (~1.5 s) is small next to the compute of such a network (~22M parameters
# with Adam, e.g. two hidden layers of 4,700).
IN_PLACE_BYTES = 256 << 20
MAX_IDLE_WORKERS = 4  # per key (threads fitting the same structure at once)

# Every Keras model a fit builds creates named variables; TensorFlow's eager
# kernel cache keeps one VarHandleOp kernel per variable name (names carry a
# unique id), about 0.5 MB per fit of a small MLP, never freed.  Clearing the
# cache (what keras.backend.clear_session does) every few hundred fits keeps
# memory flat; it costs ~0.5 s once (compiled functions are re-instantiated
# on their next call), i.e. ~2 ms a fit.  0 switches it off.
TRIM_KERNEL_CACHE_EVERY = 250

_LOCK = threading.Lock()
_WORKERS = collections.OrderedDict()  # key -> _Pool
_PREDICTORS = collections.OrderedDict()  # key -> concrete forward function
_TRACES = {"train": 0, "predict": 0}  # Python bodies traced (tests count retraces)
_FITS_SINCE_TRIM = [0]


class _Pool:
    def __init__(self):
        self.idle = []
        self.busy = 0
        self.evicted = False  # dropped from _WORKERS: do not keep workers checked in

    def cost(self):
        return sum(getattr(w, "cost", 0) for w in self.idle)


def count_trace(kind):
    """Called by a compiled function's Python body, i.e. once per trace."""
    _TRACES[kind] += 1


def train_key(model, x_dtype, y_spec, x_format="dense"):
    """``x_format`` ("dense" or "csr") changes the graph: a CSR input is
    densified a minibatch at a time inside it."""
    y_shape, y_dtype = y_spec
    return (arch_key(model), compile_key(model), x_format, str(x_dtype), str(y_dtype),
            tuple(y_shape))


@contextlib.contextmanager
def worker_for(model, make_worker, *, x_dtype, y_spec, x_format="dense"):
    """A free worker for ``model``'s graph (made by ``make_worker()`` if none is idle)."""
    key = train_key(model, x_dtype, y_spec, x_format)
    with _LOCK:
        pool = _WORKERS.get(key)
        if pool is None:
            pool = _WORKERS[key] = _Pool()
        _WORKERS.move_to_end(key)
        evicted = _evict_workers(pool)
        worker = pool.idle.pop() if pool.idle else None
        pool.busy += 1
    del evicted  # free them now, not when this fit ends
    try:
        if worker is None:
            worker = make_worker()
        yield worker
    finally:
        _checkin(pool, worker)


def _checkin(pool, worker):
    evicted = []
    with _LOCK:
        pool.busy -= 1
        if worker is not None and not pool.evicted and len(pool.idle) < MAX_IDLE_WORKERS:
            pool.idle.append(worker)
            evicted = _evict_workers(pool)  # the new worker's bytes count now
        _FITS_SINCE_TRIM[0] += 1
        trim = _FITS_SINCE_TRIM[0] >= TRIM_KERNEL_CACHE_EVERY > 0 and not any(
            p.busy for p in _WORKERS.values()
        )
        if trim:
            _FITS_SINCE_TRIM[0] = 0
    del evicted
    if trim:
        trim_kernel_cache()


def predictor_for(key, make_predictor):
    """The cached forward function for ``key`` (made by ``make_predictor()`` once)."""
    with _LOCK:
        fn = _PREDICTORS.get(key)
        if fn is not None:
            _PREDICTORS.move_to_end(key)
            return fn
    fn = make_predictor()
    with _LOCK:
        fn = _PREDICTORS.setdefault(key, fn)
        _PREDICTORS.move_to_end(key)
        evicted = _evict(_PREDICTORS)
    del evicted  # dropped outside the lock
    return fn


def _evict(table):
    """Pop least recently used entries beyond the bound (caller holds the lock)."""
    evicted = []
    while len(table) > MAX_ARCHITECTURES:
        evicted.append(table.popitem(last=False)[1])
    return evicted


def _evict_workers(keep):
    """Drop least recently used pools while over MAX_ARCHITECTURES or MAX_BYTES,
    never ``keep``; return their idle workers (caller holds the lock)."""
    evicted = []
    total = sum(p.cost() for p in _WORKERS.values())
    while len(_WORKERS) > 1 and (len(_WORKERS) > MAX_ARCHITECTURES or total > MAX_BYTES):
        key, old = next(iter(_WORKERS.items()))
        if old is keep:
            _WORKERS.move_to_end(key)
            continue
        del _WORKERS[key]
        old.evicted = True  # its busy workers are dropped at check-in
        total -= old.cost()
        evicted += old.idle
        old.idle = []
    return evicted


def forget_keras_traces(model):
    """:func:`forget_trace` for the functions Keras's ``model.fit`` traced.

    Keras 3 keeps them as ``tf.function`` objects inside the closures of
    ``model.train_function`` and ``model.test_function``; each fit of a new
    model traces them again (the Keras path has no cache), so without this
    every such fit would leave its graphs in the registry.
    """
    try:
        from tensorflow.python.eager.polymorphic_function.polymorphic_function import Function
    except Exception:  # noqa: BLE001 - private API moved: keep the memory rather than fail
        return
    seen = set()
    todo = [(getattr(model, name, None), 0) for name in ("train_function", "test_function")]
    while todo:
        obj, depth = todo.pop()
        if obj is None or id(obj) in seen or depth > 4:
            continue
        seen.add(id(obj))
        if isinstance(obj, Function):
            for concrete in obj._list_all_concrete_functions():
                forget_trace(concrete.graph)
            obj = obj.python_function
        for cell in getattr(obj, "__closure__", None) or ():
            try:
                todo.append((cell.cell_contents, depth + 1))
            except ValueError:  # an empty cell
                pass


def forget_trace(graph):
    """Remove the ``tf.custom_gradient`` registrations that tracing ``graph``
    made; return its number of nodes, nested functions included (None if unknown).

    Why: in graph mode ``tf.custom_gradient`` registers its gradient function
    in TensorFlow's global gradient registry under a unique name and never
    removes it.  Keras's optimizer traces one (``apply_gradients`` sums the
    gradients with ``ReplicaContext.all_reduce``, a custom gradient), and the
    registered function's closure holds tensors of the training graph, hence
    the whole traced graph: about 8 MB per trace that dropping the worker
    never freed (RSS grew by 8.2 MB per fit once a search cycled through more
    architectures than the cache held).  The gradient functions are looked up
    only while the trace builds its backward pass; calling the traced function
    never consults the registry, so once traced they can go.
    """
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
        graph_def = graph.as_graph_def()
    except Exception:  # noqa: BLE001 - private API moved: keep the memory rather than fail
        return None
    n_nodes = 0
    for nodes in [graph_def.node, *(f.node_def for f in graph_def.library.function)]:
        n_nodes += len(nodes)
        for node in nodes:
            attr = node.attr.get("_gradient_op_type")
            if attr is not None and attr.s.startswith(b"CustomGradient-"):
                registry.pop(attr.s.decode(), None)
    return n_nodes


def trim_kernel_cache():
    try:
        from tensorflow.python.eager import context

        context.context().clear_kernel_cache()
    except Exception:  # noqa: BLE001 - an optimisation; never fail a fit for it
        pass


def clear_cache():
    """Drop every cached worker and compiled function (frees their memory)."""
    with _LOCK:
        entries = list(_WORKERS.values()) + list(_PREDICTORS.values())
        for pool in _WORKERS.values():
            pool.evicted = True  # busy workers are not kept at check-in
        _WORKERS.clear()
        _PREDICTORS.clear()
    del entries  # dropped outside the lock


def cache_info():
    """Sizes of the caches and how many traces ran (for tests and benchmarks)."""
    with _LOCK:
        return {
            "train_keys": len(_WORKERS),
            "workers": sum(len(p.idle) + p.busy for p in _WORKERS.values()),
            "train_bytes": sum(p.cost() for p in _WORKERS.values()),  # estimated, idle workers
            "predict_keys": len(_PREDICTORS),
            "train_traces": _TRACES["train"],
            "predict_traces": _TRACES["predict"],
        }
