"""Tests of the live progress display: rows per file, redrawn in place."""

from __future__ import annotations

import io

from ldjfix.reporting.board import ProgressBoard


def test_progress_redraws_rows_in_place() -> None:
    """The board prints one row per file, then moves the cursor up to redraw them."""
    out = io.StringIO()
    now = [0.0]
    board = ProgressBoard(
        out, [("a.ldjson", "ACCOUNT"), ("d.ldjson", "DEAL")], clock=lambda: now[0]
    )
    board("file_start", file="a.ldjson")
    first = out.getvalue()
    drawn = first.replace("\r\x1b[2K", "").replace("\x1b[J", "")
    assert first.count("\n") == 2 and "\x1b[" not in drawn
    now[0] = 1.0
    board(
        "round_end", file="a.ldjson", round=2, accepted=90, quarantined=5, records=100, apiCalls=7
    )
    redraw = out.getvalue()[len(first) :]
    assert redraw.startswith("\x1b[2A")
    row = redraw.split("\n")[0]
    assert "a.ldjson" in row and "round 2" in row and "settled 95/100" in row
    assert "7 calls" in row and row.endswith("running")


def test_progress_throttles_and_shows_end_state() -> None:
    """Events within the interval do not redraw; job_end always does, with the outcome."""
    out = io.StringIO()
    board = ProgressBoard(out, [("a.ldjson", "ACCOUNT")], clock=lambda: 5.0, interval=1.0)
    board("file_start", file="a.ldjson")
    size = len(out.getvalue())
    board("poll", file="a.ldjson", round=1)
    assert len(out.getvalue()) == size
    board("file_end", file="a.ldjson", outcome="quarantined")
    assert out.getvalue().removesuffix("\x1b[J").rstrip().endswith("quarantined")
    board("file_end", file="other.ldjson", outcome="done")  # unknown file: ignored
    assert "other" not in out.getvalue()
