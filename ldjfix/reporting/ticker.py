"""The live progress line of a single ``ldjfix run`` and its end-of-job summary.

The ticker is an event sink (``ticker(event, **fields)``, the shape :mod:`ldjfix.reporting.events`
uses) that redraws one status line in place on a terminal: round, uploads of the round done,
accepted / quarantined / pending, API calls. It is only attached when stderr is a terminal;
pipes and CI logs get just the summary.

The line is fitted to the terminal's width on every draw (a shorter wording first, then cut with
an ellipsis), so it never wraps and a redraw never leaves half a line behind; a resize
(``SIGWINCH``) is picked up at the next draw, which also clears what the old width left.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

from ldjfix.colour import outcome_style, paint
from ldjfix.ldjson.printable import safe
from ldjfix.loop.outputs import JobReport
from ldjfix.reporting.nextsteps import HowRun, is_command, next_steps, preface, round_note
from ldjfix.reporting.screen import Viewport, cells, fit
from ldjfix.validation.groups import DefectGroups

_CLEAR = "\r\x1b[2K"
_CLEAR_BELOW = "\r\x1b[J"


class Ticker:
    """One progress line on a terminal, redrawn at most every ``interval`` seconds."""

    def __init__(
        self,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
        viewport: Viewport | None = None,
    ) -> None:
        self._stream = stream
        self.viewport = viewport if viewport is not None else Viewport(stream)
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
            forced = event in ("round_start", "round_end", "validated") or self.viewport.resized
            if forced or self._clock() - self._last >= self._interval:
                self._draw()

    def __enter__(self) -> Ticker:
        self.viewport.watch()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Clear the line and stop tracking resizes."""
        with self._lock:
            self._clear()
        self.viewport.unwatch()

    def _draw(self) -> None:
        clear = _CLEAR_BELOW if self.viewport.take_resize() else _CLEAR
        self._stream.write(clear + line_for(self._state, self.viewport.columns()))
        self._stream.flush()
        self._drawn = True
        self._last = self._clock()

    def _clear(self) -> None:
        if self._drawn:
            self._stream.write(_CLEAR)
            self._stream.flush()
            self._drawn = False


def line_for(state: dict[str, Any], width: int | None = None) -> str:
    """The progress text for what the events said so far, in at most ``width`` columns."""
    if width is None:
        return _full(state)
    for wording in (_full, _plain, _medium, _short, _tiny):
        text = wording(state)
        if cells(text) <= width:
            return text
    return fit(_tiny(state), width)


def _full(state: dict[str, Any]) -> str:
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


def _plain(state: dict[str, Any]) -> str:
    """The full line without the program's name and the poll detail (fits 80 columns)."""
    state = {**state, "status": "DONE"} if state.get("event") == "upload_status" else state
    return _full(state).removeprefix("ldjfix: ")


def _medium(state: dict[str, Any]) -> str:
    """Numbers first, labels kept, the fewest words (fits 80 columns with big counts)."""
    event = state.get("event")
    if event == "job_start":
        return "validating every record locally …"
    if event == "job_resume":
        head = f"resumed after round {state.get('round', 0)}"
    elif event == "validated" or not state.get("round"):
        head = f"validated, {state.get('findings', 0):,} found"
    else:
        head = f"round {state['round']}"
        if "uploads" in state:
            head += f" · {state.get('uploadsDone', 0)}/{state['uploads']} uploads"
    return (
        f"{head} · {state.get('accepted', 0):,} accepted · {state.get('quarantined', 0):,} "
        f"quarantined · {state.get('pending', 0):,} pending · {state.get('apiCalls', 0):,} calls"
    )


def _short(state: dict[str, Any]) -> str:
    """Numbers with one-word labels (about 50 columns)."""
    event = state.get("event")
    if event == "job_start":
        return "validating …"
    head = _head_short(state)
    counts = (
        f"ok {state.get('accepted', 0):,} · quar {state.get('quarantined', 0):,}"
        f" · pend {state.get('pending', 0):,}"
    )
    return f"{head} · {counts} · {state.get('apiCalls', 0):,} calls"


def _tiny(state: dict[str, Any]) -> str:
    """The least that still tells progress (about 30 columns)."""
    if state.get("event") == "job_start":
        return "validating …"
    round_ = f"r{state.get('round') or 0}"
    return (
        f"{round_} ok {state.get('accepted', 0):,} q {state.get('quarantined', 0):,}"
        f" p {state.get('pending', 0):,}"
    )


def _head_short(state: dict[str, Any]) -> str:
    if state.get("event") == "job_resume":
        return f"resumed after r{state.get('round', 0)}"
    if state.get("event") == "validated" or not state.get("round"):
        return f"validated, {state.get('findings', 0):,} found"
    head = f"round {state['round']}"
    if "uploads" in state:
        head += f" {state.get('uploadsDone', 0)}/{state['uploads']}"
    return head


def summary(report: JobReport, width: int | None = None, how: HowRun | None = None) -> str:
    """The end-of-job summary for a person (stderr): wrapped to ``width``, next steps last."""
    text = _summary(report, how or HowRun())
    if width is not None:
        lines = text.splitlines()
        text = "\n".join(line if is_command(line) else _wrap(line, width) for line in lines)
    head = f"ldjfix: {report.outcome}"  # painted after wrapping: colour codes take no columns
    return text.replace(head, f"ldjfix: {paint(report.outcome, outcome_style(report.outcome))}", 1)


def _wrap(line: str, width: int) -> str:
    """One summary line wrapped at spaces, its continuation indented under its text."""
    import textwrap

    indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
    return textwrap.fill(line, width=max(20, width), subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=False)  # fmt: skip


def _summary(report: JobReport, how: HowRun) -> str:
    doc = report.doc
    c = report.counts
    local = doc.get("local") or {}  # a stopped job's report (or a hand-edited one) has less
    lines = [
        *preface(report),
        f"ldjfix: {report.outcome}: {safe(report.message)}",
        f"  records {c.records:,}: accepted {c.accepted:,}, quarantined {c.quarantined:,}, "
        f"pending {c.pending:,}",
        f"  local validation: {local.get('findings', 0):,} findings, "
        f"{local.get('fixed', 0):,} fixed before upload",
        f"  rounds {report.rounds:,}, uploads {report.uploads:,}, API calls {report.api_calls:,}, "
        f"fixes {doc.get('fixes', 0):,}",
    ]
    for entry in doc.get("perRound", ()):
        lines.append(
            f"    round {entry['round']}: {len(entry['uploads'])} upload(s), "
            f"{entry['accepted']:,} accepted, {entry['failed']:,} reported, "
            f"{entry['fixed']:,} fixed ({entry['propagated']:,} by propagation), "
            f"{entry['quarantined']:,} quarantined{_gong_said(entry['uploads'])}"
            f"{round_note(entry)}"
        )
    groups = DefectGroups()
    groups.merge_json(doc.get("defects", ()))
    lines += [f"  {safe(line)}" for line in groups.render(limit=3)]  # report.json has them all
    lines.append(f"  job folder: {safe(report.job_dir)} (report.json, corrected.ldjson, ...)")
    lines += next_steps(report, how)
    return "\n".join(lines)


def _gong_said(uploads: list[dict[str, Any]]) -> str:
    """What Gong answered the round's uploads, e.g. "; Gong: DONE" or "; Gong: 3 FAILED, 5 DONE"."""
    said = Counter(str(u["status"]) for u in uploads if u.get("status"))
    if not said:
        return ""
    if len(uploads) == 1:
        return f"; Gong: {next(iter(said))}"
    return "; Gong: " + ", ".join(f"{n} {status}" for status, n in sorted(said.items()))
