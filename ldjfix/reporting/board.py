"""The live progress display of a batch: one line per file, redrawn in place on a terminal.

It is an event sink: it keeps, per file, the latest round, records settled (accepted +
quarantined) out of the total, API calls and state, and redraws the block of lines with ANSI
cursor moves, at most every ``interval`` seconds. Only used when stderr is a terminal; pipes
and CI logs get the event log instead.

Rows are fitted to the terminal on every draw (:mod:`ldjfix.reporting.screen`): columns that
matter least go first (API calls, then object type, then round), a long file name is cut in the
middle, and a row never wraps, so moving the cursor up by the rows drawn always lands on the
first row. A batch with more files than the terminal has lines shows the running ones first
and "… and N more". A resize (``SIGWINCH``) is taken at the next draw.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ldjfix.ldjson.printable import safe
from ldjfix.reporting.screen import Viewport, cells, fit, fit_middle

_UP = "\x1b[{n}A"
_CLEAR = "\r\x1b[2K"
_CLEAR_BELOW = "\x1b[J"
_GAP = "  "


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

    def cells(self, *, short: bool = False) -> dict[str, str]:
        """The row's columns as text, by name (``short``: numbers without their labels)."""
        settled = ""
        if self.settled is not None:
            of = f"/{self.records:,}" if self.records is not None else ""
            settled = f"{self.settled:,}{of}" if short else f"settled {self.settled:,}{of}"
        return {
            "file": safe(self.file),
            "type": self.object_type,
            "round": f"round {self.round}" if self.round is not None else "",
            "settled": settled,
            "calls": f"{self.api_calls:,} calls" if self.api_calls is not None else "",
            "state": self.state,
        }


_NAMES = ("file", "type", "round", "settled", "calls", "state")
# from the widest layout to the narrowest: the columns given up, and whether labels go
_LAYOUTS: tuple[tuple[tuple[str, ...], bool], ...] = (
    ((), False),
    (("calls",), False),
    (("calls", "type"), False),
    (("calls", "type", "round"), False),
    (("calls", "type", "round"), True),
)
_MIN_FILE = 16


def layout(rows: Sequence[_Row], columns: int) -> list[str]:
    """Each row as one line of at most ``columns`` cells, columns aligned across rows."""
    for dropped, short in _LAYOUTS:
        texts = [row.cells(short=short) for row in rows]
        names = [n for n in _NAMES if n not in dropped]
        widths = {n: max((cells(t[n]) for t in texts), default=0) for n in names}
        fixed = sum(widths[n] + len(_GAP) for n in names if n != "file")
        if fixed + min(widths["file"], _MIN_FILE) <= columns:
            break
    file_width = max(1, min(widths["file"], columns - fixed))
    lines = []
    for text in texts:
        parts = [fit_middle(text["file"], file_width).ljust(file_width)]
        parts += [text[n].ljust(widths[n]) for n in names if n != "file"]
        lines.append(fit(_GAP.join(parts).rstrip(), columns))
    return lines


class ProgressBoard:
    """Per-file progress lines on a terminal, fed by events."""

    def __init__(
        self,
        stream: TextIO,
        files: Sequence[tuple[str, str]],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
        viewport: Viewport | None = None,
    ) -> None:
        self._stream = stream
        self._rows = {name: _Row(name, kind) for name, kind in files}
        self.viewport = viewport if viewport is not None else Viewport(stream)
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
                or self.viewport.resized
                or self._clock() - self._last >= self._interval
            ):
                self._draw()

    def watch(self) -> None:
        """Track the terminal's resizes until :meth:`close`."""
        self.viewport.watch()

    def close(self) -> None:
        """Draw the final state once more (every row, now that nothing moves); stop tracking."""
        with self._lock:
            self._draw(final=True)
        self.viewport.unwatch()

    def _draw(self, *, final: bool = False) -> None:
        self.viewport.take_resize()
        columns, height = self.viewport.size()
        rows = list(self._rows.values())
        shown, more = (rows, "") if final else _visible(rows, max(1, height - 2))
        lines = layout(shown, max(1, columns - 1))
        if more:
            lines.append(fit(more, max(1, columns - 1)))
        out = [_UP.format(n=self._drawn)] if self._drawn else []
        out += [_CLEAR + line + "\n" for line in lines]
        out.append(_CLEAR_BELOW)  # rows the last draw had and this one has not (or a resize left)
        self._stream.write("".join(out))
        self._stream.flush()
        self._drawn = 0 if final else len(lines)
        self._last = self._clock()


_ACTIVE = ("running", "waiting")


def _visible(rows: list[_Row], room: int) -> tuple[list[_Row], str]:
    """The rows that fit in ``room`` lines (running ones first, then waiting), and the rest."""
    if len(rows) <= room:
        return rows, ""
    rank = [_ACTIVE.index(r.state) if r.state in _ACTIVE else 2 for r in rows]
    order = sorted(range(len(rows)), key=lambda i: rank[i])
    kept = max(0, room - 1)
    rest = [rows[i] for i in order[kept:]]
    counts = {
        "running": sum(r.state == "running" for r in rest),
        "waiting": sum(r.state == "waiting" for r in rest),
        "finished": sum(r.state not in _ACTIVE for r in rest),
    }
    said = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    return [rows[i] for i in sorted(order[:kept])], f"… and {len(rest)} more files: {said}"


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
