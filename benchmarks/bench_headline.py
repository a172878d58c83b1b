"""The headline accuracies of the core issue, printed (the tests assert the thresholds).

Run::

    python benchmarks/bench_headline.py

Measured (2 cores, default width (100,)): digits walkthrough 0.982, stopped at
epoch 25 of 200 (best 20), 85,002 parameters; breast_cancer default 5-fold 0.979;
diabetes default 3 x 5-fold R^2 0.455 +- 0.080; linnerud predictions (20, 3).
"""

from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_linnerud
from sklearn.model_selection import (
    RepeatedKFold,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skdense import DenseClassifier, DenseRegressor


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    pipe = Pipeline([("scale", MinMaxScaler()), ("denseclassifier", DenseClassifier((256, 256), random_state=0))])
    pipe.fit(X_train, y_train, denseclassifier__patience=5, denseclassifier__validation_split=0.2)
    clf = pipe[-1]
    print(f"digits walkthrough: accuracy {pipe.score(X_test, y_test):.3f}, stopped at epoch "
          f"{clf.n_iter_} of 200 (best {clf.best_epoch_}), {clf.model_.count_params():,} parameters")

    X, y = load_breast_cancer(return_X_y=True)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    s = cross_val_score(make_pipeline(StandardScaler(), DenseClassifier(random_state=0)), X, y, cv=cv)
    print(f"breast_cancer default, 5-fold accuracy: {s.mean():.3f} +- {s.std():.3f}")

    X, y = load_diabetes(return_X_y=True)
    cv = RepeatedKFold(n_splits=5, n_repeats=3, random_state=0)
    s = cross_val_score(make_pipeline(StandardScaler(), DenseRegressor(random_state=0)), X, y, cv=cv)
    print(f"diabetes default, 3 x 5-fold R^2: {s.mean():.3f} +- {s.std():.3f}")

    X, y = load_linnerud(return_X_y=True)
    reg = make_pipeline(StandardScaler(), DenseRegressor(epochs=20, early_stopping=False)).fit(X, y)
    print(f"linnerud predictions: {reg.predict(X).shape}")


if __name__ == "__main__":
    main()
