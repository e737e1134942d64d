"""Kill ``ldjfix run`` (SIGKILL, a real subprocess) at each step of a round, then resume.

The loop calls the ``LDJFIX_CRASH_AT=<step>:<n>`` test hook at every step boundary; the hook
kills the process exactly as ``kill -9`` would. Resuming with the same job folder must give
the same final report (timings and API call counts aside: a resumed run asks again about what
it was doing) and never upload the same set twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.gong.connection import Connection
from ldjfix.jobs.remote import open_client
from ldjfix.ldjson.files import KILL_ENV
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import serving
from ldjfix.sandbox.store import SandboxStore
from ldjfix.synth import generator as synth
from tests.conftest import SAMPLES
from tests.support.loop import FAST_KNOBS, assert_invariant, run_args

# What may differ between an interrupted and an uninterrupted run of the same job.
RUN_SPECIFIC = ("timings", "apiCalls", "jobId", "jobDir", "source")
RULES = SAMPLES / "rules.toml"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 accounts, 60 with names too long: round 1 lists 20, round 2 needs 5 shards."""
    path = tmp_path_factory.mktemp("src") / "accounts.ldjson"
    synth.write_file(path, "ACCOUNT", 2_000, seed=4, defects={"name_too_long": 60})
    return path


def _resume(source: Path, job: Path, state: Path) -> dict[str, Any]:
    """Run (or resume) the job against ``sandbox serve`` on loopback; no upload may get a 409."""
    env = {"GONG_ACCESS_KEY": "k", "GONG_ACCESS_KEY_SECRET": "s"}
    with serving(state, Knobs(polls=0, calls_per_second=50)) as sandbox:
        conn = Connection(base_url=sandbox.url, calls_per_second=50)
        with open_client(conn, env=env) as client:
            result = run_job(
                JobSpec(source, "ACCOUNT", 1, job), client=client, fixer=QuarantineFixer()
            )
        posts = [c for c in sandbox.app.calls if c.method == "POST"]
    assert all(c.code == 201 for c in posts), "an upload was sent again"
    return result.doc


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in RUN_SPECIFIC}


@pytest.fixture(scope="module")
def reference(source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The report of the same job run without interruption."""
    root = tmp_path_factory.mktemp("ref")
    report = _resume(source, root / "job", root / "sandbox")
    assert len(report["perRound"]) == 2 and len(report["perRound"][1]["uploads"]) == 5
    return report


@pytest.mark.parametrize(
    "crash_at",
    [
        "survey:1",
        "plan:1",
        "upload:1",
        "poll:1",
        "settle:1",
        "plan:2",
        "upload:3",
        "poll:4",
        "settle:2",
        "outputs:1",
        "report:1",
        "journal:4",
    ],
)
def test_resume_after_sigkill_gives_the_same_report(
    crash_at: str, source: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    """Killed at ``crash_at`` and resumed: same report, same outputs, each set uploaded once."""
    job, state = tmp_path / "job", tmp_path / "sandbox"
    command = _command(source, job, state)
    killed = subprocess.run(command, env=_env(crash_at), capture_output=True, text=True, timeout=60)
    assert killed.returncode == -9, killed.stderr
    assert not (job / "report.json").exists() or crash_at == "report:1"
    report = _resume(source, job, state)
    assert _comparable(report) == _comparable(reference)
    assert_invariant(report)
    uploads = [u["clientRequestId"] for u in SandboxStore(state).uploads()]
    assert len(uploads) == len(set(uploads)) == reference["uploads"]
    ref_dir = Path(reference["jobDir"])
    for name in ("corrected.ldjson", "rejected.ldjson", "fixes.jsonl"):
        assert (job / name).read_bytes() == (ref_dir / name).read_bytes(), name
    journal = orjson.loads((job / "journal.json").read_bytes())
    assert sorted(e["clientRequestId"] for e in journal["uploads"].values()) == sorted(uploads)


@pytest.fixture(scope="module")
def ruled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A file the sample rules fix (local and server-only kinds), and its uninterrupted report."""
    root = tmp_path_factory.mktemp("ruled")
    path = root / "accounts.ldjson"
    defects = {
        "millis_modified_date": 10,
        "is_deleted_as_string": 10,
        "name_too_long": 40,
        "domain_is_url": 40,
    }
    synth.write_file(path, "ACCOUNT", 3_000, seed=4, defects=defects)
    done = subprocess.run(
        _command(path, root / "job", root / "sandbox", "--rules", str(RULES)),
        env=_env(None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return path, orjson.loads((root / "job" / "report.json").read_bytes())


def _command(source: Path, job: Path, state: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ldjfix", *run_args(source, state, *extra, job=job)]


def _env(crash_at: str | None) -> dict[str, str]:
    env = {**os.environ, "LDJFIX_SANDBOX_KNOBS": FAST_KNOBS}
    env.pop("LDJFIX_CRASH_AT", None)
    if crash_at:
        env["LDJFIX_CRASH_AT"] = crash_at
    return env


@pytest.mark.parametrize("crash_at", ["settle:1", "upload:2"])
def test_resume_with_rules_gives_the_same_outcome(
    crash_at: str, ruled: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """With a rules file (fixes learned, then propagated) a resumed job ends the same way."""
    source, reference = ruled
    job, state = tmp_path / "job", tmp_path / "sandbox"
    args = _command(source, job, state, "--rules", str(RULES))
    killed = subprocess.run(args, env=_env(crash_at), capture_output=True, timeout=60)
    assert killed.returncode == -9
    resumed = subprocess.run(args, env=_env(None), capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    assert "ldjfix: DONE: all 3,000 records accepted by Gong" in resumed.stderr
    report = orjson.loads((job / "report.json").read_bytes())
    assert _comparable(report) == _comparable(reference)
    ref_dir = Path(reference["jobDir"])
    assert (job / "corrected.ldjson").read_bytes() == (ref_dir / "corrected.ldjson").read_bytes()
    uploads = [u["clientRequestId"] for u in SandboxStore(state).uploads()]
    assert len(uploads) == len(set(uploads)) == reference["uploads"]


def test_resume_removes_temp_files_left_by_a_kill_mid_write(source: Path, tmp_path: Path) -> None:
    """Killed while writing report.json: the resumed run removes the job's stale temp files."""
    job, state = tmp_path / "job", tmp_path / "sandbox"
    args = _command(source, job, state)
    killed = subprocess.run(
        args, env={**_env(None), KILL_ENV: "report.json"}, capture_output=True, timeout=60
    )
    assert killed.returncode == -9
    left = [p.name for p in job.iterdir() if p.name.startswith(".report.json.")]
    assert len(left) == 1 and left[0].endswith(".tmp")
    in_rounds = job / "rounds" / ".r01-s01.ldjson.ab_c1234.tmp"
    in_rounds.write_bytes(b"half")
    kept = [tmp_path / ".accounts.ldjson.abcd1234.tmp", job / "notes.tmp", job / ".x.short.tmp"]
    for path in kept:
        path.write_bytes(b"not ldjfix's to remove")
    resumed = subprocess.run(args, env=_env(None), capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 1, resumed.stderr  # 1: some records quarantined
    assert "ldjfix: QUARANTINED" in resumed.stderr
    assert not (job / left[0]).exists() and not in_rounds.exists()
    assert all(path.read_bytes() == b"not ldjfix's to remove" for path in kept)
    assert orjson.loads((job / "report.json").read_bytes())["outcome"] == "QUARANTINED"


@pytest.mark.parametrize("extra", [(), ("--json",)], ids=["single-file", "batch"])
def test_resume_crash_hook_stops_both_reporters(
    extra: tuple[str, ...], ruled: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The one path into the loop: the kill hook stops a plain run and a --json run alike."""
    source, reference = ruled
    job, state = tmp_path / "job", tmp_path / "sandbox"
    args = _command(source, job, state, "--rules", str(RULES), *extra)
    killed = subprocess.run(args, env=_env("upload:2"), capture_output=True, timeout=60)
    assert killed.returncode == -9
    resumed = subprocess.run(args, env=_env(None), capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    report = orjson.loads((job / "report.json").read_bytes())
    assert _comparable(report) == _comparable(reference)


@pytest.mark.parametrize("damage", ["deleted", "cut"])
def test_resume_with_fixes_log_lost_is_a_damaged_file_not_nul_bytes(
    damage: str, ruled: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """fixes.jsonl deleted or cut by hand while a job is killed mid-round: the resume stops with
    exit 3 naming it (it used to grow the file back with NUL bytes replay cannot read)."""
    source, _ = ruled
    job, state = tmp_path / "job", tmp_path / "sandbox"
    args = _command(source, job, state, "--rules", str(RULES))
    killed = subprocess.run(args, env=_env("upload:2"), capture_output=True, timeout=60)
    assert killed.returncode == -9
    log = job / "fixes.jsonl"
    assert log.stat().st_size > 100
    if damage == "deleted":
        log.unlink()
    else:
        log.write_bytes(log.read_bytes()[:50])
    resumed = subprocess.run(args, env=_env(None), capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 3, resumed.stderr
    assert f"job file {log} is damaged" in resumed.stderr and "Traceback" not in resumed.stderr
    assert b"\0" not in log.read_bytes()
