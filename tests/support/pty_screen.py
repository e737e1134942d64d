"""A real pseudo-terminal of a chosen size, with a VT emulator (pyte) reading what was drawn.

:func:`spawn` starts a command with stdin, stdout and stderr on the pty's child side (so the
program sees a terminal of ``columns`` x ``lines``); :class:`Screen` feeds every byte it reads
to ``pyte`` and answers "what does the screen show now", so tests assert on what a person sees
(no stale half-lines, nothing wrapped), not on escape sequences.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from pathlib import Path

import pyte

_COLOUR = re.compile(rb"\x1b\[[0-9;]*m")


def uncoloured(raw: bytes) -> bytes:
    """The output without its colour codes (what a person reads; cursor moves are kept)."""
    return _COLOUR.sub(b"", raw)


def set_size(fd: int, columns: int, lines: int) -> None:
    """Tell the terminal (and so the process on it, by SIGWINCH) its new size."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))


class Screen:
    """A process on a pty of ``columns`` x ``lines``, and the screen it has drawn so far."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        columns: int = 80,
        lines: int = 24,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stdout: int | None = None,
    ) -> None:
        self.main, child = pty.openpty()
        set_size(child, columns, lines)
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.snapshots: list[list[str]] = []  # the screen after each read
        self.proc = subprocess.Popen(
            list(args), stdin=child, stdout=child if stdout is None else stdout, stderr=child,
            env=env, cwd=cwd, close_fds=True, start_new_session=True,
        )  # fmt: skip
        os.close(child)

    def _pump(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False when the process closed the terminal."""
        ready, _, _ = select.select([self.main], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.main, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        self.raw += chunk
        self.stream.feed(chunk)
        self.snapshots.append(self.rows())
        return True

    def wait_for(self, text: str, timeout: float = 30, *, since: int = 0) -> None:
        """Read until ``text`` was written (after byte ``since``, colour aside), or fail."""
        deadline = time.monotonic() + timeout
        while text.encode() not in uncoloured(bytes(self.raw[since:])):
            left = deadline - time.monotonic()
            assert left > 0, f"no {text!r} in {self.raw.decode(errors='replace')!r}"
            assert self._pump(min(left, 0.2)), f"ended before {text!r}: {self.text()}"

    def type(self, text: str) -> None:
        """Type ``text`` as a person would (a newline is Enter)."""
        os.write(self.main, text.encode())

    def resize(self, columns: int, lines: int = 24) -> None:
        """Resize the terminal (the process gets SIGWINCH); the emulator follows."""
        set_size(self.main, columns, lines)
        self.screen.resize(lines, columns)

    def finish(self, timeout: float = 60) -> int:
        """Read to the end; the exit code."""
        deadline = time.monotonic() + timeout
        while self._pump(0.2):
            assert time.monotonic() < deadline, f"still running: {self.text()}"
        code = self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.main)
        return code

    def kill(self) -> None:
        """Stop the process if it still runs (used in ``finally``)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def rows(self) -> list[str]:
        """The screen's rows, right-trimmed."""
        return [row.rstrip() for row in self.screen.display]

    def text(self) -> str:
        """The screen's non-blank rows, one per line."""
        return "\n".join(row for row in self.rows() if row)
