"""What one training run is asked to do, and what it produced."""

from dataclasses import dataclass, field
from typing import NamedTuple

from .stop_rule import StopRule


class Validation(NamedTuple):
    """Rows early stopping (and ``val_loss``) is measured on, already encoded."""

    x: object
    y: object
    sample_weight: object = None


@dataclass(frozen=True)
class TrainingRun:
    """How to train: epochs, minibatches, shuffling, stopping, callbacks.

    ``stop`` is a :class:`StopRule` or None (no early stopping); ``callbacks``
    are user Keras callbacks and ``fit_kwargs`` extra ``model.fit`` arguments
    routed by the user (``fit__...``): either makes Keras's ``model.fit`` train.
    ``first_epoch`` (0-based) is where a continued run (``warm_start``,
    ``partial_fit``) picks up: it runs epochs ``first_epoch + 1`` to
    ``first_epoch + epochs``, shuffled as those epochs of one long run would be.
    """

    epochs: int
    batch_size: int
    stop: StopRule | None
    seed: int | None = None
    shuffle: bool = True
    verbose: int = 0
    callbacks: tuple = ()
    fit_kwargs: dict = field(default_factory=dict)
    first_epoch: int = 0


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced."""

    history: dict  # name -> list of per-epoch floats
    n_epochs: int  # epochs run by this call (a diverged epoch included)
    best_epoch: int | None  # 1-based epoch of the best monitored value, if stopping ran
    engine: str  # which path trained: "engine" or "keras"
    diverged_epoch: int | None = None  # 1-based epoch whose loss was not finite
    kept_epoch: int | None = None  # 1-based epoch whose weights were kept after divergence
    # Epoch numbers count from the start of the first run (TrainingRun.first_epoch).
