"""Atomic outputs: a process killed while writing leaves the old file or the complete new one.

Real ``ldjfix`` processes are SIGKILLed in the middle of each output write — through the test
hook ``LDJFIX_KILL_IN_WRITE=<file name>`` (``ldjfix/ldjson/files.py``: the process dies after
the new content went to the temporary file, before it is moved into place), and at random moments
while a large output is being written. Afterwards the target holds exactly its old content
(or does not exist), and running the command again writes the complete new file.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.ldjson.origin import marked_record
from ldjfix.synth import generator as synth

SAMPLES = Path(__file__).parents[2] / "samples"
OLD = b'{"old": "content that must survive"}\n'
QUICK_SANDBOX = '{"polls": 0, "calls_per_second": 0}'


def ldjfix(
    args: list[str], cwd: Path, *, kill_in: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m ldjfix`` in ``cwd``; ``kill_in`` names the output to die while writing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    env["LDJFIX_SANDBOX_KNOBS"] = QUICK_SANDBOX
    if kill_in is not None:
        env["LDJFIX_KILL_IN_WRITE"] = kill_in
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


def workspace(folder: Path) -> Path:
    """A folder with the sample accounts, their status, rules and an edited extract."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("accounts.ldjson", "accounts-status.json"):
        shutil.copy(SAMPLES / name, folder / name)
    rules = (SAMPLES / "rules.toml").read_text()  # a fixed time: reruns write the same bytes
    (folder / "rules.toml").write_text(rules.replace('"now"', '"2025-01-01T00:00:00Z"'))
    done = CliRunner().invoke(
        cli,
        [
            "extract",
            str(folder / "accounts.ldjson"),
            "--status-file",
            str(folder / "accounts-status.json"),
            "-o",
            str(folder / "failing.ldjson"),
        ],
    )
    assert done.exit_code == 0, done.output
    fixed = CliRunner().invoke(
        cli,
        [
            "fix",
            str(folder / "accounts.ldjson"),
            "--status-file",
            str(folder / "accounts-status.json"),
            "-t",
            "ACCOUNT",
            "--rules",
            str(folder / "rules.toml"),
            "-o",
            str(folder / "base-fixed.ldjson"),
            "--fixes",
            str(folder / "base.fixes.jsonl"),
        ],
    )
    assert fixed.exit_code in (0, 1), fixed.output
    lines = (folder / "failing.ldjson").read_bytes().splitlines()
    first = orjson.loads(lines[0])
    first["name"] = "Edited by the test"
    (folder / "fixed.ldjson").write_bytes(b"\n".join([orjson.dumps(first), *lines[1:]]) + b"\n")
    return folder


COMMANDS = {
    "merge": (["merge", "accounts.ldjson", "fixed.ldjson", "-o", "out.ldjson"], "out.ldjson"),
    "extract": (
        ["extract", "accounts.ldjson", "--status-file", "accounts-status.json", "-o", "out.ldjson"],
        "out.ldjson",
    ),
    "fix": (
        [
            "fix",
            "accounts.ldjson",
            "--status-file",
            "accounts-status.json",
            "-t",
            "ACCOUNT",
            "--rules",
            "rules.toml",
            "-o",
            "out.ldjson",
        ],
        "out.ldjson",
    ),
    "replay": (
        ["replay", "accounts.ldjson", "--fixes", "base.fixes.jsonl", "-o", "out.ldjson"],
        "out.ldjson",
    ),
    "fix-fixes": (
        [
            "fix",
            "accounts.ldjson",
            "--status-file",
            "accounts-status.json",
            "-t",
            "ACCOUNT",
            "--rules",
            "rules.toml",
            "-o",
            "out.ldjson",
            "--fixes",
            "changes.jsonl",
        ],
        "changes.jsonl",
    ),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What each command writes when nothing kills it."""
    folder = workspace(tmp_path_factory.mktemp("reference"))
    found = {}
    for name, (args, target) in COMMANDS.items():
        done = ldjfix(args, folder)
        assert done.returncode in (0, 1), done.stderr
        found[name] = (folder / target).read_bytes()
        (folder / target).unlink()
    return found


@pytest.mark.parametrize(
    ("name", "existed"), [(name, True) for name in sorted(COMMANDS)] + [("merge", False)]
)
def test_atomic_kill_during_write_keeps_old_file(
    name: str, existed: bool, tmp_path: Path, reference: dict[str, bytes]
) -> None:
    """Killed while writing its output, a command leaves the old file (or none); rerun, all."""
    folder = workspace(tmp_path)
    args, target = COMMANDS[name]
    if existed:
        (folder / target).write_bytes(OLD)
    killed = ldjfix(args, folder, kill_in=target)
    assert killed.returncode == -signal.SIGKILL
    if existed:
        assert (folder / target).read_bytes() == OLD
    else:
        assert not (folder / target).exists()
    again = ldjfix(args, folder)
    assert again.returncode in (0, 1), again.stderr
    assert (folder / target).read_bytes() == reference[name]
    assert not list(folder.glob(f".{target}.*.tmp"))[1:]  # at most the killed run's temp file


RUN = [
    "run",
    "accounts.ldjson",
    "-t",
    "ACCOUNT",
    "--integration-id",
    "9",
    "--rules",
    "rules.toml",
    "--sandbox",
    "--sandbox-dir",
    "sandbox",
    "--job-dir",
    "job",
    "--calls-per-second",
    "100",
]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace where the run went through with nothing killed."""
    clean = workspace(tmp_path_factory.mktemp("clean"))
    done = ldjfix(RUN, clean)
    assert done.returncode == 1, done.stderr
    return clean


def _comparable(report: dict[str, object]) -> dict[str, object]:
    keep = ("outcome", "records", "accepted", "quarantined", "pending", "invariantHolds")
    return {key: report[key] for key in keep}


# fixes.jsonl is not among them: it grows a round at a time and a resumed run cuts it back to
# its last settlement (tests/robustness/test_resume_crash.py compares it with a clean run's).
@pytest.mark.parametrize(
    "target", ["journal.json", "corrected.ldjson", "rejected.ldjson", "report.json"]
)
def test_atomic_run_killed_while_writing_job_file_resumes_whole(
    target: str, tmp_path: Path, clean_run: Path
) -> None:
    """A run killed while writing a job file leaves it old or absent; the rerun ends the same."""
    clean = clean_run
    folder = workspace(tmp_path / "killed")
    killed = ldjfix(RUN, folder, kill_in=target)
    assert killed.returncode == -signal.SIGKILL
    assert not (folder / "job" / target).exists()  # the first write of it died
    again = ldjfix(RUN, folder)
    assert again.returncode == 1, again.stderr  # the samples keep some records quarantined
    ours = orjson.loads((folder / "job" / "report.json").read_bytes())
    theirs = orjson.loads((clean / "job" / "report.json").read_bytes())
    assert _comparable(ours) == _comparable(theirs)
    assert (folder / "job" / "corrected.ldjson").read_bytes() == (
        clean / "job" / "corrected.ldjson"
    ).read_bytes()


def test_atomic_merge_killed_at_random_moments_never_half_writes(tmp_path: Path) -> None:
    """SIGKILL at random moments during a large merge: the output is old or complete."""
    source = tmp_path / "big.ldjson"
    synth.write_file(source, "ACCOUNT", 60_000, seed=5, defects={"bad_url": 10})
    line = source.read_bytes().split(b"\n", 1)[0]
    fixed = orjson.loads(marked_record(1, line, orjson.loads(line), ["test"]))
    fixed["name"] = "changed"
    (tmp_path / "fixed.ldjson").write_bytes(orjson.dumps(fixed) + b"\n")
    args = ["merge", "big.ldjson", "fixed.ldjson", "-o", "out.ldjson"]
    started = time.monotonic()
    assert ldjfix(args, tmp_path).returncode == 0
    took = time.monotonic() - started  # kill within the time a whole run takes
    complete = (tmp_path / "out.ldjson").read_bytes()
    rng = random.Random(7)
    kills = 0
    for _ in range(6):
        (tmp_path / "out.ldjson").write_bytes(OLD)
        kills += _kill_at_random(args, tmp_path, rng.uniform(0.3, 0.95) * took)
        assert (tmp_path / "out.ldjson").read_bytes() in (OLD, complete)
    assert kills >= 1  # at least one kill landed while the process ran


def _kill_at_random(args: list[str], cwd: Path, delay: float) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    with subprocess.Popen(
        [sys.executable, "-m", "ldjfix", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
    return int(process.returncode == -signal.SIGKILL)
