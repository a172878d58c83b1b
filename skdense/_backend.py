"""Loading TensorFlow and Keras lazily, quietly and with sensible thread pools.

``import skdense`` must not import TensorFlow (it costs seconds).  Every module
that needs TensorFlow or Keras calls :func:`load_keras` (or :func:`load_tf`)
inside the function that needs it; the first call sets up logging and the
thread pools, later calls are a dictionary lookup.
"""

import os
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


def _quiet_environment():
    # Respect a user's explicit choice; otherwise hide TF's C++ INFO/WARNING spam.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def load_tf():
    """Import TensorFlow once, quietly, with thread pools sized for this process."""
    global _configured
    if _configured:
        import tensorflow as tf

        return tf
    with _lock:
        _quiet_environment()
        import tensorflow as tf

        if not _configured:
            tf.get_logger().setLevel("ERROR")
            n = _n_threads()
            if n is not None:
                try:
                    tf.config.threading.set_intra_op_parallelism_threads(n)
                    tf.config.threading.set_inter_op_parallelism_threads(min(n, 2))
                except RuntimeError:
                    # The runtime was already initialised by user code: keep its pools.
                    pass
            _configured = True
    return tf


def load_keras():
    """Import Keras (after TensorFlow is configured) and return the module."""
    load_tf()
    import keras

    return keras
