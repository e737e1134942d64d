"""Night after night: the cron recipe (`run --manifest`) on a new export at the same path.

Every night the exporter overwrites the same files and cron runs the same command. A finished
job meeting a changed source is kept under ``history/`` and a new job starts; an unfinished
one stops with exit 3. Real processes (``python -m ldjfix``) against ``--sandbox``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from ldjfix.loop.history import archive_finished, settle_moves
from ldjfix.loop.journal import JobFolder
from ldjfix.sandbox.store import SandboxStore
from ldjfix.synth.generator import write_file
from ldjfix.synth.universe import Universe

FAST = '{"polls": 0, "calls_per_second": 0}'
UNIVERSE = Universe(seed=5, accounts=40, users=4, stages=4)
MANIFEST = """\
[[job]]
file = "export/accounts.ldjson"
object_type = "ACCOUNT"
job_dir = "jobs/accounts"

[[job]]
file = "export/stages.ldjson"
object_type = "stage"
job_dir = "jobs/stages"
"""


def ldjfix(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``ldjfix ARGS`` as a user would, in ``cwd``, against the in-process sandbox."""
    full = {**os.environ, "GONG_BASE_URL": "", "LDJFIX_SANDBOX_KNOBS": FAST, **env}
    full["LDJFIX_SANDBOX_DIR"] = str(cwd / "sandbox")
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def export(folder: Path, night: int) -> None:
    """Tonight's export: other records each night (another seed), at the same paths."""
    folder.mkdir(exist_ok=True)
    defects = {"millis_modified_date": 3, "name_too_long": 2}
    write_file(folder / "accounts.ldjson", "ACCOUNT", 40, seed=night, defects=defects,
               universe=UNIVERSE)  # fmt: skip
    write_file(folder / "stages.ldjson", "STAGE", 4, seed=night, universe=UNIVERSE)


def test_nightly_manifest_runs_three_nights_with_no_manual_step(tmp_path: Path) -> None:
    """Nights 1-3: the same command each night ends with each night's export sent, not ERROR."""
    (tmp_path / "jobs.toml").write_text(MANIFEST)
    (tmp_path / "ldjfix.toml").write_text("integration_id = 1\nsandbox = true\n")
    job_ids = []
    for night in (1, 2, 3):
        export(tmp_path / "export", night)
        done = ldjfix(tmp_path, "run", "--manifest", "jobs.toml")
        assert done.returncode in (0, 1), done.stderr
        summary = orjson.loads(done.stdout)
        assert [f["outcome"] for f in summary["files"]] != ["ERROR", "ERROR"]
        assert all(f["outcome"] in ("DONE", "QUARANTINED") for f in summary["files"]), summary
        report = orjson.loads((tmp_path / "jobs/accounts/report.json").read_bytes())
        assert report["records"] == 40 and report["pending"] == 0
        job_ids.append(report["jobId"])
        kept = sorted((tmp_path / "jobs/accounts/history").glob("*")) if night > 1 else []
        assert len(kept) == night - 1
        if night > 1:
            assert report["previousJob"]["jobId"] == job_ids[-2]
            assert report["previousJob"]["history"] == f"history/{kept[-1].name}"
            old = orjson.loads((kept[-1] / "report.json").read_bytes())
            assert old["jobId"] == job_ids[-2]  # yesterday's job, whole, outputs included
            assert (kept[-1] / "corrected.ldjson").is_file()
            assert "keeping the finished job" in done.stderr
    assert len(set(job_ids)) == 3
    again = ldjfix(tmp_path, "run", "--manifest", "jobs.toml")  # night 3, run twice
    assert again.returncode == done.returncode
    assert "export/accounts.ldjson: already finished (" in again.stderr
    assert (
        orjson.loads((tmp_path / "jobs/accounts/report.json").read_bytes())["jobId"] == job_ids[-1]
    )
    sent = {
        e["clientRequestId"].split("-")[0] for e in SandboxStore(tmp_path / "sandbox").uploads()
    }
    assert set(job_ids) <= sent  # each night's job uploaded under its own ids


def test_nightly_single_file_run_starts_a_new_job_on_a_new_export(tmp_path: Path) -> None:
    """`run FILE` the next night: a new job (exit 0/1), the finished one in history/."""
    export(tmp_path / "export", 1)
    args = ("run", "export/accounts.ldjson", "-t", "account", "--integration-id", "1", "--sandbox")
    first = ldjfix(tmp_path, *args)
    assert first.returncode == 1, first.stderr
    again = ldjfix(tmp_path, *args)
    assert again.returncode == 1 and "already finished" in again.stderr
    export(tmp_path / "export", 2)
    second = ldjfix(tmp_path, *args)
    assert second.returncode == 1, second.stderr
    assert "source changed since the job finished" in second.stderr
    folder = tmp_path / "export/accounts.ldjson.ldjfix-job"
    [kept] = (folder / "history").iterdir()
    assert orjson.loads((kept / "journal.json").read_bytes())["phase"] == "finished"
    assert orjson.loads((folder / "journal.json").read_bytes())["phase"] == "finished"


def test_nightly_unfinished_job_meeting_a_changed_source_stops_with_exit_3(tmp_path: Path) -> None:
    """Killed mid-job, then a new export: exit 3 saying what to do; nothing moved or sent."""
    export(tmp_path / "export", 1)
    args = ("run", "export/accounts.ldjson", "-t", "ACCOUNT", "--integration-id", "1", "--sandbox")
    killed = ldjfix(tmp_path, *args, LDJFIX_CRASH_AT="plan:1")
    assert killed.returncode == -9
    export(tmp_path / "export", 2)
    stopped = ldjfix(tmp_path, *args)
    assert stopped.returncode == 3
    assert "has not finished" in stopped.stderr and "Restore the original file" in stopped.stderr
    assert stopped.stderr.startswith("Error: ") and "Traceback" not in stopped.stderr
    assert not (tmp_path / "export/accounts.ldjson.ldjfix-job/history").exists()
    assert SandboxStore(tmp_path / "sandbox").uploads() == []


def test_nightly_keep_history_keeps_only_the_newest_jobs(tmp_path: Path) -> None:
    """--keep-history 1: after three nights one finished job is kept, the newest."""
    args = ("run", "export/stages.ldjson", "-t", "STAGE", "--integration-id", "1", "--sandbox")
    ids = []
    for night in (1, 2, 3):
        export(tmp_path / "export", night)
        done = ldjfix(tmp_path, *args, "--keep-history", "1")
        assert done.returncode == 0, done.stderr
        folder = tmp_path / "export/stages.ldjson.ldjfix-job"
        ids.append(orjson.loads((folder / "report.json").read_bytes())["jobId"])
    [kept] = (folder / "history").iterdir()
    assert orjson.loads((kept / "report.json").read_bytes())["jobId"] == ids[1]


def test_nightly_move_killed_half_way_is_finished_on_the_next_start(tmp_path: Path) -> None:
    """A move whose journal already went into history/.moving-* is completed, never lost."""
    folder = JobFolder(tmp_path / "job")
    folder.create()
    (folder.root / "report.json").write_text("{}")
    journal = {"jobId": "ldjabc", "started": "2026-12-01T02:30:00+00:00", "phase": "finished"}
    folder.write_json(folder.journal, journal)
    staging = folder.root / "history" / ".moving-ldjabc"
    staging.mkdir(parents=True)
    for name in ("report.json", "rounds", "journal.json"):  # killed right after the journal moved
        os.replace(folder.root / name, staging / name)
    settle_moves(folder)
    [first] = (folder.root / "history").iterdir()
    assert first.name == "2026-12-01T023000Z" and (first / "report.json").read_text() == "{}"
    folder.create()
    (folder.root / "report.json").write_text('{"night": 2}')
    folder.write_json(folder.journal, {**journal, "jobId": "ldjdef"})  # the same start second
    kept = archive_finished(folder, {**journal, "jobId": "ldjdef"}, keep=5)
    assert kept is not None and kept.name == "2026-12-01T023000Z-2"
    assert (kept / "report.json").read_text() == '{"night": 2}' and not folder.journal.exists()
