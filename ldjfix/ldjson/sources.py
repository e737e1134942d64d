"""The one way ldjfix opens a source: it knows what it opened and notices when it changes.

:func:`open_source` looks at what the user named before reading a byte of it:

* a **regular file** is read where it lies; its identity (device, inode, size, mtime, and the
  SHA-256 when asked for) is taken once, and every later read through :func:`open_input`
  checks it, so a file rewritten, truncated or replaced while a job runs stops the job with
  :class:`SourceChanged` (exit 3) instead of mixing two exports;
* a **stream** (``-``, ``/dev/stdin``, a pipe, ``<(...)``, a FIFO, a socket) can be read only
  once, so it is *spooled*: copied once, hashed on the way, into the job folder or a temporary
  file, and from then on the spool is the source of record (readable again, resumable);
* a **terminal** or another **device** is refused with exit 2 and a hint; a missing path or a
  folder is exit 3.

Small inputs (status, rules, schema files) are read whole with :func:`read_input`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.ldjson.identity import Identity, Kind

IO_BUFFER = 1 << 16  # files read or written a line at a time: 64 KiB a system call, not 8 KiB

STDIO = "-"
SourcePath = str | os.PathLike[str]  # a path, or an opened Source (checked on every read)
SPOOL_CHUNK = 1 << 20
_STREAM_PREFIXES = ("/dev/", "/proc/")  # /dev/stdin, /dev/fd/63, /proc/self/fd/0: one read only


@dataclass(frozen=True)
class Source(os.PathLike[str]):
    """A source as opened: the name the user gave, the file of record, its kind and identity.

    ``os.fspath(source)`` is the file of record (the spool for a stream); ``str(source)`` is the
    name the user gave, for messages. Passing a :class:`Source` to :func:`open_input` checks its
    identity on every read.
    """

    given: str
    path: Path
    kind: Kind
    identity: Identity
    spooled: bool = False
    _digest: list[str] = field(default_factory=list, compare=False, repr=False)
    _kept: list[Path] = field(default_factory=list, compare=False, repr=False)

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return self.given

    @property
    def sha256(self) -> str:
        """The SHA-256 (hex) of the content, computed at most once (a spool knows it already)."""
        if not self._digest:
            digest, _ = _hash_file(self)
            self._digest.append(digest)
        return self._digest[0]

    def keep_as(self, target: Path) -> Source:
        """Move a spool to ``target`` (in the same folder tree) and make that the source."""
        if not self.spooled:
            return self
        try:
            os.replace(self.path, target)
            identity = Identity.of(os.stat(target))
        except OSError as exc:
            raise InputProblem(f"cannot keep the copy of {self.given} as {target}: "
                               f"{exc.strerror}.") from None  # fmt: skip
        _OPEN.add(identity, target)
        _OPEN.remove(self.identity, self.path)
        self._kept.append(target)  # open_source forgets it when its block ends
        return replace(self, path=target, identity=identity, _kept=[])


class SourceChanged(InputProblem):
    """A regular source changed while a command was using it (exit 3, the job resumable)."""


class _OpenSources:
    """The files the process is reading as sources, so no output is ever written over one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[int, int], list[Path]] = {}

    def add(self, identity: Identity, path: Path) -> None:
        with self._lock:
            self._held.setdefault((identity.device, identity.inode), []).append(path)

    def remove(self, identity: Identity, path: Path) -> None:
        key = (identity.device, identity.inode)
        with self._lock:
            paths = self._held.get(key, [])
            if path in paths:
                paths.remove(path)
            if not paths:
                self._held.pop(key, None)

    def holds(self, st: os.stat_result) -> bool:
        key = (st.st_dev, st.st_ino)
        with self._lock:
            paths = list(self._held.get(key, ()))
        # a source deleted meanwhile frees its inode for a new file: that one is no source
        return any(_same_key(path, key) for path in paths)


def _same_key(path: Path, key: tuple[int, int]) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == key


_OPEN = _OpenSources()


def is_open_source(st: os.stat_result) -> bool:
    """True when ``st`` is the file of a source this process has open (outputs must not be it)."""
    return _OPEN.holds(st)


def is_stream_name(given: str | os.PathLike[str]) -> bool:
    """True for a name that can be read only once: ``-``, ``/dev/…``, ``/proc/…``, a FIFO."""
    name = os.fspath(given)
    if name == STDIO or name.startswith(_STREAM_PREFIXES):
        return True
    try:
        return not stat.S_ISREG(os.stat(name).st_mode) and not stat.S_ISDIR(os.stat(name).st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def open_source(
    given: str | os.PathLike[str],
    *,
    spool_dir: Path | None = None,
    what: str = "input file",
) -> Iterator[Source]:
    """Open a source for the life of the block: a regular file as it is, a stream spooled.

    The spool goes to ``spool_dir`` (a job folder) or to a temporary file, and is removed at the
    end of the block unless :meth:`Source.keep_as` moved it elsewhere.
    """
    source = _classify(os.fspath(given), spool_dir, what)
    _OPEN.add(source.identity, source.path)
    try:
        yield source
    finally:
        _OPEN.remove(source.identity, source.path)
        for kept in source._kept:
            _OPEN.remove(source.identity, kept)
        if source.spooled:
            with contextlib.suppress(OSError):
                os.unlink(source.path)


def _classify(name: str, spool_dir: Path | None, what: str) -> Source:
    if name == STDIO:
        st = _stat(name, what, fd=0)
        return _spool(name, sys.stdin.buffer, st, spool_dir, what)
    st = _stat(name, what)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise InputProblem(f"{what} {name} is a folder, not a file.", hint="Name a file.")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise _device(name, what, st)
    if stat.S_ISREG(mode) and not name.startswith(_STREAM_PREFIXES):
        return Source(name, Path(name), Kind.FILE, Identity.of(st))
    try:
        stream = open(name, "rb")  # noqa: SIM115 - closed below; a FIFO blocks here for a writer
    except OSError as exc:
        raise InputProblem(f"cannot read {what} {name}: {exc.strerror}.") from None
    with stream:
        return _spool(name, stream, os.fstat(stream.fileno()), spool_dir, what)


def _stat(name: str, what: str, *, fd: int | None = None) -> os.stat_result:
    try:
        return os.fstat(fd) if fd is not None else os.stat(name)
    except FileNotFoundError:
        raise InputProblem(f"{what} {name} does not exist.", hint="Check the path.") from None
    except OSError as exc:
        raise InputProblem(f"cannot read {what} {name}: {exc.strerror}.") from None


def _device(name: str, what: str, st: os.stat_result) -> UsageProblem:
    shown = "stdin" if name == STDIO else name
    if os.isatty(0) and (name == STDIO or os.path.realpath(name) == os.path.realpath("/dev/fd/0")):
        return UsageProblem(
            f"{what} {shown} is a terminal, not LDJSON data.",
            hint="Pipe or redirect a file in (… | ldjfix CMD - …, or - < export.ldjson), "
            "or name the file.",
        )
    return UsageProblem(
        f"{what} {shown} is a device, not a file.",
        hint="Save the data to a file first and name that file.",
    )


def _spool(
    name: str, stream: BinaryIO, st: os.stat_result, spool_dir: Path | None, what: str
) -> Source:
    """Copy a stream once into a spool file (hashing it on the way); the spool is the source."""
    mode = st.st_mode
    device = stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
    if device and (name != STDIO or os.isatty(0)):  # stdin from /dev/null (cron) is empty
        raise _device(name, what, st)
    kind = Kind.STDIN if name == STDIO else _stream_kind(mode, name)
    folder = spool_dir if spool_dir is not None else Path(tempfile.gettempdir())
    try:
        fd, temp = tempfile.mkstemp(prefix=".ldjfix-spool.", suffix=".ldjson", dir=folder)
    except OSError as exc:
        raise InputProblem(
            f"cannot keep a copy of {what} {name} in {folder}: {exc.strerror}.",
            hint="A stream is read once and kept; free space there, or set TMPDIR.",
        ) from None
    import hashlib  # only when a stream is spooled or a run hashes: validate starts without it

    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(SPOOL_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        identity = Identity.of(os.stat(temp))
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise InputProblem(
                f"cannot keep a copy of {what} {name} in {folder}: {exc.strerror}.",
                hint="A stream is read once and kept; free space there, or set TMPDIR.",
            ) from None
        raise
    return Source(name, Path(temp), kind, identity, spooled=True, _digest=[digest.hexdigest()])


def _stream_kind(mode: int, name: str) -> Kind:
    if stat.S_ISSOCK(mode):
        return Kind.SOCKET
    if stat.S_ISFIFO(mode):
        # an anonymous pipe (| or <(...)) is reached through /dev or /proc; a named one is not
        return Kind.PIPE if name.startswith(_STREAM_PREFIXES) else Kind.FIFO
    return Kind.STDIN if name.startswith(_STREAM_PREFIXES) else Kind.FILE


def changed(source: Source, st: os.stat_result | None = None) -> str | None:
    """How ``source`` changed since it was opened, or None when it has not (one ``stat``)."""
    if st is None:
        try:
            st = os.stat(source.path)
        except FileNotFoundError:
            return "it was deleted"
        except OSError as exc:
            return f"it can no longer be read ({exc.strerror})"
    return source.identity.differs(Identity.of(st))


def check_unchanged(source: Source, st: os.stat_result | None = None) -> None:
    """Raise :class:`SourceChanged` (exit 3) when ``source`` is not the file it was."""
    how = changed(source, st)
    if how is not None:
        raise SourceChanged(
            f"the source {source.given} changed while the job ran ({how}).",
            hint="Nothing was lost and nothing was written from the changed file: restore it "
            "(or let the export finish) and run the same command again; a run resumes its job, "
            "or starts afresh from the new file with another --job-dir.",
        )


@contextlib.contextmanager
def open_input(path: str | os.PathLike[str], *, what: str = "input file") -> Iterator[BinaryIO]:
    """Open a source or input for binary reading (``-`` is stdin), with a clear error if not.

    A :class:`Source` is checked before and after the read (and when the read fails part-way),
    so a source that changed is reported as such, never as a damaged file.
    """
    if isinstance(path, Source):
        with _checked(path) as stream:
            yield stream
        return
    if os.fspath(path) == STDIO:
        yield sys.stdin.buffer
        return
    with open_file(path, what=what) as stream:
        yield stream


@contextlib.contextmanager
def _checked(source: Source) -> Iterator[BinaryIO]:
    try:
        stream = open(source.path, "rb", buffering=IO_BUFFER)  # noqa: SIM115 - closed below
    except OSError:
        check_unchanged(source)  # gone or unreadable since it was opened: it changed
        raise
    with stream:
        check_unchanged(source, os.fstat(stream.fileno()))
        try:
            yield stream
        except SourceChanged:
            raise
        except Exception:
            check_unchanged(source)  # a read cut short by a change is the change's fault
            raise
        check_unchanged(source, os.fstat(stream.fileno()))
        check_unchanged(source)


def open_file(path: str | os.PathLike[str], *, what: str = "input file") -> BinaryIO:
    """Open the file ``path`` (never stdin) for binary reading; a clear error if it cannot be."""
    try:
        return open(path, "rb", buffering=IO_BUFFER)  # the caller closes it
    except FileNotFoundError:
        raise InputProblem(f"{what} {path} does not exist.", hint="Check the path.") from None
    except IsADirectoryError:
        raise InputProblem(f"{what} {path} is a folder, not a file.") from None
    except OSError as exc:
        raise InputProblem(f"cannot read {what} {path}: {exc.strerror}.") from None


def read_input(path: str | os.PathLike[str], *, what: str = "input file") -> bytes:
    """Read a small input (a status, rules or schema file) whole."""
    try:
        with open_input(path, what=what) as stream:
            return stream.read()
    except IsADirectoryError:
        raise InputProblem(f"{what} {path} is a folder, not a file.") from None
    except OSError as exc:
        raise InputProblem(f"cannot read {what} {path}: {exc.strerror}.") from None


def _hash_file(source: Source) -> tuple[str, int]:
    import hashlib

    digest = hashlib.sha256()
    size = 0
    with open_input(source) as stream:
        while chunk := stream.read(SPOOL_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def check_source_name(given: str | os.PathLike[str], *, job_dir: object | None) -> None:
    """Refuse (exit 2) a stream source for a job with no ``--job-dir`` to keep its copy in."""
    if job_dir is None and is_stream_name(given):
        name = "stdin" if os.fspath(given) == STDIO else os.fspath(given)
        raise UsageProblem(
            f"the source {name} is a stream (read once), so the job needs a folder to keep "
            "its copy in.",
            hint="Pass --job-dir D; to resume, run the same command again with the same "
            "data (or name D/source.ldjson as FILE).",
        )


def check_readable(given: str | os.PathLike[str], *, what: str = "input file") -> None:
    """Refuse, without reading it, a source that is missing, a folder or a device."""
    name = os.fspath(given)
    if name == STDIO:
        return
    st = _stat(name, what)
    if stat.S_ISDIR(st.st_mode):
        raise InputProblem(f"{what} {name} is a folder, not a file.", hint="Name a file.")
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        raise _device(name, what, st)
