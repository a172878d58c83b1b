"""Predictions without TensorFlow: skdense's networks run in NumPy.

A fitted network is a few matrices and activations.  This package runs the
networks skdense builds (:mod:`skdense._model`, :mod:`skdense._ensemble`) in
float32 NumPy and decodes their output as the estimators do; it imports
neither TensorFlow nor Keras (h5py only to read a ``.keras`` file's weights).
Keras stays the reference the tests compare it to.

=================  ==========================================================
``errors.py``      :class:`UnsupportedNetwork`: the caller falls back to Keras
``activations.py`` :data:`ACTIVATIONS`, the one table of supported activations
``layers.py``      :data:`LAYERS`, the one table of supported layer classes,
                   and their NumPy steps
``network.py``     :class:`NumpyNetwork` and its builders from a config and
                   weights or a built Keras model
``keras_file.py``  :func:`network_from_keras_file`: from a ``.keras`` file
``chunks.py``      the chunk rule shared with the Keras forward pass
``decode.py``      :class:`OutputDecoder`: labels, probabilities, target scaling
``predictor.py``   :class:`NumpyPredictor` = network + decoder; :func:`predictor_for`
``onnx.py``        ONNX export through skl2onnx (the optional ``onnx`` extra)
=================  ==========================================================
"""

from .activations import ACTIVATIONS
from .chunks import CHUNK_BYTES, chunk_rows
from .decode import OutputDecoder
from .errors import UnsupportedNetwork
from .keras_file import network_from_keras_file
from .layers import LAYERS
from .network import NumpyNetwork, network_from_config, network_from_keras
from .predictor import NumpyPredictor, predictor_for

__all__ = [
    "ACTIVATIONS",
    "CHUNK_BYTES",
    "LAYERS",
    "NumpyNetwork",
    "NumpyPredictor",
    "OutputDecoder",
    "UnsupportedNetwork",
    "chunk_rows",
    "network_from_config",
    "network_from_keras",
    "network_from_keras_file",
    "predictor_for",
]
