"""The metrics of each task, shared by the runner (scoring) and the results (ranking)."""

METRICS = {
    "classification": ("accuracy", "log_loss"),
    "regression": ("r2", "rmse"),
}
"""Metrics per task; the first one (accuracy, R^2) also selects hyper-parameters."""

HIGHER_IS_BETTER = {"accuracy": True, "log_loss": False, "r2": True, "rmse": False}
"""Whether a larger value of each metric is better (for ranks and "best" models)."""
