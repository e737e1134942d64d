"""Events of a run as data: one JSON object per line on stderr for log collectors.

Every event has ``ts`` (UTC, ISO-8601 with milliseconds), ``event`` (its name) and, for
events of one file, ``file``; the rest are the event's own fields (``round``, ``apiCalls``,
counts ...). Several jobs emit events from their own threads, so writing is serialised and each
event is written and flushed as one whole line. Secrets never reach an event: events carry only
what the caller puts in them, and nobody puts credentials there.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

import orjson

from ldjfix.ldjson.printable import safe


class EventSink(Protocol):
    """Something that takes events: a name and its fields."""

    def __call__(self, event: str, /, **fields: Any) -> None:
        """Take one event."""
        ...


def _iso(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonEventLog:
    """Writes each event as one JSON line: ``{"ts", "event", ...fields}``."""

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.time) -> None:
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()

    def __call__(self, event: str, /, **fields: Any) -> None:
        """Write one event line."""
        doc = {"ts": _iso(self._clock()), "event": event, **fields}
        line = orjson.dumps(doc, default=str).decode("utf-8")
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


_TEXT = {
    "level_start": "uploading {objectTypes} (level {level})",
    "file_start": "started ({objectType})",
    "job_already_finished": "already finished ({outcome}); nothing was sent",
    "job_archived": "the source changed since the job finished ({previousOutcome}): keeping the "
    "finished job in {history} and starting a new one",
    "round_end": "round {round}: {accepted:,} accepted, {quarantined:,} quarantined, "
    "{pending:,} pending, {apiCalls:,} API calls",
    "file_end": "{outcome} (exit {exitCode})",
    "file_skipped": "{reason}",
    "budget_exhausted": "API call budget used up ({apiCalls:,} calls); stopped, resumable",
}


class TextEventLog:
    """Writes the milestones a person cares about as short lines (no per-poll noise)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, event: str, /, **fields: Any) -> None:
        """Write a line for the events worth one; ignore the rest."""
        template = _TEXT.get(event)
        if template is None:
            return
        if isinstance(fields.get("objectTypes"), list):
            fields["objectTypes"] = ", ".join(fields["objectTypes"])
        try:
            text = template.format(**fields)
        except (KeyError, IndexError):
            return  # an event without the fields its line needs: nothing worth printing
        who = f"{safe(fields['file'])}: " if fields.get("file") else ""
        with self._lock:
            self._stream.write(f"ldjfix: {who}{safe(text)}\n")
            self._stream.flush()


class Fanout:
    """Sends every event to several sinks (e.g. the JSON log and the progress display)."""

    def __init__(self, *sinks: EventSink) -> None:
        self._sinks = sinks

    def __call__(self, event: str, /, **fields: Any) -> None:
        """Pass the event on to each sink."""
        for sink in self._sinks:
            sink(event, **dict(fields))


def ignore(event: str, /, **fields: Any) -> None:
    """The sink that drops every event."""
