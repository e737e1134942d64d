"""Upload sets sized by bytes, re-planned when over the cap, checked against lineage on sending."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.sandbox.store import SandboxStore
from tests.support.loop import FAST_KNOBS, assert_store_matches, run_args, sandbox_client

CAP = 20_000


class Stop(Exception):
    """Raised by the crash hook: the run stops right after planning round 1."""


def _stop_after_plan() -> Callable[[str], None]:
    """A crash hook that stops the run once round 1's plan is in the journal."""
    seen: list[str] = []

    def hook(step: str) -> None:
        seen.append(step)
        if step == "journal" and "plan" in seen:
            raise Stop

    return hook


def _bunched(path: Path) -> None:
    """270 small records, then 30 large ones: the average record is small, the tail is not."""
    lines = [
        orjson.dumps(
            {
                "objectId": f"A{i}",
                "modifiedDate": "2025-01-01T00:00:00Z",
                "name": f"N{i}",
                "description": "D" * (2_000 if i >= 270 else 20),
            }
        )
        for i in range(300)
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")


def _sets(job: Path) -> list[Path]:
    return sorted((job / "rounds").glob("r01-s*.ldjson"))


def test_upload_sets_fit_the_cap_when_large_records_bunch_at_the_end(tmp_path: Path) -> None:
    """Sizing by the average record would put 30 large records in one set over the cap."""
    source = tmp_path / "bunched.ldjson"
    _bunched(source)
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(
            JobSpec(source, "ACCOUNT", 1, max_upload_bytes=CAP),
            client=client,
            fixer=QuarantineFixer(),
        )
    assert result.outcome == "DONE"
    sizes = [path.stat().st_size for path in _sets(result.job_dir)]
    assert max(sizes) <= CAP
    assert sum(sizes) == source.stat().st_size
    assert_store_matches(tmp_path / "sandbox", result.job_dir / "corrected.ldjson")


def test_upload_sets_planned_under_a_larger_cap_are_planned_again_on_resume(
    tmp_path: Path,
) -> None:
    """A saved plan whose set no longer fits is cut into sets that fit, not sent or refused."""
    source = tmp_path / "bunched.ldjson"
    _bunched(source)
    job = tmp_path / "job"
    with sandbox_client(tmp_path / "sandbox") as client, pytest.raises(Stop):
        run_job(
            JobSpec(source, "ACCOUNT", 1, job),
            client=client,
            fixer=QuarantineFixer(),
            crash_hook=_stop_after_plan(),
        )
    assert [p.stat().st_size for p in _sets(job)] == [source.stat().st_size]
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(
            JobSpec(source, "ACCOUNT", 1, job, max_upload_bytes=CAP),
            client=client,
            fixer=QuarantineFixer(),
        )
    assert result.outcome == "DONE"
    journal = orjson.loads((job / "journal.json").read_bytes())
    assert "r01-s01" not in journal["uploads"]
    assert all(entry["bytes"] <= CAP for entry in journal["uploads"].values())
    assert sum(entry["records"] for entry in journal["uploads"].values()) == 300
    assert_store_matches(tmp_path / "sandbox", job / "corrected.ldjson")


def test_upload_set_damaged_before_sending_is_written_again(tmp_path: Path) -> None:
    """Killed after planning, a set loses lines: the resumed run sends it whole (a real process)."""
    source = tmp_path / "bunched.ldjson"
    _bunched(source)
    job, state = tmp_path / "job", tmp_path / "sandbox"
    args = [sys.executable, "-m", "ldjfix", *run_args(source, state, job=job)]
    env = {**os.environ, "LDJFIX_SANDBOX_KNOBS": FAST_KNOBS, "LDJFIX_CRASH_AT": "journal:4"}
    killed = subprocess.run(args, env=env, capture_output=True, timeout=60)
    assert killed.returncode == -9
    assert orjson.loads((job / "journal.json").read_bytes())["phase"] == "planned"
    upload = job / "rounds" / "r01-s01.ldjson"
    upload.write_bytes(b"".join(upload.read_bytes().splitlines(keepends=True)[:-6]))
    env.pop("LDJFIX_CRASH_AT")
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = orjson.loads((job / "report.json").read_bytes())
    assert report["accepted"] == 300
    assert len(SandboxStore(state).records(1, "ACCOUNT")) == 300
    assert upload.read_bytes() == source.read_bytes()


def test_upload_sets_of_earlier_rounds_go_when_the_job_ends(tmp_path: Path) -> None:
    """A file Gong fails in round 1 past its 20 listed errors (names only the server refuses)
    is sent again in round 2:
    when the job ends with nothing pending, round 1's settled sets are removed (their lineage
    and statuses stay) and the last round's sets stay as sent, so the folder holds one copy of
    the records per kept round, not one per round (the 1% file was 3.0x the source)."""
    from ldjfix.synth import generator as synth

    source = tmp_path / "accounts.ldjson"
    synth.write_file(source, "ACCOUNT", 600, seed=3, defects={"name_too_long": 40})
    job = tmp_path / "job"
    done = subprocess.run(
        [sys.executable, "-m", "ldjfix", *run_args(source, tmp_path / "sb", job=job)],
        capture_output=True,
        env={**os.environ, "LDJFIX_SANDBOX_KNOBS": FAST_KNOBS},
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # the 40 long names are quarantined
    rounds = job / "rounds"
    assert not list(rounds.glob("r01-s*.ldjson"))
    assert list(rounds.glob("r01-s*.lineage.json")) and list(rounds.glob("r01-s*.status.json"))
    last = sorted(rounds.glob("r02-s*.ldjson"))
    assert last, sorted(p.name for p in rounds.iterdir())
    sent = sum(len(p.read_bytes().splitlines()) for p in last)
    assert 0 < sent <= 580  # round 2 sent what round 1 left unsettled, not the 20 it listed
    size = sum(p.stat().st_size for p in job.rglob("*") if p.is_file())
    assert size <= 2.5 * source.stat().st_size
