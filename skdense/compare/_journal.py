"""The journal: an append-only record of finished jobs that survives any interruption.

One JSON object a line. The first line describes the run (its settings, see
``_identity``); every further line is one finished job, written the moment it
finishes and synced to disk (``os.fsync``) before the next job is reported::

    {"crc32":"5f0e2a9c","record":{"kind":"run","format":1,"settings":{...},...}}
    {"crc32":"0b1d77e4","record":{"kind":"job","key":{...},"row":{...}}}

``crc32`` is the CRC-32 of the bytes of ``record`` exactly as written. A line
counts only when it is complete (ends in a newline) and its checksum matches, so
a process killed in the middle of a write (``kill -9``, a power cut) can leave at
most a torn last line, which is ignored and cut off when the journal is opened
again; every earlier line is intact, because lines are only ever appended.

Floats are written with Python's ``repr`` (NaN as ``NaN``), so a row read back
is bit for bit the row that was written.
"""

import json
import os
import zlib
from dataclasses import dataclass, field

from ._fs import fsync_dir

FORMAT = 1
_PREFIX = b'{"crc32":"'
_MIDDLE = b'","record":'


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


def decode(line):
    """The record of one complete line (without its newline), or None if it is damaged."""
    n = len(_PREFIX)
    if not (line.startswith(_PREFIX) and line[n + 8: n + 8 + len(_MIDDLE)] == _MIDDLE
            and line.endswith(b"}")):
        return None
    body = line[n + 8 + len(_MIDDLE): -1]
    try:
        if int(line[n: n + 8], 16) != zlib.crc32(body):
            return None
        record = json.loads(body)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


@dataclass
class JournalContents:
    """What a journal holds: the run's header, the finished jobs, and the damage found."""

    header: dict = None
    jobs: list = field(default_factory=list)  # [(key tuple, row dict)], in file order
    damaged: int = 0  # complete lines whose checksum or JSON failed (skipped)
    torn: bool = False  # a last line without its newline (an interrupted write)
    valid_bytes: int = 0  # length of the file up to the end of its last complete line


def job_key(key):
    """The hashable identity of a job from its JSON form."""
    return (key["dataset"], key["model"], key["fold"], key["seed"], key["config"])


def parse(data):
    """Read journal bytes into :class:`JournalContents`."""
    out = JournalContents()
    end = data.rfind(b"\n") + 1
    out.valid_bytes = end
    out.torn = end < len(data)
    for line in data[:end].split(b"\n")[:-1]:
        record = decode(line)
        if record is None:
            out.damaged += 1
        elif record.get("kind") == "run" and out.header is None and not out.jobs:
            out.header = record
        elif record.get("kind") == "job" and out.header is not None:
            out.jobs.append((job_key(record["key"]), record["row"]))
        else:
            out.damaged += 1
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
        return parse(fh.read())


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
    contents : JournalContents
        What was read when it was opened (damage, a torn last line).
    """

    def __init__(self, path, fd, contents):
        self.path, self._fd, self.contents = path, fd, contents
        self.done = {}
        for key, row in contents.jobs:
            self.done.setdefault(key, row)

    @classmethod
    def open(cls, path, settings, *, configs=None):
        """Open (or create) the journal of a run with ``settings`` for appending.

        A new or empty journal gets a header line with ``settings`` (and the
        readable ``configs`` behind the digests). An existing one must have been
        written with equal settings, or :class:`JournalMismatch` names the first
        setting that differs. A torn last line is cut off. Only one process may
        hold a journal open (an advisory lock, where the OS has ``flock``).
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
                contents = parse(fh.read())
            if contents.header is None and contents.jobs == []:
                os.ftruncate(fd, 0)
                contents = JournalContents()
                header = {"kind": "run", "format": FORMAT, "settings": settings,
                          "configs": configs or {}}
                _append(fd, encode(header))
                contents.header = header
                parent = os.path.dirname(os.path.abspath(path))
                fsync_dir(parent)
            else:
                _check_settings(path, contents.header.get("settings", {}), settings)
                if contents.torn:
                    os.ftruncate(fd, contents.valid_bytes)
                    os.fsync(fd)
            os.lseek(fd, 0, os.SEEK_END)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, contents)

    def append(self, key, row):
        """Append one finished job and sync it to disk before returning."""
        record = {"kind": "job", "key": dict(zip(("dataset", "model", "fold", "seed", "config"), key)),
                  "row": row}
        _append(self._fd, encode(record))

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

