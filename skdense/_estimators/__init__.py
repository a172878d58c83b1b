"""The estimators and what decides a fit.

=================  ==========================================================
``base.py``        ``_DenseEstimator``: parameters, the data contract, the
                   fit path's steps in order, all or nothing
``classifier.py``  :class:`DenseClassifier`
``regressor.py``   :class:`DenseRegressor`
``params.py``      parameter constraints, per-fit overrides, ``Settings``
``targets.py``     ``TargetSpec``: the task and its encoders
``task.py``        the rule that tells classification from regression
``fit_plan.py``    ``make_plan`` -> ``FitPlan``: the one description of a fit
=================  ==========================================================

The estimators are loaded on first use (PEP 562), so ``skdense._estimators.task``
(pandas and numpy only) can be imported without scikit-learn's estimators, and
``skdense._estimators.DenseClassifier`` (the name pickles hold) still resolves.
"""

from .._lazy import attributes as _lazy_attributes

__all__ = ["DenseClassifier", "DenseRegressor"]

_LAZY = {"DenseClassifier": ".classifier", "DenseRegressor": ".regressor"}

__getattr__, __dir__ = _lazy_attributes(__name__, globals(), _LAZY, __all__)
