"""Loading TensorFlow and Keras lazily, quietly and with sensible thread pools.

``import skdense`` must not import TensorFlow (it costs seconds).  Every module
that needs TensorFlow or Keras calls :func:`load_keras` (or :func:`load_tf`)
inside the function that needs it; the first call sets up logging and the
thread pools, later calls are a dictionary lookup.
"""

import contextlib
import logging
import os
import sys
import tempfile
import threading
from typing import NamedTuple

_lock = threading.Lock()
_configured = False


def _n_threads():
    """Threads TensorFlow may use in this process.

    joblib's loky workers (GridSearchCV ``n_jobs``) and Dask workers export
    ``OMP_NUM_THREADS`` sized so that the workers together do not oversubscribe
    the cores; TensorFlow ignores that variable, so we read it ourselves.
    ``SKDENSE_NUM_THREADS`` overrides both.
    """
    for name in ("SKDENSE_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name)
        if value:
            try:
                n = int(value)
            except ValueError:
                continue
            if n > 0:
                return n
    return None


class LogPolicy(NamedTuple):
    """How quiet TensorFlow is made, read from ``TF_CPP_MIN_LOG_LEVEL``."""

    hide_startup: bool  # send fd 2 away while TensorFlow imports and finds its devices
    python_level: int | None  # level for ``tf.get_logger()``; None leaves it alone


# TF_CPP_MIN_LOG_LEVEL n hides C++ log lines up to: 1 INFO, 2 WARNING, 3 ERROR.
# TensorFlow's Python logger is given the matching threshold.
_PYTHON_LEVELS = {1: logging.WARNING, 2: logging.ERROR, 3: logging.CRITICAL}


def _quiet_environment():
    """Choose TF's log level unless the user chose one; return the :class:`LogPolicy`.

    Unset, skdense sets ``TF_CPP_MIN_LOG_LEVEL=2`` (warnings and info hidden) in
    ``os.environ``, so joblib/Dask workers inherit it.  A level the user set is
    never changed: it governs TensorFlow's logging after start-up, in C++ and
    (the same threshold) in its Python logger.

    Start-up lines are another matter.  TF >= 2.20 prints them (oneDNN notice,
    "Could not find cuda drivers", "failed call to cuInit") through absl before
    the level is read, so even level 3 shows the oneDNN notice.  They are
    hidden for levels 1, 2 and 3 and when unset.  Level 0 is TensorFlow's "log
    everything": a user who sets it explicitly is asking for these lines (they
    are how one learns why the GPU is not used), so at 0 nothing is hidden and
    TF's Python logger is left alone.  A value TensorFlow cannot parse counts as
    0, as TensorFlow reads it.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    value = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        level = int(value)
    except ValueError:
        level = 0
    if level <= 0:
        return LogPolicy(hide_startup=False, python_level=None)
    return LogPolicy(hide_startup=True, python_level=_PYTHON_LEVELS[min(level, 3)])


@contextlib.contextmanager
def _silenced_stderr(active):
    """Capture file descriptor 2 while TensorFlow initialises; drop it unless that fails.

    The start-up lines are written by C++ straight to fd 2, so redirecting
    ``sys.stderr`` cannot catch them.  Python exceptions still propagate, and
    when one does, what was captured is written back to stderr first: the lines
    TensorFlow printed before failing are usually the explanation.  Whatever
    other threads write to stderr meanwhile (a few seconds, once per process)
    is lost with the start-up lines.
    """
    if not active:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    with _capture_file() as capture:
        failed = False
        try:
            os.dup2(capture.fileno(), 2)
            yield
        except BaseException:
            failed = True
            raise
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                capture.seek(0)
                data = capture.read()
                with contextlib.suppress(OSError):
                    while data:
                        data = data[os.write(2, data) :]


def _capture_file():
    try:
        return tempfile.TemporaryFile()
    except OSError:  # no writable temporary directory: drop the lines
        return open(os.devnull, "w+b")  # the caller's with closes it


def _set_thread_pools(tf):
    n = _n_threads()
    if n is None:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(min(n, 2))
    except RuntimeError:
        pass  # the runtime was already initialised by user code: keep its pools


def load_tf():
    """Import TensorFlow once, quietly, with thread pools sized for this process."""
    global _configured
    if not _configured:
        with _lock:
            if not _configured:
                policy = _quiet_environment()
                with _silenced_stderr(policy.hide_startup):
                    import tensorflow as tf

                    if policy.python_level is not None:
                        tf.get_logger().setLevel(policy.python_level)
                    _set_thread_pools(tf)
                    tf.config.list_physical_devices()  # device discovery logs here (cuInit)
                _configured = True
    import tensorflow as tf

    return tf


def load_keras():
    """Import Keras (after TensorFlow is configured) and return the module."""
    load_tf()
    import keras

    return keras
