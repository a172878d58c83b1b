"""The output folder of a run: checked before any work, written atomically, links not followed.

``OutputFolder(path)`` creates the folder and proves it writable (a probe file is
created, synced and removed) before a single job runs, so a bad ``--output``
fails in a second, not after hours. Every file is written through
:func:`~skdense.compare._fs.atomic_open`: to a temporary file in the same folder, synced, then renamed
over its final name with ``os.replace``. A reader never sees half a file, an
interruption leaves the previous version intact, and a symbolic link planted at
the final name is replaced by the new file, never followed to overwrite what it
points to.

What the folder holds:

``journal.jsonl``
    One line per finished job, appended as each finishes (``_journal``).
``results.csv``, ``results.json``, ``compare.png``, ``cost_frontier.png``, ``report.html``
    The finished result (``FINAL``); with a learning curve, ``learning_curve.csv``
    and ``learning_curve.png`` too. ``report.html`` (``_report``) embeds every
    plot the run wrote (``CompareResult.plots``).
``predictions/``
    One ``.npz`` file per finished ``ok`` job: its outer-test predictions
    (``_predictions``), written before the job's journal line.
``results.partial.csv``, ``results.partial.json``
    What had finished when a run was interrupted (``PARTIAL``); removed when the
    run is completed.
"""

import os
import tempfile

from ._fs import atomic_open, fsync_dir
from ._journal import check_not_in_use

JOURNAL = "journal.jsonl"
PREDICTIONS = "predictions"  # the jobs' outer-test predictions (``_predictions``)
FINAL = ("results.csv", "results.json", "compare.png", "cost_frontier.png", "report.html",
         "learning_curve.csv", "learning_curve.png")
PARTIAL = ("results.partial.csv", "results.partial.json")

class OutputFolder:
    """The folder a command-line run writes to, checked writable when created.

    Parameters
    ----------
    path : str or path-like
        Created (with its parents) if missing.

    Raises
    ------
    ValueError
        With a one-line message, when the folder cannot be created or written.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        what = f"cannot write to the output folder {self.path}"
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ValueError(f"{what}: it is a file, not a folder. Choose a folder.")
        try:
            os.makedirs(self.path, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".skdense-write-test.", dir=self.path)
            try:
                os.write(fd, b"skdense")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ValueError(f"{what}: {reason}. Choose a folder you can write to.") from None

    def __repr__(self):
        return f"OutputFolder({self.path!r})"

    @property
    def journal(self):
        """The path of the run's journal (``journal.jsonl``)."""
        return os.path.join(self.path, JOURNAL)

    def _present(self, names):
        # lexists: a dangling or planted symbolic link counts as present
        return [n for n in names if os.path.lexists(os.path.join(self.path, n))]

    def finished(self):
        """Names of the finished-result files present (``results.csv``, ...)."""
        return self._present(FINAL)

    def has_journal(self):
        return bool(self._present([JOURNAL]))

    @property
    def predictions(self):
        """The folder of the jobs' saved predictions (``predictions/``)."""
        return os.path.join(self.path, PREDICTIONS)

    def clear(self):
        """Remove the journal, the predictions, the finished and the partial result.

        Links are removed, not their targets; in ``predictions/`` only the
        ``.npz`` files a run writes are removed (and the folder, once empty).
        Refused (ValueError) while another process is writing the journal.
        """
        check_not_in_use(self.journal)
        for name in self._present((JOURNAL, *FINAL, *PARTIAL)):
            os.unlink(os.path.join(self.path, name))
        folder = self.predictions
        if os.path.islink(folder):
            os.unlink(folder)
        elif os.path.isdir(folder):
            for name in os.listdir(folder):
                if name.endswith(".npz") or (name.startswith(".") and name.endswith(".tmp")):
                    os.unlink(os.path.join(folder, name))
            if not os.listdir(folder):
                os.rmdir(folder)
        fsync_dir(self.path)

    def write(self, result, *, plot=True):
        """Write ``result`` atomically; return the paths written.

        A complete result goes to ``results.csv``, (with ``plot``) its figures
        ``compare.png``, ``cost_frontier.png`` and, with a learning curve,
        ``learning_curve.png``, each registered in ``result.plots`` under its
        name; with a learning curve ``learning_curve.csv``; then
        ``results.json`` (which lists the plots) and ``report.html``, which
        embeds every plot of ``result.plots``. Any partial files of an earlier
        interruption are removed. A partial result (``result.info["partial"]``) goes to
        ``results.partial.csv`` and ``results.partial.json`` only, leaving a
        finished result of the folder, if any, untouched.
        """
        partial = bool(result.info.get("partial"))
        csv, js = PARTIAL if partial else FINAL[:2]
        paths = [result.to_csv(os.path.join(self.path, csv))]
        curve = None if partial else result.learning_curve
        if plot and not partial:  # before the JSON, which lists the plots
            figures = [("compare", result.plot), ("cost_frontier", result.plot_costs)]
            if curve is not None and not curve.empty:
                figures.append(("learning_curve", result.plot_learning_curve))
            for name, draw in figures:
                path = draw(os.path.join(self.path, f"{name}.png"))
                result.plots[name] = os.fspath(path)
                paths.append(path)
        if curve is not None:
            with atomic_open(os.path.join(self.path, "learning_curve.csv"), "w") as fh:
                curve.to_csv(fh, index=False)
            paths.append(os.path.join(self.path, "learning_curve.csv"))
        paths.append(result.to_json(os.path.join(self.path, js)))
        if not partial:
            paths.append(result.report(os.path.join(self.path, "report.html")))
            for name in self._present(PARTIAL):
                os.unlink(os.path.join(self.path, name))
        return [os.fspath(p) for p in paths]
