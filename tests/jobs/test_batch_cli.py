"""``ldjfix run`` over several files: options, config, outputs, exit codes, a real subprocess."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from ldjfix.cli import cli
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import serving
from tests.support.batch import (
    CREDENTIALS,
    RATE,
    Arrivals,
    assert_documented_order,
    assert_summary_matches_reports,
    make_files,
    manifest_text,
)

FAST_ENV = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'}


def invoke(*args: str) -> Result:
    """Run the CLI in-process (tests chdir to tmp_path first: no stray ldjfix.toml)."""
    return CliRunner().invoke(cli, list(args), env=FAST_ENV)


def test_batch_cli_two_files_in_process_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--file FILE:T twice: JSON summary on stdout, table on stderr, CSV and Markdown per job."""
    monkeypatch.chdir(tmp_path)
    jobs = make_files(tmp_path / "data")
    account, stage = jobs[0], jobs[5]
    result = invoke(
        "run",
        "--file", f"{account.file}:ACCOUNT",
        "--file", f"{stage.file}:stage",
        "--integration-id", "1",
        "--sandbox", "--sandbox-dir", str(tmp_path / "sandbox"),
        "--calls-per-second", "200",
        "--job-dir", str(tmp_path / "jobs"),
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    summary = orjson.loads(result.stdout)
    assert summary["exitCode"] == 1
    assert [f["objectType"] for f in summary["files"]] == ["ACCOUNT", "STAGE"]
    assert_summary_matches_reports(summary)
    table = result.stderr.splitlines()
    assert table[-4].split()[:3] == ["file", "type", "outcome"]
    assert table[-1].startswith("total")
    folder = tmp_path / "jobs" / "accounts.ldjson.ldjfix-job"
    assert summary["files"][0]["jobDir"] == str(folder)
    with (folder / "rejected.csv").open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == summary["files"][0]["quarantined"] == 30
    assert {row["field"] for row in rows} == {"name"}
    md = (folder / "summary.md").read_text(encoding="utf-8")
    assert md.startswith(f"## ldjfix: {account.file} (ACCOUNT): QUARANTINED")


def test_batch_cli_config_file_supplies_settings(tmp_path: Path) -> None:
    """ldjfix.toml in the working folder gives integration id, sandbox and limits."""
    jobs = make_files(tmp_path / "data")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "ldjfix.toml").write_text(
        'integration_id = 1\nsandbox = true\ncalls_per_second = 200\njob_dir = "jobs"\n',
        encoding="utf-8",
    )
    env = {**os.environ, **FAST_ENV, "LDJFIX_SANDBOX_DIR": str(tmp_path / "sandbox")}
    done = subprocess.run(
        [sys.executable, "-m", "ldjfix", "run", str(jobs[4].file), "-t", "BUSINESS_USER"],
        cwd=tmp_path / "work", env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "work/jobs/business_users.ldjson.ldjfix-job/report.json").is_file()
    assert done.stdout == ""  # one file, no batch option: the single-file path, as before


def test_batch_cli_manifest_subprocess_on_loopback(tmp_path: Path) -> None:
    """A real process runs a manifest against sandbox serve: JSON events, summary, order, rate."""
    jobs = make_files(tmp_path / "data")
    manifest = tmp_path / "jobs.toml"
    manifest.write_text(manifest_text(jobs), encoding="utf-8")
    with serving(tmp_path / "state", Knobs(polls=0, calls_per_second=RATE)) as sandbox:
        arrivals = Arrivals(sandbox)
        env = {**os.environ, **CREDENTIALS, "GONG_BASE_URL": sandbox.url}
        done = subprocess.run(
            [sys.executable, "-m", "ldjfix", "run", "--manifest", str(manifest),
             "--integration-id", "1", "--calls-per-second", str(RATE), "--log-format", "json",
             "--summary-md", str(tmp_path / "batch.md")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        calls = list(sandbox.app.calls)
        uploads = sandbox.store.uploads()
    assert done.returncode == 1, done.stderr
    summary = orjson.loads(done.stdout)
    assert summary["totals"]["files"] == 6 and summary["apiCallsThisRun"] == len(calls)
    assert_summary_matches_reports(summary)
    assert_documented_order(uploads)
    assert arrivals.max_in_a_second() <= RATE and len(calls) > RATE
    assert [c.code for c in calls if c.code not in (200, 201)] == []  # not one 429
    events = [orjson.loads(line) for line in done.stderr.splitlines()]  # JSON lines only
    assert {"level_start", "file_start", "round_end", "file_end"} <= {e["event"] for e in events}
    assert events[-1]["event"] == "batch_end" and events[-1]["exitCode"] == 1
    assert "batch-secret" not in done.stderr + done.stdout
    assert "| **total** |" in (tmp_path / "batch.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "files", "code", "message"),
    [
        (
            ["a.ldjson", "b.ldjson", "-t", "ACCOUNT", "-t", "DEAL", "-t", "LEAD"],
            {},
            2,
            "Error: 2 files but 3 --object-type values",
        ),
        (["--file", "a.ldjson"], {}, 2, "Error: --file 'a.ldjson' must be FILE:OBJECT_TYPE"),
        (
            ["--manifest", "jobs.toml"],
            {"jobs.toml": "[[job]]\nfile = 'a.ldjson'\n"},
            3,
            "Error: jobs.toml: job 1: key 'object_type': is missing",
        ),
        (
            ["a.ldjson", "-t", "ACCOUNT"],
            {"ldjfix.toml": "access_key_secret = 'x'\n"},
            3,
            "Error: ldjfix.toml: key 'access_key_secret': looks like a credential",
        ),
        (
            ["a.ldjson", "-t", "ACCOUNT", "--config", "my.toml"],
            {"my.toml": "calls_per_second = -1\n"},
            3,
            "Error: my.toml: key 'calls_per_second': must be a number greater than 0",
        ),
        (
            ["--file", "nope.ldjson:ACCOUNT", "--file", "b.ldjson:DEAL", "--integration-id", "1"],
            {},
            3,
            "Error: input file nope.ldjson does not exist.",
        ),
        (
            ["a.ldjson", "b.ldjson", "-t", "ACCOUNT", "--sandbox"],
            {"a.ldjson": "", "b.ldjson": ""},
            2,
            "Error: No integration id: pass --integration-id",
        ),
        ([], {}, 2, "Error: Nothing to run"),
        (
            ["a.ldjson", "--json", "-t", "ACCOUNT", "--interactive", "--integration-id", "1"],
            {},
            2,
            "Error: --interactive takes one FILE and no batch option",
        ),
    ],
)
def test_batch_cli_bad_invocations(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    files: dict[str, str],
    code: int,
    message: str,
) -> None:
    """Bad options, manifests and configs: one line naming the problem, documented exit code."""
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        Path(name).write_text(text, encoding="utf-8")
    result = invoke("run", *args)
    assert result.exit_code == code, result.stderr
    assert result.stderr.startswith("Error: ")
    assert message.removeprefix("Error: ") in result.stderr  # paths may be shown in full
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def test_batch_cli_manifest_rules_per_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job's own rules file (relative to the manifest) fixes its file; others quarantine."""
    monkeypatch.chdir(tmp_path)
    jobs = make_files(tmp_path / "data")
    (tmp_path / "data" / "names.toml").write_text(
        '[[rule]]\nfield = "name"\nkind = "too_long"\naction = "truncate"\nlength = 255\n',
        encoding="utf-8",
    )
    (tmp_path / "data" / "jobs.toml").write_text(
        f'[[job]]\nfile = "accounts.ldjson"\nobject_type = "ACCOUNT"\nrules = "names.toml"\n'
        f'[[job]]\nfile = "{jobs[5].file.name}"\nobject_type = "STAGE"\n',
        encoding="utf-8",
    )
    result = invoke(
        "run", "--manifest", "data/jobs.toml", "--integration-id", "1", "--sandbox",
        "--sandbox-dir", str(tmp_path / "sandbox"), "--calls-per-second", "200",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    entries = {e["objectType"]: e for e in orjson.loads(result.stdout)["files"]}
    assert (entries["ACCOUNT"]["outcome"], entries["ACCOUNT"]["accepted"]) == ("DONE", 200)
    assert (entries["STAGE"]["outcome"], entries["STAGE"]["quarantined"]) == ("QUARANTINED", 1)
    folder = Path(entries["ACCOUNT"]["jobDir"]).resolve()
    assert folder == jobs[0].file.with_name("accounts.ldjson.ldjfix-job")  # beside the file
