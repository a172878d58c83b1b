"""The journal: an append-only record of finished jobs that survives any interruption.

One JSON object a line. The first line describes the run (its settings, see
``_identity``); every further line is one finished job (or, with a learning
curve, one finished point of it), written the moment it finishes and synced to
disk (``os.fsync``) before the next job is reported::

    {"crc32":"5f0e2a9c","record":{"kind":"run","format":3,"settings":{...},...}}
    {"crc32":"0b1d77e4","record":{"kind":"job","key":{...},"row":{...}}}
    {"crc32":"7a0c21f3","record":{"kind":"curve","key":{...,"fraction":0.25,...},"row":{...}}}

``crc32`` is the CRC-32 of the bytes of ``record`` exactly as written. A job's
``key`` is its identity (``KEY``): dataset, model, outer fold, seed, the digest
of the model's configuration and the digest of the dataset's values.

What a line may be, and what happens to it (the one rule, in :func:`parse`):

* A last line without its newline is what a process killed in the middle of a
  write (``kill -9``, a power cut) leaves: it is ignored and cut off when the
  journal is opened again. Lines are only ever appended, so no other line can be
  torn.
* Every other line must be a record: its checksum right, its JSON an object of
  a known kind with every field of the right type (a row's scores are numbers,
  NaN included). A line that is not stops the reading with
  :class:`MalformedJournal`, which names the file and the line: nothing but an
  edit or another program makes one, and what else it changed cannot be known.
* A job record is reused only when it is this run's and sound. One whose data
  digest or configuration is not the run's (a line of another run) is set
  aside; one whose row contradicts its key (another model, fold, ...) or whose
  job is on another line too (neither copy is trusted) is damaged and set aside.
  Their jobs run again; opening the journal appends a ``set_aside`` record that
  lists those lines and why, so they are reported once and the rerun's line is
  not taken for another copy.

Floats are written with Python's ``repr`` (NaN as ``NaN``), so a row read back
is bit for bit the row that was written.
"""

import json
import os
import zlib
from dataclasses import dataclass, field

from . import _row
from ._fs import fsync_dir

FORMAT = 3  # 3: rows carry cost columns; ok jobs' outer-test predictions are saved
KEY = ("dataset", "model", "fold", "seed", "config", "data")
"""The fields of a job's key, in the order of the key tuple."""
_KEY_KINDS = {"dataset": "text", "model": "text", "fold": "an integer", "seed": "an integer",
              "config": "text", "data": "text", "fraction": "a number"}
CURVE_KEY = ("dataset", "model", "fold", "fraction", "seed", "config", "data")
"""The fields of a learning-curve point's key: its job's key and the fraction of its rows."""
_PREFIX = b'{"crc32":"'
_MIDDLE = b'","record":'
_START_OVER = "start over (skdense compare --overwrite, or delete the file)"


class JournalMismatch(ValueError):
    """The journal was written by a run with other settings; it cannot be resumed.

    Attributes
    ----------
    setting : str
        The first setting that differs (``random_state``, ``cv``, ``models``, ...).
    where : tuple
        Inside a nested setting, the keys that lead to the difference
        (``("iris", "dense")`` for ``configs``).
    journal_value, value
        Its value in the journal's run and in this one.
    """

    def __init__(self, path, setting, journal_value, value, where=()):
        self.path, self.setting, self.where = path, setting, tuple(where)
        self.journal_value, self.value = journal_value, value
        inner = f" for {'/'.join(map(str, self.where))}" if self.where else ""
        super().__init__(
            f"the journal {path} belongs to another run: {setting} differs{inner} "
            f"(journal: {_short(journal_value)}; this run: {_short(value)})."
        )


class MalformedJournal(ValueError):
    """A complete line of the journal is not a record skdense writes; the run stops.

    Attributes
    ----------
    path : str
    line : int
        The line, counted from 1 (the run's header).
    problem : str
        What is wrong with it, in a few words.
    """

    def __init__(self, path, line, problem):
        self.path, self.line, self.problem = path, line, problem
        remedy = ("Delete that line to run its job again, or " if line > 1
                  else "It cannot be resumed: ")
        super().__init__(f"the journal {path} is malformed at line {line}: {problem}. "
                         f"{remedy}{_START_OVER}.")


class _Bad(Exception):
    """What is wrong with one line (caught in :func:`parse`, which adds the file and line)."""


def _short(value, limit=120):
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(value):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} cannot be written to the journal")


def encode(record):
    """One journal line (bytes, newline included) holding ``record``."""
    body = json.dumps(record, separators=(",", ":"), default=_plain).encode()
    return b"%s%08x%s%s}\n" % (_PREFIX, zlib.crc32(body), _MIDDLE, body)


def _record(line):
    """The record (a dict) of one complete line without its newline; ``_Bad`` if there is none."""
    n = len(_PREFIX)
    crc = line[n: n + 8]
    if not (line.startswith(_PREFIX) and line[n + 8: n + 8 + len(_MIDDLE)] == _MIDDLE
            and line.endswith(b"}") and len(crc) == 8
            and all(c in b"0123456789abcdef" for c in crc)):
        raise _Bad('it is not a journal line ({"crc32":"...","record":{...}})')
    body = line[n + 8 + len(_MIDDLE): -1]
    if int(crc, 16) != zlib.crc32(body):
        raise _Bad("its checksum does not match its contents (the line was changed after "
                   "it was written)")
    try:
        record = json.loads(body)
    except ValueError as exc:
        raise _Bad(f"its record is not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise _Bad(f"its record is {_row.shown(record)}, not an object")
    return record


def decode(line):
    """The record of one complete line (without its newline), or None if it is not one."""
    try:
        return _record(line)
    except _Bad:
        return None


def _fields(record, names, what):
    """``_Bad`` unless ``record`` holds exactly the fields ``names``."""
    for name in names:
        if name not in record:
            raise _Bad(f"its {what} has no {name!r}")
    for name in record:
        if name not in names:
            raise _Bad(f"its {what} has a field {name!r} that a {what} does not have")


def _header(record):
    if record.get("kind") != "run":
        raise _Bad(f"the first line is not the run's header (its record is of kind "
                   f"{_row.shown(record.get('kind'))})")
    if not isinstance(record.get("settings"), dict):
        raise _Bad("the run's header has no settings")
    return record


def _job(record, names=KEY, problem=_row.problem, what="job record"):
    """``(key tuple, row)`` of a job record; ``_Bad`` if a field is missing or of a wrong type.

    With ``names=CURVE_KEY`` and ``problem=_row.curve_problem``: of a learning-curve point.
    """
    _fields(record, ("kind", "key", "row"), what)
    key = record["key"]
    if not isinstance(key, dict):
        raise _Bad(f"its key is {_row.shown(key)}; expected an object")
    _fields(key, names, "key")
    for name in names:
        found = _row.wrong_type("its key's", name, key[name], _KEY_KINDS[name])
        if found:
            raise _Bad(found)
    found = problem(record["row"])
    if found:
        raise _Bad(found)
    return tuple(key[name] for name in names), record["row"]


def _curve(record):
    """``(key tuple, row)`` of a learning-curve record (kind ``curve``)."""
    return _job(record, CURVE_KEY, _row.curve_problem, "curve record")


def _settled(record, number, job_lines):
    """The lines a ``set_aside`` record lists (earlier job lines); ``_Bad`` if it is not one."""
    _fields(record, ("kind", "lines"), "set_aside record")
    lines = record["lines"]
    if not (isinstance(lines, list) and all(
            isinstance(item, list) and len(item) == 2 and _row.KINDS["an integer"](item[0])
            and isinstance(item[1], str) for item in lines)):
        raise _Bad("its set_aside record's 'lines' is not a list of [line, reason]")
    for line, _ in lines:
        if line not in job_lines:
            raise _Bad(f"its set_aside record lists line {line}, which is not an earlier job line")
    return {line for line, _ in lines}


@dataclass(frozen=True)
class SetAside:
    """A job line that is not reused: its job runs again."""

    line: int
    reason: str
    damaged: bool  # a duplicate, or a row that contradicts its key; else another run's line


def _of_another_run(key, settings):
    """Why the job of ``key`` is not one of the run described by ``settings``; None if it is."""
    dataset, model, config, data = key["dataset"], key["model"], key["config"], key["data"]
    digests = settings.get("data") if isinstance(settings.get("data"), dict) else {}
    if dataset not in digests:
        return f"other data: dataset {dataset!r} is not in this run"
    if digests[dataset] != data:
        return (f"other data: its data digest {data} is not this run's {digests[dataset]} for "
                f"{dataset!r}")
    configs = settings.get("configs") if isinstance(settings.get("configs"), dict) else {}
    theirs = configs.get(dataset) if isinstance(configs.get(dataset), dict) else {}
    if model not in theirs:
        return f"another run: model {model!r} is not compared on {dataset!r} in this run"
    if theirs[model] != config:
        return (f"another configuration: {model!r} on {dataset!r} has configuration {config}, "
                f"this run's is {theirs[model]}")
    return None


def _contradiction(key, row, settings):
    """How ``row`` contradicts its key or the run's task for its dataset; None if it does not."""
    for name in ("dataset", "model", "fold", "seed", "fraction"):
        if name in row and name in key and row[name] != key[name]:
            return (f"contradicts its key: the row's {name} is {_row.shown(row[name])}, the "
                    f"key's {_row.shown(key[name])}")
    tasks = settings.get("tasks") if isinstance(settings.get("tasks"), dict) else {}
    task = tasks.get(key["dataset"])
    if task is not None and "task" in row and row["task"] != task:
        return (f"contradicts the run: the row's task is {_row.shown(row['task'])}, the run's "
                f"{_row.shown(task)} for {key['dataset']!r}")
    return None


def _sort_jobs(settings, jobs, names=KEY):
    """``(reused [(key, row)], set aside [SetAside])`` of ``jobs`` ``[(line, key, row)]``.

    ``names`` are the fields of the keys: ``KEY``, or ``CURVE_KEY`` for learning-curve points.
    """
    aside = {}
    for number, key, row in jobs:
        named = dict(zip(names, key))
        foreign = _of_another_run(named, settings)
        if foreign:
            aside[number] = SetAside(number, foreign, damaged=False)
            continue
        contradiction = _contradiction(named, row, settings)
        if contradiction:
            aside[number] = SetAside(number, contradiction, damaged=True)
    lines = {}
    for number, key, _ in jobs:
        if number not in aside:
            lines.setdefault(key, []).append(number)
    for key, numbers in lines.items():
        if len(numbers) > 1:
            where = " and ".join(map(str, numbers))
            what = "the job" if names == KEY else f"the learning-curve point ({key[3]:g})"
            for number in numbers:
                aside[number] = SetAside(
                    number, f"duplicate: {what} {key[0]}/{key[1]}/fold {key[2]} is on lines "
                    f"{where}", damaged=True)
    reused = [(key, row) for number, key, row in jobs if number not in aside]
    return reused, [aside[n] for n in sorted(aside)]


@dataclass
class JournalContents:
    """What a journal holds: the run's header, the jobs to reuse, and what was set aside."""

    path: str = ""
    header: dict = None
    jobs: list = field(default_factory=list)  # [(key tuple, row dict)] reused, in file order
    curve: list = field(default_factory=list)  # [(CURVE_KEY tuple, row)]: learning-curve points
    set_aside: list = field(default_factory=list)  # [SetAside], lines not reused (jobs rerun)
    settled: int = 0  # lines set aside by an earlier opening (listed in a set_aside record)
    torn: bool = False  # a last line without its newline (an interrupted write)
    valid_bytes: int = 0  # length of the file up to the end of its last complete line

    @property
    def damaged(self):
        """How many lines are set aside as damaged (a job twice, a row against its key)."""
        return sum(a.damaged for a in self.set_aside)

    @property
    def foreign(self):
        """How many lines are set aside as another run's (other data or configuration)."""
        return sum(not a.damaged for a in self.set_aside)

    def describe(self):
        """One sentence on the lines set aside (their count, kinds and first reasons); or ""."""
        if not self.set_aside:
            return ""
        kinds = []
        if self.foreign:
            kinds.append(f"{self.foreign} of other data or another configuration")
        if self.damaged:
            kinds.append(f"{self.damaged} damaged (a job recorded twice, or a row that "
                         "contradicts its key)")
        shown = "; ".join(f"line {a.line}: {a.reason}" for a in self.set_aside[:3])
        more = f"; {len(self.set_aside) - 3} more" if len(self.set_aside) > 3 else ""
        return (f"{len(self.set_aside)} line(s) of the journal {self.path} set aside, their "
                f"jobs run again: {', '.join(kinds)} ({shown}{more}).")


def parse(data, path="journal"):
    """Read journal bytes into :class:`JournalContents`, by the rule of the module docstring.

    Raises :class:`MalformedJournal` at the first complete line that is not a
    record, and ``ValueError`` for a journal of another format.
    """
    out = JournalContents(path=os.fspath(path))
    end = data.rfind(b"\n") + 1
    out.valid_bytes = end
    out.torn = end < len(data)
    jobs, curve, settled = [], [], set()  # [(line, key, row)]; lines listed by set_aside records
    for number, line in enumerate(data[:end].split(b"\n")[:-1], 1):
        try:
            record = _record(line)
            kind = record.get("kind")
            if number == 1:
                out.header = _header(record)
                if record.get("format") != FORMAT:
                    raise ValueError(
                        f"the journal {out.path} was written by another version of skdense "
                        f"(journal format {_row.shown(record.get('format'))}; this version "
                        f"reads format {FORMAT}) and cannot be resumed; {_START_OVER}."
                    )
            elif kind == "job":
                jobs.append((number, *_job(record)))
            elif kind == "curve":
                curve.append((number, *_curve(record)))
            elif kind == "set_aside":
                settled |= _settled(record, number, {n for n, _, _ in jobs + curve})
            elif kind == "run":
                raise _Bad("a second run header (two journals joined into one?)")
            else:
                raise _Bad(f"its record is of kind {_row.shown(kind)}; expected 'job', "
                           "'curve' or 'set_aside'")
        except _Bad as bad:
            raise MalformedJournal(out.path, number, str(bad)) from None
    out.settled = len(settled)
    settings = out.header["settings"] if out.header is not None else {}
    out.jobs, aside = _sort_jobs(settings, [j for j in jobs if j[0] not in settled])
    out.curve, aside_curve = _sort_jobs(settings, [c for c in curve if c[0] not in settled],
                                        CURVE_KEY)
    out.set_aside = sorted(aside + aside_curve, key=lambda a: a.line)
    return out


def _open_flags(extra=0):
    return extra | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def read_journal(path):
    """The contents of the journal at ``path`` (:class:`JournalContents`); it is not changed.

    A journal that is a symbolic link is refused (``ValueError``), never followed.
    """
    try:
        fd = os.open(path, _open_flags(os.O_RDONLY))
    except OSError as exc:
        raise ValueError(_open_error(path, exc)) from None
    with os.fdopen(fd, "rb") as fh:
        return parse(fh.read(), path)


def _open_error(path, exc):
    if os.path.islink(path):
        return f"the journal {path} is a symbolic link; refusing to follow it. Remove it."
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return (
            f"cannot open the journal {path}: its folder {parent} does not exist. Create "
            "it first (os.makedirs), or give a journal path in an existing folder."
        )
    return f"cannot open the journal {path}: {exc.strerror or exc}."


class Journal:
    """The journal of one run, open for appending; use :meth:`open`.

    Attributes
    ----------
    path : str
    done : dict
        ``{job key: row}`` of the jobs already in the journal when it was opened.
    curve_done : dict
        ``{CURVE_KEY tuple: row}`` of the learning-curve points already in it.
    contents : JournalContents
        What was read when it was opened: the lines set aside (their jobs run
        again), a torn last line.
    """

    def __init__(self, path, fd, contents):
        self.path, self._fd, self.contents = path, fd, contents
        self.done = dict(contents.jobs)  # one line a job: duplicates were set aside
        self.curve_done = dict(contents.curve)

    @classmethod
    def open(cls, path, settings, *, configs=None):
        """Open (or create) the journal of a run with ``settings`` for appending.

        A new or empty journal gets a header line with ``settings`` (and the
        readable ``configs`` behind the digests). An existing one must have been
        written with equal settings, or :class:`JournalMismatch` names the first
        setting that differs; a malformed one raises :class:`MalformedJournal`.
        A torn last line is cut off, and the lines set aside (``contents.set_aside``)
        are listed in a ``set_aside`` record, so that a later opening neither
        reports them again nor counts the rerun's line as a second copy. Only one
        process may hold a journal open (an advisory lock, where the OS has ``flock``).
        """
        path = os.fspath(path)
        settings = json.loads(json.dumps(settings))  # tuples -> lists, as it reads back
        try:
            fd = os.open(path, _open_flags(os.O_RDWR | os.O_CREAT), 0o666)
        except OSError as exc:
            raise ValueError(_open_error(path, exc)) from None
        try:
            _lock(fd, path)
            with os.fdopen(os.dup(fd), "rb") as fh:
                contents = parse(fh.read(), path)
            if contents.header is None:  # empty, or a header torn by a crash
                os.ftruncate(fd, 0)
                contents = JournalContents(path=path)
                header = {"kind": "run", "format": FORMAT, "settings": settings,
                          "configs": configs or {}}
                _append(fd, encode(header))
                contents.header = header
                parent = os.path.dirname(os.path.abspath(path))
                fsync_dir(parent)
            else:
                _check_settings(path, contents.header["settings"], settings)
                if contents.torn:
                    os.ftruncate(fd, contents.valid_bytes)
                    os.fsync(fd)
            os.lseek(fd, 0, os.SEEK_END)
            if contents.set_aside:
                _append(fd, encode({"kind": "set_aside",
                                    "lines": [[a.line, a.reason] for a in contents.set_aside]}))
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, contents)

    def append(self, key, row):
        """Append one finished job and sync it to disk before returning.

        A record the reader would refuse is refused here (``ValueError``), before
        it is written: the line is read back as :func:`parse` reads it.
        """
        self._append("job", key, row)

    def append_curve(self, key, row):
        """Append one finished learning-curve point (``CURVE_KEY``), as :meth:`append` a job."""
        self._append("curve", key, row)

    def _append(self, kind, key, row):
        names, check = (KEY, _job) if kind == "job" else (CURVE_KEY, _curve)
        line = encode({"kind": kind, "key": dict(zip(names, key)), "row": row})
        try:
            check(_record(line[:-1]))
        except _Bad as bad:
            raise ValueError(f"cannot write {kind} {key} to the journal {self.path}: {bad}.") from None
        _append(self._fd, line)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _append(fd, line):
    view = memoryview(line)
    while view:  # os.write may write less than asked; the reader ignores a torn tail
        view = view[os.write(fd, view):]
    os.fsync(fd)


def _lock(fd, path):
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise ValueError(
            f"the journal {path} is in use by another running 'skdense compare'; "
            "wait for it to end, or choose another output folder."
        ) from None


def _first_difference(old, new, where=()):
    """``(path of keys, old value, new value)`` of the first difference, or None."""
    if old == new:
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*new, *old]):
            found = _first_difference(old.get(key), new.get(key), (*where, key))
            if found is not None:
                return found
    return where, old, new


def check_not_in_use(path):
    """Raise ValueError if a running process holds the journal at ``path`` open (its lock)."""
    try:
        fd = os.open(path, _open_flags(os.O_RDONLY))
    except OSError:
        return  # missing, or a link (removing a link does not touch a live journal)
    try:
        _lock(fd, path)
    finally:
        os.close(fd)


def _check_settings(path, old, new):
    found = _first_difference(old, new)
    if found is not None:
        where, a, b = found
        raise JournalMismatch(path, where[0], a, b, where=where[1:])

