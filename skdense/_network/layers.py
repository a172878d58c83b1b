"""skdense's own Keras layers for tabular inputs.

Registered with Keras's serialisation so fitted models save, load and pickle.
Importing this module imports Keras; only the network builder (at fit) and
``skdense._scikeras`` (at fit or unpickling) do.
"""

import math

from .._backend import load_keras
from . import sizes

keras = load_keras()
ops = keras.ops


@keras.saving.register_keras_serializable(package="skdense")
class FeatureScaling(keras.layers.Layer):
    """A learnable scale per input feature, ``x * s`` with ``s`` starting at 1.

    Lets the network learn which features matter before the first dense layer
    (RealMLP's "scaling layer", Holzmüller et al. 2024).
    """

    def build(self, input_shape):
        shapes = sizes.feature_scaling_shapes(int(input_shape[-1]))
        self.scale = self.add_weight(shape=shapes["scale"], initializer="ones", name="scale")

    def call(self, inputs):
        return inputs * self.scale


@keras.saving.register_keras_serializable(package="skdense")
class PeriodicEmbedding(keras.layers.Layer):
    """Periodic embeddings of continuous features (PLR, Gorishniy et al. 2022).

    Each selected feature ``x_j`` becomes ``ReLU(W_j [sin(2 pi c_j x_j),
    cos(2 pi c_j x_j)] + b_j)`` with ``n_frequencies`` learnable frequencies
    ``c_j ~ N(0, sigma)`` and an ``embedding_dim``-wide output; the other
    features (e.g. one-hot columns) pass through unchanged.  Output: the other
    features followed by the flattened embeddings.

    Parameters
    ----------
    indices : list of int
        Columns to embed (the continuous ones); the rest pass through.
    n_frequencies : int
    embedding_dim : int
    sigma : float
        Standard deviation of the initial frequencies (inputs are expected to
        be scaled to roughly unit spread).
    seed : int or None
    """

    def __init__(self, indices, n_frequencies=sizes.EMBEDDING_FREQUENCIES,
                 embedding_dim=sizes.EMBEDDING_DIM, sigma=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.indices = [int(i) for i in indices]
        self.n_frequencies = int(n_frequencies)
        self.embedding_dim = int(embedding_dim)
        self.sigma = float(sigma)
        self.seed = seed

    def build(self, input_shape):
        n_in = int(input_shape[-1])
        embedded = set(self.indices)
        self._rest = [j for j in range(n_in) if j not in embedded]
        k, d = self.n_frequencies, self.embedding_dim
        shapes = sizes.periodic_embedding_shapes(len(self.indices), k, d)
        seed = self.seed
        self.frequencies = self.add_weight(
            shape=shapes["frequencies"],
            initializer=keras.initializers.RandomNormal(stddev=self.sigma, seed=seed),
            name="frequencies",
        )
        limit = math.sqrt(6.0 / (2 * k + d))
        self.kernel = self.add_weight(
            shape=shapes["kernel"],
            initializer=keras.initializers.RandomUniform(
                -limit, limit, seed=None if seed is None else seed + 1
            ),
            name="kernel",
        )
        self.bias = self.add_weight(shape=shapes["bias"], initializer="zeros", name="bias")

    def call(self, inputs):
        x = ops.take(inputs, self.indices, axis=1)  # (n, f)
        angles = 2.0 * math.pi * ops.expand_dims(x, -1) * self.frequencies  # (n, f, k)
        periodic = ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)
        emb = ops.relu(ops.einsum("nfk,fkd->nfd", periodic, self.kernel) + self.bias)
        emb = ops.reshape(emb, (-1, len(self.indices) * self.embedding_dim))
        if not self._rest:
            return emb
        return ops.concatenate([ops.take(inputs, self._rest, axis=1), emb], axis=-1)

    def compute_output_shape(self, input_shape):
        n_out = sizes.periodic_embedding_width(
            int(input_shape[-1]), len(self.indices), self.embedding_dim
        )
        return (input_shape[0], n_out)

    def get_config(self):
        config = super().get_config()
        config.update(
            indices=self.indices,
            n_frequencies=self.n_frequencies,
            embedding_dim=self.embedding_dim,
            sigma=self.sigma,
            seed=self.seed,
        )
        return config
