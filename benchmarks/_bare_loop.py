"""The bare minibatch loop two benchmarks time against: nothing but the steps."""


def minibatch_loop(tf, n, epochs, batch, step):
    """In a traced function: ``epochs`` passes over ``n`` rows in contiguous
    minibatches, calling ``step(lo, hi)`` for rows ``[lo, hi)``; no shuffling,
    no loss bookkeeping, no checks."""
    steps = (n + batch - 1) // batch

    def epoch(e):
        def one(s):
            lo = s * batch
            step(lo, tf.minimum(lo + batch, n))
            return (s + 1,)

        tf.while_loop(lambda s: s < steps, one, (tf.constant(0),))
        return (e + 1,)

    return tf.while_loop(lambda e: e < epochs, epoch, (tf.constant(0),))
