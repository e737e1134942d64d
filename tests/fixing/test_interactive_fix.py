"""Tests of fixing at the terminal: scripted answers, $EDITOR as a script, resume, a real pty."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.fixing.fixlog import fix_docs
from ldjfix.fixing.interactive import InteractiveFixer
from ldjfix.fixing.views import marked
from ldjfix.gong.status import LineError
from ldjfix.validation.validator import Validator

REC = '{"objectId":"d-%d","modifiedDate":"2024-01-01T00:00:00Z","status":"%s"}'
BAD = "Invalid value for field [status]: expected one of WON, LOST, OPEN"
EDITOR = """import json, sys
path = sys.argv[1]
record = json.load(open(path))
record["status"] = "LOST"
record["note"] = "edited"
json.dump(record, open(path, "w"))
"""


def _setup(tmp_path: Path, count: int = 3, extra: str = "") -> tuple[Path, Path]:
    source = tmp_path / "deals.ldjson"
    source.write_text("".join(REC % (n, "Won") + "\n" for n in range(1, count + 1)) + extra)
    status = tmp_path / "status.json"
    errors = [{"line": n, "description": BAD} for n in range(1, count + 1)]
    status.write_text(json.dumps({"status": "FAILED", "errors": errors}))
    return source, status


def _fix(
    tmp_path: Path, source: Path, status: Path, answers: str, env: dict[str, str] | None = None
):  # type: ignore[no-untyped-def]
    args = [
        "fix",
        str(source),
        "--status-file",
        str(status),
        "-t",
        "DEAL",
        "--interactive",
        "-o",
        str(tmp_path / "out.ldjson"),
    ]
    return CliRunner().invoke(cli, args, input=answers, env=env)


def _out(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (tmp_path / "out.ldjson").read_text().splitlines()]


def test_interactive_set_a_field_per_record(tmp_path: Path) -> None:
    """Answers typed per record set the offending field; the record is shown marked."""
    source, status = _setup(tmp_path, 2)
    result = _fix(tmp_path, source, status, 's\n\n"WON"\ns\nstatus\nLOST\n')
    assert result.exit_code == 0, result.output
    assert '>>   "status": "Won"' in result.output
    assert f"error: {BAD}\n         (2 reported records have this defect)" in result.output
    assert 'record 1 of 2 · line 1 · objectId "d-1"' in result.output
    assert [r["status"] for r in _out(tmp_path)] == ["WON", "LOST"]
    assert not (tmp_path / "out.ldjson.answers.jsonl").exists()  # finished: nothing to resume


def test_interactive_apply_to_all_records_with_the_defect(tmp_path: Path) -> None:
    """One "for all" answer fixes every record with the same defect, reported or not."""
    source, status = _setup(tmp_path, 2, extra=REC % (9, "Won") + "\n")
    result = _fix(tmp_path, source, status, "a\n\nWON\ny\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("[s]et a field") == 1
    assert [r["status"] for r in _out(tmp_path)] == ["WON", "WON", "WON"]
    assert "1 more records fixed the same way" in result.output


def test_interactive_edit_in_editor_script(tmp_path: Path) -> None:
    """Edit opens $EDITOR on the record; the edited record replaces it, each change logged."""
    source, status = _setup(tmp_path, 1)
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    result = _fix(
        tmp_path, source, status, "e\n", env={"EDITOR": f"{sys.executable} {script}", "VISUAL": ""}
    )
    assert result.exit_code == 0, result.output
    assert _out(tmp_path)[0] == {
        "objectId": "d-1",
        "modifiedDate": "2024-01-01T00:00:00Z",
        "status": "LOST",
        "note": "edited",
    }
    logged = list(fix_docs(tmp_path / "out.fixes.jsonl"))
    assert [(f["field"], f["old"], f["new"]) for f in logged] == [
        ("status", "Won", "LOST"),
        ("note", None, "edited"),
    ]


def test_interactive_quarantine_and_skip(tmp_path: Path) -> None:
    """Quarantine rejects the record; skip leaves it unchanged; both make the exit 1."""
    source, status = _setup(tmp_path, 2)
    result = _fix(tmp_path, source, status, "t\nk\n")
    assert result.exit_code == 1
    assert "2 reported records: 0 fixed, 1 quarantined, 1 skipped" in result.output
    assert [r["objectId"] for r in _out(tmp_path)] == ["d-2"]
    rejected = json.loads((tmp_path / "out.rejected.ldjson").read_text())
    assert rejected["reason"] == f"quarantined at the terminal: {BAD}"


def test_interactive_quit_and_resume(tmp_path: Path) -> None:
    """Quit saves the answers; the next run asks only about the records left."""
    source, status = _setup(tmp_path, 2)
    first = _fix(tmp_path, source, status, "s\n\nWON\nq\n")
    assert first.exit_code == 1
    progress = tmp_path / "out.ldjson.answers.jsonl"
    assert (
        "stopped at the terminal at record 2 of 2 (line 2); 1 reported record(s) still undecided "
        f"(line 2); answers so far are saved in {progress}" in first.output
    )
    assert "out.ldjson was not written (it would not be complete)" in first.output
    assert not (tmp_path / "out.ldjson").exists()
    assert progress.exists()
    second = _fix(tmp_path, source, status, "s\n\nOPEN\n")
    assert second.exit_code == 0, second.output
    assert "· line 1 ·" not in second.output and "record 2 of 2 · line 2" in second.output
    assert f"resuming at record 2 of 2: 1 earlier answer(s) replayed from {progress}" in (
        second.output
    )
    assert [r["status"] for r in _out(tmp_path)] == ["WON", "OPEN"]


def test_interactive_end_of_input_quits_and_saves(tmp_path: Path) -> None:
    """Input that ends mid-way is quit-and-save, never a traceback."""
    source, status = _setup(tmp_path, 2)
    result = _fix(tmp_path, source, status, "")
    assert result.exit_code == 1
    assert "stopped at the terminal at record 1 of 2 (line 1); 2 reported" in result.output
    assert "Traceback" not in result.output


def test_interactive_unparsable_line_edited_in_editor(tmp_path: Path) -> None:
    """A line that is not JSON can be rewritten in $EDITOR."""
    source = tmp_path / "deals.ldjson"
    source.write_text('{"objectId":"d-1",\n')
    status = tmp_path / "status.json"
    status.write_text(
        json.dumps({"status": "FAILED", "errors": [{"line": 1, "description": "bad json"}]})
    )
    script = tmp_path / "editor.py"
    fixed = '{"objectId": "d-1", "modifiedDate": "2024-01-01T00:00:00Z"}'
    script.write_text(f"import sys\nopen(sys.argv[1], 'w').write({fixed!r})\n")
    result = _fix(
        tmp_path, source, status, "e\n", env={"EDITOR": f"{sys.executable} {script}", "VISUAL": ""}
    )
    assert result.exit_code == 0, result.output
    assert _out(tmp_path) == [{"objectId": "d-1", "modifiedDate": "2024-01-01T00:00:00Z"}]


def test_interactive_marked_shows_missing_and_offending_fields() -> None:
    """The record view marks every line of an offending field, and missing fields."""
    view = marked(
        {"objectId": "a", "domains": ["x", "y"], "name": "n"}, {"domains", "modifiedDate"}
    )
    lines = view.splitlines()
    assert '>>   "modifiedDate": (missing)' in lines
    assert [line for line in lines if line.startswith(">>")] == [
        '>>   "modifiedDate": (missing)', '>>   "domains": [', '>>     "x",', '>>     "y"',
        ">>   ],",
    ]  # fmt: skip


def test_interactive_fixer_propagates_for_all_answers_with_injected_io() -> None:
    """The Fixer API with injected input/output: a "for all" answer reaches unreported records."""
    answers = iter(["a", "status", "WON", "y"])
    shown: list[str] = []
    fixer = InteractiveFixer(
        validator=Validator("DEAL"), ask=lambda _: next(answers), say=shown.append
    )
    record = {"objectId": "d-1", "modifiedDate": "2024-01-01T00:00:00Z", "status": "Won"}
    outcome = fixer.fix(1, record, [LineError(1, BAD)])
    assert outcome.record == {**record, "status": "WON"}
    later = fixer.propagate(7, {**record, "objectId": "d-7"})
    assert later is not None and later.record == {**record, "objectId": "d-7", "status": "WON"}
    assert fixer.propagate(8, {**record, "status": "OPEN"}) is None


def _read_until(fd: int, marker: bytes, seen: bytearray, deadline: float) -> None:
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            assert chunk, f"process ended before {marker!r}: {bytes(seen)!r}"
            seen += chunk


def test_interactive_through_a_real_pseudo_terminal(tmp_path: Path) -> None:
    """The real command on a real pty: prompts appear, typed answers fix the record."""
    source, status = _setup(tmp_path, 1)
    out = tmp_path / "out.ldjson"
    main, child = pty.openpty()
    args = [
        sys.executable,
        "-m",
        "ldjfix",
        "fix",
        str(source),
        "--status-file",
        str(status),
        "-t",
        "DEAL",
        "--interactive",
        "-o",
        str(out),
    ]
    proc = subprocess.Popen(args, stdin=child, stdout=child, stderr=child, close_fds=True)
    os.close(child)
    seen = bytearray()
    deadline = time.monotonic() + 30
    try:
        _read_until(main, b"[q]uit and save? ", seen, deadline)
        os.write(main, b"s\n")
        _read_until(main, b"field [status]:", seen, deadline)
        os.write(main, b"\n")
        _read_until(main, b"new value for status", seen, deadline)
        os.write(main, b"OPEN\n")
        _read_until(main, b"wrote", seen, deadline)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        os.close(main)
    assert b'>>   "status": "Won"' in seen
    assert json.loads(out.read_text())["status"] == "OPEN"


def test_interactive_record_with_a_colon_in_a_key_is_shown(tmp_path: Path) -> None:
    """fix --interactive shows a record whose custom field name holds ':' instead of crashing."""
    source = tmp_path / "deals.ldjson"
    rec = '{"objectId":"d-1","modifiedDate":"2024-01-01T00:00:00Z","x:y":1,"status":"Won"}'
    source.write_text(rec + "\n")
    status = tmp_path / "status.json"
    bad = "Invalid value for field [status]: expected one of WON, LOST, OPEN"
    status.write_text(json.dumps({"status": "FAILED", "errors": [{"line": 1, "description": bad}]}))
    out = tmp_path / "out.ldjson"
    args = ["fix", str(source), "--status-file", str(status), "-t", "DEAL", "--interactive"]
    result = CliRunner().invoke(cli, [*args, "-o", str(out)], input='s\n\n"WON"\n')
    assert result.exit_code == 0, result.exception
    assert '>>   "status": "Won"' in result.output
    assert json.loads(out.read_text())["status"] == "WON"


def test_interactive_defect_count_counts_records_once_per_round() -> None:
    """Two errors of one kind on one line count one record; a new round's errors replace the
    last round's, so "(N records have this defect)" is true."""
    shown: list[str] = []
    answers = iter(["t"])
    fixer = InteractiveFixer(validator=Validator("DEAL"), ask=lambda _: next(answers),
                             say=shown.append)  # fmt: skip
    fixer.expect([LineError(n, BAD) for n in (1, 2, 3, 4, 5, 6)])  # an earlier round
    fixer.expect([LineError(1, BAD), LineError(1, BAD), LineError(2, BAD), LineError(3, BAD),
                  LineError(4, BAD)])  # fmt: skip
    record = {"objectId": "d-1", "modifiedDate": "2024-01-01T00:00:00Z", "status": "Won"}
    fixer.fix(1, record, [LineError(1, BAD)])
    assert any("(4 reported records have this defect)" in text for text in shown)
    assert any(text.startswith("\nrecord 1 of 4 · line 1") for text in shown)


def test_interactive_editor_reopens_an_invalid_record_edit(tmp_path: Path) -> None:
    """A record edited into text that is not JSON is reopened as that text, not the record."""
    opened: list[str] = []
    bad = '{"objectId": "d-1", "status": "LOST" oops'
    good = '{"objectId": "d-1", "status": "LOST", "modifiedDate": "2024-01-01T00:00:00Z"}'
    saves = iter([bad, good])

    def edit(text: str) -> str | None:
        opened.append(text)
        return next(saves)

    shown: list[str] = []
    answers = iter(["e", "e"])
    fixer = InteractiveFixer(validator=Validator("DEAL"), ask=lambda _: next(answers),
                             say=shown.append, edit=edit)  # fmt: skip
    record = {"objectId": "d-1", "modifiedDate": "2024-01-01T00:00:00Z", "status": "Won"}
    outcome = fixer.fix(1, record, [LineError(1, BAD)])
    assert opened[1] == bad  # the person's own text, not the record again
    assert outcome.record == {**record, "status": "LOST"}
    assert any("[e]dit reopens it" in text for text in shown)
