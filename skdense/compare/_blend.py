"""Should I ship both? The best DL and the best ML model of a dataset, averaged.

From the outer-test predictions (``_predictions``) of the two models that the
verdict compares, on the same outer folds:

* how often they disagree (classification: the share of test rows whose
  predicted labels differ; regression has no labels to disagree on, so the
  correlation of the two models' predictions is reported instead);
* how alike their errors are: the Pearson correlation, over all outer test
  rows, of ``1 - p(true class)`` (classification) or of the residuals
  ``y - prediction`` (regression; every output of a multi-output target pooled).
  Two models that err on the same rows gain little by averaging;
* the score (accuracy or R^2) of their average, the mean of their predicted
  probabilities (the label with the highest mean probability) or of their
  predicted values, on each outer test fold, and its mean beside the two models'.

The blend is scored on the folds that chose its two members, so its gain is a
little optimistic, like the choice of the best model itself.
"""

import numpy as np
import pandas as pd

COLUMNS = ["dataset", "metric", "best_dl", "best_ml", "n_folds", "disagreement",
           "prediction_corr", "error_corr", "dl_score", "ml_score", "blend_score", "gain",
           "note"]
FOLD_COLUMNS = ["dataset", "metric", "fold", "dl_score", "ml_score", "blend_score"]


def _corr(a, b):
    """Pearson correlation of two flat arrays; NaN (no warning) when either is constant."""
    a, b = np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _aligned_proba(p, classes):
    """``p``'s probabilities as columns in the order of ``classes`` (0 for a class it lacks)."""
    out = np.zeros((len(p["rows"]), len(classes)))
    where = {c: i for i, c in enumerate(p["classes"].tolist())}
    for j, c in enumerate(classes):
        if c in where:
            out[:, j] = p["proba"][:, where[c]]
    return out


def _fold(task, dl, ml):
    """The per-fold pieces: scores, and the arrays pooled over folds for the correlations."""
    from sklearn.metrics import r2_score

    y_true = dl["y_true"]
    if task == "classification":
        out = {"dl": float(np.mean(dl["y_pred"] == y_true)),
               "ml": float(np.mean(ml["y_pred"] == y_true)),
               "disagree": dl["y_pred"] != ml["y_pred"], "blend": float("nan"),
               "dl_err": None, "ml_err": None}
        if "proba" in dl and "proba" in ml:
            classes = list(dict.fromkeys([*dl["classes"].tolist(), *ml["classes"].tolist()]))
            p_dl, p_ml = _aligned_proba(dl, classes), _aligned_proba(ml, classes)
            mean = (p_dl + p_ml) / 2
            labels = np.asarray(classes)[np.argmax(mean, axis=1)]
            out["blend"] = float(np.mean(labels == y_true))
            index = {c: i for i, c in enumerate(classes)}
            true = np.array([index.get(v, -1) for v in y_true.tolist()])
            rows = np.arange(len(true))

            def p_true(p):
                return np.where(true >= 0, p[rows, np.maximum(true, 0)], 0.0)

            out["dl_err"], out["ml_err"] = 1 - p_true(p_dl), 1 - p_true(p_ml)
        return out
    mean = (dl["y_pred"] + ml["y_pred"]) / 2
    return {"dl": float(r2_score(y_true, dl["y_pred"], multioutput="uniform_average")),
            "ml": float(r2_score(y_true, ml["y_pred"], multioutput="uniform_average")),
            "blend": float(r2_score(y_true, mean, multioutput="uniform_average")),
            "dl_pred": dl["y_pred"], "ml_pred": ml["y_pred"],
            "dl_err": y_true - dl["y_pred"], "ml_err": y_true - ml["y_pred"]}


def _note(row):
    if row["n_folds"] == 0:
        return "no pair of models with predictions on the same folds: no blend."
    dl, ml, metric = row["best_dl"], row["best_ml"], row["metric"]
    if np.isnan(row["blend_score"]):
        return (f"{dl} or {ml} gives no probabilities, so they cannot be averaged; "
                f"they disagree on {row['disagreement']:.1%} of the test rows.")
    alike = ("disagree on" f" {row['disagreement']:.1%} of the test rows"
             if np.isfinite(row["disagreement"])
             else f"predict with correlation {row['prediction_corr']:.2f}")
    err = (f", their errors correlate {row['error_corr']:.2f}"
           if np.isfinite(row["error_corr"]) else "")
    return (f"averaging {dl} and {ml} scores {row['blend_score']:.3f} {metric}, "
            f"{row['gain']:+.3f} over the better of the two; they {alike}{err}.")


def blend_tables(pairs, predictions):
    """``(summary, per fold)`` DataFrames of the blend of each dataset's pair.

    ``pairs``: dicts with ``dataset, task, metric, best_dl, best_ml, folds`` (the
    outer folds both models completed). ``predictions``: ``{(dataset, model, fold):
    arrays}``. A fold enters when both models have predictions for it.
    """
    rows, fold_rows = [], []
    for p in pairs:
        row = dict.fromkeys(COLUMNS, np.nan)
        row.update(dataset=p["dataset"], metric=p["metric"], best_dl=p["best_dl"],
                   best_ml=p["best_ml"], n_folds=0)
        parts = []
        if p["best_dl"] is not None and p["best_ml"] is not None:
            for fold in p["folds"]:
                dl = predictions.get((p["dataset"], p["best_dl"], fold))
                ml = predictions.get((p["dataset"], p["best_ml"], fold))
                if dl is not None and ml is not None:
                    part = _fold(p["task"], dl, ml)
                    parts.append(part)
                    fold_rows.append({"dataset": p["dataset"], "metric": p["metric"],
                                      "fold": fold, "dl_score": part["dl"],
                                      "ml_score": part["ml"], "blend_score": part["blend"]})
        if parts:
            row["n_folds"] = len(parts)
            row["dl_score"] = float(np.mean([x["dl"] for x in parts]))
            row["ml_score"] = float(np.mean([x["ml"] for x in parts]))
            row["blend_score"] = float(np.mean([x["blend"] for x in parts]))
            row["gain"] = row["blend_score"] - max(row["dl_score"], row["ml_score"])
            if p["task"] == "classification":
                row["disagreement"] = float(np.mean(np.concatenate([x["disagree"]
                                                                    for x in parts])))
            else:
                row["prediction_corr"] = _corr(np.concatenate([np.ravel(x["dl_pred"]) for x in parts]),
                                               np.concatenate([np.ravel(x["ml_pred"]) for x in parts]))
            if all(x["dl_err"] is not None for x in parts):
                row["error_corr"] = _corr(np.concatenate([np.ravel(x["dl_err"]) for x in parts]),
                                          np.concatenate([np.ravel(x["ml_err"]) for x in parts]))
        row["note"] = _note(row)
        rows.append(row)
    return (pd.DataFrame(rows, columns=COLUMNS),
            pd.DataFrame(fold_rows, columns=FOLD_COLUMNS))
