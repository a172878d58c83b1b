"""The figures of a comparison, drawn with matplotlib's Agg backend and written atomically.

``plot_result`` (``compare.png``): per dataset, scores (mean +- std) and fit
times (log axis). ``plot_cost_frontier`` (``cost_frontier.png``): score against
each cost, the Pareto front marked. ``plot_learning_curve``
(``learning_curve.png``): the best DL and ML model's score against the number of
training rows.
"""

import os
import textwrap

import numpy as np

from ._costs import pareto_front
from ._fs import atomic_open

COLORS = {"DL": "#d62728", "ML": "#1f77b4"}


def plot_result(result, path=None):
    """Draw ``result`` with matplotlib's Agg backend; save a PNG to ``path`` if given.

    One row per dataset: left, the primary metric (accuracy or R^2) of each model as
    mean +- standard deviation over the outer folds (DL models red, ML blue, best
    marked with a star); right, the mean fit time (inner search + refit) on a log
    axis. Returns the path, or the Figure when ``path`` is None. The file is
    written atomically (a temporary file renamed over ``path``).
    """
    # A bare Figure renders with Agg and never touches pyplot's global state or
    # the user's interactive backend.
    from matplotlib.figure import Figure
    from matplotlib.ticker import LogLocator, NullFormatter

    summary = result.summary()
    datasets = list(dict.fromkeys(summary["dataset"]))
    n_models = summary.groupby("dataset").size().max()
    height = max(2.0, 0.35 * n_models + 1.0)
    fig = Figure(figsize=(11, height * len(datasets) + 0.6), layout="constrained")
    axes = fig.subplots(len(datasets), 2, squeeze=False, gridspec_kw={"width_ratios": [3, 2]})
    times = summary["fit_seconds"].dropna()
    t_lo, t_hi = (times.min() / 2, times.max() * 4) if len(times) else (0.01, 10)
    sig_all = result.significance()
    for row, dataset in enumerate(datasets):
        s = summary[summary["dataset"] == dataset].reset_index(drop=True)
        metric = result.primary_metric(dataset)
        y = np.arange(len(s))[::-1]
        ax, ax_t = axes[row]
        best = s["rank"].idxmin() if s["rank"].notna().any() else None
        for i, r in s.iterrows():
            color = COLORS.get(r["family"], "gray")
            mean, std = r[f"{metric}_mean"], r[f"{metric}_std"]
            if np.isnan(mean):
                continue
            ax.errorbar(mean, y[i], xerr=0 if np.isnan(std) else std, fmt="*" if i == best else "o",
                        color=color, ms=11 if i == best else 6, capsize=4)
            ax.annotate(f"{mean:.3f}", (mean, y[i]), xytext=(0, 7), textcoords="offset points",
                        ha="center", fontsize=8)
            if not np.isnan(r["fit_seconds"]):
                ax_t.barh(y[i], r["fit_seconds"], color=color, alpha=0.8)
                ax_t.annotate(f"{r['fit_seconds']:.2g}s", (r["fit_seconds"], y[i]),
                              xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        labels = [f"{m} ({f})" for m, f in zip(s["model"], s["family"])]
        for a in (ax, ax_t):
            a.set_yticks(y, labels)
            a.set_ylim(-0.7, len(s) - 0.3)
            a.grid(axis="x", alpha=0.3)
        ax_t.set_yticklabels([])
        ax_t.set_xscale("log")
        ax_t.set_xlim(t_lo, t_hi)  # the same axis for every dataset: times compare across rows
        ax_t.xaxis.set_major_locator(LogLocator(base=10))
        ax_t.xaxis.set_minor_formatter(NullFormatter())
        sig = sig_all[sig_all["dataset"] == dataset]
        title = f"{dataset}: {metric}, {int(s['n_folds'].max())} folds"
        if len(sig) and not np.isnan(sig["p_value"].iloc[0]):
            title += f";  best DL vs best ML: p = {sig['p_value'].iloc[0]:.2g}"
        ax.set_title(title, fontsize=10, loc="left")
        ax_t.set_title("fit seconds / fold (search + refit)", fontsize=10, loc="left")
        if row == len(datasets) - 1:
            ax.set_xlabel(f"{metric} (higher is better)")
            ax_t.set_xlabel("seconds (log scale)")
    fig.suptitle("skdense compare: nested cross-validation (red: DL, blue: ML; ★ best)", fontsize=11)
    return _save(fig, path)


def _log_x(ax, low=None, high=None):
    """A log x axis whose ticks read as plain numbers: 1, 2, 5 per decade over up to
    two decades (``low`` to ``high``, the data's range), 1 per decade over more."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    wide = low is not None and high is not None and low > 0 and high / low > 100
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0,) if wide else (1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _save(fig, path):
    """The Figure when ``path`` is None; else ``fig`` saved there (atomically) and ``path``."""
    if path is None:
        return fig
    if hasattr(path, "write"):
        fig.savefig(path, dpi=110, format="png")
        return path
    fmt = os.path.splitext(os.fspath(path))[1][1:].lower() or "png"
    with atomic_open(path, "wb") as fh:  # a reader never sees half a PNG; links not followed
        fig.savefig(fh, dpi=110, format=fmt)
    return path


COSTS_PLOTTED = (
    ("fit_seconds", "fit s / fold (search + refit)"),
    ("latency_row_ms", "predict ms / row"),
    ("size_bytes", "size on disk, kB"),
    ("peak_memory_mb", "peak memory of the refit, MiB"),
)
"""The costs of the cost frontier, in column order: (summary column, axis label)."""


def plot_cost_frontier(result, path=None):
    """Score against each cost, per dataset; the models on the Pareto front marked.

    One row of panels per dataset (scores of different datasets and metrics do
    not average), one column per cost (``COSTS_PLOTTED``: the mean fit time per
    fold, the median latency per row, size and peak memory of the refitted
    model), on log x axes. A model is on the front (filled, joined by the
    dashed line) when no other model of the dataset has a score at least as
    good and a cost at most as high, one of them strictly
    (:func:`~skdense.compare._costs.pareto_front`); the others are hollow.
    Returns the path, or the Figure when ``path`` is None.
    """
    from matplotlib.figure import Figure

    summary = result.summary()
    datasets = list(dict.fromkeys(summary["dataset"]))
    fig = Figure(figsize=(15, 2.8 * len(datasets) + 0.8), layout="constrained")
    axes = fig.subplots(len(datasets), len(COSTS_PLOTTED), squeeze=False)
    for row, dataset in enumerate(datasets):
        s = summary[summary["dataset"] == dataset].reset_index(drop=True)
        metric = result.primary_metric(dataset)
        scores = s[f"{metric}_mean"].to_numpy(dtype=float)
        for col, (cost, label) in enumerate(COSTS_PLOTTED):
            ax = axes[row, col]
            costs = s[cost].to_numpy(dtype=float) / (1000 if cost == "size_bytes" else 1)
            front = pareto_front(scores, costs)  # a cost of 0 (too small to see) is the cheapest
            positive = costs[costs > 0]
            floor = positive.min() / 2 if len(positive) else 1e-3
            costs = np.where(costs > 0, costs, floor)  # drawn at the left, as a log axis has no 0
            for i, r in s.iterrows():
                if np.isnan(costs[i]) or np.isnan(scores[i]):
                    continue
                color = COLORS.get(r["family"], "gray")
                ax.scatter(costs[i], scores[i], s=45, color=color if front[i] else "white",
                           edgecolors=color, linewidths=1.5, zorder=3)
                ax.annotate(r["model"], (costs[i], scores[i]), xytext=(4, 3),
                            textcoords="offset points", fontsize=7)
            on = np.flatnonzero(front)
            if len(on) > 1:
                order = on[np.argsort(costs[on])]
                ax.step(costs[order], scores[order], where="post", color="black", alpha=0.4,
                        linestyle="--", zorder=2)
            shown = costs[~np.isnan(costs)]
            _log_x(ax, *((shown.min(), shown.max()) if len(shown) else (None, None)))
            ax.grid(alpha=0.3)
            if col == 0:
                ax.set_ylabel(f"{dataset}\n{metric}", fontsize=9)
            if row == len(datasets) - 1:
                ax.set_xlabel(f"{label} (log)", fontsize=9)
            if row == 0:
                ax.set_title(label, fontsize=10)
    fig.suptitle("skdense compare: score against cost per dataset (red: DL, blue: ML; filled "
                 "and dashed: the Pareto front, no model better on both)", fontsize=11)
    return _save(fig, path)


def plot_learning_curve(result, path=None):
    """The best DL and ML model's score against training rows, one panel per dataset.

    Each curve is the mean score over the outer folds at each fraction of the
    training rows (x: the mean number of rows, log axis), with a band of ± one
    standard deviation; a dotted line marks where the curves cross, if they do
    (:func:`~skdense.compare._learning_curve.crossings`). Returns the path, or
    the Figure when ``path`` is None.
    """
    from matplotlib.figure import Figure

    from ._learning_curve import crossing_rows, crossings, means

    curve = result.learning_curve
    m = means(curve)
    notes, crossing = crossings(curve), crossing_rows(curve)
    datasets = list(dict.fromkeys(m["dataset"]))
    n_cols = min(3, max(1, len(datasets)))
    n_rows = -(-len(datasets) // n_cols)
    fig = Figure(figsize=(5 * n_cols, 3.6 * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for k, dataset in enumerate(datasets):
        ax = axes[k // n_cols, k % n_cols]
        g = m[m["dataset"] == dataset]
        for (family, model), c in g.groupby(["family", "model"], sort=False):
            c = c.sort_values("n_train")
            color = COLORS.get(family, "gray")
            std = c["std"].fillna(0).to_numpy()
            ax.plot(c["n_train"], c["mean"], "o-", color=color, label=f"{model} ({family})")
            ax.fill_between(c["n_train"], c["mean"] - std, c["mean"] + std, color=color,
                            alpha=0.15)
        note = notes.get(dataset, "")
        for x in crossing.get(dataset, ()):
            ax.axvline(x, color="black", linestyle=":", alpha=0.6)
        _log_x(ax)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title(f"{dataset}\n" + textwrap.fill(note.split(": ", 1)[-1], 60), fontsize=9,
                     loc="left")
        ax.set_xlabel("training rows (log)", fontsize=9)
        metric = curve.loc[curve["dataset"] == dataset, "metric"].iloc[0]
        ax.set_ylabel(f"{metric} on the outer test rows", fontsize=9)
    for k in range(len(datasets), n_rows * n_cols):
        axes[k // n_cols, k % n_cols].set_visible(False)
    fig.suptitle("skdense compare: learning curves of the best DL and ML model (mean ± std over "
                 "outer folds)", fontsize=11)
    return _save(fig, path)
