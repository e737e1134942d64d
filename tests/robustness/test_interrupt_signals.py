"""Ctrl-C and SIGTERM sent to a real ``ldjfix run`` in a round of many shards, against a slow
served sandbox: "stopping…" within a second, no queued shard sent, journal saved, exit 130,
the batch's JSON summary still printed, a second Ctrl-C exits at once, and the resumed job
counts exactly the calls the sandbox saw.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving
from ldjfix.synth import generator as synth
from tests.support.processes import start_logged, wait_for_text

ENV = {"GONG_ACCESS_KEY": "k", "GONG_ACCESS_KEY_SECRET": "s"}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 accounts, 400 with names only the server rejects: round 2 holds ~48 shards."""
    path = tmp_path_factory.mktemp("src") / "accounts.ldjson"
    synth.write_file(path, "ACCOUNT", 3_000, seed=8, defects={"name_too_long": 400})
    return path


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    """A served sandbox that answers each upload only after a few polls (seconds apart)."""
    with serving(tmp_path / "sb", Knobs(polls=1, calls_per_second=50)) as running:
        yield running


def _command(source: Path, job: Path, url: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "ldjfix", "run", str(source), "-t", "ACCOUNT",
        "--integration-id", "1", "--job-dir", str(job), "--base-url", url,
        "--calls-per-second", "50", *extra,
    ]  # fmt: skip


def _journal(job: Path) -> dict[str, Any]:
    try:
        doc: dict[str, Any] = orjson.loads((job / "journal.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return doc


def _wait_for_round_two(process: subprocess.Popen[bytes], job: Path) -> dict[str, Any]:
    """Wait until round 2's shards are planned and some of them are on their way."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        doc = _journal(job)
        round_two = [e for e in doc.get("uploads", {}).values() if e["round"] == 2]
        if len(round_two) > 20 and any(e["state"] != "planned" for e in round_two):
            return doc
        assert process.poll() is None, "the run ended before round 2"
        time.sleep(0.05)
    raise AssertionError("round 2 never started")


def _posts(sandbox: RunningSandbox) -> int:
    return sum(1 for call in sandbox.app.calls if call.method == "POST")


def _interrupt(process: subprocess.Popen[bytes], err: Path, sig: int) -> None:
    process.send_signal(sig)
    assert wait_for_text(err, "stopping", 5) < 1.0
    assert process.wait(timeout=30) == 130


def test_interrupt_ctrl_c_stops_queued_shards_and_resumes(
    source: Path, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """SIGINT mid-round: 130, no queued shard sent then or later, resume sends each once."""
    job = tmp_path / "job"
    command = _command(source, job, sandbox.url)
    process, _, err = start_logged(command, tmp_path, ENV)
    _wait_for_round_two(process, job)
    _interrupt(process, err, signal.SIGINT)
    posts = _posts(sandbox)
    doc = _journal(job)
    shards = [e for e in doc["uploads"].values() if e["round"] == 2]
    sent = [e for e in shards if e["state"] != "planned"]
    assert posts == 1 + len(sent) < 1 + len(shards)  # round 1, then only what the journal says
    assert "Traceback" not in err.read_text()
    time.sleep(2.5)  # a pool shut down without cancelling would still be uploading
    assert _posts(sandbox) == posts
    resumed = subprocess.run(command, env={**os.environ, **ENV}, capture_output=True, timeout=180)
    assert resumed.returncode == 1, resumed.stderr
    report = orjson.loads((job / "report.json").read_bytes())
    assert report["accepted"] + report["quarantined"] == 3_000
    assert all(c.code != 409 for c in sandbox.app.calls if c.method == "POST")
    assert report["apiCalls"] == len(sandbox.app.calls)


def test_interrupt_sigterm_then_resume_counts_every_call_gong_saw(
    source: Path, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """SIGTERM mid-round and a resume: report.json's apiCalls equals the sandbox's count."""
    job = tmp_path / "job"
    command = _command(source, job, sandbox.url)
    process, _, err = start_logged(command, tmp_path, ENV)
    _wait_for_round_two(process, job)
    _interrupt(process, err, signal.SIGTERM)
    assert _journal(job)["apiCalls"] == len(sandbox.app.calls)
    resumed = subprocess.run(command, env={**os.environ, **ENV}, capture_output=True, timeout=180)
    assert resumed.returncode == 1, resumed.stderr
    report = orjson.loads((job / "report.json").read_bytes())
    assert report["apiCalls"] == len(sandbox.app.calls)


def test_interrupt_batch_still_prints_its_json_summary(
    source: Path, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A batch (--json) interrupted: its JSON summary on stdout, the file INTERRUPTED, 130."""
    job = tmp_path / "job"
    process, out, err = start_logged(_command(source, job, sandbox.url, "--json"), tmp_path, ENV)
    _wait_for_round_two(process, job)
    _interrupt(process, err, signal.SIGINT)
    summary = orjson.loads(out.read_bytes())
    assert summary["exitCode"] == 130
    (entry,) = summary["files"]
    assert (entry["outcome"], entry["resumable"]) == ("INTERRUPTED", True)
    assert "Traceback" not in err.read_text()


def test_interrupt_second_ctrl_c_exits_at_once_and_stays_resumable(
    source: Path, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """Two Ctrl-C in a row: exit 130 at once; the same command then finishes the job."""
    job = tmp_path / "job"
    command = _command(source, job, sandbox.url)
    process, _, err = start_logged(command, tmp_path, ENV)
    _wait_for_round_two(process, job)
    process.send_signal(signal.SIGINT)
    wait_for_text(err, "stopping", 5)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=2) == 130
    resumed = subprocess.run(command, env={**os.environ, **ENV}, capture_output=True, timeout=180)
    assert resumed.returncode == 1, resumed.stderr
    report = orjson.loads((job / "report.json").read_bytes())
    assert report["accepted"] + report["quarantined"] == 3_000
