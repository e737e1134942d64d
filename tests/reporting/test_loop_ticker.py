"""The live progress line of ``run`` and its end-of-job summary."""

from __future__ import annotations

import io
from pathlib import Path

from ldjfix.loop.ledger import Counts
from ldjfix.loop.outputs import JobReport
from ldjfix.reporting.screen import Viewport
from ldjfix.reporting.ticker import Ticker, line_for, summary


def test_loop_ticker_redraws_one_line_in_place() -> None:
    """Each draw starts with a carriage return and clear-line; job_end clears it away."""
    stream = io.StringIO()
    now = [0.0]
    wide = Viewport(stream, size=lambda: (200, 50))
    ticker = Ticker(stream, clock=lambda: now[0], interval=1.0, viewport=wide)
    base = {"accepted": 0, "quarantined": 0, "pending": 9, "apiCalls": 0}
    ticker("job_start", round=0, **base)
    ticker("round_start", round=2, uploads=5, **base)
    ticker("upload_done", round=2, uploadsDone=1, uploads=5, **base)  # too soon: not drawn
    now[0] = 2.0
    ticker("upload_done", round=2, uploadsDone=3, uploads=5, **{**base, "apiCalls": 12})
    text = stream.getvalue()
    assert "\n" not in text
    assert text.count("\r\x1b[2K") == 3
    assert text.endswith(
        "ldjfix: round 2 · uploads 3/5 · accepted 0 · quarantined 0 · pending 9 · 12 API calls"
    )
    ticker("job_end", round=2, outcome="DONE", **base)
    assert stream.getvalue().endswith("\r\x1b[2K")


def test_loop_ticker_line_before_the_first_round() -> None:
    """Before round 1 the line says what local validation found."""
    state = {
        "event": "validated",
        "round": 0,
        "findings": 1000,
        "accepted": 0,
        "quarantined": 6,
        "pending": 99_994,
        "apiCalls": 0,
    }
    assert line_for(state).startswith("ldjfix: validated: 1,000 local findings · accepted 0")


def test_loop_summary_names_outcome_counts_and_rounds(tmp_path: Path) -> None:
    """The summary: outcome and message, counts, local findings, one line per round."""
    doc = {
        "local": {"findings": 16, "fixed": 10},
        "fixes": 16,
        "perRound": [
            {
                "round": 1,
                "uploads": [{}],
                "accepted": 288,
                "failed": 6,
                "fixed": 6,
                "propagated": 0,
                "quarantined": 0,
            }
        ],
    }
    report = JobReport(
        "QUARANTINED",
        1,
        Counts(300, 294, 6, 0),
        1,
        1,
        4,
        tmp_path,
        "6 records quarantined (see rejected.ldjson)",
        doc,
    )
    text = summary(report)
    assert (
        text.splitlines()[0] == "ldjfix: QUARANTINED: 6 records quarantined (see rejected.ldjson)"
    )
    assert "records 300: accepted 294, quarantined 6, pending 0" in text
    assert "round 1: 1 upload(s), 288 accepted, 6 reported" in text


def test_loop_ticker_summary_says_what_gong_answered_each_round() -> None:
    """Each round's line ends with Gong's answers: one status, or a count per status."""
    from ldjfix.reporting.ticker import _gong_said

    assert _gong_said([{"status": "DONE"}]) == "; Gong: DONE"
    shards = [{"status": "FAILED"}, {"status": "DONE"}, {"status": "FAILED"}]
    assert _gong_said(shards) == "; Gong: 1 DONE, 2 FAILED"
    assert _gong_said([{}]) == ""
