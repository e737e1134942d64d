"""Inputs that used to end in a traceback, each run as a real process: one Error: line or a result.

Nesting past jsonschema-rs's and orjson's 255 levels, a rules replacement naming a group the
pattern lacks, a ``null`` line in the interactive answers file, and ``EDITOR=rm``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.loop import FAST_KNOBS

DEEP = {"objectId": "a1", "modifiedDate": "2024-01-01T00:00:00Z", "name": "n"}
STATUS = {"status": "FAILED", "errors": [{"line": 1, "description": "Invalid value for field [x]"}]}


def _ldjfix(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "LDJFIX_SANDBOX_KNOBS": FAST_KNOBS, **(env or {})}
    full.pop("GONG_BASE_URL", None)
    command = [sys.executable, "-m", "ldjfix", *args]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=full, timeout=60
    )


def _deep_source(tmp_path: Path) -> Path:
    source = tmp_path / "deep.ldjson"
    value = "[" * 300 + "]" * 300
    source.write_text(json.dumps(DEEP)[:-1] + f', "x": {value}}}\n')
    return source


def _no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr


def test_tracebacks_deep_nesting_is_a_finding_in_validate(tmp_path: Path) -> None:
    """300 levels of arrays: validate reports the line (exit 1) instead of a recursion error."""
    done = _ldjfix("validate", str(_deep_source(tmp_path)), "-t", "ACCOUNT", "--json")
    _no_traceback(done)
    assert done.returncode == 1
    (error,) = json.loads(done.stdout)["errors"]
    assert error["line"] == 1 and "too deeply" in error["description"]


def test_tracebacks_deep_nesting_is_quarantined_by_run(tmp_path: Path) -> None:
    """run quarantines the deep record and still writes it to rejected.ldjson."""
    source = _deep_source(tmp_path)
    done = _ldjfix(
        "run", str(source), "-t", "ACCOUNT", "--integration-id", "1", "--sandbox",
        "--sandbox-dir", str(tmp_path / "sb"), "--job-dir", str(tmp_path / "job"),
    )  # fmt: skip
    _no_traceback(done)
    assert done.returncode == 1
    (rejected,) = (tmp_path / "job" / "rejected.ldjson").read_text().splitlines()
    assert json.loads(rejected)["record"]["objectId"] == "a1"


def test_tracebacks_deep_nesting_through_fix_and_annotate(tmp_path: Path) -> None:
    """fix (quarantine and drop) and annotate --format json write the deep record out."""
    source = _deep_source(tmp_path)
    status = tmp_path / "status.json"
    status.write_text(json.dumps(STATUS))
    for action, code in (("quarantine", 1), ("drop", 0)):
        rules = tmp_path / f"{action}.toml"
        rules.write_text(f'[[rule]]\nfield = "x"\naction = "{action}"\n')
        done = _ldjfix(
            "fix", str(source), "--status-file", str(status), "--rules", str(rules),
            "-t", "ACCOUNT", "-o", str(tmp_path / f"{action}.ldjson"),
        )  # fmt: skip
        _no_traceback(done)
        assert done.returncode == code, done.stderr
    shown = _ldjfix("annotate", str(source), "--status-file", str(status), "--format", "json")
    _no_traceback(shown)
    assert shown.returncode == 1
    assert json.loads(shown.stdout)["errors"][0]["record"]["objectId"] == "a1"


def test_tracebacks_run_refuses_a_replacement_naming_a_missing_group(tmp_path: Path) -> None:
    """``with = '\\9'`` is refused when run loads the rules: exit 3 before any upload."""
    source = tmp_path / "src.ldjson"
    source.write_text(json.dumps(DEEP) + "\n")
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[[rule]]\nfield = \"name\"\naction = \"replace\"\nregex = '(n)'\nwith = '\\9'\n"
    )
    done = _ldjfix(
        "run", str(source), "-t", "ACCOUNT", "--integration-id", "1", "--rules", str(rules),
        "--sandbox", "--sandbox-dir", str(tmp_path / "sb"), "--job-dir", str(tmp_path / "job"),
    )  # fmt: skip
    _no_traceback(done)
    assert done.returncode == 3
    assert done.stderr.startswith("Error: ") and "group 9" in done.stderr
    assert not (tmp_path / "sb").exists() or not list((tmp_path / "sb").rglob("*.ldjson"))


def _interactive(
    tmp_path: Path, answers: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "src.ldjson"
    source.write_text(json.dumps({**DEEP, "status": "Won"}) + "\n")
    status = tmp_path / "status.json"
    errors = [{"line": 1, "description": "Invalid value for field [status]"}]
    status.write_text(json.dumps({"status": "FAILED", "errors": errors}))
    return _ldjfix(
        "fix", str(source), "--status-file", str(status), "-t", "DEAL", "--interactive",
        "-o", str(tmp_path / "out.ldjson"), stdin=answers, env=env,
    )  # fmt: skip


def test_tracebacks_null_line_in_the_answers_file(tmp_path: Path) -> None:
    """A ``null`` line in the answers file: exit 3 naming the file and line, and what to do."""
    progress = tmp_path / "out.ldjson.answers.jsonl"
    progress.write_text("null\n")
    done = _interactive(tmp_path, "k\n")
    _no_traceback(done)
    assert done.returncode == 3
    assert done.stderr == (
        f"Error: answers file {progress} line 1 is not an answer ldjfix wrote. Delete that line "
        "(its question is asked again), or the whole file.\n"
    )


def test_tracebacks_editor_that_removes_the_file(tmp_path: Path) -> None:
    """``EDITOR=rm``: the editor "did not save", nothing changed, then the person goes on."""
    done = _interactive(tmp_path, "e\nk\n", env={"EDITOR": "rm", "VISUAL": ""})
    _no_traceback(done)
    assert done.returncode in (0, 1)  # skipped: left unchanged (exit as for any skip)
    assert "the editor did not start or did not save" in done.stderr
    assert "nothing changed" in done.stderr
