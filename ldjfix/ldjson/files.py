"""Opening inputs and writing outputs: ``-`` for stdin/stdout, outputs always atomic.

An output is written to a temporary file in the target's folder, flushed, fsynced and moved
into place with ``os.replace``, so a reader (or a crash) sees the old file or the complete new
one, never half of it. New files get the permissions the user's umask gives.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ldjfix.errors import InputProblem, UsageProblem

STDIO = "-"
KILL_ENV = "LDJFIX_KILL_IN_WRITE"  # test hook, see _kill_hook
# What atomic_output's mkstemp names look like: ".<target>.<8 of [a-z0-9_]>.tmp"
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def open_input(path: str | Path, *, what: str = "input file") -> Iterator[BinaryIO]:
    """Open ``path`` for binary reading (``-`` is stdin), with a clear error if it cannot be."""
    if str(path) == STDIO:
        yield sys.stdin.buffer
        return
    with open_file(path, what=what) as stream:
        yield stream


def open_file(path: str | Path, *, what: str = "input file") -> BinaryIO:
    """Open the file ``path`` (never stdin) for binary reading; a clear error if it cannot be."""
    try:
        return open(path, "rb")  # the caller closes it
    except FileNotFoundError:
        raise InputProblem(f"{what} {path} does not exist.", hint="Check the path.") from None
    except IsADirectoryError:
        raise InputProblem(f"{what} {path} is a folder, not a file.") from None
    except OSError as exc:
        raise InputProblem(f"cannot read {what} {path}: {exc.strerror}.") from None


def read_input(path: str | Path, *, what: str = "input file") -> bytes:
    """Read a small input (a status, rules or schema file) whole."""
    with open_input(path, what=what) as stream:
        return stream.read()


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[BinaryIO]:
    """Write ``path`` atomically (``-`` is stdout); on any error the target is left untouched."""
    if str(path) == STDIO:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise InputProblem(f"cannot write {target}: it is a folder.", hint="Name a file.")
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputProblem(f"cannot write {target}: {exc.strerror}.") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            _kill_hook(target)
            os.fsync(stream.fileno())
        _replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _replace(temp: str, target: Path) -> None:
    try:
        os.replace(temp, target)
    except OSError as exc:  # e.g. the target became a folder meanwhile
        raise InputProblem(f"cannot write {target}: {exc.strerror}.") from None


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


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write a small file atomically."""
    with atomic_output(path) as stream:
        stream.write(data)


def refuse_overwrite(source: str | Path, out: str | Path) -> None:
    """Refuse an output path that is the source file itself: ldjfix never modifies a source."""
    if STDIO in (str(source), str(out)):
        return
    try:
        same = os.path.samefile(source, out)
    except OSError:  # the output does not exist yet (or the source is missing: reported later)
        return
    if same:
        raise UsageProblem(
            f"the output {out} is the input file {source}; ldjfix never overwrites its input.",
            hint="Choose another output path with -o.",
        )
