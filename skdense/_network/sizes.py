"""The weight shapes and output widths of the network's layers, written once.

skdense's layers (:mod:`skdense._network.layers`, :mod:`skdense._network.ensemble`)
create their weights with these shapes, and the memory estimate
(:mod:`skdense._network.memory`) counts the weights of a network from them before
anything is built.  No Keras: a shape is a tuple of ints, keyed by the weight's name.
"""

import math

# PeriodicEmbedding's defaults: frequencies per feature and width of each feature's embedding.
EMBEDDING_FREQUENCIES = 16
EMBEDDING_DIM = 16


def n_weights(shapes):
    """The number of values in the weights of ``shapes`` (``{name: shape}``)."""
    return sum(math.prod(shape) for shape in shapes.values())


def dense_shapes(d_in, units):
    """A Keras ``Dense`` layer's weights."""
    return {"kernel": (d_in, units), "bias": (units,)}


def feature_scaling_shapes(d_in):
    """``FeatureScaling``: a scale per feature."""
    return {"scale": (d_in,)}


def periodic_embedding_shapes(n_embedded, n_frequencies=EMBEDDING_FREQUENCIES,
                              embedding_dim=EMBEDDING_DIM):
    """``PeriodicEmbedding`` of ``n_embedded`` features."""
    f, k, d = n_embedded, n_frequencies, embedding_dim
    return {"frequencies": (f, k), "kernel": (f, 2 * k, d), "bias": (f, d)}


def periodic_embedding_width(d_in, n_embedded, embedding_dim=EMBEDDING_DIM):
    """``PeriodicEmbedding``'s output width: the other features, then the embeddings."""
    return d_in - n_embedded + n_embedded * embedding_dim


# What each ``ensemble_adapters`` puts in the ensemble's layers: a per-member input
# scale in ``EnsembleInput`` ("mini"), or BatchEnsemble adapters (input and output
# scales, a bias per member) in every hidden ``EnsembleDense`` ("full").
ADAPTER_LAYOUT = {
    "mini": {"input_scale": True, "member_adapters": False},
    "full": {"input_scale": False, "member_adapters": True},
    "none": {"input_scale": False, "member_adapters": False},
}


def ensemble_input_shapes(k, d_in, scaling):
    """``EnsembleInput``: a scale per member and feature, when it scales."""
    return {"r": (k, d_in)} if scaling else {}


def ensemble_dense_shapes(k, d_in, units, scale_in=False, scale_out=False, member_bias=False):
    """``EnsembleDense``: one shared kernel, and the adapters it has."""
    shapes = {"kernel": (d_in, units)}
    if scale_in:
        shapes["r"] = (k, d_in)
    if scale_out:
        shapes["s"] = (k, units)
    shapes["bias"] = (k, units) if member_bias else (units,)
    return shapes


def ensemble_head_shapes(k, d_in, units):
    """``EnsembleHead``: a kernel and a bias per member."""
    return {"kernel": (k, d_in, units), "bias": (k, units)}
