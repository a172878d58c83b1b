"""Draw docs/training_curves.png, the figure on the "Early stopping" page.

Run once from the repository root after a change that alters the curves:
``python docs/training_curves.py``. The page's own example draws the same
curves into a temporary file.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdense import DenseClassifier, TrainingCurveDisplay

X, y = load_breast_cancer(return_X_y=True)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), sharey=True, layout="constrained")
for ax, refit_full in [(left, False), (right, True)]:
    clf = DenseClassifier((32,), learning_rate=0.01, epochs=60, patience=5,
                          refit_full=refit_full, random_state=0)
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    TrainingCurveDisplay.from_estimator(pipe, ax=ax)
    ax.set_title(f"refit_full={refit_full}")
fig.savefig(Path(__file__).with_name("training_curves.png"), dpi=90)
