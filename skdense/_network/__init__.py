"""The Keras network an estimator trains.

=================  ==========================================================
``build.py``       ``build_dense_network``: hidden layers, output layer and
                   loss per task, learning-rate schedules, label smoothing
``layers.py``      skdense's Keras layers (``FeatureScaling``,
                   ``PeriodicEmbedding``), registered for saving
``ensemble.py``    efficient ensembles (``n_ensemble``, TabM): its layers and loss
``memory.py``      the memory guard: the network's size, by arithmetic, before
                   TensorFlow loads
=================  ==========================================================

Importing this package imports nothing; ``build``, ``layers`` and ``ensemble``
import Keras, ``memory`` does not.
"""
