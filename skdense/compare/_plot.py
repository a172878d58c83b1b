"""One figure of a comparison: per dataset, scores (mean +- std) and fit times (log axis)."""

import numpy as np

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
    if path is None:
        return fig
    if hasattr(path, "write"):
        fig.savefig(path, dpi=110, format="png")
        return path
    import os

    fmt = os.path.splitext(os.fspath(path))[1][1:].lower() or "png"
    with atomic_open(path, "wb") as fh:  # a reader never sees half a PNG; links not followed
        fig.savefig(fh, dpi=110, format=fmt)
    return path
