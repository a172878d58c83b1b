"""Loading TensorFlow and Keras lazily, quietly and with sensible thread pools.

``import skdense`` must not import TensorFlow (it costs seconds).  Every module
that needs TensorFlow or Keras calls :func:`load_keras` (or :func:`load_tf`)
inside the function that needs it; the first call sets up logging and the
thread pools, later calls are a dictionary lookup.
"""

import contextlib
import os
import sys
import threading

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


_MARKER = "SKDENSE_SET_TF_CPP_MIN_LOG_LEVEL"  # inherited by joblib/Dask workers


def _quiet_environment():
    """Set TF's log level unless the user chose one; return whether skdense chose it."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ and _MARKER not in os.environ:
        return False
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    os.environ[_MARKER] = "1"
    return True


@contextlib.contextmanager
def _silenced_stderr(active):
    """Send file descriptor 2 to /dev/null while TensorFlow initialises.

    TF >= 2.20 prints absl lines (oneDNN notice, "Could not find cuda drivers",
    "failed call to cuInit") before its log level is read, so the environment
    variable alone cannot hide them.  Python exceptions still propagate.
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
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


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
    if _configured:
        import tensorflow as tf

        return tf
    with _lock:
        quiet = _quiet_environment()
        with _silenced_stderr(quiet and "tensorflow" not in sys.modules):
            import tensorflow as tf

            if not _configured:
                tf.get_logger().setLevel("ERROR")
                _set_thread_pools(tf)
                tf.config.list_physical_devices()  # device discovery logs here (cuInit)
                _configured = True
    return tf


def load_keras():
    """Import Keras (after TensorFlow is configured) and return the module."""
    load_tf()
    import keras

    return keras
