"""The live progress display of a batch: one line per file, redrawn in place on a terminal.

It is an event sink: it keeps, per file, the latest round, records settled (accepted +
quarantined) out of the total, API calls and state, and redraws the block of lines with ANSI
cursor moves, at most every ``interval`` seconds. Only used when stderr is a terminal; pipes
and CI logs get the event log instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

_UP = "\x1b[{n}A"
_CLEAR = "\r\x1b[2K"


@dataclass
class _Row:
    """What the display knows about one file."""

    file: str
    object_type: str
    state: str = "waiting"
    round: int | None = None
    settled: int | None = None
    records: int | None = None
    api_calls: int | None = None

    def text(self, width: int) -> str:
        round_ = f"round {self.round}" if self.round is not None else ""
        settled = ""
        if self.settled is not None:
            of = f"/{self.records}" if self.records is not None else ""
            settled = f"settled {self.settled}{of}"
        calls = f"{self.api_calls} calls" if self.api_calls is not None else ""
        parts = [self.file.ljust(width), self.object_type.ljust(13), round_.ljust(9)]
        parts += [settled.ljust(20), calls.ljust(10), self.state]
        return "  ".join(parts).rstrip()


class ProgressBoard:
    """Per-file progress lines on a terminal, fed by events."""

    def __init__(
        self,
        stream: TextIO,
        files: Sequence[tuple[str, str]],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
    ) -> None:
        self._stream = stream
        self._rows = {name: _Row(name, kind) for name, kind in files}
        self._width = max((len(name) for name, _ in files), default=4)
        self._clock = clock
        self._interval = interval
        self._drawn = 0
        self._last = float("-inf")
        self._lock = threading.Lock()

    def __call__(self, event: str, /, **fields: Any) -> None:
        """Update the file's row from an event and redraw if it is time."""
        row = self._rows.get(str(fields.get("file")))
        if row is None:
            return
        with self._lock:
            _update(row, event, fields)
            if (
                event in ("file_end", "file_skipped")
                or self._clock() - self._last >= self._interval
            ):
                self._draw()

    def close(self) -> None:
        """Draw the final state once more."""
        with self._lock:
            self._draw()

    def _draw(self) -> None:
        out = [_UP.format(n=self._drawn)] if self._drawn else []
        out += [_CLEAR + row.text(self._width) + "\n" for row in self._rows.values()]
        self._stream.write("".join(out))
        self._stream.flush()
        self._drawn = len(self._rows)
        self._last = self._clock()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _update(row: _Row, event: str, fields: dict[str, Any]) -> None:
    """Take what the event says about round, records and calls; events differ in fields."""
    if event == "file_start":
        row.state = "running"
    elif event == "file_skipped":
        row.state = "not started"
    elif event == "file_end":
        row.state = str(fields.get("outcome", "ended"))
    row.round = _int(fields.get("round")) or row.round
    row.records = _int(fields.get("records")) or row.records
    row.api_calls = _int(fields.get("apiCalls")) or row.api_calls
    accepted, quarantined = _int(fields.get("accepted")), _int(fields.get("quarantined"))
    if accepted is not None or quarantined is not None:
        row.settled = (accepted or 0) + (quarantined or 0)
