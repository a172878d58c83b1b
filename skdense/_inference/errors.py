"""The error every part of :mod:`skdense._inference` raises for a network it cannot run."""


class UnsupportedNetwork(ValueError):
    """The network holds a layer, activation, dtype or topology that the NumPy
    forward pass does not implement; the message names it.  Callers catch it and
    predict through Keras."""
