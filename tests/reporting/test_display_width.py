"""The live display fits the terminal: real ``ldjfix run`` processes on 80- and 40-column ptys."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ldjfix.reporting.board import ProgressBoard
from ldjfix.reporting.screen import Viewport, cells, fit, fit_middle
from ldjfix.reporting.ticker import line_for
from tests.support.pty_screen import Screen

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
BATCH = ("accounts", "ACCOUNT"), ("users", "BUSINESS_USER"), ("stages", "STAGE")
_DRAW = re.compile(rb"\r\x1b\[(?:2K|J)([^\r\n\x1b]*)")
_LINE = re.compile(rb"\r\x1b\[(?:2K|J)([^\r\n\x1b]*)(?=\r\x1b|\Z)")  # redrawn, not printed


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "LDJFIX_SANDBOX_DIR": str(tmp_path / "sandbox"), "TERM": "xterm"}


def _copy(tmp_path: Path, *names: str) -> None:
    for name in names:
        shutil.copy(SAMPLES / f"{name}.ldjson", tmp_path / f"{name}.ldjson")


def _run_args(*extra: str) -> list[str]:
    rules = str(SAMPLES / "rules.toml")
    return [sys.executable, "-m", "ldjfix", "run", *extra, "--integration-id", "1", "--sandbox",
            "--rules", rules]  # fmt: skip


def _drawn(raw: bytes, pattern: re.Pattern[bytes] = _DRAW) -> list[str]:
    """Every line the live display drew (what follows each carriage return + clear)."""
    return [m.group(1).decode("utf-8", "replace") for m in pattern.finditer(raw)]


@pytest.mark.parametrize("columns", [80, 40])
def test_display_width_single_run_leaves_no_stale_lines(tmp_path: Path, columns: int) -> None:
    """On an 80- or 40-column pty the progress line never wraps and leaves nothing behind."""
    _copy(tmp_path, "accounts")
    screen = Screen(_run_args("accounts.ldjson", "-t", "ACCOUNT"), columns=columns, lines=90,
                    env=_env(tmp_path), cwd=tmp_path)  # fmt: skip
    try:
        assert screen.finish() == 1
    finally:
        screen.kill()
    drawn = [line for line in _drawn(bytes(screen.raw), _LINE) if line]
    assert any("ok 288" in line or "accepted 288" in line for line in drawn), drawn
    assert max(cells(line) for line in drawn) <= columns - 1
    for snapshot in screen.snapshots:  # at every moment: at most one progress line on screen
        assert sum("·" in row or " ok " in row for row in snapshot) <= 1, snapshot
    rows = [row for row in screen.rows() if row]
    assert rows[0].startswith("ldjfix: QUARANTINED")  # the live line was cleared away
    assert not any("·" in row for row in rows)
    told = rows[: rows.index("  next:")]  # the next steps' commands are never wrapped
    assert max(map(len, told)) <= columns - 1  # the summary is wrapped by ldjfix, at spaces
    assert told[-1].endswith(")") or told[-1].endswith("...)")


@pytest.mark.parametrize("columns", [80, 40])
def test_display_width_batch_board_fits(tmp_path: Path, columns: int) -> None:
    """The batch board's rows fit an 80- or 40-column pty and are redrawn in place."""
    _copy(tmp_path, *(name for name, _ in BATCH))
    specs = [arg for name, kind in BATCH for arg in ("--file", f"{name}.ldjson:{kind}")]
    screen = Screen(_run_args(*specs), columns=columns, lines=40, env=_env(tmp_path),
                    cwd=tmp_path, stdout=subprocess.DEVNULL)  # fmt: skip
    try:
        assert screen.finish() == 1
    finally:
        screen.kill()
    for snapshot in screen.snapshots:
        board = snapshot[: next((i for i, r in enumerate(snapshot) if r.startswith("file ")), None)]
        for name, _ in BATCH:  # each file has exactly one row on screen, never a scrolled copy
            assert sum(row.startswith(f"{name}.ldjson ") for row in board) <= 1, snapshot
    drawn = [line for line in _drawn(bytes(screen.raw)) if line]
    assert max(cells(line) for line in drawn) <= columns - 1
    final = screen.rows()
    assert final[0].startswith("accounts.ldjson") and final[0].endswith("QUARANTINED")
    assert final[2].startswith("stages.ldjson") and final[2].endswith("DONE")


def test_display_width_follows_a_resize(tmp_path: Path) -> None:
    """Narrowing the terminal mid-run (SIGWINCH) makes the next draws fit the new width."""
    _copy(tmp_path, "accounts")
    env = {**_env(tmp_path), "LDJFIX_SANDBOX_KNOBS": '{"polls": 3}'}
    screen = Screen(_run_args("accounts.ldjson", "-t", "ACCOUNT"), columns=120, lines=30,
                    env=env, cwd=tmp_path)  # fmt: skip
    try:
        screen.wait_for("round 1")
        screen.resize(40, 30)
        mark = len(screen.raw)
        assert screen.finish() == 1
    finally:
        screen.kill()
    after = [line for line in _drawn(bytes(screen.raw[mark:]), _LINE) if line]
    assert after and max(cells(line) for line in after) <= 39, after
    assert not any("·" in row for row in screen.rows())


def test_display_width_line_wording_shrinks_before_it_is_cut() -> None:
    """A narrow line keeps the numbers (shorter labels first), and is cut with an ellipsis last."""
    state = {"event": "upload_status", "round": 2, "uploads": 3, "uploadsDone": 1,
             "upload": "r02-s02", "status": "IN_PROGRESS", "accepted": 98_846,
             "quarantined": 1_154, "pending": 12, "apiCalls": 40}  # fmt: skip
    small = {**state, "accepted": 0, "quarantined": 6, "pending": 294, "apiCalls": 4}
    assert line_for(small, 79) == (
        "round 2 · uploads 1/3 · accepted 0 · quarantined 6 · pending 294 · 4 API calls"
    )
    assert line_for(state, 79).startswith("round 2 1/3 · ok 98,846")
    assert line_for(state, 60) == "round 2 1/3 · ok 98,846 · quar 1,154 · pend 12 · 40 calls"
    assert line_for(state, 30) == "r2 ok 98,846 q 1,154 p 12"
    assert line_for(state, 10) == "r2 ok 98,…"


def test_display_width_fit_counts_wide_characters() -> None:
    """Cutting counts East Asian wide characters as two columns and marks the cut."""
    assert fit("日本語テキスト", 6) == "日本…"
    assert cells(fit("日本語テキスト", 6)) <= 6
    assert fit_middle("exports/2026-12-01/accounts.ldjson", 16) == "exports…s.ldjson"
    assert fit_middle("short.ldjson", 16) == "short.ldjson"


def test_display_width_board_keeps_running_rows_when_short_of_lines() -> None:
    """More files than lines: running rows first, then "… and N more files"."""
    import io

    out = io.StringIO()
    files = [(f"f{n}.ldjson", "ACCOUNT") for n in range(10)]
    board = ProgressBoard(out, files, viewport=Viewport(out, size=lambda: (80, 5)))
    board("file_start", file="f7.ldjson")
    rows = out.getvalue().split("\n")
    shown = [r.removeprefix("\r\x1b[2K") for r in rows if "ldjson" in r or "more" in r]
    assert len(shown) == 3
    assert shown[0].startswith("f0.ldjson") and shown[1].startswith("f7.ldjson")
    assert shown[2] == "… and 8 more files: 8 waiting"


def test_display_width_sigwinch_sets_the_next_draw() -> None:
    """SIGWINCH raises the flag; the next draw takes the new width, clears below, and the old
    handler is back after the ticker closes."""
    import io
    import signal

    from ldjfix.reporting.ticker import Ticker

    size = [(120, 24)]
    out = io.StringIO()
    before = signal.getsignal(signal.SIGWINCH)
    state = {"accepted": 0, "quarantined": 6, "pending": 294, "apiCalls": 4}
    with Ticker(out, viewport=Viewport(out, size=lambda: size[0]), interval=60) as ticker:
        ticker("round_start", round=1, uploads=1, **state)
        assert out.getvalue().endswith("pending 294 · 4 API calls")
        size[0] = (40, 24)
        os.kill(os.getpid(), signal.SIGWINCH)
        ticker("upload_status", round=1, upload="r01-s01", status="PENDING", **state)
        assert out.getvalue().endswith("\r\x1b[Jr1 ok 0 q 6 p 294")  # not throttled: resized
    assert signal.getsignal(signal.SIGWINCH) is before
