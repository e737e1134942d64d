"""Review tests: line mapping, byte-exact outputs and the offline commands (annotate ... replay)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ldjfix.cli import cli


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


def test_annotate_deeply_nested_value_is_shown_not_a_traceback(tmp_path: Path) -> None:
    """A line nested too deep to parse is annotated as a defect: exit 1, no RecursionError."""
    source = tmp_path / "deep.ldjson"
    source.write_text('{"objectId":"a","x":' + "[" * 100_000 + "]" * 100_000 + "}\n")
    status = tmp_path / "status.json"
    status.write_text(
        '{"status":"FAILED","totalErrorCount":1,'
        '"errors":[{"line":1,"description":"Invalid value for field [x]"}]}'
    )
    result = CliRunner().invoke(cli, ["annotate", str(source), "--status-file", str(status)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert "line 1  no objectId" in result.output


def test_annotate_stdin_warnings_name_stdin(tmp_path: Path) -> None:
    """Warnings about a file read from stdin call it stdin, not '-'."""
    status = tmp_path / "status.json"
    status.write_text(
        '{"status":"FAILED","totalErrorCount":1,"errors":[{"line":5,"description":"bad"}]}'
    )
    source = b'\xef\xbb\xbf{"objectId":"a"}\n'
    result = CliRunner().invoke(cli, ["annotate", "-", "--status-file", str(status)], input=source)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "warning: stdin has a UTF-8 byte order mark; Gong has not said how it numbers lines in "
        "such a file, so errors were mapped by physical line (count of \\n) and the mapping is "
        "unverified.",
        "warning: the status names line(s) 5 but stdin has only 1 lines: "
        "is this the file that was uploaded?",
    ]
