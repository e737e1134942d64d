"""SIGTERM and Ctrl-C stop every command the same way: one message, exit 130, nothing half-done.

``run`` has its own orderly stop (tests/robustness/test_interrupt_signals.py); these are the
other commands, as real processes: ``upload --wait`` and ``status --wait`` against a served
sandbox that keeps answering PENDING (the message says which clientRequestId to follow, and
following it works), and a one-shot command blocked on a FIFO nobody writes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving
from tests.conftest import SAMPLES
from tests.support.processes import start_logged, wait_for_text

ENV = {"GONG_ACCESS_KEY": "k", "GONG_ACCESS_KEY_SECRET": "s", "GONG_BASE_URL": ""}
CRID = re.compile(r"clientRequestId (ldjfix-[\w-]+)")


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[RunningSandbox]:
    """A served sandbox that says PENDING for the first 3 polls of every upload."""
    with serving(tmp_path / "sb", Knobs(polls=3, calls_per_second=50)) as running:
        yield running


def _start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    return start_logged([sys.executable, "-m", "ldjfix", *args], tmp_path, ENV)


def _wait_for(path: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    wait_for_text(path, text, 30, process)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_upload_wait_stopped_names_the_upload_to_follow(
    signum: int, slow: RunningSandbox, tmp_path: Path
) -> None:
    """upload --wait stopped while polling: exit 130 within a second, and the crid it names
    is at the sandbox and can be followed with `ldjfix status --wait` to DONE."""
    args = ["upload", str(SAMPLES / "accounts.ldjson"), "-t", "ACCOUNT", "--integration-id", "1"]
    process, _, err = _start([*args, "--base-url", slow.url, "--wait"], tmp_path)
    _wait_for(err, "... PENDING", process)
    process.send_signal(signum)
    assert process.wait(timeout=5) == 130
    said = err.read_text()
    assert "Traceback" not in said
    assert "interrupted while waiting for Gong" in said
    crid = CRID.findall(said)[-1]
    assert f"ldjfix status --integration-id 1 --client-request-id {crid} --wait" in said
    again = ["status", "--integration-id", "1", "--client-request-id", crid, "--wait"]
    follow = subprocess.run(
        [sys.executable, "-m", "ldjfix", *again, "--base-url", slow.url],
        capture_output=True,
        env={**os.environ, **ENV},
        timeout=60,
    )
    assert follow.returncode == 1, follow.stderr  # the samples have defects: FAILED
    assert b"FAILED" in follow.stdout


def test_status_wait_sigterm_exits_130_with_one_line(slow: RunningSandbox, tmp_path: Path) -> None:
    """status --wait on SIGTERM: 130 and the interrupt message, not a silent 143."""
    send = ["upload", str(SAMPLES / "accounts.ldjson"), "-t", "ACCOUNT", "--integration-id", "1"]
    sent = subprocess.run(
        [sys.executable, "-m", "ldjfix", *send, "--base-url", slow.url],
        capture_output=True,
        env={**os.environ, **ENV},
        timeout=60,
    )
    crid = sent.stdout.decode().strip()
    args = ["status", "--integration-id", "1", "--client-request-id", crid, "--wait"]
    process, _, err = _start([*args, "--base-url", slow.url], tmp_path)
    _wait_for(err, "... PENDING", process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=5) == 130
    said = err.read_text()
    assert "Interrupted" in said and "Traceback" not in said


def test_validate_blocked_on_a_fifo_takes_sigterm(tmp_path: Path) -> None:
    """A one-shot command waiting on a FIFO nobody writes: SIGTERM is exit 130, no traceback."""
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    process, _, err = _start(["validate", str(fifo), "-t", "ACCOUNT"], tmp_path)
    time.sleep(1.0)  # long enough to be blocked opening the FIFO
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=5) == 130
    said = err.read_text()
    assert "Interrupted" in said and "Traceback" not in said


def test_upload_stopped_on_the_wire_says_how_to_send_it_safely(tmp_path: Path) -> None:
    """SIGTERM while the upload waits for Gong's answer: 130, and the hint to resend it under
    the same clientRequestId (so Gong cannot take it twice)."""
    knobs = Knobs(polls=0, calls_per_second=50, script=("stall",), stall_seconds=8)
    with serving(tmp_path / "sb", knobs) as stalled:
        args = ["upload", str(SAMPLES / "accounts.ldjson"), "-t", "ACCOUNT"]
        args += ["--integration-id", "1", "--base-url", stalled.url, "--client-request-id", "c1"]
        process, _, err = _start(args, tmp_path)
        time.sleep(2.0)  # the body is sent; the answer is stalled
        assert process.poll() is None, err.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 130
        said = err.read_text()
        assert "interrupted while sending" in said and "Traceback" not in said
        assert "--client-request-id c1" in said
