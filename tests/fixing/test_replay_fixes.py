"""Tests of ``ldjfix replay``: recorded fixes applied to the next export of the same CRM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.fixing.replay import replay_fixes


def _fix(object_id: str | None, field: str, old: object, new: object) -> str:
    item = {"line": 1, "objectId": object_id, "field": field, "old": old, "new": new, "why": "t"}
    return json.dumps(item) + "\n"


def _write(tmp_path: Path) -> tuple[Path, Path]:
    export = tmp_path / "export.ldjson"
    export.write_bytes(
        b'{"objectId":"d-1","status":"Won", "amount":"1,200.00"}\n'
        b'{"objectId":"d-2",  "status":"OPEN"}\n'
        b'{"objectId":"d-3","status":"Lost","accountId":"gone"}\r\n'
        b"not json\n"
        b'{"objectId":"a#1","name":"x"}'
    )
    fixes = tmp_path / "fixes.jsonl"
    fixes.write_text(
        _fix("d-1", "status", "Won", "WON")
        + _fix("d-1", "amount", "1,200.00", 1200.0)
        + _fix("d-2", "status", "Won", "WON")  # the CRM has changed it since: stale
        + _fix("d-3", "accountId", "gone", None)  # a dropped field
        + _fix("a#1", "objectId", "a#1", "a-1")
        + _fix("a-1", "name", "x", "X")  # recorded after the objectId fix
        + _fix("d-9", "status", "Won", "WON")  # not in this export
        + _fix(None, "objectId", None, "new-id")  # no key: not replayable
    )
    return export, fixes


def test_replay_applies_changes_by_object_id_field_and_old_value(tmp_path: Path) -> None:
    """Matching changes are applied; stale, absent and keyless ones are counted, not forced."""
    export, fixes = _write(tmp_path)
    out = tmp_path / "out.ldjson"
    report = replay_fixes(export, fixes, output=out)
    assert out.read_bytes() == (
        b'{"objectId":"d-1","status":"WON","amount":1200.0}\n'
        b'{"objectId":"d-2",  "status":"OPEN"}\n'
        b'{"objectId":"d-3","status":"Lost"}\r\n'
        b"not json\n"
        b'{"objectId":"a-1","name":"X"}'
    )
    assert (report.applied, report.stale, report.not_found, report.unkeyed) == (5, 1, 1, 1)
    assert report.records == 3


def test_replay_cli_prints_the_summary(tmp_path: Path) -> None:
    """The command writes OUT and says what it did; exit 0."""
    export, fixes = _write(tmp_path)
    out = tmp_path / "out.ldjson"
    result = CliRunner().invoke(cli, ["replay", str(export), "--fixes", str(fixes), "-o", str(out)])
    assert result.exit_code == 0
    assert "5 changes applied to 3 records; 0 already in place; 1 stale" in result.output
    assert out.exists()


def test_replay_bad_fixes_file_exits_3(tmp_path: Path) -> None:
    """A fixes file that is not ldjfix's: exit 3 naming the line, and no output."""
    export, _ = _write(tmp_path)
    fixes = tmp_path / "fixes.jsonl"
    fixes.write_text('{"objectId": "d-1"}\n')
    out = tmp_path / "out.ldjson"
    result = CliRunner().invoke(cli, ["replay", str(export), "--fixes", str(fixes), "-o", str(out)])
    assert result.exit_code == 3
    assert f"Error: fixes file {fixes} line 1 is not a recorded fix." in result.output
    assert not out.exists()


def test_replay_subprocess_round_trip_with_fix(tmp_path: Path) -> None:
    """fixes.jsonl written by ``fix`` replays onto a later export in a real process."""
    source = tmp_path / "deals.ldjson"
    source.write_text('{"objectId":"d-1","modifiedDate":"2024-01-01T00:00:00Z","status":"Won"}\n')
    status = tmp_path / "status.json"
    bad = "Invalid value for field [status]: expected one of WON, LOST, OPEN"
    status.write_text(json.dumps({"status": "FAILED", "errors": [{"line": 1, "description": bad}]}))
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nfield = "status"\naction = "map"\nvalues = { Won = "WON" }\n')
    run = [sys.executable, "-m", "ldjfix"]
    fixed = tmp_path / "fixed.ldjson"
    subprocess.run([*run, "fix", str(source), "--status-file", str(status), "-t", "DEAL",
                    "--rules", str(rules), "-o", str(fixed)], check=True)  # fmt: skip
    later = tmp_path / "later.ldjson"
    later.write_text(
        '{"objectId":"d-0"}\n{"objectId":"d-1","modifiedDate":"2024-02-01T00:00:00Z","status":"Won"}\n'
    )
    proc = subprocess.run(
        [*run, "replay", str(later), "--fixes", str(tmp_path / "fixed.fixes.jsonl"),
         "-o", str(tmp_path / "o.ldjson")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1 changes applied to 1 records" in proc.stderr
    lines = (tmp_path / "o.ldjson").read_text().splitlines()
    assert lines == [
        '{"objectId":"d-0"}',
        '{"objectId":"d-1","modifiedDate":"2024-02-01T00:00:00Z","status":"WON"}',
    ]


def test_replay_record_with_non_string_object_id_is_copied(tmp_path: Path) -> None:
    """A record whose objectId is a list or object is copied as it is, not a traceback."""
    export = tmp_path / "export.ldjson"
    export.write_bytes(b'{"objectId":["a"],"name":"x"}\n{"objectId":"b","name":"y"}\n')
    fixes = tmp_path / "fixes.jsonl"
    fixes.write_text('{"objectId":"b","field":"name","old":"y","new":"z","line":2}\n')
    out = tmp_path / "out.ldjson"
    result = CliRunner().invoke(cli, ["replay", str(export), "--fixes", str(fixes), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == b'{"objectId":["a"],"name":"x"}\n{"objectId":"b","name":"z"}\n'


def test_replay_refuses_output_that_is_the_export(tmp_path: Path) -> None:
    """replay -o naming its own input exits 2 and leaves the export untouched."""
    export = tmp_path / "export.ldjson"
    original = b'{"objectId":"b","name":"y"}\r\n'
    export.write_bytes(original)
    fixes = tmp_path / "fixes.jsonl"
    fixes.write_text('{"objectId":"b","field":"name","old":"y","new":"z","line":1}\n')
    args = ["replay", str(export), "--fixes", str(fixes), "-o", str(export)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert export.read_bytes() == original


def test_replay_boolean_fix_applies_to_one_and_zero(tmp_path: Path) -> None:
    """A recorded 1 -> true fix is applied to a record still holding 1, not counted 'already'."""
    export = tmp_path / "export.ldjson"
    export.write_bytes(b'{"objectId":"b","isDeleted":1}\n{"objectId":"c","isDeleted":0}\n')
    fixes = tmp_path / "fixes.jsonl"
    fixes.write_text(
        '{"objectId":"b","field":"isDeleted","old":1,"new":true,"line":1}\n'
        '{"objectId":"c","field":"isDeleted","old":0,"new":false,"line":2}\n'
    )
    out = tmp_path / "out.ldjson"
    result = CliRunner().invoke(cli, ["replay", str(export), "--fixes", str(fixes), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (
        b'{"objectId":"b","isDeleted":true}\n{"objectId":"c","isDeleted":false}\n'
    )


def _new_format(path: Path, lines: list[str]) -> Path:
    """The changes of ``lines`` (first format) written as ldjfix writes them now."""
    from ldjfix.fixing.fixer import Fix
    from ldjfix.fixing.fixlog import LogWriter

    fixes = [Fix(*(json.loads(x)[k] for k in FIRST_KEYS)) for x in lines]
    path.write_bytes(LogWriter().encode(fixes))
    return path


FIRST_KEYS = ("line", "objectId", "field", "old", "new", "why")


def test_replay_new_format_does_what_the_first_format_does(tmp_path: Path) -> None:
    """The same changes as declared kinds and short arrays replay to the same bytes and counts."""
    export, first = _write(tmp_path)
    new = _new_format(tmp_path / "new.fixes.jsonl", first.read_text().splitlines())
    assert new.read_bytes().count(b'"why"') == 5  # 8 changes of 5 kinds (a field each here)
    a, b = tmp_path / "a.ldjson", tmp_path / "b.ldjson"
    old_report = replay_fixes(export, first, output=a)
    new_report = replay_fixes(export, new, output=b)
    assert a.read_bytes() == b.read_bytes()
    assert old_report.summary() == new_report.summary()


def test_replay_logs_joined_with_cat_each_keep_their_declarations(tmp_path: Path) -> None:
    """Two logs whose kinds are both numbered from 1, joined, apply each change to its field."""
    export = tmp_path / "export.ldjson"
    export.write_bytes(b'{"objectId":"d-1","status":"Won","stage":"a"}\n')
    one = _new_format(tmp_path / "1.jsonl", [_fix("d-1", "status", "Won", "WON")])
    two = _new_format(tmp_path / "2.jsonl", [_fix("d-1", "stage", "a", "b")])
    joined = tmp_path / "joined.jsonl"
    joined.write_bytes(one.read_bytes() + b"\n" + two.read_bytes())  # a blank line between
    out = tmp_path / "out.ldjson"
    report = replay_fixes(export, joined, output=out)
    assert out.read_bytes() == b'{"objectId":"d-1","status":"WON","stage":"b"}\n'
    assert report.applied == 2


def test_replay_change_of_an_undeclared_kind_exits_3(tmp_path: Path) -> None:
    """A change line referring to a kind no line before it declares: exit 3 naming the line."""
    export, _ = _write(tmp_path)
    fixes = tmp_path / "fixes.jsonl"
    fixes.write_text('[1,"d-1","Won","WON",7]\n')
    out = tmp_path / "out.ldjson"
    result = CliRunner().invoke(cli, ["replay", str(export), "--fixes", str(fixes), "-o", str(out)])
    assert result.exit_code == 3
    assert "line 1 refers to fix 7, which no line before it declares." in result.output
    assert not out.exists()
