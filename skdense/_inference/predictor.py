""":class:`NumpyPredictor`: a fitted estimator's ``predict`` and ``predict_proba`` in
NumPy (its network's forward pass and the target's decoding), and
:func:`predictor_for`, which makes one from a fitted ``DenseClassifier`` or
``DenseRegressor``.
"""

from .decode import OutputDecoder
from .errors import UnsupportedNetwork
from .network import network_from_keras


class NumpyPredictor:
    """A :class:`~skdense._inference.network.NumpyNetwork` and an
    :class:`~skdense._inference.decode.OutputDecoder`: what ``predict``,
    ``predict_proba`` and ``score`` need after ``X`` is validated.  Immutable."""

    __slots__ = ("network", "decoder")

    def __init__(self, network, decoder):
        object.__setattr__(self, "network", network)
        object.__setattr__(self, "decoder", decoder)

    def __setattr__(self, name, value):
        raise AttributeError("NumpyPredictor is immutable")

    def __reduce__(self):
        return (NumpyPredictor, (self.network, self.decoder))

    def raw(self, X):
        """The network's output (float32)."""
        return self.network.predict(X)

    def predict(self, X):
        return self.decoder.predict(self.network.predict(X))

    def predict_proba(self, X):
        return self.decoder.predict_proba(self.network.predict(X))


def predictor_for(estimator):
    """The :class:`NumpyPredictor` of a fitted ``DenseClassifier``/``DenseRegressor``.

    Raises :class:`UnsupportedNetwork` for a network from ``model=`` (a user's
    Keras model or builder: it predicts through Keras) or one that holds a
    layer or activation outside the NumPy path's tables.
    """
    if getattr(estimator, "model", None) is not None:
        raise UnsupportedNetwork(
            f"{type(estimator).__name__} uses a network from model=; it predicts through Keras."
        )
    keras_estimator = estimator.keras_estimator_
    decoder = OutputDecoder.from_target_encoder(keras_estimator.target_encoder_)
    return NumpyPredictor(network_from_keras(estimator.model_), decoder)
