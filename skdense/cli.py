"""The ``skdense`` command line: argument parsing and printing only.

``skdense compare`` runs :func:`skdense.compare.compare` and prints its tables;
everything it measures lives in ``skdense.compare``. ``main(argv)`` returns the
exit status: 0 on success, 1 when every job failed, 2 (with a one-line message)
on bad arguments or data, 130 on Ctrl-C (SIGINT) and 143 on SIGTERM, after
writing the partial result of what finished.

The names from ``skdense.compare`` are imported where they are used, not at the
top: parsing the arguments and checking ``--output`` (``OutputFolder``) need
neither pandas nor scikit-learn, so a bad command fails in a fraction of a
second; the rest is imported once the run starts.
"""

import argparse
import os
import shlex
import signal
import sys
import threading
import time

# What ``skdense`` with no subcommand does: print help (None), or run these
# arguments, e.g. ["compare", "--quick"]. One line to change.
DEFAULT_COMMAND = None


class UsageError(Exception):
    """A bad argument or input: reported in one line, exit status 2."""


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it stops the run as Ctrl-C does."""


def _raise_terminated(signum, frame):
    raise _Terminated()


# Which command-line argument decides each setting a journal records (for the
# message when --resume meets a journal of another run).
_SETTING_FLAGS = {
    "datasets": "--datasets/--csv",
    "tasks": "--task",
    "models": "--models",
    "quick": "--quick",
    "cv": "--cv",
    "n_repeats": "--repeats",
    "search": "--search",
    "inner_cv": "--quick (inner folds)",
    "n_iter": "--search",
    "random_state": "--seed",
    "data": "the data (the --csv file changed since?)",
    "configs": "the models' configuration (skdense or scikit-learn upgraded since?)",
    "versions": "a library version",
}

_SEP_NAMES = {"\\t": "\t", "tab": "\t"}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage dump
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def format_help(self):
        if callable(self.epilog):  # built when shown: it names the datasets and models
            self.epilog = self.epilog()
        return super().format_help()


class _Tasks:
    """``skdense.compare.TASKS`` as argparse ``choices``, imported when --task is given or
    help is shown (``skdense._estimators.task`` imports pandas)."""

    def _names(self):
        from .compare import TASKS

        return TASKS

    def __contains__(self, value):
        return value in self._names()

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())


def _compare_epilog():
    from .compare import DATASETS, DEFAULT_DATASETS, MODEL_NAMES

    return (
        f"datasets: {', '.join(DATASETS)} (default: {', '.join(DEFAULT_DATASETS)}).  "
        f"models: {', '.join(MODEL_NAMES)}.  "
        "Examples: 'skdense compare --quick'; "
        "'skdense compare --csv data.csv --target price --output out/'.  "
        "Nothing finished is lost: with --output DIR every finished job is appended "
        "to DIR/journal.jsonl (synced to disk) the moment it finishes. After Ctrl-C "
        "or SIGTERM the jobs that finished are written to DIR/results.partial.csv "
        "and .json (exit 130/143); after any interruption, even a crash, the same "
        "command with --resume runs only the jobs missing from the journal and ends "
        "with the result an uninterrupted run gives. A folder that already holds a "
        "result or a journal is not touched without --resume or --overwrite."
    )


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
            "datasets or your CSV. Prints mean ± std per model, ranks, a corrected "
            "resampled t-test (Nadeau & Bengio 2003) of the best DL vs the best ML model, a "
            "verdict with a region of practical equivalence (Bayesian correlated t-test; "
            "across datasets, Bayesian signed-rank test), and the blend of the two."
        ),
        epilog=_compare_epilog,  # a function: _Parser.format_help calls it
    )
    data = p.add_argument_group("data")
    data.add_argument("--csv", metavar="FILE", help="your table (CSV with a header row)")
    data.add_argument("--target", metavar="COLUMN", help="the column of --csv to predict")
    data.add_argument(
        "--task", choices=_Tasks(),
        help="task of --csv (default: inferred from the target, and printed)",
    )
    data.add_argument(
        "--datasets", nargs="+", metavar="NAME",
        help="built-in datasets (default: all but linnerud, or none with --csv)",
    )
    data.add_argument(
        "--sep", metavar="SEP",
        help="column separator of --csv, e.g. ';' or '\\t' (default: guessed among , ; tab |)",
    )
    data.add_argument(
        "--decimal", choices=[".", ","], default=".",
        help="decimal mark of the numbers in --csv (default '.')",
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
                     help="start no new job after this many seconds, > 0 (skipped jobs are "
                          "marked; --resume runs them later)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--rope", type=float, metavar="DELTA",
                     help="region of practical equivalence of the verdict: differences within "
                          "±DELTA of the primary metric count as none (default 0.01 for "
                          "accuracy, i.e. 1 point, and 0.01 for R²); >= 0")
    run.add_argument("--learning-curve", action="store_true",
                     help="also refit the best DL and ML model on 10/25/50%% of each outer "
                          "training fold: would more data change the answer?")
    out = p.add_argument_group("output")
    out.add_argument("--output", metavar="DIR",
                     help="write results.csv, results.json, compare.png, report.html, the "
                          "journal of finished jobs (journal.jsonl) and their predictions "
                          "(predictions/) here; checked writable before any job")
    out.add_argument("--resume", action="store_true",
                     help="continue the interrupted run in --output DIR: same arguments; the "
                          "jobs in its journal are not run again")
    out.add_argument("--overwrite", action="store_true",
                     help="replace the result and journal already in --output DIR")
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


def _name(value):
    """A model name, or "-" where there is none (None, or NaN in pandas' string columns)."""
    return value if isinstance(value, str) and value else "-"


def print_tables(result, console):
    """The summary, the significance tests and the average ranks, as rich tables.

    Laid out to fit an 80-column terminal: datasets are section rows, the
    family is DL/ML, and the p-value of the best-DL-vs-best-ML test sits on
    the two rows it compares.
    """
    from rich import box
    from rich.table import Table

    from .compare import METRICS, TASKS

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
    title = "best DL vs best ML: corrected resampled t-test (Nadeau & Bengio 2003)"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  min_width=len(title))  # a title on one line, however short the names
    # No metric column (the tables above name it): with it, a model name as long as
    # hist_gradient_boosting would be cut to fit 80 columns.
    for col, justify in (("dataset", "left"), ("best DL", "left"), ("score", "right"),
                         ("best ML", "left"), ("score", "right"), ("p-value", "right")):
        table.add_column(col, justify=justify, no_wrap=True)
    for r in sig.itertuples():
        table.add_row(
            r.dataset, _name(r.best_dl), _fmt(r.dl_score, None),
            _name(r.best_ml), _fmt(r.ml_score, None), _p(r.p_value),
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
    print_verdict(result, console)
    print_blend(result, console)
    print_costs(result, console)


def _prob(p):
    return "-" if p != p else f"{p:.2f}"


def print_verdict(result, console):
    """The verdict table, one sentence per dataset, and the verdict across datasets."""
    from rich import box
    from rich.table import Table

    verdict = result.verdict()
    overall = result.overall_verdict().iloc[0]
    title = "verdict: best DL vs best ML, Bayesian correlated t-test (Benavoli et al. 2017)"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  min_width=len(title))
    for col, justify in (("dataset", "left"), ("DL − ML", "right"), ("ROPE", "right"),
                         ("P(DL)", "right"), ("P(≈)", "right"), ("P(ML)", "right"),
                         ("decision", "left")):
        table.add_column(col, justify=justify, no_wrap=True)
    for r in verdict.itertuples():
        table.add_row(r.dataset, _fmt(r.diff, None), f"±{r.rope:g}", _prob(r.p_dl),
                      _prob(r.p_equivalent), _prob(r.p_ml), r.decision or "-")
    table.add_row("all datasets", _fmt(overall["mean_diff"], None),
                  f"±{overall['rope']:g}" if overall["rope"] == overall["rope"] else "-",
                  _prob(overall["p_dl"]), _prob(overall["p_equivalent"]), _prob(overall["p_ml"]),
                  overall["decision"], style="bold")
    console.print(table)
    for r in verdict.itertuples():
        console.print(f"[bold]{r.dataset}[/]: {r.verdict}", soft_wrap=False, highlight=False)
    console.print(f"[bold]all datasets[/] ({overall['test']}): {overall['verdict']}",
                  highlight=False)
    console.print("P(DL), P(≈), P(ML): the probability that the best DL model is better by "
                  "more than the ROPE, within ±ROPE of, or worse by more than the ROPE than "
                  "the best ML model (--rope; default 0.01 of accuracy or R²).",
                  highlight=False)


def print_blend(result, console):
    """Should I ship both? The blend of the best DL and best ML model, per dataset."""
    from rich import box
    from rich.table import Table

    blend = result.blend()
    title = "blend: the average of the best DL and best ML model, per outer fold"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  min_width=len(title))
    for col in ("dataset", "disagree", "error r", "DL", "ML", "blend", "gain"):
        table.add_column(col, justify="left" if col == "dataset" else "right", no_wrap=True)
    for r in blend.itertuples():
        alike = (f"{r.disagreement:.1%}" if r.disagreement == r.disagreement
                 else f"r {r.prediction_corr:.2f}" if r.prediction_corr == r.prediction_corr
                 else "-")
        table.add_row(r.dataset, alike, _prob(r.error_corr), _fmt(r.dl_score, None),
                      _fmt(r.ml_score, None), _fmt(r.blend_score, None),
                      "-" if r.gain != r.gain else f"{r.gain:+.3f}")
    console.print(table)
    console.print(
        "blend: the mean of the two models' probabilities (or values). disagree: share of "
        "test rows whose labels differ (regression: r = correlation of the two models' "
        "predictions); error r: correlation of their errors (1 - p(true class), or "
        "residuals); gain: blend minus the better of the two.", highlight=False)


def _number(value, digits=2):
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def print_costs(result, console):
    """What each model costs: the median over its ok jobs, every dataset together."""
    from rich import box
    from rich.table import Table

    from .compare import format_size

    costs = result.costs()
    if costs.empty:
        return
    table = Table(
        title="costs of the refitted model: median over its jobs, all datasets",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
    )
    table.add_column("model", no_wrap=True)
    for col in ("fit s", "refit s", "ms/row", "ms/1000", "size", "peak MiB"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in costs.itertuples():
        table.add_row(r.model, _number(r.fit_seconds), _number(r.refit_seconds),
                      _number(r.latency_row_ms), _number(r.latency_1000_ms, 1),
                      format_size(r.size_bytes), _number(r.peak_memory_mb, 1))
    console.print(table)


def print_learning_curve(result, console):
    """One line per dataset: where the best DL and ML model's learning curves cross."""
    from .compare import learning_curve_crossings

    if result.learning_curve is None:
        return
    console.print("learning curve (best DL vs best ML, mean over outer folds at 10/25/50/100% "
                  "of the training rows):", soft_wrap=True)
    for dataset, sentence in learning_curve_crossings(result.learning_curve).items():
        console.print(f"  {dataset}: {sentence}", soft_wrap=True, highlight=False)
    failed = result.learning_curve[result.learning_curve["error"] != ""]
    if len(failed):
        first = failed.iloc[0]
        console.print(f"  [yellow]{len(failed)} point(s) failed (score NaN)[/], e.g. "
                      f"{first['dataset']} / {first['model']} / fold {first['fold']} at "
                      f"{first['fraction']:.0%}: {first['error']}", soft_wrap=True)


def _open_output(args):
    """``(OutputFolder or None, what to do with it: "new", "clear" or "resume")``.

    The folder is created and proven writable here, before any data is loaded.
    A folder holding a result or a journal is refused unless --resume or
    --overwrite says what to do with it; nothing is removed yet (see _begin).
    """
    for flag in ("resume", "overwrite"):
        if getattr(args, flag) and not args.output:
            raise UsageError(f"--{flag} needs --output DIR (the folder of the run).")
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite exclude each other: --resume continues "
                         "the run in --output, --overwrite starts it over.")
    if not args.output:
        return None, "new"
    from .compare import OutputFolder  # no pandas, no scikit-learn: this check is quick

    try:
        out = OutputFolder(args.output)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    finished, journal = out.finished(), out.has_journal()
    if args.overwrite:
        return out, "clear"
    if journal and not finished and _journal_note(out)[0] == 0:
        return out, "clear"  # a run stopped before its first job finished: nothing to keep
    if args.resume:
        if finished and not journal:
            raise UsageError(
                f"--resume: {args.output} holds a result ({', '.join(finished)}) but no journal "
                "to continue; pass --overwrite to replace it, or choose another --output."
            )
        return out, "resume"
    if finished:
        raise UsageError(
            f"{args.output} already holds a result ({', '.join(finished)}); pass --overwrite "
            "to replace it, or choose another --output."
        )
    if journal:
        raise UsageError(
            f"{args.output} holds an unfinished run ({_journal_note(out)[1]}); continue it with "
            "--resume (and the same arguments), or pass --overwrite to start over."
        )
    return out, "new"


def _begin(out, action, console):
    """Clear the folder or announce the resume, once the inputs are known to be good.

    Returns the number of finished jobs the run resumes from.
    """
    if action == "clear":
        try:
            out.clear()
        except ValueError as exc:  # another run is writing there
            raise UsageError(str(exc)) from None
    elif action == "resume":
        if out.has_journal():
            resumed, note = _journal_note(out)
            console.print(f"resuming {out.path}: {note}.", soft_wrap=True, highlight=False)
            return resumed
        console.print(f"--resume: no journal in {out.path}; starting the run.", soft_wrap=True,
                      highlight=False)
    return 0


def _journal_note(out):
    """``(n, "n finished job(s) in journal.jsonl")``, with any damage found in it."""
    from .compare import read_journal

    try:
        contents = read_journal(out.journal)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    n = len({key for key, _ in contents.jobs})
    note = f"{n} finished job(s) in journal.jsonl"
    if contents.torn:
        note += "; a torn last line (an interrupted write) is ignored"
    if contents.damaged:
        note += f"; {contents.damaged} damaged line(s) are ignored"
    return n, note


def _resume_command(argv):
    args = [a for a in argv if a != "--overwrite"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["skdense", *args])


def _interrupted(exc, args, argv, out, console):
    """Print and write what finished before the interruption; return 130 or 143."""
    terminated = isinstance(exc.__cause__, _Terminated)
    result = exc.result
    p = result.info["partial"]
    console.print(
        f"[bold yellow]interrupted ({'SIGTERM' if terminated else 'SIGINT'})[/]: "
        f"{p['jobs_finished']} of {p['jobs_total']} jobs finished.", soft_wrap=True,
    )
    if len(result.results):
        console.print(
            f"[bold yellow]PARTIAL result[/] ({p['jobs_finished']} of {p['jobs_total']} jobs): "
            "statistics use only the folds that every model finished.", soft_wrap=True,
        )
        print_tables(result, console)
        if out is not None:
            paths = out.write(result)
            console.print("wrote partial result " + ", ".join(paths), soft_wrap=True)
    if out is not None:
        console.print(f"resume with: {_resume_command(argv)}", soft_wrap=True, highlight=False)
    else:
        console.print("nothing was saved (no --output); with --output DIR an interrupted run "
                      "can be resumed.", soft_wrap=True)
    return 143 if terminated else 130


def _run_compare(args, console, argv=()):
    if args.target and not args.csv:
        raise UsageError("--target needs --csv FILE.")
    if args.task and not args.csv:
        raise UsageError("--task applies to --csv; built-in datasets know their task.")
    if args.csv and not args.target:
        raise UsageError("--csv needs --target COLUMN (the column to predict).")
    if args.cv is not None and args.cv < 2:
        raise UsageError(f"--cv must be at least 2, got {args.cv}.")
    if args.repeats < 1:
        raise UsageError(f"--repeats must be at least 1, got {args.repeats}.")
    if args.rope is not None and not (args.rope >= 0 and args.rope != float("inf")):
        raise UsageError(
            f"--rope must be a number >= 0 (the half-width of the region of practical "
            f"equivalence, e.g. 0.01 for 1 point of accuracy), got {args.rope:g}."
        )
    if args.time_budget is not None and not args.time_budget > 0:
        raise UsageError(
            f"--time-budget must be a positive number of seconds, got {args.time_budget:g}."
        )
    if (args.sep is not None or args.decimal != ".") and not args.csv:
        raise UsageError("--sep and --decimal apply to --csv.")
    if args.sep == "":
        raise UsageError("--sep needs a separator, e.g. --sep ';' or --sep '\\t' (tab).")
    cv = args.cv if args.cv is not None else (3 if args.quick else 5)
    # First what needs no import (the flags above, the output folder): a bad
    # --output fails at once. The names and the run need pandas and scikit-learn.
    out, action = _open_output(args)

    from .compare import (
        DATASETS,
        MODEL_NAMES,
        CompareInterrupted,
        JournalMismatch,
        check_target,
        compare,
        infer_task,
        load_csv,
        sniff_separator,
    )

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

    X = y = None
    task = args.task
    if args.csv:
        sep = _SEP_NAMES.get(args.sep, args.sep)
        if sep is None and os.path.isfile(args.csv):
            sep = sniff_separator(args.csv)
            if sep != ",":
                shown = "\\t" if sep == "\t" else sep
                console.print(f"{os.path.basename(args.csv)}: columns separated by {shown!r} "
                              "(guessed; pass --sep to change)", soft_wrap=True, highlight=False)
        try:
            X, y = load_csv(args.csv, args.target, sep=sep, decimal=args.decimal)
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

    resumed = 0 if out is None else _begin(out, action, console)

    t0 = time.perf_counter()
    try:
        result = compare(
            X, y, data_name=os.path.splitext(os.path.basename(args.csv))[0] if args.csv else "data",
            datasets=datasets or None, models=models, task=task, cv=cv,
            n_repeats=args.repeats, search=args.search, n_jobs=args.n_jobs,
            scheduler=args.scheduler, random_state=args.seed, time_budget=args.time_budget,
            progress=not args.no_progress, quick=args.quick, on_error="record",
            journal=None if out is None else out.journal, rope=args.rope,
            learning_curve=args.learning_curve,
        )
    except CompareInterrupted as exc:
        return _interrupted(exc, args, argv, out, console)
    except JournalMismatch as exc:
        where = f" for {'/'.join(map(str, exc.where))}" if exc.where else ""
        flag = _SETTING_FLAGS.get(exc.setting, exc.setting)
        raise UsageError(
            f"cannot resume {args.output}: {flag} differs{where} (journal: "
            f"{_plain(exc.journal_value)}; this run: {_plain(exc.value)}). Rerun with the "
            "arguments of the interrupted run, or pass --overwrite to start over."
        ) from None
    except (ValueError, ConnectionError, ImportError) as exc:
        # data that cannot be cross-validated as asked; an unreachable scheduler
        raise UsageError(str(exc).splitlines()[0]) from None
    wall = time.perf_counter() - t0

    print_tables(result, console)
    print_learning_curve(result, console)
    r = result.results
    for row in r[r["status"] == "error"].itertuples():
        console.print(f"[red]error[/] {row.dataset} / {row.model} / fold {row.fold}: {row.error}")
    skipped = int((r["status"] == "skipped").sum())
    if skipped:
        console.print(f"[yellow]time budget: {skipped} job(s) skipped (status 'skipped').[/]")
    console.print(
        f"{len(r)} jobs{f' ({len(r) - resumed} run now, {resumed} from the journal)' if resumed else ''}"
        f"{f' and {len(result.learning_curve)} learning-curve points' if result.learning_curve is not None else ''}"
        f" ({result.info['backend']}) in {wall:.1f} s; "
        f"cv={cv}{f'x{args.repeats}' if args.repeats > 1 else ''}, inner cv={result.info['inner_cv']}, "
        f"seed={args.seed}{', quick' if args.quick else ''}."
    )
    if out is not None:
        console.print("wrote " + ", ".join(out.write(result)), soft_wrap=True)
    return 0 if (r["status"] != "error").any() else 1


def _plain(value, limit=80):
    """A setting's value for a one-line message."""
    import json

    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    # SIGTERM (a scheduler's or container's stop) ends the run like Ctrl-C: the
    # partial result is written and the journal kept. Only the main thread can
    # install a handler; a main() called from another thread keeps the default.
    installed = threading.current_thread() is threading.main_thread()
    if installed:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        args = parser.parse_args(argv)  # "compare" is the only subcommand
        import warnings

        with warnings.catch_warnings():
            # Fit warnings (convergence, ...) are recorded per job in the results;
            # on the terminal they would bury the progress bar.
            warnings.simplefilter("ignore")
            return _run_compare(args, Console(), argv)
    except UsageError as exc:
        err.print(f"skdense: error: {exc}", highlight=False, soft_wrap=True)
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt as exc:
        err.print("skdense: interrupted")
        return 143 if isinstance(exc, _Terminated) else 130
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
