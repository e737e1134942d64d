"""``ldjfix run`` on the command line: exit codes, messages, the summary, a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.sandbox.store import SandboxStore
from ldjfix.synth import generator as synth
from tests.conftest import SAMPLES
from tests.support.loop import FAST_KNOBS, QUICK_ENV, assert_store_matches, run_args


def _args(source: Path, tmp_path: Path, *extra: str) -> list[str]:
    return run_args(source, tmp_path / "sandbox", *extra)


def _sample(tmp_path: Path) -> Path:
    source = tmp_path / "accounts.ldjson"
    shutil.copyfile(SAMPLES / "accounts.ldjson", source)
    return source


def test_loop_cli_runs_the_sample_and_prints_a_summary(tmp_path: Path) -> None:
    """The README's command: records with bad objectIds are quarantined (exit 1), rest in Gong."""
    source = _sample(tmp_path)
    runner = CliRunner()
    env = {"LDJFIX_SANDBOX_KNOBS": FAST_KNOBS}
    result = runner.invoke(
        cli, _args(source, tmp_path, "--rules", str(SAMPLES / "rules.toml")), env=env
    )
    assert result.exit_code == 1, result.output
    assert "ldjfix: QUARANTINED:" in result.stderr
    assert "records 300: accepted" in result.stderr
    job = tmp_path / "accounts.ldjson.ldjfix-job"
    report = orjson.loads((job / "report.json").read_bytes())
    assert report["pending"] == 0 and report["rounds"] <= 3
    assert_store_matches(tmp_path / "sandbox", job / "corrected.ldjson")
    again = runner.invoke(
        cli, _args(source, tmp_path, "--rules", str(SAMPLES / "rules.toml")), env=env
    )
    first_line, _, rest = again.stderr.partition("\n")
    assert again.exit_code == 1 and first_line.startswith("ldjfix: already finished: ")
    assert rest == result.stderr  # the same summary, said to be a finished job's
    assert len(SandboxStore(tmp_path / "sandbox").uploads()) == report["uploads"]


def test_loop_cli_refuses_rules_and_interactive_together(tmp_path: Path) -> None:
    """--rules and --interactive are two ways to fix: pick one (exit 2)."""
    result = CliRunner().invoke(
        cli, _args(_sample(tmp_path), tmp_path, "--rules", "r.toml", "--interactive")
    )
    assert result.exit_code == 2
    assert "Use --rules or --interactive, not both." in result.stderr


def test_loop_cli_missing_source_is_an_input_problem(tmp_path: Path) -> None:
    """A source that does not exist: exit 3, the path named, no job folder left behind."""
    result = CliRunner().invoke(cli, _args(tmp_path / "nope.ldjson", tmp_path))
    assert result.exit_code == 3
    assert "nope.ldjson does not exist" in result.stderr
    assert not (tmp_path / "nope.ldjson.ldjfix-job").exists()


def test_loop_cli_refuses_stdin_without_a_job_dir(tmp_path: Path) -> None:
    """stdin is kept in the job folder, so - with no --job-dir is a usage problem saying how."""
    result = CliRunner().invoke(cli, _args(Path("-"), tmp_path))
    assert result.exit_code == 2
    assert "the source stdin is a stream" in result.stderr
    assert "Pass --job-dir D" in result.stderr


def test_loop_cli_refuses_a_file_with_extract_bookkeeping(tmp_path: Path) -> None:
    """Records still carrying _ldjfix must be merged first: exit 3, line named, nothing sent."""
    source = tmp_path / "edited.ldjson"
    source.write_bytes(b'{"objectId":"a"}\n{"objectId":"b","_ldjfix":{"line":9}}\n')
    result = CliRunner().invoke(cli, _args(source, tmp_path))
    assert result.exit_code == 3
    assert "line 2 still carries extract bookkeeping" in result.stderr
    assert SandboxStore(tmp_path / "sandbox").uploads() == []


def test_loop_cli_resume_with_other_options_is_refused(tmp_path: Path) -> None:
    """The job folder remembers its object type: another one is a usage problem (exit 2)."""
    source = _sample(tmp_path)
    env = {"LDJFIX_SANDBOX_KNOBS": FAST_KNOBS}
    runner = CliRunner()
    assert runner.invoke(cli, _args(source, tmp_path), env=env).exit_code == 1
    args = _args(source, tmp_path)
    args[args.index("ACCOUNT")] = "CONTACT"
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 2
    assert "was started with objectType ACCOUNT, not CONTACT" in result.stderr


def test_loop_cli_subprocess_reaches_done_on_clean_data(tmp_path: Path) -> None:
    """A real process on a clean file: DONE, exit 0, corrected.ldjson equals the source."""
    source = tmp_path / "clean.ldjson"
    lines = [
        orjson.dumps(
            {
                "objectId": f"A-{i}",
                "modifiedDate": "2025-01-01T00:00:00Z",
                "name": f"Account {i}",
                "domains": [f"a{i}.com"],
            }
        )
        for i in range(50)
    ]
    source.write_bytes(b"\n".join(lines) + b"\n")
    env = {**os.environ, "LDJFIX_SANDBOX_KNOBS": FAST_KNOBS}
    done = subprocess.run(
        [sys.executable, "-m", "ldjfix", *_args(source, tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "ldjfix: DONE: all 50 records accepted by Gong" in done.stderr
    assert "\x1b[" not in done.stderr  # no progress line when stderr is not a terminal
    job = tmp_path / "clean.ldjson.ldjfix-job"
    assert (job / "corrected.ldjson").read_bytes() == source.read_bytes()
    assert (job / "rejected.ldjson").read_bytes() == b""


def test_loop_cli_draws_a_progress_line_on_a_terminal(tmp_path: Path) -> None:
    """With stderr on a real pseudo-terminal, the line is redrawn in place, then the summary."""
    import pty

    from tests.support.pty_screen import set_size

    source = _sample(tmp_path)
    main, replica = pty.openpty()
    set_size(replica, 160, 24)  # wide enough for the full line
    env = {**os.environ, "LDJFIX_SANDBOX_KNOBS": FAST_KNOBS, "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ldjfix", *_args(source, tmp_path)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=replica,
    )
    os.close(replica)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the other side closed: the process is done
            break
        if not data:
            break
        chunks.append(data)
    assert process.wait(timeout=60) == 1
    os.close(main)
    text = b"".join(chunks).decode()
    assert "\r\x1b[2Kldjfix: round 1 · uploads 0/1" in text
    assert "\r\x1b[2Kldjfix: QUARANTINED:" in text  # the line is cleared before the summary


@pytest.mark.parametrize(
    ("how", "code", "named"),
    [
        (["--integration-id", "0"], 2, "--integration-id"),
        (["--integration-id", "-3"], 2, "--integration-id"),
        ([], 3, "LDJFIX_INTEGRATION_ID"),
    ],
)
def test_run_integration_id_zero_refused_before_the_job_folder(
    tmp_path: Path, how: list[str], code: int, named: str
) -> None:
    """A mistyped integration id stops at once; no job folder is bound to it for later runs."""
    source = tmp_path / "one.ldjson"
    source.write_bytes(b'{"objectId":"A1","modifiedDate":"2025-01-01T00:00:00Z"}\n')
    args = ["run", str(source), "--object-type", "ACCOUNT", *how, "--sandbox"]
    env = {**QUICK_ENV, "LDJFIX_SANDBOX_DIR": str(tmp_path / "sb"), "LDJFIX_INTEGRATION_ID": "0"}
    result = CliRunner().invoke(cli, [*args, "--sandbox-dir", str(tmp_path / "sb")], env=env)
    assert result.exit_code == code, result.output
    assert named in result.output
    assert not (tmp_path / "one.ldjson.ldjfix-job").exists()


def test_run_one_file_with_json_resumes_the_job_dir_given(tmp_path: Path) -> None:
    """One FILE, --job-dir D: adding --json (the batch path) resumes D, not a new job inside it."""
    source = tmp_path / "accounts.ldjson"
    synth.write_file(source, "ACCOUNT", 300, seed=1, defects={"name_too_long": 40})
    job, state = tmp_path / "jobs" / "a", tmp_path / "sb"
    args = ["run", str(source), "--object-type", "ACCOUNT", "--integration-id", "1"]
    args += ["--sandbox", "--sandbox-dir", str(state), "--job-dir", str(job)]
    first = CliRunner().invoke(cli, [*args, "--max-rounds", "1"], env=QUICK_ENV)
    assert first.exit_code == 1, first.output
    sent_before = len(SandboxStore(state).uploads())
    second = CliRunner().invoke(cli, [*args, "--json"], env=QUICK_ENV)
    assert second.exit_code == 1, second.output
    entry = orjson.loads(second.stdout)["files"][0]
    assert entry["jobDir"] == str(job)
    assert (entry["outcome"], entry["quarantined"]) == ("QUARANTINED", 40)
    assert not (job / "accounts.ldjson.ldjfix-job").exists()
    assert len(SandboxStore(state).uploads()) == sent_before + entry["uploads"] - 1  # r01 once
