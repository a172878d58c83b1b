"""How many rows one forward call takes: the same rule as the compiled Keras
forward pass (:mod:`skdense._training.predict`), so both paths bound memory alike.

A chunk's input and activations take about :data:`CHUNK_BYTES`; a scipy
sparse input is densified one chunk at a time.
"""

import numpy as np
import scipy.sparse as sp

CHUNK_BYTES = 64 << 20  # input and activations of one forward call, about


def chunk_rows(row_floats):
    """Rows per forward call when one row takes ``row_floats`` values through the network."""
    return int(max(1, CHUNK_BYTES // (4 * max(int(row_floats), 1))))


def chunked(x, rows, forward):
    """``forward`` over ``x`` in chunks of ``rows`` rows (sparse chunks densified),
    written into one preallocated output."""
    n = x.shape[0]
    if n <= rows and not sp.issparse(x):
        return forward(x)
    out = None
    for lo in range(0, max(n, 1), rows):
        xb = x[lo:lo + rows]
        part = forward(xb.toarray() if sp.issparse(xb) else xb)
        if out is None:
            if len(part) == n:
                return part
            out = np.empty((n, *part.shape[1:]), part.dtype)
        out[lo:lo + len(part)] = part
    return out
