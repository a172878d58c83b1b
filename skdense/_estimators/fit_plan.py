"""The plan of one fit: which rows train, which validate, with what weights,
and how training runs.

:func:`make_plan` is steps 4 and 5 of the fit path (see
``docs/architecture.md``): from the validated :class:`~skdense._estimators.params.Settings`
and data it draws the early-stopping rows (shuffled, seeded, stratified for
single-label classification, from this fit's data only), weights rows by
``sample_weight`` times ``class_weight`` (training and validation rows alike,
so early stopping watches the objective that training minimises), and
returns one frozen :class:`FitPlan`.  Nothing here imports TensorFlow.
"""

import math
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight

from .._network.build import continuous_columns
from .._training.run import TrainingRun, Validation
from .._training.stop_rule import StopRule
from .targets import TargetSpec

_MAX_SEED = 2**31 - 1


@dataclass(frozen=True, eq=False)
class FitPlan:
    """Everything one training run of the network needs, by name.

    ``X``, ``y`` (labels as given, encoded later by the target encoder) and
    ``sample_weight`` are the training rows; ``validation`` the rows early
    stopping watches (a :class:`~skdense._training.Validation` of raw labels,
    or None); ``target`` the :class:`~skdense._estimators.targets.TargetSpec`; ``seed``
    the int behind every random choice (None: unseeded); ``user_model``
    whether ``model=`` came from the user; ``training`` the
    :class:`~skdense._training.TrainingRun` (epochs, batches, stop rule);
    ``continuous`` the columns ``numeric_embedding`` embeds (found once, on
    the training rows; None without an embedding); ``lr_schedule_steps`` the
    optimizer steps the learning-rate schedule spans (``epochs`` epochs of
    minibatches, also when ``partial_fit`` runs one of them).

    Made once, by :func:`make_plan`, and never changed after: what depends
    on the epochs or the rows reads it.
    """

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    validation: Validation | None
    target: TargetSpec
    seed: int | None
    user_model: bool
    training: TrainingRun
    continuous: list | None = None
    lr_schedule_steps: int = 0

    @property
    def n_train(self):
        return self.X.shape[0]


def seed_from(random_state):
    """An int seed from ``random_state`` (None stays None: unseeded)."""
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(_MAX_SEED))


def make_plan(settings, X, y, sample_weight, target, *, validation=None, hold_out=True,
              first_epoch=0, partial=False, estimator_name="Dense estimator"):
    """The :class:`FitPlan` for ``settings`` on validated ``X``, ``y``.

    ``validation`` is a user's ``validation_data`` (validated): a tuple
    ``(X_val, y_val, sample_weight_val)``; otherwise,
    when early stopping watches a ``val_`` quantity (or callbacks are given)
    and ``hold_out`` is true, ``settings.validation_split`` of the rows are
    held out.  ``hold_out=False`` trains on every row (the ``refit_full`` run).
    ``first_epoch``: the epochs the network has already trained (a continued
    fit: ``warm_start`` or ``partial_fit``).  ``partial``: one epoch of a
    ``partial_fit`` (the learning-rate schedule still spans ``settings.epochs``).
    The training run's callbacks and routed ``fit__`` arguments come from
    ``settings``.
    """
    seed = seed_from(settings.random_state)
    if validation is not None:
        validation = Validation(*validation)
    stop = StopRule.from_settings(settings)
    if validation is None and hold_out and _wants_validation(settings):
        X, y, sample_weight, validation = _split(
            X, y, sample_weight, settings.validation_split, target, seed, estimator_name
        )
    class_weight = getattr(settings, "class_weight", None)  # a classifier's parameter
    if class_weight is not None:
        sample_weight, validation = _with_class_weight(
            class_weight, y, sample_weight, validation, target
        )
    batch_size = int(settings.batch_size)
    training = TrainingRun(
        epochs=1 if partial else int(settings.epochs),
        batch_size=batch_size,
        stop=stop,
        seed=seed,
        verbose=int(settings.verbose),
        fit_kwargs=routed_fit_kwargs(settings),
        first_epoch=int(first_epoch),
    )
    return FitPlan(
        X=X,
        y=y,
        sample_weight=sample_weight,
        validation=validation,
        target=target,
        seed=seed,
        user_model=settings.model is not None,
        training=training,
        continuous=continuous_columns(X) if settings.numeric_embedding else None,
        lr_schedule_steps=math.ceil(X.shape[0] / batch_size) * int(settings.epochs),
    )


def routed_fit_kwargs(settings):
    """The user's ``fit__<name>`` arguments for ``model.fit`` (they need the Keras path)."""
    return {
        k[len("fit__"):]: v
        for k, v in settings.routed.items()
        if k.startswith("fit__") and k != "fit__callbacks"
    }


def _wants_validation(settings):
    watches_val = settings.early_stopping and settings.monitor.startswith("val_")
    return watches_val or bool(settings.callbacks)


def _split(X, y, sample_weight, fraction, target, seed, name):
    """Hold out ``fraction`` of the rows: (X, y, w, Validation)."""
    n = X.shape[0]
    n_val = math.ceil(fraction * n)
    if n - n_val < 1 or n_val < 1:
        raise ValueError(
            f"{name} cannot hold out validation_split={fraction} of {n} samples for "
            "early stopping. Pass more data, or fit with early_stopping=False."
        )
    stratify = None
    if target.task in ("binary", "multiclass"):
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2 and n_val >= len(counts) and n - n_val >= len(counts):
            stratify = y
    arrays = [X, y] + ([sample_weight] if sample_weight is not None else [])
    parts = train_test_split(
        *arrays, test_size=n_val, random_state=seed, shuffle=True, stratify=stratify
    )
    X_fit, X_val, y_fit, y_val = parts[:4]
    w_fit, w_val = (parts[4], parts[5]) if sample_weight is not None else (None, None)
    return X_fit, y_fit, w_fit, Validation(X_val, y_val, w_val)


def _with_class_weight(class_weight, y, sample_weight, validation, target):
    """Multiply ``class_weight`` into the training and validation weights.

    The validation rows get the weight of their class in the *training* rows
    (``"balanced"`` is computed there), so the validation loss is the same
    objective as the training loss.
    """
    w_class = compute_sample_weight(class_weight, y)
    w = w_class if sample_weight is None else sample_weight * w_class
    if validation is None:
        return w.astype(np.float32), None
    if target.task == "multilabel":
        w_val_class = compute_sample_weight(class_weight, validation.y)
    else:
        classes, first = np.unique(y, return_index=True)
        per_class = dict(zip(classes.tolist(), w_class[first].tolist()))
        w_val_class = np.array([per_class.get(label, 1.0) for label in validation.y.tolist()])
    w_val = w_val_class if validation.sample_weight is None else validation.sample_weight * w_val_class
    return w.astype(np.float32), validation._replace(sample_weight=w_val.astype(np.float32))
