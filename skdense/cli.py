"""The ``skdense`` command line: argument parsing and printing only.

``skdense compare`` runs :func:`skdense.compare.compare` and prints its tables;
everything it measures lives in ``skdense.compare``. ``main(argv)`` returns the
exit status: 0 on success, 2 (with a one-line message) on bad arguments or data.
"""

import argparse
import os
import sys
import time

from .compare import (
    DATASETS,
    METRICS,
    MODEL_NAMES,
    TASKS,
    check_target,
    compare,
    infer_task,
    load_csv,
)

# What ``skdense`` with no subcommand does: print help (None), or run these
# arguments, e.g. ["compare", "--quick"]. One line to change.
DEFAULT_COMMAND = None


class UsageError(Exception):
    """A bad argument or input: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage dump
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _names(values):
    """``--models a,b c`` -> ["a", "b", "c"]."""
    out = []
    for v in values or ():
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def build_parser():
    parser = _Parser(
        prog="skdense",
        description="skdense: scikit-learn estimators for Keras dense networks.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    p = sub.add_parser(
        "compare",
        help="classical ML vs dense networks by nested cross-validation",
        description=(
            "Compare linear models, random forests, gradient boosting, sklearn's MLP and "
            "skdense's Dense nets by nested cross-validation (inner grid search on the "
            "outer training folds, the same outer folds for every model), on built-in "
            "datasets or your CSV. Prints mean ± std per model, ranks, and a corrected "
            "resampled t-test (Nadeau & Bengio 2003) of the best DL vs the best ML model."
        ),
        epilog=(
            f"datasets: {', '.join(DATASETS)}.  models: {', '.join(MODEL_NAMES)}.  "
            "Examples: 'skdense compare --quick'; "
            "'skdense compare --csv data.csv --target price --output out/'."
        ),
    )
    data = p.add_argument_group("data")
    data.add_argument("--csv", metavar="FILE", help="your table (CSV with a header row)")
    data.add_argument("--target", metavar="COLUMN", help="the column of --csv to predict")
    data.add_argument(
        "--task", choices=TASKS,
        help="task of --csv (default: inferred from the target, and printed)",
    )
    data.add_argument(
        "--datasets", nargs="+", metavar="NAME",
        help="built-in datasets (default: all, or none with --csv)",
    )
    run = p.add_argument_group("run")
    run.add_argument("--models", nargs="+", metavar="NAME", help="models (default: all)")
    run.add_argument("--cv", type=int, default=None, help="outer folds (default 5; 3 with --quick)")
    run.add_argument("--repeats", type=int, default=1, help="repeat the outer CV (default 1)")
    run.add_argument("--search", choices=["grid", "random"], default="grid",
                     help="inner search (default grid)")
    run.add_argument("--quick", action="store_true",
                     help="small grids, 3 folds, fewer epochs/trees: a first look in minutes")
    run.add_argument("--n-jobs", type=int, default=None,
                     help="parallel jobs (-1: all cores; default 1)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="run on a Dask cluster, e.g. tcp://scheduler:8786")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--time-budget", type=float, metavar="SECONDS",
                     help="start no new job after this many seconds (skipped jobs are marked)")
    run.add_argument("--output", metavar="DIR", help="write results.csv, results.json, compare.png")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _fmt(mean, std, digits=3):
    import math

    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    if abs(mean) >= 10:  # e.g. RMSE in target units: 3 significant digits are plenty
        digits = 1 if abs(mean) < 1000 else 0
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f}±{std:.{digits}f}"


def _p(p):
    import math

    if p is None or math.isnan(p):
        return "-"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def print_tables(result, console):
    """The summary, the significance tests and the average ranks, as rich tables.

    Laid out to fit an 80-column terminal: datasets are section rows, the
    family is DL/ML, and the p-value of the best-DL-vs-best-ML test sits on
    the two rows it compares.
    """
    from rich import box
    from rich.table import Table

    summary = result.summary()
    tasks = result.info["tasks"]
    arrows = {"accuracy": "↑", "r2": "↑", "log_loss": "↓", "rmse": "↓"}
    for task in TASKS:
        names = [d for d, t in tasks.items() if t == task]
        if not names:
            continue
        m1, m2 = METRICS[task]
        part = summary[summary["task"] == task]
        dl = ", ".join(dict.fromkeys(part.loc[part["family"] == "DL", "model"])) or "none"
        table = Table(
            title=f"{task}: mean ± std over outer folds; bold = best; DL = {dl}",
            title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
        )
        table.add_column("model", no_wrap=True)
        for col in (f"{m1} {arrows[m1]}", f"{m2} {arrows[m2]}", "fit s", "rank", "p"):
            table.add_column(col, justify="right", no_wrap=True)
        for i, name in enumerate(names):
            s = summary[summary["dataset"] == name]
            table.add_row(f"[bold underline]{name}[/]")
            for j, r in enumerate(s.itertuples()):
                table.add_row(
                    r.model,
                    _fmt(getattr(r, f"{m1}_mean"), getattr(r, f"{m1}_std")),
                    _fmt(getattr(r, f"{m2}_mean"), getattr(r, f"{m2}_std")),
                    f"{r.fit_seconds:.2f}" if r.fit_seconds == r.fit_seconds else "-",
                    f"{r.rank:g}" if r.rank == r.rank else "-",
                    _p(r.p_value) if r.vs else "",
                    style="bold" if r.rank == s["rank"].min() else None,
                )
        console.print(table)
    sig = result.significance()
    table = Table(
        title="best DL vs best ML: corrected resampled t-test (Nadeau & Bengio 2003)",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
    )
    for col, justify in (("dataset", "left"), ("metric", "left"), ("best DL", "left"),
                         ("score", "right"), ("best ML", "left"), ("score", "right"),
                         ("p-value", "right")):
        table.add_column(col, justify=justify)
    for r in sig.itertuples():
        table.add_row(
            r.dataset, r.metric, r.best_dl or "-", _fmt(r.dl_score, None),
            r.best_ml or "-", _fmt(r.ml_score, None), _p(r.p_value),
        )
    console.print(table)
    ranks = result.ranks()
    console.print(
        "average rank over datasets (1 = best): "
        + ", ".join(f"{r.model} {r.avg_rank:.2f}" for r in ranks.itertuples())
    )
    console.print(
        "p: corrected resampled t-test of the best DL vs the best ML model of each "
        "dataset (on their two rows). p < 0.05: the difference exceeds "
        "the noise of cross-validation; a large p means these data cannot tell them "
        "apart (not that they are equal)."
    )


def _run_compare(args, console):
    if args.target and not args.csv:
        raise UsageError("--target needs --csv FILE.")
    if args.task and not args.csv:
        raise UsageError("--task applies to --csv; built-in datasets know their task.")
    if args.csv and not args.target:
        raise UsageError("--csv needs --target COLUMN (the column to predict).")
    datasets = _names(args.datasets)
    unknown = [d for d in datasets if d not in DATASETS]
    if unknown:
        raise UsageError(
            f"unknown dataset(s) {', '.join(unknown)}; built-in datasets: {', '.join(DATASETS)}."
        )
    models = _names(args.models) or None
    unknown = [m for m in models or () if m not in MODEL_NAMES]
    if unknown:
        raise UsageError(f"unknown model(s) {', '.join(unknown)}; models: {', '.join(MODEL_NAMES)}.")
    if args.cv is not None and args.cv < 2:
        raise UsageError(f"--cv must be at least 2, got {args.cv}.")
    if args.repeats < 1:
        raise UsageError(f"--repeats must be at least 1, got {args.repeats}.")
    cv = args.cv if args.cv is not None else (3 if args.quick else 5)

    X = y = None
    task = args.task
    if args.csv:
        try:
            X, y = load_csv(args.csv, args.target)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        reason = None
        try:
            if task is None:
                decision = infer_task(y)
                task, reason = decision.task, decision.reason
            check_target(y, task)
        except ValueError as exc:
            raise UsageError(f"target {args.target!r}: {exc}") from None
        if reason is not None:
            console.print(
                f"[bold]{os.path.basename(args.csv)}[/]: {len(X)} rows, {X.shape[1]} features; "
                f"inferred task: [bold]{task}[/] ({reason}); pass --task to override.",
                soft_wrap=True,
            )

    if args.output:
        try:
            os.makedirs(args.output, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create --output {args.output}: {exc.strerror}") from None

    t0 = time.perf_counter()
    try:
        result = compare(
            X, y, data_name=os.path.splitext(os.path.basename(args.csv))[0] if args.csv else "data",
            datasets=datasets or None, models=models, task=task, cv=cv,
            n_repeats=args.repeats, search=args.search, n_jobs=args.n_jobs,
            scheduler=args.scheduler, random_state=args.seed, time_budget=args.time_budget,
            progress=not args.no_progress, quick=args.quick, on_error="record",
        )
    except (ValueError, ConnectionError, ImportError) as exc:
        # data that cannot be cross-validated as asked; an unreachable scheduler
        raise UsageError(str(exc).splitlines()[0]) from None
    wall = time.perf_counter() - t0

    print_tables(result, console)
    r = result.results
    for row in r[r["status"] == "error"].itertuples():
        console.print(f"[red]error[/] {row.dataset} / {row.model} / fold {row.fold}: {row.error}")
    skipped = int((r["status"] == "skipped").sum())
    if skipped:
        console.print(f"[yellow]time budget: {skipped} job(s) skipped (status 'skipped').[/]")
    console.print(
        f"{len(r)} jobs ({result.info['backend']}) in {wall:.1f} s; "
        f"cv={cv}{f'x{args.repeats}' if args.repeats > 1 else ''}, inner cv={result.info['inner_cv']}, "
        f"seed={args.seed}{', quick' if args.quick else ''}."
    )
    if args.output:
        paths = [
            result.to_csv(os.path.join(args.output, "results.csv")),
            result.to_json(os.path.join(args.output, "results.json")),
            result.plot(os.path.join(args.output, "compare.png")),
        ]
        console.print("wrote " + ", ".join(paths))
    return 0 if (r["status"] != "error").any() else 1


def main(argv=None):
    """Run the ``skdense`` command line; return the exit status."""
    from rich.console import Console

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        if DEFAULT_COMMAND is None:
            parser.print_help()
            return 0
        argv = list(DEFAULT_COMMAND)
    err = Console(stderr=True)
    try:
        args = parser.parse_args(argv)  # "compare" is the only subcommand
        import warnings

        with warnings.catch_warnings():
            # Fit warnings (convergence, ...) are recorded per job in the results;
            # on the terminal they would bury the progress bar.
            warnings.simplefilter("ignore")
            return _run_compare(args, Console())
    except UsageError as exc:
        err.print(f"skdense: error: {exc}", highlight=False, soft_wrap=True)
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        err.print("skdense: interrupted")
        return 130
