"""TrainingCurveDisplay: the drawn lines are the fitted estimator's curves."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdense import DenseClassifier, DenseRegressor, TrainingCurveDisplay
from skdense.pipeline import AutoDense


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def scaled_cancer(breast_cancer):
    X_train, _, y_train, _ = breast_cancer
    return StandardScaler().fit_transform(X_train), y_train


@pytest.fixture(scope="module")
def stopped(scaled_cancer):
    """Early stopping, no refit."""
    X, y = scaled_cancer
    return DenseClassifier((8,), epochs=8, patience=2, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def refitted(scaled_cancer):
    X, y = scaled_cancer
    return DenseClassifier((8,), epochs=8, patience=2, refit_full=True, random_state=0).fit(X, y)


def _legend(display):
    return [t.get_text() for t in display.ax_.get_legend().get_texts()]


def test_lines_are_the_history(pyplot, stopped):
    display = TrainingCurveDisplay.from_estimator(stopped)
    n = stopped.n_iter_
    np.testing.assert_array_equal(display.loss_line_.get_xdata(), np.arange(1, n + 1))
    np.testing.assert_allclose(display.loss_line_.get_ydata(), stopped.history_["loss"])
    np.testing.assert_array_equal(display.val_loss_line_.get_xdata(), np.arange(1, n + 1))
    np.testing.assert_allclose(display.val_loss_line_.get_ydata(), stopped.history_["val_loss"])
    assert display.refit_line_ is None
    assert display.ax_.get_xlabel() == "epoch" and display.ax_.get_ylabel() == "loss"
    assert display.figure_ is display.ax_.figure


def test_the_kept_epoch_is_marked(pyplot, stopped):
    display = TrainingCurveDisplay.from_estimator(stopped)
    best = stopped.best_epoch_
    assert best is not None
    np.testing.assert_array_equal(display.best_epoch_line_.get_xdata(), [best, best])
    # the marker sits on the validation curve that early stopping watched
    assert list(display.best_epoch_marker_.get_xdata()) == [best]
    np.testing.assert_allclose(
        display.best_epoch_marker_.get_ydata(), [stopped.history_["val_loss"][best - 1]]
    )
    assert _legend(display) == ["training loss", "validation loss", f"kept epoch {best}"]


def test_refit_line_only_with_refit_full(pyplot, refitted):
    display = TrainingCurveDisplay.from_estimator(refitted)
    m = refitted.refit_epochs_
    np.testing.assert_array_equal(display.refit_line_.get_xdata(), np.arange(1, m + 1))
    np.testing.assert_allclose(display.refit_line_.get_ydata(), refitted.refit_history_["loss"])
    # the curves of the run that chose the epochs are still there
    np.testing.assert_allclose(display.loss_line_.get_ydata(), refitted.history_["loss"])
    assert "refit on all rows: training loss" in _legend(display)


def test_ax_is_reused_and_names_tell_estimators_apart(pyplot, stopped, refitted):
    fig, ax = pyplot.subplots()
    first = TrainingCurveDisplay.from_estimator(stopped, ax=ax, name="stopped")
    second = TrainingCurveDisplay.from_estimator(refitted, ax=ax, name="refit")
    assert first.ax_ is ax and second.ax_ is ax and second.figure_ is fig
    assert len(pyplot.get_fignums()) == 1
    legend = _legend(second)
    assert "stopped: training loss" in legend and "refit: refit on all rows: training loss" in legend


def test_a_pipeline_without_early_stopping(pyplot, scaled_cancer):
    """A history without val_loss or best epoch: only the training curve is drawn."""
    X, y = scaled_cancer
    pipe = make_pipeline(
        StandardScaler(), DenseRegressor((8,), epochs=3, early_stopping=False, random_state=0)
    ).fit(X, y.astype(float))
    display = TrainingCurveDisplay.from_estimator(pipe)
    np.testing.assert_allclose(display.loss_line_.get_ydata(), pipe[-1].history_["loss"])
    assert display.val_loss_line_ is None and display.refit_line_ is None
    assert display.best_epoch_line_ is None and display.best_epoch_marker_ is None
    assert _legend(display) == ["training loss"]


def test_autodense_and_a_search_best_estimator(pyplot, scaled_cancer):
    X, y = scaled_cancer
    auto = AutoDense(hidden_layer_sizes=(8,), epochs=2, early_stopping=False, random_state=0)
    display = TrainingCurveDisplay.from_estimator(auto.fit(X, y))
    np.testing.assert_allclose(display.loss_line_.get_ydata(), auto.estimator_.history_["loss"])
    search = GridSearchCV(
        DenseClassifier((8,), epochs=2, early_stopping=False, random_state=0),
        {"learning_rate": [0.01]}, cv=2,
    ).fit(X, y)
    display = TrainingCurveDisplay.from_estimator(search.best_estimator_)
    np.testing.assert_allclose(
        display.loss_line_.get_ydata(), search.best_estimator_.history_["loss"]
    )
    with pytest.raises(TypeError, match="For a search .*pass its best_estimator_"):
        TrainingCurveDisplay.from_estimator(search)


def test_unfitted_estimators_are_refused(pyplot):
    with pytest.raises(NotFittedError, match="DenseClassifier instance is not fitted yet"):
        TrainingCurveDisplay.from_estimator(DenseClassifier())
    with pytest.raises(NotFittedError, match="DenseRegressor instance is not fitted yet"):
        TrainingCurveDisplay.from_estimator(make_pipeline(StandardScaler(), DenseRegressor()))
    with pytest.raises(NotFittedError, match="AutoDense instance is not fitted yet"):
        TrainingCurveDisplay.from_estimator(AutoDense())


def test_other_estimators_are_refused(pyplot):
    with pytest.raises(TypeError, match="needs a fitted DenseClassifier or DenseRegressor.*got LogisticRegression"):
        TrainingCurveDisplay.from_estimator(LogisticRegression())
    with pytest.raises(TypeError, match="got a Pipeline whose last step is LogisticRegression"):
        TrainingCurveDisplay.from_estimator(make_pipeline(StandardScaler(), LogisticRegression()))


def test_from_raw_numbers(pyplot):
    display = TrainingCurveDisplay(
        loss=[1.0, 0.6, 0.5, 0.45], val_loss=[1.1, 0.7, 0.8, 0.9], best_epoch=2,
        refit_loss=[0.9, 0.55],
    )
    assert display.plot() is display
    np.testing.assert_allclose(display.best_epoch_marker_.get_ydata(), [0.7])
    np.testing.assert_array_equal(display.refit_line_.get_xdata(), [1, 2])
    # without a validation curve the marker sits on the training curve
    display = TrainingCurveDisplay(loss=[1.0, 0.6, 0.5], best_epoch=3).plot()
    np.testing.assert_allclose(display.best_epoch_marker_.get_ydata(), [0.5])
    # restore_best_weights=False: the best epoch is not the one whose weights were kept
    display = TrainingCurveDisplay(
        loss=[1.0, 0.6, 0.5], best_epoch=2, restore_best_weights=False
    ).plot()
    assert _legend(display)[-1] == "best epoch 2 (the last epoch's weights were kept)"


def test_a_diverged_last_epoch_is_drawn_as_a_gap(pyplot):
    """fit keeps a last non-finite epoch in history_ (n_iter_ counts it)."""
    display = TrainingCurveDisplay(loss=[1.0, 0.5, np.nan], best_epoch=2).plot()
    assert len(display.loss_line_.get_xdata()) == 3
    assert np.all(np.isfinite(display.ax_.get_ylim()))


def test_plot_keyword_arguments_reach_the_lines(pyplot):
    display = TrainingCurveDisplay(loss=[1.0, 0.5], val_loss=[1.2, 0.9], best_epoch=2).plot(
        loss_kw={"color": "black"}, val_loss_kw={"linewidth": 4}, best_epoch_kw={"marker": "*"}
    )
    assert display.loss_line_.get_color() == "black"
    assert display.val_loss_line_.get_linewidth() == 4
    assert display.best_epoch_marker_.get_marker() == "*"


def test_importing_the_module_does_not_import_matplotlib():
    code = (
        "import sys, skdense; from skdense import TrainingCurveDisplay; "
        "assert 'matplotlib' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_docstring_example_runs(pyplot):
    import doctest

    import skdense.plotting

    result = doctest.testmod(skdense.plotting, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 5 and result.failed == 0


@pytest.mark.slow
def test_the_early_stopping_page_example_runs(pyplot, tmp_path, monkeypatch):
    """The page's example saves its figures in a temporary folder, not in the repository."""
    import re
    import tempfile
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "early-stopping.md").read_text()
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", page, flags=re.S)
               if "TrainingCurveDisplay" in b]
    monkeypatch.setattr(tempfile, "mkdtemp", lambda: str(tmp_path))
    exec(compile(code, "docs/early-stopping.md", "exec"), {"__name__": "__docs__"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["early_stopping.png", "refit_full.png"]
