"""Reading a zip archive from anywhere within limits.

:class:`LoadLimits` bounds what a file may cost before anything is allocated or
extracted; :class:`Archive` is one zip archive (the file, or a zip inside it:
an estimator's ``.keras`` network, the skops part) whose entries are checked
against the limits when it is opened, and read only through
:meth:`Archive.read` and :meth:`Archive.read_json`; :func:`reading` turns what
a damaged file raises deep inside (``zlib.error``, ``KeyError``,
``OverflowError``...) into a :class:`MalformedFileError` that names the file and
the entry.
"""

import collections
import contextlib
import io
import json
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass, fields
from numbers import Integral

from sklearn.utils._param_validation import Interval, validate_parameter_constraints

from ._errors import MalformedFileError, UntrustedContentError

_MiB = 1024**2
_GiB = 1024**3


@dataclass(frozen=True)
class LoadLimits:
    """What one file may cost :func:`skdense.load` (and :func:`skdense.load_network`).

    Every limit is checked before anything is allocated or extracted, on the
    sizes the archive and its arrays declare; a file over a limit raises
    :class:`MalformedFileError` naming the limit, the entry and its size.  The
    defaults are far above what skdense writes for the networks it builds (an
    8-member ensemble of 512-unit layers on 10,000 columns is about 40 MB);
    raise them for a known large model, e.g. ``LoadLimits(max_entry_bytes=4 *
    1024**3, max_total_bytes=8 * 1024**3)``.

    Parameters
    ----------
    max_total_bytes : int, default=2 GiB
        All entries together, uncompressed, counting the archives inside the
        file (each ``.keras`` network and its weights, the skops part).
    max_entry_bytes : int, default=1 GiB
        One entry, uncompressed; also one weight array of a network.
    max_entries : int, default=10,000
        Entries of one archive.
    max_json_bytes : int, default=64 MiB
        One JSON entry (a manifest, an estimator's record, a network's configuration).
    max_json_depth : int, default=100
        Nesting of a JSON entry (lists and objects).
    max_array_bytes : int, default=256 MiB
        One array stored in an estimator's JSON record (``classes_``,
        ``history_``...), its dtype's itemsize times its count; a string array's
        dtype may also be at most 256 characters wider than its longest string.
    max_compression_ratio : int, default=100
        An entry of more than 1 MiB may be at most this many times larger
        uncompressed than compressed (a zip bomb is thousands; a network's
        weights are about 1).
    """

    max_total_bytes: int = 2 * _GiB
    max_entry_bytes: int = 1 * _GiB
    max_entries: int = 10_000
    max_json_bytes: int = 64 * _MiB
    max_json_depth: int = 100
    max_array_bytes: int = 256 * _MiB
    max_compression_ratio: int = 100

    def __post_init__(self):
        constraints = {f.name: [Interval(Integral, 1, None, closed="left")] for f in fields(self)}
        validate_parameter_constraints(
            constraints, {f.name: getattr(self, f.name) for f in fields(self)},
            caller_name="LoadLimits",
        )


def limits_or_default(limits):
    if limits is None:
        return LoadLimits()
    if not isinstance(limits, LoadLimits):
        raise TypeError(
            f"limits must be a skdense.persistence.LoadLimits or None; got "
            f"{type(limits).__name__}."
        )
    return limits


class Budget:
    """The uncompressed bytes a file may still spend, shared by the archives inside it."""

    def __init__(self, limits):
        self.limits = limits
        self.left = limits.max_total_bytes

    def spend(self, n, where):
        if n > self.left:
            raise MalformedFileError(
                f"{where}: the file's entries together hold more than "
                f"{self.limits.max_total_bytes:,} bytes uncompressed (max_total_bytes). If "
                "you trust this file and it is a model this large, raise the limit: "
                "load(path, limits=LoadLimits(max_total_bytes=...))."
            )
        self.left -= n


_MALFORMED = (
    KeyError, IndexError, TypeError, AttributeError, OverflowError, RecursionError,
    EOFError, UnicodeDecodeError, zlib.error, zipfile.BadZipFile, struct.error, OSError,
)


@contextlib.contextmanager
def reading(where, what="it"):
    """Turn what a damaged entry raises while ``what`` is read into a
    :class:`MalformedFileError` naming ``where`` (our own errors pass unchanged)."""
    try:
        yield
    except (MalformedFileError, UntrustedContentError, FileNotFoundError, MemoryError):
        raise
    except ValueError as err:
        if type(err).__module__.startswith("skdense"):
            raise
        raise MalformedFileError(f"{where}: {what} is damaged ({err}).") from None
    except _MALFORMED as err:
        raise MalformedFileError(
            f"{where}: {what} is damaged ({type(err).__name__}: {err})."
        ) from None


_RATIO_FROM = _MiB  # smaller entries may compress as well as they like
_LOCAL_HEADER = b"PK\x03\x04"
_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22


def _check_one_zip(f, where, what):
    """A zip archive from its first byte to its last: the first entry at offset 0 and
    the end-of-archive record (and its comment) ending the file.  Refuses a file
    that is another container with a zip before or after it (an HDF5 model with
    a zip appended loads as HDF5 in Keras)."""
    size = f.seek(0, os.SEEK_END)
    f.seek(0)
    head = f.read(8)
    if head[:4] != _LOCAL_HEADER:
        kind = "an HDF5 file" if head == b"\x89HDF\r\n\x1a\n" else "not a zip archive"
        raise MalformedFileError(
            f"{where} is not {what}: it does not start as a zip archive ({kind})."
        )
    tail_start = max(0, size - _END_RECORD_SIZE - 65535)
    f.seek(tail_start)
    tail = f.read()
    end = tail.rfind(_END_RECORD)
    if end < 0 or end + _END_RECORD_SIZE > len(tail):
        raise MalformedFileError(f"{where} is not {what}: it has no end-of-archive record.")
    (comment_length,) = struct.unpack("<H", tail[end + 20:end + 22])
    after = len(tail) - end - _END_RECORD_SIZE - comment_length
    if after != 0:
        raise MalformedFileError(
            f"{where} is not {what}: {after} bytes follow the zip archive (another file "
            "appended to it)."
        )
    f.seek(0)


class Archive:
    """One zip archive, its entries checked against ``limits`` when it is opened.

    Parameters
    ----------
    source : bytes or binary file
        The archive: the user's file (:func:`open_file`) or an entry of another
        archive, as bytes.
    where : str
        How errors name it: the user's path, then the entries leading to it.
    what : str
        What it should be ("a skdense file", "a Keras .keras file"...), for errors.
    budget : Budget
        The bytes the whole file may still spend; opening spends this archive's.
    """

    def __init__(self, source, where, what, budget):
        self.where, self.limits = where, budget.limits
        self._file = io.BytesIO(source) if isinstance(source, bytes) else source
        try:
            self._open(what, budget)
        except BaseException:
            self._file.close()
            raise

    def _open(self, what, budget):
        where = self.where
        _check_one_zip(self._file, where, what)
        with reading(where, "the zip archive"):
            self._zip = zipfile.ZipFile(self._file)
            infos = self._zip.infolist()
        limits = self.limits
        if len(infos) > limits.max_entries:
            raise MalformedFileError(
                f"{where} holds {len(infos):,} entries; the limit is "
                f"{limits.max_entries:,} (max_entries)."
            )
        counts = collections.Counter(info.filename for info in infos)
        duplicates = sorted(n for n, count in counts.items() if count > 1)
        if duplicates:
            raise MalformedFileError(
                f"{where} holds the entries {duplicates} more than once; zip tools read "
                "the first, others the last. The file was altered; nothing was loaded."
            )
        for info in infos:
            if info.flag_bits & 0x1:
                raise MalformedFileError(f"{where}: {info.filename} is encrypted.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise MalformedFileError(
                    f"{where}: {info.filename} uses compression method {info.compress_type}; "
                    "skdense files use stored or deflated entries."
                )
            if info.file_size > limits.max_entry_bytes:
                raise MalformedFileError(
                    f"{where}: {info.filename} holds {info.file_size:,} bytes uncompressed; "
                    f"the limit is {limits.max_entry_bytes:,} (max_entry_bytes). If you "
                    "trust this file, raise it: load(path, limits=LoadLimits(max_entry_bytes=...))."
                )
            if (info.file_size > _RATIO_FROM
                    and info.file_size > limits.max_compression_ratio * info.compress_size):
                raise MalformedFileError(
                    f"{where}: {info.filename} holds {info.file_size:,} bytes in "
                    f"{info.compress_size:,} compressed, more than "
                    f"{limits.max_compression_ratio} times (max_compression_ratio): a zip "
                    "bomb, or data skdense does not write. Nothing was extracted."
                )
            budget.spend(info.file_size, f"{where}: {info.filename}")
        self._infos = {info.filename: info for info in infos}

    @property
    def names(self):
        return set(self._infos)

    def read(self, name, what=None):
        """The entry's bytes, never more than its declared size (a lying header
        fails its CRC); a missing entry is a :class:`MalformedFileError`."""
        where = f"{self.where}: {name}"
        info = self._infos.get(name)
        if info is None:
            raise MalformedFileError(
                f"{self.where} has no {name}: it is not {what or 'a file skdense wrote'}."
            )
        with reading(where), self._zip.open(info) as f:
            data = f.read(info.file_size + 1)
            if len(data) != info.file_size:
                raise MalformedFileError(
                    f"{where} holds {len(data):,} bytes, not the {info.file_size:,} its "
                    "header declares."
                )
            return data

    def open_member(self, name, what=None):
        """The entry as a file (seekable; read as it is used): an archive inside
        this one is opened with :class:`Archive` without reading it whole."""
        if name not in self._infos:
            self.read(name, what)  # raises, naming what is missing
        with reading(f"{self.where}: {name}"):
            return self._zip.open(self._infos[name])

    def raw(self):
        """The whole archive's bytes (what Keras is given to load, once checked)."""
        with reading(self.where):
            self._file.seek(0)
            return self._file.read()

    def read_json(self, name, what=None):
        """The entry parsed as JSON, within ``max_json_bytes`` and ``max_json_depth``."""
        where = f"{self.where}: {name}"
        info = self._infos.get(name)
        if info is not None and info.file_size > self.limits.max_json_bytes:
            raise MalformedFileError(
                f"{where} holds {info.file_size:,} bytes of JSON; the limit is "
                f"{self.limits.max_json_bytes:,} (max_json_bytes)."
            )
        return parse_json(self.read(name, what), where, self.limits)

    def close(self):
        self._zip.close()
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def parse_json(data, where, limits):
    try:
        value = json.loads(data)
    except RecursionError:
        raise MalformedFileError(
            f"{where}: its JSON nests deeper than {limits.max_json_depth} "
            "(max_json_depth)."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise MalformedFileError(f"{where} is not JSON ({err}).") from None
    depth = _depth(value)
    if depth > limits.max_json_depth:
        raise MalformedFileError(
            f"{where}: its JSON nests {depth} deep; the limit is "
            f"{limits.max_json_depth} (max_json_depth)."
        )
    return value


def _depth(value):
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((v, depth + 1) for v in node)
    return deepest


def open_file(path, what, limits):
    """The user's file at ``path``, open for reading, once it is a file within
    ``limits.max_total_bytes`` (it is read entry by entry, never whole)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise MalformedFileError(f"{path} is a directory, not {what}.")
    f = open(path, "rb")
    size = os.fstat(f.fileno()).st_size
    if size > limits.max_total_bytes:
        f.close()
        raise MalformedFileError(
            f"{path} is {size:,} bytes; the limit is {limits.max_total_bytes:,} "
            "(max_total_bytes)."
        )
    return f
