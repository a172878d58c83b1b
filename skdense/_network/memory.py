"""Will a fit fit in memory?  An estimate made before the network is built.

:func:`check_fit_memory` estimates the bytes a fit of skdense's network
needs, from the architecture :func:`skdense._network.build.build_dense_network` will
build (input features, ``hidden_layer_sizes``, the target's output width,
``feature_scaling``, ``numeric_embedding``, ``n_ensemble`` and its adapters),
the training state (weights, gradients, optimizer slots, the early-stopping
copy and, below :data:`skdense._training.cache.IN_PLACE_BYTES`, the engine's
cached clone), the activations of a minibatch (the network's output
included), the data and the encoded target (:class:`Target`: a one-hot row of
the classes, a class index for a sparse loss, a value per regression output);
compares it with
the memory this process can still take (:func:`available_memory`) and raises
:class:`InsufficientMemoryError` (a ``MemoryError``) with what to change when
it does not fit.  It is arithmetic only: it allocates nothing and takes
microseconds, so a network of 10**12 weights is refused at once rather than
after minutes of swapping or deep inside TensorFlow.

:func:`check_model_memory` does the same for a user's ``model=``, whose
architecture skdense cannot read before it is built: it runs after
building, from the built model's weights.

Nothing here imports TensorFlow.
"""

import dataclasses
import math
import os
from dataclasses import dataclass

from .._training.engine import eval_rows as validation_chunk_rows  # imports no TensorFlow
from . import sizes
from .build import is_sparse_loss  # imports no TensorFlow
from .sizes import n_weights

BYTES_PER_VALUE = 4  # float32, Keras's default dtype policy

# Peak memory of a fit, as a multiple of the weights' bytes, with Adam (two
# slots per weight), measured by benchmarks/bench_peak_memory.py (peak RSS
# of a one-epoch fit minus the RSS before it; docs/performance.md, "Memory of
# large networks"):
# - a network trained in place (weights and optimizer state above
#   IN_PLACE_BYTES): weights, gradients, 2 Adam slots, the early-stopping (or
#   last-finite-epoch) copy = 5 copies, plus the optimizer update's and the
#   initializers' temporaries;
# - a network trained on the engine's cached clone: the clone's weights and
#   slots on top = 8 copies, plus temporaries.
# Measured: 6.71 and 6.62 in place (200 and 800 MB of weights), 9.95, 9.73
# and 9.62 cloned (50, 200, 800 MB); the constants round the largest up.
PEAK_RATIO_IN_PLACE = 6.8
PEAK_RATIO_CLONED = 10.0
MEASURED_SLOTS = 2  # Adam's, in the ratios above
# Optimizer slots per weight; an optimizer not listed counts as Adam's 2.
OPTIMIZER_SLOTS = {
    "sgd": 0, "rmsprop": 1, "adagrad": 1, "adadelta": 2, "adam": 2, "adamw": 2, "adamax": 2,
    "nadam": 2, "ftrl": 2, "lion": 1, "lamb": 2, "adafactor": 2,
}

# Activations: float32 copies of every layer's output per row of a
# minibatch that a training step holds at its peak.  Measured 2.04 with relu
# (benchmarks/bench_peak_memory.py --activations: the same network at batch
# sizes 64 and 16384); 3 leaves room for activations that keep their input
# for the gradient (gelu, swish) and for dropout masks (not measured).
ACTIVATION_COPIES = 3
DATA_COPIES = 2  # the engine's float32 arrays and their tensors

# The target, in bytes per value of the encoded target (measured by
# benchmarks/bench_peak_memory.py --target, docs/performance.md, "Memory of
# large targets"): a one-hot class row is built as float32 by the target
# encoder and held again as a tensor and in the training rows (3 float32
# copies); a regression target is standardised in float64 first, and early
# stopping's split copies the float64 values (16 without it, 24 with it: 20).
# Class indices for a sparse loss are one int32 a row, held twice.  The
# network's output for these values is counted with the activations above
# (``Network.values_per_row``: n_ensemble x n_outputs a row); it was measured
# not to need more.
TARGET_BYTES = {"one-hot": 12, "regression": 20, "indices": 8}
GB = 1e9


class InsufficientMemoryError(MemoryError):
    """The fit would need more memory than this machine (or container) has available."""


@dataclass(frozen=True)
class Network:
    """What of skdense's network sets its size (see ``build.build_dense_network``)."""

    n_features: int
    hidden_layer_sizes: tuple
    n_outputs: int
    n_ensemble: int = 1
    ensemble_adapters: str = "mini"
    feature_scaling: bool = False
    n_embedded: int = 0  # columns a numeric_embedding="periodic" embeds

    def n_params(self):
        """The number of weights the network will have (the layers' shapes:
        :mod:`skdense._network.sizes`)."""
        d, k, f = self.n_features, self.n_ensemble, self.n_embedded
        n = n_weights(sizes.feature_scaling_shapes(d)) if self.feature_scaling else 0
        if f:
            n += n_weights(sizes.periodic_embedding_shapes(f))
            d = sizes.periodic_embedding_width(d, f)
        if k == 1:
            for units in (*self.hidden_layer_sizes, self.n_outputs):
                n += n_weights(sizes.dense_shapes(d, units))
                d = units
            return n
        layout = sizes.ADAPTER_LAYOUT[self.ensemble_adapters]
        full = layout["member_adapters"]
        n += n_weights(sizes.ensemble_input_shapes(k, d, layout["input_scale"]))
        for units in self.hidden_layer_sizes:
            n += n_weights(sizes.ensemble_dense_shapes(k, d, units, full, full, full))
            d = units
        return n + n_weights(sizes.ensemble_head_shapes(k, d, self.n_outputs))

    def values_per_row(self):
        """Activations of one row through the network (every layer's output)."""
        d = self.n_features
        total = d * (2 if self.feature_scaling else 1)
        if self.n_embedded:
            f = self.n_embedded
            # angles, sin|cos, embedding
            total += f * (3 * sizes.EMBEDDING_FREQUENCIES + sizes.EMBEDDING_DIM)
            d = sizes.periodic_embedding_width(d, f)
            total += d
        k = self.n_ensemble
        return total + k * (d * (k > 1) + sum(self.hidden_layer_sizes) + self.n_outputs)


@dataclass(frozen=True)
class Target:
    """The encoded target a fit trains on: how many values a row has and their bytes."""

    values_per_row: int
    bytes_per_value: int
    kind: str  # "one-hot", "indices" or "regression": how the message names it

    @classmethod
    def of(cls, target, y, loss):
        """The encoded target of a :class:`~skdense._estimators.targets.TargetSpec` ``target``
        for ``y`` trained with ``loss``."""
        if target.task == "multiclass" and is_sparse_loss(loss):
            return cls(1, TARGET_BYTES["indices"], "indices")
        if target.task in ("binary", "multiclass", "multilabel"):
            return cls(output_width(target, y), TARGET_BYTES["one-hot"], "one-hot")
        return cls(output_width(target, y), TARGET_BYTES["regression"], "regression")

    def bytes(self, n_rows):
        return n_rows * self.values_per_row * self.bytes_per_value


def output_width(target, y):
    """Units of the output layer for a :class:`~skdense._estimators.targets.TargetSpec`
    (its encoders' ``skdense_units_``): 1 for binary, one per class or label,
    one per regression target column."""
    if target.task == "binary":
        return 1
    if target.task == "multiclass":
        return len(target.classes)
    return 1 if y.ndim == 1 else int(y.shape[1])


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a fit needs, by part."""

    weights: int
    training_state: int  # weights, gradients, optimizer slots, copies, temporaries
    activations: int
    data: int
    in_place: bool
    target: int = 0  # the encoded target (Target.bytes)

    @property
    def total(self):
        return self.training_state + self.activations + self.data + self.target


@dataclass(frozen=True)
class AvailableMemory:
    """Bytes this process can still allocate, and where the number comes from."""

    bytes: int
    source: str


def optimizer_slots(optimizer):
    """Slots per weight of ``optimizer`` (a name, class or instance)."""
    if isinstance(optimizer, str):
        name = optimizer
    else:
        name = (optimizer if isinstance(optimizer, type) else type(optimizer)).__name__
    slots = OPTIMIZER_SLOTS.get(name.lower(), MEASURED_SLOTS)
    if getattr(optimizer, "amsgrad", False):
        slots += 1
    if name.lower() == "sgd" and getattr(optimizer, "momentum", 0):
        slots = 1  # an SGD instance with momentum
    return slots


def peak_ratio(weight_bytes, slots):
    """Peak bytes of training per byte of weights (measured for Adam, adjusted
    by the optimizer's slots: each slot is one copy, two with a clone)."""
    from .._training.cache import IN_PLACE_BYTES

    in_place = weight_bytes * (1 + slots) > IN_PLACE_BYTES
    if in_place:
        return in_place, PEAK_RATIO_IN_PLACE + (slots - MEASURED_SLOTS)
    return in_place, PEAK_RATIO_CLONED + 2 * (slots - MEASURED_SLOTS)


def input_bytes(X):
    """Bytes of ``X`` as the engine holds it: dense float32, or for a scipy
    sparse matrix its CSR arrays (float32 values, int64 columns and row splits),
    which the engine densifies a minibatch at a time."""
    if X is None:
        return 0
    if hasattr(X, "nnz"):  # scipy sparse
        return X.nnz * (BYTES_PER_VALUE + 8) + (X.shape[0] + 1) * 8
    return X.shape[0] * X.shape[1] * BYTES_PER_VALUE


def estimate_fit_memory(network, *, optimizer, batch_size, n_rows, n_val_rows, data_bytes=None,
                        target=None):
    """The :class:`MemoryEstimate` of a fit of ``network`` (a :class:`Network`).

    ``data_bytes``: the training and validation inputs' :func:`input_bytes`
    (default: ``n_rows + n_val_rows`` dense rows).  ``target``: the
    :class:`Target` (default: one float32 value a row per output, held twice,
    like the data)."""
    weights = network.n_params() * BYTES_PER_VALUE
    in_place, ratio = peak_ratio(weights, optimizer_slots(optimizer))
    per_row = network.values_per_row() * BYTES_PER_VALUE
    train_rows = min(batch_size, n_rows)
    eval_rows = min(validation_chunk_rows(network.n_features), n_val_rows)
    activations = int(per_row * (ACTIVATION_COPIES * train_rows + eval_rows))
    if data_bytes is None:
        data_bytes = (n_rows + n_val_rows) * network.n_features * BYTES_PER_VALUE
    data = data_bytes * DATA_COPIES
    if target is None:
        target = Target(network.n_outputs, BYTES_PER_VALUE * DATA_COPIES, "regression")
    return MemoryEstimate(
        weights=weights,
        training_state=math.ceil(weights * ratio),
        activations=activations,
        data=data,
        in_place=in_place,
        target=target.bytes(n_rows + n_val_rows),
    )


def check_fit_memory(estimator_name, network, *, optimizer, batch_size, n_rows, n_val_rows,
                     available=None, data_bytes=None, target=None):
    """Raise :class:`InsufficientMemoryError` when the fit cannot fit in memory.

    ``available``: an :class:`AvailableMemory` (default: :func:`available_memory`).
    Returns the :class:`MemoryEstimate`.
    """
    estimate = estimate_fit_memory(
        network, optimizer=optimizer, batch_size=batch_size, n_rows=n_rows, n_val_rows=n_val_rows,
        data_bytes=data_bytes, target=target,
    )
    available = available or available_memory()
    if available is None or estimate.total <= available.bytes:
        return estimate
    raise InsufficientMemoryError(
        _message(estimator_name, network, estimate, available, optimizer, batch_size, target,
                 fits=_widest_that_fits(network, available, optimizer, batch_size, n_rows,
                                        n_val_rows, data_bytes, target))
    )


def _widest_that_fits(network, available, optimizer, batch_size, n_rows, n_val_rows,
                      data_bytes=None, target=None):
    """The largest width ``w`` for which ``hidden_layer_sizes=(w,) * depth`` fits
    (everything else unchanged), or None when not even width 1 does."""
    depth = len(network.hidden_layer_sizes)

    def fits(width):
        candidate = dataclasses.replace(network, hidden_layer_sizes=(width,) * depth)
        return estimate_fit_memory(
            candidate, optimizer=optimizer, batch_size=batch_size, n_rows=n_rows,
            n_val_rows=n_val_rows, data_bytes=data_bytes, target=target,
        ).total <= available.bytes

    if depth == 0 or not fits(1):
        return None
    lo, hi = 1, max(network.hidden_layer_sizes)
    while lo < hi:  # fits(lo) holds
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def check_model_memory(estimator_name, n_params, *, optimizer, n_rows, n_val_rows, n_features,
                       available=None, data_bytes=None, target=None):
    """The check for a user's ``model=``, after it is built (``n_params`` weights).

    Its activations are not counted (its layers are the user's); its weights
    exist already, so one copy of them is not needed again.  ``target``: the
    :class:`Target` (default: none counted).
    """
    weights = int(n_params) * BYTES_PER_VALUE
    in_place, ratio = peak_ratio(weights, optimizer_slots(optimizer))
    if data_bytes is None:
        data_bytes = (n_rows + n_val_rows) * n_features * BYTES_PER_VALUE
    data = data_bytes * DATA_COPIES
    target_bytes = 0 if target is None else target.bytes(n_rows + n_val_rows)
    estimate = MemoryEstimate(weights, int(weights * (ratio - 1)), 0, data, in_place, target_bytes)
    available = available or available_memory()
    if available is None or estimate.total <= available.bytes:
        return estimate
    raise InsufficientMemoryError(
        f"{estimator_name} cannot train the model passed as model=: its {n_params:,} weights "
        f"take {_gb(weights)} GB, and training them needs about {_gb(estimate.total)} GB more "
        f"(gradients, {optimizer_slots(optimizer)} optimizer slots per weight, the "
        f"early-stopping copy and temporaries: {ratio:.1f}x the weights in all, measured; "
        f"{_gb(estimate.data)} GB of data and {_gb(estimate.target)} GB for the target), but "
        f"only {_gb(available.bytes)} GB are available ({available.source}). Build a smaller "
        "model (fewer or narrower layers), use fewer input features, or an optimizer with "
        "fewer slots (e.g. 'sgd')."
    )


def _gb(n):
    """Bytes as GB for a message: 0.0032 -> "<0.01", 3.6 -> "3.60", 24.6, 27,603."""
    gb = n / GB
    if gb < 0.01:
        return "<0.01"
    return f"{gb:.2f}" if gb < 10 else f"{gb:.1f}" if gb < 100 else f"{gb:,.0f}"


def _message(name, network, estimate, available, optimizer, batch_size, target, fits):
    sizes = tuple(network.hidden_layer_sizes)
    ratio = estimate.training_state / max(estimate.weights, 1)
    what = f"{name}(hidden_layer_sizes={sizes}"
    if network.n_ensemble > 1:
        what += f", n_ensemble={network.n_ensemble}"
    what += f") on {network.n_features:,} input features"
    smaller = "smaller hidden_layer_sizes (the weights grow with the product of adjacent widths"
    if fits is not None and fits < max(sizes):
        widest = f"({', '.join([str(fits)] * len(sizes))}{',' * (len(sizes) == 1)})"
        smaller += f"; at most about {widest} fits"
    advice = [
        smaller + ")",
        "fewer input features (e.g. feature selection or PCA before it in the Pipeline)",
    ]
    if estimate.activations > 0.1 * estimate.total:
        advice.append(f"a smaller batch_size (now {batch_size})")
    if network.n_ensemble > 1:
        advice.append(f"a smaller n_ensemble (now {network.n_ensemble})")
    if network.n_embedded:
        advice.append("numeric_embedding=None")
    large_target = estimate.target > 0.3 * estimate.total
    if large_target and target is not None and target.kind == "one-hot" and network.n_outputs > 2:
        advice.insert(0, "loss='sparse_categorical_crossentropy' (one class index a row instead "
                         "of a one-hot row; the output still has a unit per class), fewer "
                         "classes (group the rare ones)")
    if large_target:
        advice.insert(0, "fewer rows (fit on a sample)")
    slots = optimizer_slots(optimizer)
    return (
        f"{what} needs about {_gb(estimate.total)} GB of memory to train, but only "
        f"{_gb(available.bytes)} GB are available ({available.source}). The network has "
        f"{network.n_params():,} weights ({_gb(estimate.weights)} GB as float32); training "
        f"holds {ratio:.1f}x that (weights, gradients, {slots} optimizer slots per weight, the "
        f"early-stopping copy and temporaries, measured), plus {_gb(estimate.activations)} GB of "
        f"activations, {_gb(estimate.data)} GB of data and {_gb(estimate.target)} GB for the "
        f"target ({_target_words(network, target)}). Use "
        + ", ".join(advice[:-1])
        + f", or {advice[-1]}."
    )


def _target_words(network, target):
    """How the message names the target: "a one-hot row of 12,000 values" ..."""
    if target is None or target.kind == "regression":
        n = network.n_outputs
        return f"{n:,} value{'s' * (n > 1)} a row"
    if target.kind == "indices":
        return f"a class index a row, {network.n_outputs:,} output units"
    if target.values_per_row == 1:
        return "one 0/1 value a row"
    return f"a one-hot row of {target.values_per_row:,} values"


# --- the memory available ----------------------------------------------------

_UNLIMITED = 1 << 60  # cgroup v1 reports "no limit" as a number near 2**63


def available_memory():
    """The bytes this process can still allocate: :class:`AvailableMemory`, or None
    when nothing can be read.

    The smallest of: ``MemAvailable`` in ``/proc/meminfo`` (what the kernel can
    give without swapping), and a cgroup's limit minus its usage (cgroup v2
    ``memory.max``/``memory.current``, v1 ``memory.limit_in_bytes``/
    ``memory.usage_in_bytes``; reclaimable file cache, ``inactive_file``, counts
    as available).  Without ``/proc/meminfo``, ``os.sysconf``'s available pages.
    """
    found = []
    meminfo = _meminfo_available()
    if meminfo is not None:
        found.append(AvailableMemory(meminfo, "MemAvailable in /proc/meminfo"))
    cgroup = _cgroup_available()
    if cgroup is not None:
        found.append(cgroup)
    if not found:
        try:
            pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            found.append(AvailableMemory(int(pages), "os.sysconf('SC_AVPHYS_PAGES')"))
        except (ValueError, OSError, AttributeError):
            return None
    return min(found, key=lambda a: a.bytes)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _meminfo_available():
    text = _read("/proc/meminfo")
    for line in (text or "").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def _stat_value(text, key):
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return int(parts[1])
    return 0


def _cgroup_dirs(controller_root, relative):
    """The process's own cgroup directory, then the mount's root (a container's view)."""
    dirs = []
    if relative and relative != "/":
        dirs.append(os.path.join(controller_root, relative.lstrip("/")))
    dirs.append(controller_root)
    return dirs


def _cgroup_available(root="/sys/fs/cgroup"):
    """Limit minus usage of this process's memory cgroup (v2, else v1), or None."""
    v2_path = v1_path = None
    for line in (_read("/proc/self/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            v2_path = parts[2]
        elif "memory" in parts[1].split(","):
            v1_path = parts[2]
    candidates = []
    for d in _cgroup_dirs(root, v2_path):
        candidates.append((d, "memory.max", "memory.current", "inactive_file", "cgroup v2"))
    for d in _cgroup_dirs(os.path.join(root, "memory"), v1_path):
        candidates.append(
            (d, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file", "cgroup v1")
        )
    for d, limit_file, usage_file, inactive_key, kind in candidates:
        limit = (_read(os.path.join(d, limit_file)) or "").strip()
        usage = (_read(os.path.join(d, usage_file)) or "").strip()
        if not limit.isdigit() or not usage.isdigit():
            continue  # absent, or "max": no limit here
        limit = int(limit)
        if limit >= _UNLIMITED:
            continue
        inactive = _stat_value(_read(os.path.join(d, "memory.stat")), inactive_key)
        free = max(limit - max(int(usage) - inactive, 0), 0)
        return AvailableMemory(free, f"{kind} memory limit {_gb(limit)} GB in {d}")
    return None


def check_plan_memory(estimator_name, settings, plan):
    """Refuse skdense's own network for ``plan`` when it cannot train in this
    machine's memory; arithmetic only, before TensorFlow is even imported
    (the fit path calls it before step 6).  Returns the :class:`MemoryEstimate`."""
    network = Network(
        n_features=plan.X.shape[1],
        hidden_layer_sizes=tuple(int(u) for u in settings.hidden_layer_sizes),
        n_outputs=output_width(plan.target, plan.y),
        n_ensemble=settings.n_ensemble,
        ensemble_adapters=settings.ensemble_adapters,
        feature_scaling=bool(settings.feature_scaling),
        n_embedded=len(plan.continuous or ()),
    )
    validation_x = None if plan.validation is None else plan.validation.x
    return check_fit_memory(
        estimator_name, network, optimizer=settings.optimizer,
        batch_size=plan.training.batch_size, n_rows=plan.n_train,
        n_val_rows=0 if validation_x is None else validation_x.shape[0],
        data_bytes=input_bytes(plan.X) + input_bytes(validation_x),
        target=Target.of(plan.target, plan.y, settings.loss),
    )
