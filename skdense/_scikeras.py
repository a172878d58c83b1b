"""The only module that touches scikeras.

The public estimators compose one of the classes below inside ``fit``: scikeras
gives the parameter routing (``model__``, ``optimizer__``, ``loss__``,
``fit__``, ``callbacks__``...), the model building and compiling, class_weight
handling and model pickling; skdense overrides what scikeras 0.13 gets wrong or
slow under scikit-learn 1.9: target encoding, seeding (scikeras leaves TF op
determinism on), the training loop (our engine in :mod:`skdense._training`)
and the forward pass.

Importing this module imports TensorFlow; only ``fit`` (and unpickling a fitted
estimator) does that.
"""

import contextlib
import random
from collections import defaultdict

from ._backend import load_tf

load_tf()

import numpy as np  # noqa: E402
from scikeras.wrappers import KerasClassifier, KerasRegressor  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from . import _layers  # noqa: E402,F401  (registers skdense's layers before any model loads)
from . import _training  # noqa: E402
from ._model import is_sparse_loss  # noqa: E402
from ._targets import ClassifierTargetEncoder, RegressorTargetEncoder  # noqa: E402


@contextlib.contextmanager
def seeded_globals(seed):
    """Seed Python's and NumPy's global generators while a user's model is built.

    Used only for a user-supplied ``model=``, whose initialisers we cannot seed
    one by one.  Keras 3 draws the seed of every unseeded initializer, Dropout
    and SeedGenerator from Python's ``random`` (``make_default_seed``), so that
    is enough; both states are restored afterwards.  TensorFlow's global seed
    is not touched: ``tf.random.set_seed`` would also discard every compiled
    function (the engine's cache), and scikeras's op determinism breaks later
    unseeded fits.
    """
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


class _SkdenseTraining:
    """Overrides shared by the classifier and the regressor.

    The skdense estimator sets ``_skdense_plan`` before ``fit``: a dict with
    ``stop`` (StopRule or None), ``validation`` ((X, y[, w]) raw, or None),
    ``seed`` and ``user_model`` (bool).
    """

    _skdense_plan = None
    _skdense_result = None

    def _build_keras_model(self):
        plan = self._skdense_plan or {}
        if plan.get("user_model"):
            with seeded_globals(plan.get("seed")):
                return super()._build_keras_model()
        return super()._build_keras_model()

    def _ensure_compiled_model(self):
        super()._ensure_compiled_model()
        encoder = self.target_encoder_
        # A user's model compiled with a sparse categorical loss takes class indices.
        if getattr(encoder, "one_hot", False) and is_sparse_loss(self.model_.loss):
            encoder.one_hot = False
        self._check_output_width()

    def _check_output_width(self):
        """A user's model must output one value per target column (Keras's own error
        names tensor shapes, not what to change)."""
        outputs = getattr(self.model_, "outputs", None)
        if not outputs or len(outputs) != 1 or is_sparse_loss(self.model_.loss):
            return
        width, needed = outputs[0].shape[-1], self.skdense_units_
        if width is not None and width != needed:
            task = self.skdense_task_
            what = {
                "binary": "1 (the probability of the second class)",
                "multiclass": f"{needed} (one per class, one-hot targets)",
                "multilabel": f"{needed} (one per label)",
                "regression": f"{needed} (one per target column)",
            }[task]
            raise ValueError(
                f"The Keras model outputs {width} value(s) per row, but this target needs "
                f"{needed}: {task} needs {what}. Change the model's last layer, or compile "
                "it with a sparse categorical loss to train on class indices."
            )

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        plan = self._skdense_plan or {}
        params = self.get_params()
        fit_kwargs = {
            k[len("fit__") :]: v
            for k, v in params.items()
            if k.startswith("fit__") and k != "fit__callbacks"
        }
        fit_kwargs.update(kwargs)
        validation = plan.get("validation")
        if validation is not None:
            x_val, y_val, *w_val = validation
            validation = (
                self.feature_encoder_.transform(x_val),
                self.target_encoder_.transform(y_val),
                *w_val,
            )
        result = _training.fit_model(
            self.model_,
            X,
            y,
            sample_weight=sample_weight,
            validation_data=validation,
            epochs=epochs,
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            seed=plan.get("seed"),
            stop=plan.get("stop"),
            callbacks=list(self._fit_callbacks),
            verbose=self.verbose,
            fit_kwargs=fit_kwargs,
        )
        self.history_ = defaultdict(list, {k: list(v) for k, v in result.history.items()})
        self._skdense_result = result

    def _predict_raw(self, X, **kwargs):
        if not self.initialized_:
            raise NotFittedError("Estimator needs to be fit before `predict` can be called")
        routed = {k: v for k, v in self.get_params().items() if k.startswith("predict__")}
        if kwargs or routed or self._predict_callbacks:
            return super()._predict_raw(X, **kwargs)
        X, _ = self._validate_data(X=X, y=None)
        return _training.predict(self.model_, self.feature_encoder_.transform(X))


class SkdenseKerasClassifier(_SkdenseTraining, KerasClassifier):
    """scikeras's KerasClassifier with skdense's target encoding, seeding and engine."""

    _skdense_target = ("multiclass", None)

    @property
    def target_encoder(self):
        task, classes = self._skdense_target
        return ClassifierTargetEncoder(
            task=task, classes=classes, one_hot=not is_sparse_loss(self.loss)
        )


class SkdenseKerasRegressor(_SkdenseTraining, KerasRegressor):
    """scikeras's KerasRegressor with skdense's target encoding, seeding and engine."""

    _skdense_target = True  # standardize the target

    @property
    def target_encoder(self):
        return RegressorTargetEncoder(standardize=self._skdense_target)


def make_keras_estimator(kind, *, plan, target=None, **params):
    """Create the scikeras estimator that trains one skdense fit."""
    cls = SkdenseKerasClassifier if kind == "classifier" else SkdenseKerasRegressor
    est = cls(**params)
    est._skdense_plan = plan
    if target is not None:
        est._skdense_target = target
    return est


def forget_plan(est):
    """Drop the per-fit plan (validation arrays, callbacks) so pickles stay small."""
    est._skdense_plan = None
    return est
