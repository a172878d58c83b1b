"""Files written so that a reader never sees half of one: the compare run's file-system primitives.

:func:`atomic_open` writes to a temporary file in the same folder, syncs it and
renames it over its final name; :func:`fsync_dir` makes a rename or a new name
durable.  The journal (``_journal``), the output folder (``_output``) and the
result files (``_result``, ``_plot``) all write through here.
"""

import contextlib
import os
import tempfile

_UMASK = None


def _file_mode():
    """The mode ``open()`` would give a new file (0o666 less the umask); mkstemp gives 0o600."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)  # the only portable way to read the umask ...
        os.umask(_UMASK)  # ... is to set it and put it back
    return 0o666 & ~_UMASK


def fsync_dir(folder):
    """Make a rename or a new name in ``folder`` durable (where the OS allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path, mode="w", encoding="utf-8"):
    """Open a temporary file next to ``path``; on success, sync it and rename it to ``path``.

    On any exception (KeyboardInterrupt included) the temporary file is removed
    and ``path`` is left as it was. ``os.replace`` replaces a symbolic link at
    ``path`` itself, so the file a planted link points to is never written.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        binary = "b" in mode
        with os.fdopen(fd, mode, encoding=None if binary else encoding,
                       newline=None if binary else "") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)
