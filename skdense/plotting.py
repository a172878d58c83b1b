"""Plots of fitted Dense estimators, in scikit-learn's Display style.

:class:`TrainingCurveDisplay` draws the loss per epoch of a fitted
:class:`~skdense.DenseClassifier` or :class:`~skdense.DenseRegressor`: the
training loss, the validation loss when rows were held out, the epoch whose
weights early stopping kept, and the training loss of the ``refit_full``
network on all rows. matplotlib is imported when a plot is drawn, not when this
module is imported.
"""

import numpy as np

__all__ = ["TrainingCurveDisplay"]


def _dense_estimator(estimator):
    """The fitted Dense estimator inside ``estimator`` (itself, a Pipeline's last
    step or AutoDense's ``estimator_``); a clear error for anything else."""
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from ._estimators.base import _DenseEstimator
    from .pipeline import AutoDense

    given = estimator
    if isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    if isinstance(estimator, AutoDense):
        check_is_fitted(estimator, "estimator_", msg=_NOT_FITTED)
        estimator = estimator.estimator_
    if not isinstance(estimator, _DenseEstimator):
        if isinstance(given, Pipeline):
            got = f"a Pipeline whose last step is {type(estimator).__name__}"
        else:
            got = type(given).__name__
        hint = ""
        if hasattr(given, "best_estimator_") or hasattr(given, "param_grid"):
            hint = " For a search (GridSearchCV, ...), pass its best_estimator_."
        raise TypeError(
            "TrainingCurveDisplay.from_estimator needs a fitted DenseClassifier or "
            f"DenseRegressor, or a Pipeline whose last step is one; got {got}.{hint} "
            "For training curves from elsewhere, use TrainingCurveDisplay(loss=..., "
            "val_loss=...).plot()."
        )
    check_is_fitted(estimator, "history_", msg=_NOT_FITTED)
    return estimator


_NOT_FITTED = (
    "This %(name)s instance is not fitted yet, so it has no training curve. Call "
    "'fit' with appropriate arguments before TrainingCurveDisplay.from_estimator."
)


class TrainingCurveDisplay:
    """Training curves of a Dense network: loss per epoch.

    Build it with :meth:`from_estimator` from a fitted estimator, or from the
    numbers themselves (``TrainingCurveDisplay(loss=...).plot()``). Epochs are
    numbered from 1 on the x axis, as ``best_epoch_`` is.

    Parameters
    ----------
    loss : array-like of shape (n_epochs,)
        Training loss per epoch (``history_["loss"]``).
    val_loss : array-like of shape (n_epochs,) or None, default=None
        Validation loss per epoch (``history_["val_loss"]``), when rows were
        held out.
    best_epoch : int or None, default=None
        1-based epoch that early stopping chose (``best_epoch_``); marked by a
        vertical line and a marker on the validation curve (on the training
        curve without one).
    refit_loss : array-like of shape (n_refit_epochs,) or None, default=None
        Training loss per epoch of the ``refit_full`` network on all rows
        (``refit_history_["loss"]``), drawn on the same epoch axis.
    restore_best_weights : bool, default=True
        Whether the weights of ``best_epoch`` were kept; when False the legend
        says that the last epoch's weights were kept instead.
    estimator_name : str or None, default=None
        Prefix of the legend entries; useful when several estimators share
        one axes.

    Attributes
    ----------
    loss_line_ : matplotlib Line2D
        The training loss.
    val_loss_line_ : matplotlib Line2D or None
        The validation loss.
    refit_line_ : matplotlib Line2D or None
        The ``refit_full`` network's training loss.
    best_epoch_line_ : matplotlib Line2D or None
        The vertical line at ``best_epoch``.
    best_epoch_marker_ : matplotlib Line2D or None
        The marker at ``best_epoch`` on the validation (or training) curve.
    ax_ : matplotlib Axes
        Axes with the curves.
    figure_ : matplotlib Figure
        Figure containing the curves.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : scores against the number
        of training rows (a different curve).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdense import DenseClassifier, TrainingCurveDisplay
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), DenseClassifier((8,), epochs=5, random_state=0))
    >>> pipe = pipe.fit(X, y)
    >>> display = TrainingCurveDisplay.from_estimator(pipe)
    >>> [round(v, 6) for v in display.loss_line_.get_ydata()] == [
    ...     round(v, 6) for v in pipe[-1].history_["loss"]]
    True
    """

    def __init__(
        self,
        *,
        loss,
        val_loss=None,
        best_epoch=None,
        refit_loss=None,
        restore_best_weights=True,
        estimator_name=None,
    ):
        self.loss = loss
        self.val_loss = val_loss
        self.best_epoch = best_epoch
        self.refit_loss = refit_loss
        self.restore_best_weights = restore_best_weights
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        name=None,
        loss_kw=None,
        val_loss_kw=None,
        refit_kw=None,
        best_epoch_kw=None,
    ):
        """Draw the training curves of a fitted Dense estimator.

        Parameters
        ----------
        estimator : DenseClassifier, DenseRegressor, AutoDense or Pipeline
            Fitted; a Pipeline's last step must be one of the others. For a
            search, pass its ``best_estimator_``.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str or None, default=None
            Prefix of the legend entries.
        loss_kw, val_loss_kw, refit_kw, best_epoch_kw : dict or None
            Keyword arguments for matplotlib's ``plot`` of the training loss,
            the validation loss, the refit's loss and the best-epoch marker
            (``best_epoch_kw`` also styles the vertical line's colour).

        Returns
        -------
        display : TrainingCurveDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            When the estimator is not fitted.
        TypeError
            When ``estimator`` is not a Dense estimator or a Pipeline ending
            in one.
        """
        dense = _dense_estimator(estimator)
        history = dense.history_
        refit = getattr(dense, "refit_history_", None)
        display = cls(
            loss=history.get("loss", []),
            val_loss=history.get("val_loss"),
            best_epoch=dense.best_epoch_,
            refit_loss=None if refit is None else refit.get("loss"),
            restore_best_weights=bool(dense.get_params()["restore_best_weights"]),
            estimator_name=name,
        )
        return display.plot(
            ax=ax,
            loss_kw=loss_kw,
            val_loss_kw=val_loss_kw,
            refit_kw=refit_kw,
            best_epoch_kw=best_epoch_kw,
        )

    def plot(
        self,
        ax=None,
        *,
        name=None,
        loss_kw=None,
        val_loss_kw=None,
        refit_kw=None,
        best_epoch_kw=None,
    ):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when None.
        name : str or None, default=None
            Prefix of the legend entries; ``estimator_name`` when None.
        loss_kw, val_loss_kw, refit_kw, best_epoch_kw : dict or None
            Keyword arguments for matplotlib's ``plot`` of the training loss,
            the validation loss, the refit's loss and the best-epoch marker.

        Returns
        -------
        display : TrainingCurveDisplay
            ``self``, with the line attributes, ``ax_`` and ``figure_`` set.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        prefix = f"{name}: " if name else ""

        loss = np.asarray(self.loss, dtype=float)
        (self.loss_line_,) = ax.plot(
            _epochs(loss), loss, **{"label": f"{prefix}training loss", **(loss_kw or {})}
        )
        self.val_loss_line_ = None
        if self.val_loss is not None:
            val_loss = np.asarray(self.val_loss, dtype=float)
            (self.val_loss_line_,) = ax.plot(
                _epochs(val_loss),
                val_loss,
                **{"label": f"{prefix}validation loss", **(val_loss_kw or {})},
            )
        self.refit_line_ = None
        if self.refit_loss is not None:
            refit_loss = np.asarray(self.refit_loss, dtype=float)
            style = {"label": f"{prefix}refit on all rows: training loss", "linestyle": "--"}
            (self.refit_line_,) = ax.plot(
                _epochs(refit_loss), refit_loss, **{**style, **(refit_kw or {})}
            )
        self.best_epoch_line_ = self.best_epoch_marker_ = None
        if self.best_epoch is not None:
            self._plot_best_epoch(ax, prefix, best_epoch_kw or {})

        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _plot_best_epoch(self, ax, prefix, kw):
        """A vertical line at ``best_epoch`` (the legend entry) and a marker on
        the curve that early stopping watched."""
        epoch = int(self.best_epoch)
        on = self.val_loss_line_ if self.val_loss_line_ is not None else self.loss_line_
        if self.restore_best_weights:
            label = f"{prefix}kept epoch {epoch}"
        else:
            label = f"{prefix}best epoch {epoch} (the last epoch's weights were kept)"
        color = kw.get("color", on.get_color())
        self.best_epoch_line_ = ax.axvline(
            epoch, color=color, linestyle=":", linewidth=1, label=label
        )
        values = on.get_ydata()
        if 1 <= epoch <= len(values):
            style = {"marker": "o", "color": color, "markersize": 7, "linestyle": "none",
                     "label": "_nolegend_"}
            (self.best_epoch_marker_,) = ax.plot([epoch], [values[epoch - 1]], **{**style, **kw})


def _epochs(values):
    """1-based epoch numbers for a per-epoch curve."""
    return np.arange(1, len(values) + 1)
