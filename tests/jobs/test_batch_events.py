"""Tests of the event logs: JSON lines for collectors, short text lines for people."""

from __future__ import annotations

import io
import threading

import orjson

from ldjfix.reporting.events import Fanout, JsonEventLog, TextEventLog


def test_events_json_one_object_per_line() -> None:
    """Each event is one JSON line with ts (UTC, ms), event and its fields."""
    out = io.StringIO()
    log = JsonEventLog(out, clock=lambda: 1_764_400_000.25)
    log("round_end", file="a.ldjson", round=2, apiCalls=7)
    doc = orjson.loads(out.getvalue())
    assert doc == {
        "ts": "2025-11-29T07:06:40.250Z",
        "event": "round_end",
        "file": "a.ldjson",
        "round": 2,
        "apiCalls": 7,
    }


def test_events_json_lines_stay_whole_across_threads() -> None:
    """Events from many threads never interleave inside a line."""
    out = io.StringIO()
    log = JsonEventLog(out)

    def spam(name: str) -> None:
        for n in range(200):
            log("poll", file=name, round=n, detail="x" * 50)

    threads = [threading.Thread(target=spam, args=(f"f{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = out.getvalue().splitlines()
    assert len(lines) == 800
    assert all(orjson.loads(line)["event"] == "poll" for line in lines)


def test_events_text_keeps_only_milestones() -> None:
    """The text log writes job milestones and drops per-poll noise."""
    out = io.StringIO()
    both = Fanout(TextEventLog(out))
    both("poll", file="a.ldjson", round=1)
    both("file_end", file="a.ldjson", outcome="DONE", exitCode=0)
    both("level_start", level=0, objectTypes=["ACCOUNT", "STAGE"])
    both("round_end", file="a.ldjson", round=1)  # fields missing: no line, no crash
    assert out.getvalue() == (
        "ldjfix: a.ldjson: DONE (exit 0)\nldjfix: uploading ACCOUNT, STAGE (level 0)\n"
    )
