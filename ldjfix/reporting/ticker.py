"""The live progress line of a single ``ldjfix run`` and its end-of-job summary.

The ticker is an event sink (``ticker(event, **fields)``, the shape :mod:`ldjfix.reporting.events`
uses) that redraws one status line in place on a terminal: round, uploads of the round done,
accepted / quarantined / pending, API calls. It is only attached when stderr is a terminal;
pipes and CI logs get just the summary.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

from ldjfix.loop.outputs import JobReport

_CLEAR = "\r\x1b[2K"


class Ticker:
    """One progress line on a terminal, redrawn at most every ``interval`` seconds."""

    def __init__(
        self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic, interval: float = 0.1
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._interval = interval
        self._last = float("-inf")
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}
        self._drawn = False

    def __call__(self, event: str, /, **fields: Any) -> None:
        """Take one event; redraw when it is time (always at a round's start or end)."""
        with self._lock:
            self._state.update(fields)
            self._state["event"] = event
            if event == "round_start":
                self._state["uploadsDone"] = 0
            if event == "job_end":
                self._clear()
                return
            forced = event in ("round_start", "round_end", "validated")
            if forced or self._clock() - self._last >= self._interval:
                self._draw()

    def _draw(self) -> None:
        self._stream.write(_CLEAR + line_for(self._state))
        self._stream.flush()
        self._drawn = True
        self._last = self._clock()

    def _clear(self) -> None:
        if self._drawn:
            self._stream.write(_CLEAR)
            self._stream.flush()
            self._drawn = False


def line_for(state: dict[str, Any]) -> str:
    """The progress text for what the events said so far."""
    event = state.get("event")
    if event == "job_start":
        return "ldjfix: validating every record locally …"
    if event == "job_resume":
        head = f"resuming after round {state.get('round', 0)}"
    elif event == "validated" or not state.get("round"):
        head = f"validated: {state.get('findings', 0):,} local findings"
    else:
        head = f"round {state['round']}"
        if "uploads" in state:
            head += f" · uploads {state.get('uploadsDone', 0)}/{state['uploads']}"
        if event == "upload_status" and state.get("status") not in ("DONE", "FAILED"):
            head += f" · {state.get('upload')} {state.get('status')}"
    counts = (
        f"accepted {state.get('accepted', 0):,} · quarantined {state.get('quarantined', 0):,}"
        f" · pending {state.get('pending', 0):,}"
    )
    return f"ldjfix: {head} · {counts} · {state.get('apiCalls', 0):,} API calls"


def summary(report: JobReport) -> str:
    """The end-of-job summary for a person (stderr)."""
    doc = report.doc
    c = report.counts
    lines = [
        f"ldjfix: {report.outcome}: {report.message}",
        f"  records {c.records:,}: accepted {c.accepted:,}, quarantined {c.quarantined:,}, "
        f"pending {c.pending:,}",
        f"  local validation: {doc['local'].get('findings', 0):,} findings, "
        f"{doc['local'].get('fixed', 0):,} fixed before upload",
        f"  rounds {report.rounds}, uploads {report.uploads}, API calls {report.api_calls}, "
        f"fixes {doc['fixes']:,}",
    ]
    for entry in doc["perRound"]:
        lines.append(
            f"    round {entry['round']}: {len(entry['uploads'])} upload(s), "
            f"{entry['accepted']:,} accepted, {entry['failed']:,} reported, "
            f"{entry['fixed']:,} fixed ({entry['propagated']:,} by propagation), "
            f"{entry['quarantined']:,} quarantined{_gong_said(entry['uploads'])}"
        )
    lines.append(f"  job folder: {report.job_dir} (report.json, corrected.ldjson, ...)")
    return "\n".join(lines)


def _gong_said(uploads: list[dict[str, Any]]) -> str:
    """What Gong answered the round's uploads, e.g. "; Gong: DONE" or "; Gong: 3 FAILED, 5 DONE"."""
    said = Counter(str(u["status"]) for u in uploads if u.get("status"))
    if not said:
        return ""
    if len(uploads) == 1:
        return f"; Gong: {next(iter(said))}"
    return "; Gong: " + ", ".join(f"{n} {status}" for status, n in sorted(said.items()))
