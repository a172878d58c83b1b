"""Nested cross-validation of many models on many datasets, as independent jobs.

One job is one (dataset, model, outer fold): an inner search (GridSearchCV or
RandomizedSearchCV, ``refit=False``: it only chooses) over the model's grid on
the outer training rows; then the job itself refits the best candidate on all of
them, so that the refit alone is timed and its peak memory, latency and size are
measured (``_costs``); and scoring on the outer test rows, whose predictions the
job returns with its row (``_predictions``). Jobs share nothing, so joblib runs
them in order, on local processes (``n_jobs``) or on a Dask cluster
(``scheduler``) with the same code and, because every job seeds itself from
(random_state, dataset, model, fold), the same numbers.

With a journal (``_journal``) every finished job is appended to it as it arrives
(on the client, whatever the backend; an ``ok`` job's predictions file first),
and jobs already in it are read back, predictions included, instead of run: an
interrupted run continues where it stopped and ends with the result an
uninterrupted one gives. An interruption (KeyboardInterrupt) ends the run with
:class:`CompareInterrupted`, which carries the partial result. With
``learning_curve=True``, the best DL and ML model of each dataset are then
refitted on fractions of each outer training fold (``_learning_curve``), as jobs
of their own, journaled the same way.
"""

import contextlib
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._estimators.task import infer_task
from . import _candidates, _costs, _datasets, _identity, _learning_curve, _predictions, _row
from ._fitting import json_params, limited_threads, score, take, uses_keras
from ._journal import Journal
from ._metrics import METRICS
from ._result import CompareResult
from ._verdict import check_rope


class CompareInterrupted(KeyboardInterrupt):
    """A comparison stopped by an interruption (Ctrl-C, or what the caller maps to it).

    It is a ``KeyboardInterrupt``, so code that does not expect it stops as on
    Ctrl-C; code that does can keep what finished.

    Attributes
    ----------
    result : CompareResult
        The jobs that had finished (those read back from the journal included);
        ``result.info["partial"]`` says how many of how many.
    journal : str or None
        The journal, from which the same call continues the run.
    """

    def __init__(self, result, journal=None):
        self.result, self.journal = result, journal
        p = result.info["partial"]
        super().__init__(f"interrupted after {p['jobs_finished']} of {p['jobs_total']} jobs")


@dataclass
class _Job:
    dataset: str
    model: str
    fold: int
    repeat: int
    train: np.ndarray
    test: np.ndarray
    seed: int
    config: str  # digest of the model's estimator and grid (_identity.config_digest)
    data: str  # digest of the dataset's values (_identity.data_digest)

    @property
    def key(self):
        """The job's identity: what the journal records and resume matches (``_journal.KEY``)."""
        return (self.dataset, self.model, self.fold, self.seed, self.config, self.data)


@dataclass
class _Dataset:
    name: str
    X: object
    y: object
    task: str
    note: str  # how the task was decided


def _run_job(job, task, estimator, grid, X, y, *, search, inner_cv, n_iter, deadline, threads, on_error):
    """Fit and score one (dataset, model, outer fold).

    Returns ``(row, predictions)``: the results row as a dict, and the outer-test
    predictions of an ``ok`` job (``_predictions.make``; None otherwise).
    """
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV, StratifiedKFold

    row = {
        "dataset": job.dataset,
        "task": task,
        "model": job.model,
        "family": _candidates.family(estimator),
        "fold": job.fold,
        "repeat": job.repeat,
        "seed": job.seed,
        "n_train": len(job.train),
        "n_test": len(job.test),
        "status": "ok",
        "error": "",
    }
    for m in METRICS[task]:
        row[m] = np.nan
    row.update(fit_seconds=np.nan, refit_seconds=np.nan, predict_seconds=np.nan)
    row.update({name: np.nan for name in _row.COSTS})
    row.update(best_params="", warnings="")
    if deadline is not None and time.time() > deadline:
        row["status"] = "skipped"
        row["error"] = "time_budget exceeded before this job started"
        return row, None
    X_train, y_train = take(X, job.train), take(y, job.train)
    X_test, y_test = take(X, job.test), take(y, job.test)
    est = _candidates.seed_estimator(clone(estimator), job.seed)
    splitter = StratifiedKFold if task == "classification" else KFold
    inner = splitter(n_splits=inner_cv, shuffle=True, random_state=job.seed)
    scoring = METRICS[task][0]
    if grid:
        # The search only chooses (refit=False); the best candidate is refitted
        # here, as GridSearchCV would (a clone of the estimator with the best
        # parameters, on all the outer training rows), so that the refit alone
        # is measured: its time, its peak memory and the model the costs are of.
        if search == "random":
            from sklearn.model_selection import ParameterGrid

            grids = grid if isinstance(grid, list) else [grid]
            if all(isinstance(v, (list, tuple)) for g in grids for v in g.values()):
                n_iter = min(n_iter, len(ParameterGrid(grid)))  # no more draws than candidates
            searcher = RandomizedSearchCV(
                est, grid, n_iter=n_iter, cv=inner, scoring=scoring, refit=False,
                n_jobs=1, random_state=job.seed, error_score="raise",
            )
        else:
            searcher = GridSearchCV(
                est, grid, cv=inner, scoring=scoring, refit=False, n_jobs=1, error_score="raise"
            )
    else:
        searcher = None  # no grid: fit the model as given (no inner search)
    caught, notes = [], []
    predictions = None
    try:
        with limited_threads(threads), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            keras = uses_keras(est)
            if keras:
                # Import TensorFlow before the clock starts: a one-off per process
                # (5-15 s) is not the model's fit time.
                from .._backend import load_keras

                load_keras()
            t0 = time.perf_counter()
            best_params = {}
            if searcher is not None:
                searcher.fit(X_train, y_train)
                best_params = searcher.best_params_
            model = clone(est).set_params(**clone(best_params, safe=False))
            with _costs.PeakMemory() as peak:
                t_refit = time.perf_counter()
                model.fit(X_train, y_train)
                row["refit_seconds"] = time.perf_counter() - t_refit
            row["fit_seconds"] = time.perf_counter() - t0
            row["peak_memory_mb"] = peak.mb
            row["best_params"] = json_params(best_params)
            scores, row["predict_seconds"], predictions = score(task, model, X_test, y_test,
                                                                job.test)
            row.update(scores)
            costs, notes = _costs.measure(
                model, take(X_test, [0]), take(X_test, _costs.batch_rows(len(job.test))),
                skdense_model=keras,
            )
            row.update(costs)
    except Exception as exc:  # noqa: BLE001 - recorded or re-raised, as the caller chose
        if on_error == "raise":
            raise
        row["status"] = "error"
        row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        predictions = None
    messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}".splitlines()[0][:200]
                                  for w in caught))
    if messages:
        row["warnings"] = f"{len(caught)} warning(s): " + " | ".join(messages[:3])
    if notes:  # a cost that could not be measured (NaN in its column)
        row["warnings"] = " | ".join([*([row["warnings"]] if row["warnings"] else []),
                                      *(note.splitlines()[0][:200] for note in notes)])
    return row, predictions


def _resolve_datasets(X, y, datasets, task, data_name="data"):
    """The datasets to run: built-in names and/or the user's (X, y)."""
    out = []
    if X is not None or y is not None:
        if X is None or y is None:
            raise ValueError("Pass both X and y (or neither, to use the built-in datasets).")
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}.")
        _datasets.check_finite(X)
        if task is None:
            decision = infer_task(y)
            task_, note = decision.task, f"inferred task={decision.task!r} ({decision.reason})"
        else:
            task_, note = task, f"task={task!r} given"
        _datasets.check_target(y, task_)
        out.append(_Dataset(data_name, X, y, task_, note))
    if isinstance(datasets, str):
        datasets = [datasets]
    if datasets is None and not out:
        datasets = list(_datasets.DEFAULT_DATASETS)
    for item in datasets or ():
        if isinstance(item, str):
            Xd, yd, task_d = _datasets.load_dataset(item)
            out.append(_Dataset(item, Xd, yd, task_d, "built-in"))
        else:
            raise ValueError(f"datasets must be names of built-in datasets, got {item!r}.")
    names = [d.name for d in out]
    if len(set(names)) != len(names):
        raise ValueError(f"Duplicate dataset names: {names}.")
    return out


def _resolve_models(data, models, param_grids, quick, cv, inner_cv):
    """``({name: estimator}, {name: grid})`` for one dataset."""
    multioutput = np.ndim(data.y) == 2 and np.shape(data.y)[1] > 1
    frame = hasattr(data.X, "columns")
    if models is None:
        names = list(_candidates.MODEL_NAMES)
    elif isinstance(models, str):
        names = [models]
    else:  # a list of names, or {name: estimator or None}
        names = list(models)
    if not names:
        raise ValueError("No models to compare.")
    user = models if isinstance(models, dict) else {}
    unknown = [n for n in names if n not in user and n not in _candidates.MODEL_NAMES]
    if unknown:
        raise ValueError(
            f"Unknown model(s) {', '.join(map(repr, unknown))}. Default models: "
            f"{', '.join(_candidates.MODEL_NAMES)} (or pass {{name: estimator}})."
        )
    defaults = [n for n in names if user.get(n) is None]
    inner_rows = len(data.y) * (cv - 1) // cv * (inner_cv - 1) // inner_cv
    estimators = _candidates.default_models(
        data.task, frame=frame, quick=quick, multioutput=multioutput, names=defaults,
        n_rows=inner_rows,
    ) if defaults else {}
    grids = _candidates.default_grids(
        data.task, quick=quick, multioutput=multioutput, names=defaults
    ) if defaults else {}
    for n in names:
        if user.get(n) is not None:
            estimators[n] = user[n]
            grids[n] = {}
    for n, g in (param_grids or {}).items():
        if n not in names:
            raise ValueError(f"param_grids has {n!r}, which is not among the models {names}.")
        grids[n] = g or {}
    return {n: estimators[n] for n in names}, grids


def _check_sizes(data, cv):
    n = len(data.y)
    if n < 2 * cv:
        raise ValueError(
            f"Dataset {data.name!r} has {n} rows; cv={cv} needs at least {2 * cv}."
        )
    if data.task == "classification":
        counts = pd.Series(np.asarray(data.y).ravel()).value_counts()
        if counts.min() < cv:
            raise ValueError(
                f"Dataset {data.name!r}: class {counts.idxmin()!r} has {counts.min()} row(s); "
                f"stratified cv={cv} needs at least {cv} per class. Lower cv or drop rare classes."
            )


def _outer_splits(data, cv, n_repeats, random_state):
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    cls = RepeatedStratifiedKFold if data.task == "classification" else RepeatedKFold
    splitter = cls(n_splits=cv, n_repeats=n_repeats, random_state=random_state)
    y = np.asarray(data.y)
    y = y.ravel() if data.task == "classification" else y
    return list(splitter.split(np.zeros((len(y), 1)), y))


class _Progress:
    """A rich progress bar (elapsed, ETA) over jobs, or a user callback, or nothing."""

    def __init__(self, progress, total):
        self.callback = progress if callable(progress) else None
        self.bar = None
        if progress is True:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]compare"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("jobs"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
                transient=False,
            )
            self.task = self.bar.add_task("", total=total)

    def __enter__(self):
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def update(self, row):
        if self.bar is not None:
            desc = f"{row['dataset']} / {row['model']} / fold {row['fold']}"
            self.bar.update(self.task, advance=1, description=desc)
        if self.callback is not None:
            self.callback(row)


def compare(
    X=None,
    y=None,
    *,
    datasets=None,
    models=None,
    param_grids=None,
    task=None,
    cv=5,
    n_repeats=1,
    search="grid",
    n_jobs=None,
    scheduler=None,
    random_state=0,
    time_budget=None,
    progress=True,
    quick=False,
    inner_cv=None,
    n_iter=10,
    on_error="raise",
    data_name="data",
    journal=None,
    rope=None,
    learning_curve=False,
):
    """Compare classical ML and dense neural networks by nested cross-validation.

    Every model is tuned by an inner search on the outer training folds only and
    scored on the outer test fold; all models of a dataset see the same outer folds
    (stratified for classification, seeded by ``random_state``). DenseClassifier's
    early-stopping split is drawn inside its fit, i.e. from the inner training rows.

    Parameters
    ----------
    X, y : DataFrame/array and Series/array, optional
        Your data (named ``data_name``, default ``"data"``, in the results). ``y`` may be 2-D for
        multi-output regression. Without X, y: the built-in datasets.
    datasets : str or list of str, optional
        Built-in dataset names (see ``DATASETS``); default: all of them when no
        X, y is given, none otherwise.
    models : list of str or dict, optional
        Default model names (``linear``, ``random_forest``, ``hist_gradient_boosting``,
        ``mlp``, ``dense``) or ``{name: estimator}``; a value of None picks the default
        model of that name. Your estimators are used as given (bring your own
        preprocessing) and are tuned only if ``param_grids`` has a grid for them.
    param_grids : dict, optional
        ``{name: grid}``, replacing the default grid of that model; an empty grid
        fits the model without an inner search.
    task : {"classification", "regression"}, optional
        For X, y; inferred when None by ``infer_task`` (the rule AutoDense uses;
        ``result.info["notes"]`` says what it decided and why).
    cv : int, default 5
        Outer folds. ``n_repeats`` repeats them with different shuffles.
    search : {"grid", "random"}
        Inner GridSearchCV, or RandomizedSearchCV with ``n_iter`` candidates.
    n_jobs : int, optional
        Parallel (dataset, model, fold) jobs through joblib (-1: all cores).
    scheduler : str or distributed.Client, optional
        Run the jobs on a Dask cluster (``"tcp://host:8786"``) through joblib's dask
        backend. Results are the same as a local run with the same ``random_state``.
    random_state : int, default 0
        Seeds the outer folds and, per (dataset, model, fold), every estimator and
        inner splitter.
    time_budget : float, optional
        Seconds, more than 0. Jobs run fold by fold (fold 0 of every dataset and model, then fold
        1, ...); a job that would *start* after the budget is spent is skipped and
        marked ``status="skipped"`` in the results. Running jobs finish, so a run
        may overshoot by about one job. Statistics use only the folds every model
        compared completed.
    progress : bool or callable, default True
        A progress bar on the terminal, or a function called with each finished row.
    quick : bool
        Small grids, fewer trees/epochs, 2 inner folds: for a first look.
    inner_cv : int, optional
        Inner folds of the search (default 3; 2 with ``quick``).
    on_error : {"raise", "record"}
        Whether a failing fit stops the run or is recorded as ``status="error"``.
        Warnings raised during a job (e.g. ConvergenceWarning) are not shown; they
        are recorded in the ``warnings`` column of the results.
    journal : str or path-like, optional
        A journal file (JSON lines, see ``docs/compare.md``). Every finished job
        (skipped ones excepted) is appended to it the moment it finishes, synced
        to disk; jobs already in it are not run again but read back, so calling
        ``compare`` again with the same arguments after an interruption finishes
        the run and returns what an uninterrupted run returns. A journal written
        with other settings (data, models, folds, seed, library versions) raises
        ``JournalMismatch``, naming the setting; a line that is not a journal
        record raises ``MalformedJournal``, naming the line. A job line of other
        data, a job recorded twice or a row that contradicts its key is not
        reused: its job runs again, and a ``UserWarning`` says how many lines
        were set aside and why. The outer-test predictions of every ``ok`` job
        are saved to ``predictions/`` in the journal's folder (one ``.npz`` a
        job, written before its journal line) and read back with it.
    rope : float, optional
        The half-width of the region of practical equivalence of the verdict
        (``CompareResult.verdict``), in units of the primary metric: a
        difference within ``[-rope, rope]`` counts as practically none. Default
        (None): 0.01 for accuracy (1 point) and 0.01 for R^2. It changes no
        job, only the verdict, so a resumed run may pass another one.
    learning_curve : bool, default False
        After the jobs, refit the best DL and the best ML model of each dataset
        on 10, 25 and 50% of each outer fold's training rows (nested subsets,
        stratified for classification, seeded by ``random_state``, dataset and
        fold) with the fold's chosen hyper-parameters, and score them on the
        same outer test rows; the 100% point is the job itself. The table is
        ``result.learning_curve`` (None when False). Its points are journaled
        too, and may be asked for when resuming a run that had none.

    Returns
    -------
    CompareResult

    Raises
    ------
    CompareInterrupted
        On KeyboardInterrupt during the jobs (or the learning curve's points),
        with the partial result (a ``KeyboardInterrupt`` itself).
    """
    from joblib import Parallel, delayed, parallel_config

    if search not in ("grid", "random"):
        raise ValueError(f"search must be 'grid' or 'random', got {search!r}.")
    if on_error not in ("raise", "record"):
        raise ValueError(f"on_error must be 'raise' or 'record', got {on_error!r}.")
    if not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ValueError(f"cv must be an int >= 2, got {cv!r}.")
    if time_budget is not None and not (isinstance(time_budget, (int, float, np.number))
                                        and time_budget > 0):
        raise ValueError(
            f"time_budget must be a positive number of seconds (or None for no limit), "
            f"got {time_budget!r}."
        )
    rope = check_rope(rope)
    if not isinstance(learning_curve, (bool, np.bool_)):
        raise ValueError(f"learning_curve must be True or False, got {learning_curve!r}.")
    if inner_cv is None:
        inner_cv = 2 if quick else 3
    data = _resolve_datasets(X, y, datasets, task, data_name)
    jobs = []  # in result order: dataset, model, fold
    per_dataset = {}
    configs, readable = {}, {}
    digests = {d.name: _identity.data_digest(d.X, d.y) for d in data}
    for d in data:
        _check_sizes(d, cv)
        estimators, grids = _resolve_models(d, models, param_grids, quick, cv, inner_cv)
        splits = _outer_splits(d, cv, n_repeats, random_state)
        per_dataset[d.name] = (d, estimators, grids)
        configs[d.name] = {}
        for name in estimators:
            config = _identity.config_digest(estimators[name], grids[name])
            configs[d.name][name] = config
            readable[config] = _identity.canonical({"estimator": estimators[name], "grid": grids[name]})
            for i, (train, test) in enumerate(splits):
                seed = _candidates.job_seed(random_state, d.name, name, i)
                jobs.append(_Job(d.name, name, i, i // cv, train, test, seed, config,
                                 digests[d.name]))
    settings = {
        "datasets": [d.name for d in data],
        "tasks": {d.name: d.task for d in data},
        "models": {d.name: list(per_dataset[d.name][1]) for d in data},
        "quick": bool(quick),
        "cv": int(cv),
        "n_repeats": int(n_repeats),
        "search": search,
        "inner_cv": int(inner_cv),
        "n_iter": int(n_iter) if search == "random" else None,
        "random_state": int(random_state),
        "data": digests,
        "configs": configs,
        "versions": _identity.library_versions(),
    }
    book = None if journal is None else Journal.open(journal, settings, configs=readable)
    if book is not None and book.contents.set_aside:
        warnings.warn(book.contents.describe(), UserWarning, stacklevel=2)
    done = {} if book is None else {j.key: book.done[j.key] for j in jobs if j.key in book.done}
    folder = None if book is None else _predictions.folder_of(book.path)
    predictions = {}
    for key, row in done.items():
        if row["status"] == "ok":
            found = _predictions.load(folder, key)
            if found is not None:
                predictions[key] = found
    lost = sum(row["status"] == "ok" for row in done.values()) - len(predictions)
    if lost:
        warnings.warn(
            f"{lost} finished job(s) of the journal {book.path} have no predictions file in "
            f"{folder} (removed or damaged): their folds are left out of the blend.",
            UserWarning, stacklevel=2)
    # Fold-major order: a time budget then cuts whole folds, not whole models.
    todo = sorted((j for j in jobs if j.key not in done), key=lambda j: j.fold)

    backend = "dask" if scheduler is not None else (
        "sequential" if n_jobs in (None, 1) else "loky")
    threads = 1
    deadline = None

    def tasks():
        for job in todo:
            d, estimators, grids = per_dataset[job.dataset]
            yield delayed(_run_job)(
                job, d.task, estimators[job.model], grids[job.model], d.X, d.y,
                search=search, inner_cv=inner_cv, n_iter=n_iter, deadline=deadline,
                threads=threads, on_error=on_error,
            )

    rows = dict(done)
    curve_rows = {}  # CURVE_KEY -> row, of the learning curve's fitted points
    by_place = {(j.dataset, j.model, j.fold): j for j in todo}  # a finished row's job
    client, own_client = None, False
    t_start = time.perf_counter()

    def result(partial):
        # Rows in job order, whatever order they finished in (or came from the
        # journal): the same table, column order included, for every backend.
        ordered = [rows[j.key] for j in jobs if j.key in rows]
        info = _info(data, per_dataset, cv, n_repeats, inner_cv, search, random_state, quick,
                     time.perf_counter() - t_start, backend)
        info.update(rope=rope, data=digests, versions=settings["versions"])
        if partial:
            info["partial"] = {"jobs_finished": len(ordered), "jobs_total": len(jobs)}
        kept = {(j.dataset, j.model, j.fold): predictions[j.key] for j in jobs
                if j.key in predictions}
        return CompareResult(pd.DataFrame(ordered), info, predictions=kept)

    def backend_config():
        if client is not None:
            return parallel_config(backend="dask", client=client, n_jobs=-1)
        return parallel_config(n_jobs=n_jobs)

    def run_curve(todo_points, full, points):
        """Fit the learning curve's missing points (journaled as they finish); its table."""
        by_place = {(p.dataset, p.model, p.fold, p.fraction): p for p in todo_points}

        def point_tasks():
            for p in todo_points:
                d, estimators, grids = per_dataset[p.dataset]
                yield delayed(_learning_curve.run_point)(
                    p, d.task, estimators[p.model], grids[p.model], d.X, d.y, threads=threads)

        with backend_config(), _Progress(progress is True, len(todo_points)) as bar, \
                contextlib.closing(Parallel(return_as="generator_unordered")(point_tasks())) as outs:
            for row in outs:
                key = by_place[row["dataset"], row["model"], row["fold"], row["fraction"]].key
                curve_rows[key] = row
                if book is not None:
                    book.append_curve(key, row)
                bar.update(row)
        return _learning_curve.table([*full, *(curve_rows[p.key] for p in points)])

    try:
        if scheduler is not None and todo:
            client, own_client = _connect(scheduler)
            t_start = time.perf_counter()
        if time_budget is not None:
            deadline = time.time() + float(time_budget)
        with backend_config(), _Progress(progress, len(todo)) as bar, contextlib.closing(
            Parallel(return_as="generator_unordered")(tasks())
        ) as outputs:
            for row, found in outputs:
                key = by_place[row["dataset"], row["model"], row["fold"]].key
                rows[key] = row
                if found is not None:
                    predictions[key] = found
                if book is not None and row["status"] != "skipped":
                    if found is not None:  # first the file, then the line that needs it
                        _predictions.save(folder, key, found)
                    book.append(key, row)
                bar.update(row)
        curve = None
        if learning_curve:
            points, full = _learning_curve.plan(result(partial=False), jobs)
            done_points = {} if book is None else book.curve_done
            curve_rows.update({p.key: done_points[p.key] for p in points if p.key in done_points})
            todo_points = _learning_curve.draw(
                [p for p in points if p.key not in done_points], jobs,
                {d.name: d.y for d in data}, {d.name: d.task for d in data}, random_state)
            if todo_points and scheduler is not None and client is None:
                client, own_client = _connect(scheduler)
            curve = run_curve(todo_points, full, points)
    except KeyboardInterrupt as exc:
        if isinstance(exc, CompareInterrupted):
            raise
        partial = result(partial=True)
        if learning_curve and len(partial.results) == len(jobs):  # stopped in the curve
            partial.info["partial"]["curve_points_finished"] = len(curve_rows)
        raise CompareInterrupted(partial, None if book is None else book.path) from exc
    finally:
        if own_client:
            client.close()
        if book is not None:
            book.close()
    final = result(partial=False)
    final.learning_curve = curve
    return final


def _connect(scheduler):
    """``(client, whether we opened it)`` for a scheduler address or Client."""
    try:
        from distributed import Client
    except ImportError:
        raise ImportError(
            "scheduler= needs Dask's distributed package: pip install 'skdense[dask]'."
        ) from None
    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout="20s"), True
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(
            f"Cannot reach the Dask scheduler at {scheduler!r}: {exc}. Is it running "
            "(dask scheduler) and is the address right (tcp://host:8786)?"
        ) from None


def _info(data, per_dataset, cv, n_repeats, inner_cv, search, random_state, quick, wall, backend):
    return {
        "tasks": {d.name: d.task for d in data},
        "notes": {d.name: d.note for d in data},
        "cv": cv,
        "n_repeats": n_repeats,
        "inner_cv": inner_cv,
        "search": search,
        "random_state": random_state,
        "quick": quick,
        "wall_seconds": wall,
        "backend": backend,
        "grids": {name: {m: g for m, g in per_dataset[name][2].items()} for name in per_dataset},
    }
