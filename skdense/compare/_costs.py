"""What a model costs: predict latency, size on disk, peak memory of its refit; the Pareto front.

Every cost is measured on the one model a job keeps, the best candidate refitted
on the outer training rows (``_runner._run_job``), never on the inner search's
fits, and with few repetitions, so that measuring adds little to a job:

``latency_row_ms``
    The median of ``ROW_REPEATS`` calls of ``predict`` on one row (the first
    outer-test row), in milliseconds: what answering one request costs,
    overheads (input checks, a pipeline's steps, joblib) included.
``latency_1000_ms``
    The median of ``BATCH_REPEATS`` calls of ``predict`` on ``BATCH_ROWS`` rows
    (the outer-test rows repeated to 1,000), in milliseconds.
``size_bytes``
    The bytes of the fitted model serialized: :func:`skdense.save` (to a
    temporary file) for a model that holds a skdense estimator, the file one
    would deploy; ``len(pickle.dumps(model))`` (highest protocol) for the rest.
``peak_memory_mb``
    How far the process's resident memory (RSS) rose above its level at the
    start of the refit, at its peak during the refit, in MiB (:class:`PeakMemory`).

A cost that cannot be measured (a model that does not pickle, a platform
without a way to read the peak) is NaN, and the row's ``warnings`` say why.
"""

import os
import pickle
import statistics
import tempfile
import threading
import time

import numpy as np

from ..persistence import save

ROW_REPEATS = 5
BATCH_ROWS = 1000
BATCH_REPEATS = 3
_MIB = 2**20
_CLEAR_REFS = "/proc/self/clear_refs"
_STATUS = "/proc/self/status"


def _status_kib(field):
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``), in bytes."""
    with open(_STATUS, "rb") as fh:
        for line in fh:
            if line.startswith(field.encode() + b":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"{_STATUS} has no {field}")


def _reset_high_water_mark():
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False where it cannot."""
    try:
        with open(_CLEAR_REFS, "w") as fh:
            fh.write("5")  # Linux >= 4.0: "5" resets the peak RSS of the process
        return True
    except OSError:
        return False


def _trim_heap():
    """Give the C heap's free memory back to the system (glibc's ``malloc_trim``), if there is one.

    Without it, memory freed by earlier fits (the inner search's) is reused by the
    next one without raising the RSS, and a refit would seem to need nothing.
    """
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        try:
            import ctypes

            _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM = None


class PeakMemory:
    """How far the process's resident memory rises during a ``with`` block, in MiB.

    On Linux the kernel keeps the peak RSS of the process (``VmHWM``): it is
    reset at the start (``/proc/self/clear_refs``) and read at the end, so no
    peak is missed however short. Elsewhere a thread samples the RSS (psutil)
    every ``interval`` seconds, which can miss a peak shorter than that; without
    psutil the value is NaN.

    What it measures is the memory the block *added* to the process: the peak
    RSS minus the RSS at the start. Its limits: RSS is the whole process's, so
    other threads (a Dask worker with several threads) add theirs; memory the
    process already held and the block reused (an allocator's free lists, after
    the inner search's fits) is not counted, so it can be lower than the block
    needs in a fresh process; and the start's RSS (the data, TensorFlow itself)
    is not counted at all. Resetting ``VmHWM`` changes what the process reports
    as its peak afterwards (``ru_maxrss`` is not affected).

    Attributes
    ----------
    mb : float
        The rise, in MiB (NaN until the block ends, or when it cannot be measured).
    method : str
        ``"vmhwm"``, ``"sampled"`` or ``"none"``.
    """

    def __init__(self, interval=0.005):
        self.interval = interval
        self.mb = float("nan")
        self.method = "none"

    def __enter__(self):
        _trim_heap()
        self._start = self._rss()
        if self._start is not None and _reset_high_water_mark():
            self.method = "vmhwm"
            return self
        try:
            import psutil
        except ImportError:
            return self
        process = psutil.Process()
        self.method = "sampled"
        self._start = process.memory_info().rss
        self._peak = self._start
        self._stop = threading.Event()

        def sample():
            while not self._stop.wait(self.interval):
                self._peak = max(self._peak, process.memory_info().rss)

        self._thread = threading.Thread(target=sample, name="skdense-peak-memory", daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _rss():
        try:
            return _status_kib("VmRSS")
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc):
        if self.method == "vmhwm":
            self.mb = max(0, _status_kib("VmHWM") - self._start) / _MIB
        elif self.method == "sampled":
            self._stop.set()
            self._thread.join()
            import psutil

            peak = max(self._peak, psutil.Process().memory_info().rss)
            self.mb = max(0, peak - self._start) / _MIB
        return False


def _median_ms(call, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def model_size(model, *, skdense_model):
    """Bytes of ``model`` serialized: :func:`skdense.save` if ``skdense_model``, else pickle."""
    if not skdense_model:
        return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    with tempfile.TemporaryDirectory(prefix="skdense-size-") as folder:
        path = os.path.join(folder, "model.skdense")
        save(model, path)
        return os.path.getsize(path)


def measure(model, one_row, batch, *, skdense_model):
    """``({latency_row_ms, latency_1000_ms, size_bytes}, [why a cost is NaN])`` of a fitted model.

    ``one_row`` is one row of features, ``batch`` ``BATCH_ROWS`` of them (both
    as the model takes them: a DataFrame or an array).
    """
    costs = {"latency_row_ms": np.nan, "latency_1000_ms": np.nan, "size_bytes": np.nan}
    notes = []
    try:
        costs["latency_row_ms"] = _median_ms(lambda: model.predict(one_row), ROW_REPEATS)
        costs["latency_1000_ms"] = _median_ms(lambda: model.predict(batch), BATCH_REPEATS)
    except Exception as exc:  # noqa: BLE001 - a cost is not worth a failed job
        notes.append(f"latency not measured: {type(exc).__name__}: {exc}")
    try:
        costs["size_bytes"] = float(model_size(model, skdense_model=skdense_model))
    except Exception as exc:  # noqa: BLE001
        notes.append(f"size not measured: {type(exc).__name__}: {exc}")
    return costs, notes


def batch_rows(n_rows):
    """Indices of ``BATCH_ROWS`` rows taken from ``n_rows`` (repeated in order as needed)."""
    return np.resize(np.arange(n_rows), BATCH_ROWS)


def format_size(n):
    """``size_bytes`` for a person: ``"1.5 MB"``, ``"12.3 kB"``, ``"512 B"``; ``"-"`` for None or NaN."""
    if n is None or n != n:
        return "-"
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def pareto_front(scores, costs, *, higher_is_better=True):
    """Which points no other point beats on both score and cost (a boolean array).

    A point is beaten (dominated) by another whose score is at least as good and
    whose cost is at most as high, one of the two strictly. Points with a NaN
    score or cost are never on the front (they cannot be compared). Equal points
    are both on it.
    """
    s = np.asarray(scores, dtype=float)
    c = np.asarray(costs, dtype=float)
    if not higher_is_better:
        s = -s
    ok = ~(np.isnan(s) | np.isnan(c))
    front = ok.copy()
    for i in np.flatnonzero(ok):
        others = ok.copy()
        others[i] = False
        at_least = (s >= s[i]) & (c <= c[i])
        strictly = (s > s[i]) | (c < c[i])
        if np.any(others & at_least & strictly):
            front[i] = False
    return front
