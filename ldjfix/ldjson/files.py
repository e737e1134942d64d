"""The one output writer: atomic for files, written through for devices, never over an input.

Every output ldjfix writes — ``-o``, ``--rejected``, ``--fixes``, every job-folder file — goes
through :func:`atomic_output`:

* ``-`` is stdout;
* a target that is not a regular file (a device such as ``/dev/null``, a FIFO, ``/dev/stdout``
  or a symlink to ``/proc/self/fd/1``) is **written through**: opened and written, never
  replaced, so a device node survives even when ldjfix runs as root;
* a regular file is written to a temporary file in its folder, flushed, fsynced and moved into
  place with ``os.replace``, so a reader (or a crash) sees the old file or the complete new one;
  a symlink to a regular file stays a symlink (the file it points to is replaced);
* a target that is the same file as a source this process has open (any path, hard link or
  symlink) is refused with exit 2 (:func:`refuse_same_files` says so before any work starts);
* every file-system failure (disk full, file too large, read-only, permissions, a folder) is one
  :class:`~ldjfix.errors.InputProblem` (exit 3), leaving the old file or none.

New files get the permissions the user's umask gives. Opening sources lives in
:mod:`ldjfix.ldjson.sources` (re-exported here for older imports).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.ldjson.sources import (
    IO_BUFFER,
    STDIO,
    is_open_source,
    open_file,
    open_input,
    read_input,
)

__all__ = [
    "STDIO",
    "atomic_output",
    "open_file",
    "open_input",
    "read_input",
    "refuse_overwrite",
    "refuse_same_files",
    "remove_stale_temps",
    "write_bytes_atomic",
    "write_failure",
]

KILL_ENV = "LDJFIX_KILL_IN_WRITE"  # test hook, see _kill_hook
# What atomic_output's mkstemp names look like: ".<target>.<8 of [a-z0-9_]>.tmp"
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
_THROUGH_PREFIXES = ("/dev/", "/proc/")  # magic links: never replaced, always written through
# errors that only a write can raise: the output's fault, whoever's code was running
_WRITE_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS}
_HINTS = {
    errno.ENOSPC: "Free some space (or write elsewhere) and run the command again.",
    errno.EDQUOT: "Free some space (or write elsewhere) and run the command again.",
    errno.EFBIG: "The file system (or a ulimit) caps file sizes; write elsewhere.",
    errno.EROFS: "The file system is read-only; write elsewhere.",
    errno.ENOENT: "Create its folder first, or write elsewhere.",
    errno.EACCES: "Check the permissions of the file and its folder, or write elsewhere.",
    errno.EPERM: "Check the permissions of the file and its folder, or write elsewhere.",
}


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_failure(target: str | os.PathLike[str], exc: OSError) -> InputProblem:
    """The one error for a failed write of ``target``: what happened and what to do (exit 3)."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EISDIR:
        return InputProblem(f"cannot write {target}: it is a folder.", hint="Name a file.")
    if exc.errno == errno.EPIPE:
        return InputProblem(f"cannot write {target}: the reader went away (broken pipe).")
    hint = _HINTS.get(exc.errno or 0, "Nothing was half-written; fix that and run it again.")
    return InputProblem(f"cannot write {target}: {reason}.", hint=hint)


def _refuse_source(target: str | os.PathLike[str], st: os.stat_result) -> None:
    if is_open_source(st):
        raise UsageProblem(
            f"the output {target} is a source this command reads; ldjfix never overwrites "
            "its input.",
            hint="Choose another output path.",
        )


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Write ``path`` safely (``-`` is stdout); on any error the target is left as it was."""
    if os.fspath(path) == STDIO:
        try:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        except OSError as exc:
            raise write_failure("stdout", exc) from None
        return
    target = Path(path)
    try:
        st: os.stat_result | None = os.stat(target)
    except OSError:
        st = None  # no such file yet (or a dangling link): created below
    if st is not None:
        _refuse_source(target, st)
        if stat.S_ISDIR(st.st_mode):
            raise InputProblem(f"cannot write {target}: it is a folder.", hint="Name a file.")
        if not stat.S_ISREG(st.st_mode) or os.fspath(target).startswith(_THROUGH_PREFIXES):
            with _written_through(target) as stream:
                yield stream
            return
    if target.is_symlink():  # keep the link: replace the file it points to
        target = Path(os.path.realpath(target))
    with _replaced(target) as stream:
        yield stream


@contextlib.contextmanager
def _written_through(target: Path) -> Iterator[BinaryIO]:
    """Write into a device, FIFO or stdout link as it is; it is never replaced."""
    try:
        stream = open(target, "ab")  # noqa: SIM115 - append: a shell's >> or > stays as it set it
    except OSError as exc:
        raise write_failure(target, exc) from None
    try:
        with stream:
            yield stream
            stream.flush()
    except OSError as exc:
        if exc.errno in _WRITE_ERRNOS or exc.errno == errno.EPIPE:
            raise write_failure(target, exc) from None
        raise


@contextlib.contextmanager
def _replaced(target: Path) -> Iterator[BinaryIO]:
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise write_failure(target, exc) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb", buffering=IO_BUFFER) as stream:
            yield stream
            stream.flush()
            _kill_hook(target)
            os.fsync(stream.fileno())
        _replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            raise write_failure(target, exc) from None
        raise


def _replace(temp: str, target: Path) -> None:
    try:
        st = os.stat(target)
    except OSError:
        st = None
    if st is not None:  # it appeared (or changed) while we wrote: check it again
        _refuse_source(target, st)
    try:
        os.replace(temp, target)
    except OSError as exc:  # e.g. the target became a folder meanwhile
        raise write_failure(target, exc) from None


def _kill_hook(target: Path) -> None:
    """Test hook: ``LDJFIX_KILL_IN_WRITE=<file name>`` SIGKILLs the process mid-write.

    Used only by the atomic-output tests: the process dies after the new content of the named
    output went to its temporary file and before it is moved into place, as a power cut would
    stop it. The test then finds the old file (or none), never a part of the new one.
    """
    if os.environ.get(KILL_ENV) == target.name:
        os.kill(os.getpid(), signal.SIGKILL)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files :func:`atomic_output` left in ``folder`` when killed mid-write.

    Only for a folder the caller holds (no other writer can be mid-write there): the name
    pattern is ldjfix's own, so files of other programs stay.
    """
    removed = []
    with contextlib.suppress(OSError):  # no folder: nothing left over
        for entry in os.scandir(folder):
            if _TEMP_NAME.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def link_output(existing: Path, target: Path) -> bool:
    """Make ``target`` a second name of the finished file ``existing`` (a hard link, moved into
    place as :func:`atomic_output` moves its file); False when the file system has no links
    here, and nothing changed. Neither name may be written in place afterwards: every writer
    here replaces a file, so the other name keeps what it held."""
    folder = target.parent if str(target.parent) else Path(".")
    temp = folder / f".{target.name}.{os.urandom(4).hex()}.tmp"  # as remove_stale_temps knows
    try:
        os.link(existing, temp)
    except OSError:
        return False
    try:
        _replace(os.fspath(temp), target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return True


def copy_output(existing: Path, target: Path) -> None:
    """Replace ``target`` with a copy of ``existing``, as :func:`atomic_output` replaces a
    file; the kernel copies the bytes (none pass through Python)."""
    with _replaced(target) as stream, open(existing, "rb") as source:
        size, done = os.fstat(source.fileno()).st_size, 0
        reading, writing = source.fileno(), stream.fileno()
        try:
            while done < size and (sent := os.sendfile(writing, reading, done, size - done)):
                done += sent
        except OSError as exc:
            if exc.errno in _WRITE_ERRNOS:
                raise
            done = 0  # no sendfile here: copied the usual way
        if done < size:
            source.seek(done)
            stream.seek(done)
            shutil.copyfileobj(source, stream, IO_BUFFER)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a small file atomically."""
    with atomic_output(path) as stream:
        stream.write(data)


def _identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    if os.fspath(path) == STDIO:
        return None
    try:
        st = os.stat(path)
    except OSError:  # not there yet (or the input is missing: reported when it is read)
        return None
    if not stat.S_ISREG(st.st_mode):
        return None  # devices and FIFOs are written through; /dev/null in and out is harmless
    return st.st_dev, st.st_ino


def refuse_same_files(
    inputs: Iterable[str | os.PathLike[str] | None],
    outputs: Iterable[str | os.PathLike[str] | None],
) -> None:
    """Refuse (exit 2) any output that is the same file as any input, by any path or link."""
    seen: dict[tuple[int, int], str | os.PathLike[str]] = {}
    for given in inputs:
        key = _identity(given) if given is not None else None
        if key is not None:
            seen.setdefault(key, given)  # type: ignore[arg-type]
    for out in outputs:
        key = _identity(out) if out is not None else None
        if key is not None and key in seen:
            source = seen[key]
            same = "" if os.fspath(source) == os.fspath(out) else f" (the same file as {source})"  # type: ignore[arg-type]
            raise UsageProblem(
                f"the output {out} is an input of this command{same}; ldjfix never "
                "overwrites its input.",
                hint="Choose another output path.",
            )


def refuse_overwrite(source: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Refuse an output path that is the source file itself: ldjfix never modifies a source."""
    refuse_same_files([source], [out])
