"""``run --interactive``: a person answers at the terminal; quit-and-save resumes the job."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner, Result

from ldjfix.cli import cli
from ldjfix.sandbox.store import SandboxStore
from tests.support.loop import FAST_KNOBS, records_of, run_args

GOOD = b'{"objectId":"A1","modifiedDate":"2025-01-01T00:00:00Z","name":"Acme"}\n'
LONG = b'{"objectId":"A2","modifiedDate":"2025-01-01T00:00:00Z","name":"' + b"x" * 300 + b'"}\n'
BROKEN = b'{"objectId":"A3","name":\n'


def _run(tmp_path: Path, answers: str) -> Result:
    source = tmp_path / "accounts.ldjson"
    if not source.exists():
        source.write_bytes(GOOD + LONG + BROKEN)
    args = run_args(source, tmp_path / "sandbox", "--interactive")
    return CliRunner().invoke(cli, args, input=answers, env={"LDJFIX_SANDBOX_KNOBS": FAST_KNOBS})


def test_loop_interactive_quit_then_resume_asks_only_what_is_open(tmp_path: Path) -> None:
    """Drop the broken line, quit at Gong's error; the rerun replays the drop and asks once."""
    first = _run(tmp_path, "t\nq\n")
    assert first.exit_code == 1
    assert "stopped at the terminal at record 1 of 1 (line 2)" in first.stderr
    assert "Field [name] exceeds the maximum length of 255 characters" in first.stderr
    second = _run(tmp_path, "s\nname\nAcme Two\n")
    assert second.exit_code == 1, second.stderr
    assert "ldjfix: QUARANTINED: 2 records accepted by Gong; 1 record quarantined" in (
        second.stderr
    )
    assert "quaran[t]ine" not in second.stderr.split("Field [name]")[0]  # line 3: not asked again
    job = tmp_path / "accounts.ldjson.ldjfix-job"
    assert records_of(job / "corrected.ldjson")["A2"]["name"] == "Acme Two"
    rejected = orjson.loads((job / "rejected.ldjson").read_bytes())
    assert rejected["line"] == 3 and rejected["text"] == BROKEN.decode().rstrip("\n")
    crids = [u["clientRequestId"] for u in SandboxStore(tmp_path / "sandbox").uploads()]
    assert len(crids) == len(set(crids)) == 2  # round 1 once (not again after quitting), round 2
