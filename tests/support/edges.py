"""Running ``ldjfix`` as a user would on a hostile machine: a full disk, a read-only folder.

A full disk is ``RLIMIT_FSIZE`` in the child with ``SIGXFSZ`` ignored, so a write past the limit
fails with ``EFBIG`` as ``ENOSPC`` would, without mounting anything. A read-only folder is
``chmod 555``; as root (which ignores permissions) the child also drops the capabilities that
let root write anyway, before it starts ldjfix.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER = 1, 2, 3


def _limits(file_size: int | None, drop_root_powers: bool) -> Callable[[], None]:
    def before_exec() -> None:
        if file_size is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
        if drop_root_powers and os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER):
                libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # gone after exec

    return before_exec


def ldjfix(
    args: Sequence[str],
    *,
    cwd: Path,
    stdin: bytes | None = None,
    file_size: int | None = None,
    read_only: bool = False,
    env: dict[str, str] | None = None,
    pass_fds: tuple[int, ...] = (),
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m ldjfix ARGS`` in ``cwd``; bytes in, bytes out, never a shell."""
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *args],
        cwd=cwd,
        input=stdin,
        pass_fds=pass_fds,
        stdin=stdin
        if isinstance(stdin, int)
        else (None if isinstance(stdin, bytes) else subprocess.DEVNULL),
        capture_output=True,
        env={**os.environ, **(env or {})},
        preexec_fn=_limits(file_size, read_only),
        timeout=timeout,
    )


def one_error_line(err: bytes) -> str:
    """The stderr of a refused command: exactly one ``Error:`` line, never a traceback."""
    text = err.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    errors = [line for line in text.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, text
    return errors[0]
