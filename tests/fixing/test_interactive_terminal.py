"""The interactive fixer as a person meets it: the real ``ldjfix`` on a pty, a real ``$EDITOR``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import orjson

from ldjfix.fixing.fixlog import fix_docs
from ldjfix.fixing.typed_values import typed_value
from ldjfix.fixing.views import caret, header
from tests.support.pty_screen import Screen

DATE = "2024-01-01T00:00:00Z"
ENUM = "Invalid value for field [status]: expected one of WON, LOST, OPEN"
BROKEN = '{"objectId":"d-3","status":"WON" "x":1}'
NOT_JSON = "invalid JSON: unexpected character, expected ',' or '}' at character 34"
NO_ID = "Mandatory field [objectId] is missing or empty"
# The editor: first save text that is not JSON; when opened again it must see that same text
# (the person's work kept), and then saves a valid record.
EDITOR = (
    """import pathlib, sys
path = pathlib.Path(sys.argv[2])
calls = pathlib.Path(sys.argv[1])
seen = path.read_text()
n = int(calls.read_text()) if calls.exists() else 0
calls.write_text(str(n + 1))
with open(str(calls) + ".log", "a") as log:
    log.write(repr(seen) + "\\n")
if n == 0:
    path.write_text('{"objectId": "d-3", "status": "WON", oops')
else:
    assert "oops" in seen, seen
    path.write_text('{"objectId": "d-3", "modifiedDate": "DATE", "status": "WON"}')
"""
).replace("DATE", "2024-01-01T00:00:00Z")


def _deals(tmp_path: Path) -> tuple[Path, Path]:
    lines = [
        json.dumps({"objectId": "d-1", "modifiedDate": DATE, "status": "Won"}),
        json.dumps({"objectId": "d-2", "modifiedDate": DATE, "status": "Won"}),
        BROKEN,
        json.dumps({"modifiedDate": DATE, "status": "WON"}),
    ]
    source = tmp_path / "deals.ldjson"
    source.write_text("".join(line + "\n" for line in lines))
    errors = [(1, ENUM), (2, ENUM), (3, NOT_JSON), (4, NO_ID)]
    status = tmp_path / "status.json"
    status.write_text(
        json.dumps(
            {"status": "FAILED", "errors": [{"line": n, "description": d} for n, d in errors]}
        )
    )
    return source, status


def _screen(tmp_path: Path, args: list[str], env: dict[str, str] | None = None) -> Screen:
    return Screen(
        [sys.executable, "-m", "ldjfix", *args], columns=80, lines=50,
        env={**os.environ, "TERM": "xterm", **(env or {})}, cwd=tmp_path,
    )  # fmt: skip


def test_interactive_terminal_a_whole_session(tmp_path: Path) -> None:
    """Record i of n, re-shown records, drop a field, the caret, $EDITOR's kept text, typed ids."""
    source, status = _deals(tmp_path)
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR)
    calls = tmp_path / "calls"
    env = {"EDITOR": f"{sys.executable} {editor} {calls}", "VISUAL": ""}
    args = ["fix", str(source), "--status-file", str(status), "-t", "DEAL", "--interactive",
            "-o", "out.ldjson"]  # fmt: skip
    screen = _screen(tmp_path, args, env)
    try:
        screen.wait_for('record 1 of 4 · line 1 · objectId "d-1"')
        screen.wait_for(f"error: {ENUM}\r\n         (2 reported records have this defect)")
        screen.wait_for("quaran[t]ine the record · s[k]ip · [q]uit and save? ")
        screen.type("s\n\nNope\n")  # still not one of the enum: the record comes back
        screen.wait_for('record 1 of 4 · line 1 · objectId "d-1" · shown again: still invalid')
        screen.type("a\n\nWON\n")
        screen.wait_for(
            'this sets status to the same value, "WON", on 2 reported records and '
            "every other\r\nrecord in the file with this defect. Go ahead? [y/N]"
        )
        screen.type("n\n")
        screen.wait_for("set on this record only")
        screen.wait_for('record 2 of 4 · line 2 · objectId "d-2"')  # not fixed for all: asked
        screen.type("drop\n\n")  # the rules file's word: drop a field
        screen.wait_for("record 3 of 4 · line 3 · not a JSON object")
        screen.wait_for(f"   {BROKEN}\n".replace("\n", "\r\n"))
        screen.wait_for(" " * 36 + "^ character 34")
        screen.type("e\n")
        screen.wait_for("not valid JSON (")
        screen.wait_for("your last edit (not yet valid JSON) is kept: [e]dit reopens it")
        screen.type("e\n")
        screen.wait_for("record 4 of 4 · line 4 · objectId (missing)")
        screen.type("s\n\n12345\n")
        screen.wait_for("wrote")
        assert screen.finish() == 0, screen.text()
    finally:
        screen.kill()
    out = [orjson.loads(line) for line in (tmp_path / "out.ldjson").read_bytes().splitlines()]
    assert out[0]["status"] == "WON"
    assert "status" not in out[1]
    assert out[2] == {"objectId": "d-3", "modifiedDate": DATE, "status": "WON"}
    assert out[3]["objectId"] == "12345"  # typed for a string field: a string
    assert calls.read_text() == "2"
    assert b"\x1b[1;31merror:\x1b[0m" in screen.raw  # colour, since this is a terminal
    fixes = list(fix_docs(tmp_path / "out.fixes.jsonl"))
    assert {"line": 2, "objectId": "d-2", "field": "status", "old": "Won", "new": None,
            "why": "dropped at the terminal"} in fixes  # fmt: skip


def test_interactive_terminal_quit_names_what_is_undecided(tmp_path: Path) -> None:
    """Quit after one answer: the undecided are named, OUT is not written; resuming says so."""
    source, status = _deals(tmp_path)
    args = ["fix", str(source), "--status-file", str(status), "-t", "DEAL", "--interactive",
            "-o", "out.ldjson"]  # fmt: skip
    screen = _screen(tmp_path, args)
    try:
        screen.wait_for("record 1 of 4")
        screen.type("s\n\nWON\n")
        screen.wait_for("record 2 of 4")
        screen.type("q\n")
        assert screen.finish() == 1
    finally:
        screen.kill()
    text = screen.raw.decode()
    assert "3 reported record(s) still undecided (line 2, 3, 4)" in text
    assert "1 of 4 reported records decided before quitting; out.ldjson was not written" in text
    assert not (tmp_path / "out.ldjson").exists()
    again = _screen(tmp_path, args)
    try:
        again.wait_for("resuming at record 2 of 4: 1 earlier answer(s) replayed from")
        again.type("q\n")
        assert again.finish() == 1
    finally:
        again.kill()


def test_interactive_terminal_skip_in_run_leaves_the_record_pending(tmp_path: Path) -> None:
    """In run, skip neither fixes nor quarantines: the record is sent again, asked again."""
    good = {"objectId": "A1", "modifiedDate": DATE, "name": "Acme"}
    long_name = {"objectId": "A2", "modifiedDate": DATE, "name": "x" * 300}
    source = tmp_path / "accounts.ldjson"
    source.write_text(json.dumps(good) + "\n" + json.dumps(long_name) + "\n")
    args = ["run", str(source), "-t", "ACCOUNT", "--integration-id", "1", "--sandbox",
            "--interactive", "--max-rounds", "3"]  # fmt: skip
    env = {"LDJFIX_SANDBOX_DIR": str(tmp_path / "sandbox"),
           "LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'}  # fmt: skip
    screen = _screen(tmp_path, args, env)
    try:
        screen.wait_for('record 1 of 1 · line 2 · objectId "A2"')
        screen.wait_for("[q]uit and save? ")
        mark = len(screen.raw)
        screen.type("k\n")
        screen.wait_for("[q]uit and save? ", since=mark)  # asked again after the next round
        assert screen.raw.count(b'objectId "A2"') == 2
        screen.type("skip\n")
        assert screen.finish() == 1
    finally:
        screen.kill()
    assert not any("pending" in row and "·" in row for row in screen.rows())  # line cleared
    assert "… (cut here: 312 characters in all)" in screen.raw.decode()  # the 300 x's, cut
    job = tmp_path / "accounts.ldjson.ldjfix-job"
    report = orjson.loads((job / "report.json").read_bytes())
    assert (report["outcome"], report["pending"], report["quarantined"]) == ("PENDING", 1, 0)
    assert b"A2" not in (job / "rejected.ldjson").read_bytes()


def test_interactive_terminal_views_and_typed_values() -> None:
    """The caret sits under the failing character in a cut line; answers follow the field type."""
    text = "x" * 200 + "!" + "y" * 200
    view = caret(text, 200, window=40).splitlines()
    assert view[0].startswith("…") and view[0].endswith("…")
    assert view[0][view[1].index("^")] == "!"
    assert header(4, None, position=4, total=4) == "record 4 of 4 · line 4 · objectId (missing)"
    assert header(4, 7, position=None, total=0) == "line 4 · objectId 7 (not a string)"
    now = lambda: None  # noqa: E731 - not used for these answers
    assert typed_value("12345", {"string"}, now) == "12345"  # type: ignore[arg-type]
    assert typed_value('"WON"', {"string"}, now) == "WON"  # type: ignore[arg-type]
    assert typed_value("yes", {"boolean"}, now) is True  # type: ignore[arg-type]
    assert typed_value("a, b", {"array"}, now) == ["a", "b"]  # type: ignore[arg-type]
    assert typed_value("12", set(), now, "old text") == "12"  # type: ignore[arg-type]
    assert typed_value("12", set(), now) == 12  # type: ignore[arg-type]


def test_interactive_terminal_unknown_answer_and_missing_editor(tmp_path: Path) -> None:
    """An unknown answer asks again without reprinting the record; an editor that cannot start
    says so and changes nothing."""
    source, status = _deals(tmp_path)
    args = ["fix", str(source), "--status-file", str(status), "-t", "DEAL", "--interactive",
            "-o", "out.ldjson"]  # fmt: skip
    screen = _screen(tmp_path, args, {"EDITOR": "/nonexistent/editor", "VISUAL": ""})
    try:
        screen.wait_for("[q]uit and save? ")
        screen.type("x\n")
        screen.wait_for("unknown choice; type one of the letters in [ ]")
        screen.wait_for("[q]uit and save? ", since=screen.raw.index(b"unknown choice"))
        screen.type("e\n")
        screen.wait_for("the editor did not start or did not save")
        screen.type("q\n")
        assert screen.finish() == 1
    finally:
        screen.kill()
    assert screen.raw.count(b'"objectId": "d-1"') == 2  # shown first, then again after e only
