"""`ldjfix annotate` through click's runner and as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from ldjfix.cli import cli

LINES = Path(__file__).parents[1] / "cases" / "lines"
STATUS = Path(__file__).parents[1] / "cases" / "status"


def write_status(folder: Path, *errors: tuple[int, str], **extra: Any) -> Path:
    """Save a FAILED request status listing ``errors`` and return its path."""
    doc = {"status": "FAILED", "errors": [{"line": n, "description": d} for n, d in errors]}
    path = folder / "status.json"
    path.write_bytes(orjson.dumps({**doc, **extra}))
    return path


def annotate(*args: str, stdin: bytes | None = None) -> Any:
    """Run `ldjfix annotate` in-process."""
    return CliRunner().invoke(cli, ["annotate", *args], input=stdin)


def test_annotate_text_lists_errors_and_exits_1(tmp_path: Path) -> None:
    """The text report shows every error beside its record; listed errors mean exit 1."""
    status = write_status(tmp_path, (2, "Mandatory field [name] is missing or empty"))
    result = annotate(str(LINES / "lf.ldjson"), "--status-file", str(status))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[2:] == [
        "line 2  objectId a2",
        "  Mandatory field [name] is missing or empty",
        '  {"objectId":"a2",»"name":"Two"«}',
    ]
    assert result.stderr == ""


def test_annotate_json_contract(tmp_path: Path) -> None:
    """--format json prints exactly the design's document, record parsed or null."""
    status = write_status(tmp_path, (3, "Unable to parse"), (1, "Bad [name]"), (0, "whole"))
    result = annotate(
        str(LINES / "non_object.ldjson"), "--status-file", str(status), "--format", "json"
    )
    assert result.exit_code == 1
    assert orjson.loads(result.stdout) == {
        "errors": [
            {
                "line": 1,
                "objectId": "a1",
                "description": "Bad [name]",
                "field": "name",
                "record": {"objectId": "a1"},
            },
            {
                "line": 3,
                "objectId": None,
                "description": "Unable to parse",
                "field": None,
                "record": None,
            },
        ],
        "unmapped": [],
        "general": [{"line": 0, "description": "whole", "field": None}],
        "warnings": [],
    }


def test_annotate_past_the_end_asks_about_the_file(tmp_path: Path) -> None:
    """A line past the end is listed as unmapped, with the question on stderr."""
    status = write_status(tmp_path, (5, "Bad [name]"))
    result = annotate(str(LINES / "lf.ldjson"), "--status-file", str(status))
    assert result.exit_code == 1
    assert "line 5: past the end of" in result.stdout
    assert "has only 3 lines: is this the file that was uploaded?" in result.stderr


def test_annotate_line_zero_is_a_file_level_error(tmp_path: Path) -> None:
    """line 0 is shown as a file-level error, not as line 0 of the file."""
    status = write_status(tmp_path, (0, "The file is not valid LDJSON"))
    result = annotate(str(LINES / "lf.ldjson"), "--status-file", str(status))
    assert result.exit_code == 1
    assert "file-level error (line 0): The file is not valid LDJSON" in result.stdout


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("bom.ldjson", "a UTF-8 byte order mark"),
        ("blank.ldjson", "blank lines"),
        ("crlf.ldjson", "\\r\\n line endings"),
    ],
)
def test_annotate_warns_numbering_unverified(tmp_path: Path, name: str, what: str) -> None:
    """A BOM, blank lines or \\r\\n bring a warning that Gong's numbering is unverified."""
    status = write_status(tmp_path, (1, "x"))
    result = annotate(str(LINES / name), "--status-file", str(status))
    assert result.exit_code == 1
    assert f"warning: {LINES / name} has {what}" in result.stderr
    assert "the mapping is unverified" in result.stderr


def test_annotate_done_status_exits_0() -> None:
    """A status that lists no errors maps nothing and exits 0."""
    result = annotate(str(LINES / "lf.ldjson"), "--status-file", str(STATUS / "done.json"))
    assert result.exit_code == 0
    assert result.stdout == f"{LINES / 'lf.ldjson'}: 0 error(s) on 0 of 3 line(s)\n"
    assert result.stderr == "warning: the request status is DONE: it lists no errors to map.\n"


def test_annotate_status_and_file_from_stdin(tmp_path: Path) -> None:
    """`-` reads the status, or the file, from stdin."""
    status = write_status(tmp_path, (1, "Bad [name]"))
    from_status = annotate(
        str(LINES / "lf.ldjson"), "--status-file", "-", stdin=status.read_bytes()
    )
    from_file = annotate(
        "-", "--status-file", str(status), stdin=(LINES / "lf.ldjson").read_bytes()
    )
    assert from_status.exit_code == from_file.exit_code == 1
    assert "line 1  objectId a1" in from_status.stdout
    assert from_file.stdout.startswith("stdin: 1 error(s) on 1 of 3 line(s)")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["-", "--status-file", "-"],
            2,
            "Error: FILE and --status-file cannot both be - (stdin).\n",
        ),
        (
            [str(LINES / "lf.ldjson")],
            2,
            "Error: say which request status to use: --status-file S "
            "(a saved request-status response; - for stdin)",
        ),
        (
            ["nowhere.ldjson", "--status-file", str(STATUS / "done.json")],
            3,
            "Error: input file nowhere.ldjson does not exist. Check the path.\n",
        ),
    ],
)
def test_annotate_bad_invocations(args: list[str], code: int, message: str) -> None:
    """Both inputs from stdin, no status, or a missing file: one line and the documented code."""
    result = annotate(*args)
    assert result.exit_code == code
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_annotate_subprocess_json(tmp_path: Path) -> None:
    """A real `python -m ldjfix annotate` process prints the JSON document and exits 1."""
    status = write_status(tmp_path, (2, "Mandatory field [name] is missing or empty"))
    args = ["annotate", str(LINES / "lf.ldjson"), "--status-file", str(status), "--format", "json"]
    done = subprocess.run([sys.executable, "-m", "ldjfix", *args], capture_output=True, check=False)
    assert done.returncode == 1 and done.stderr == b""
    document = orjson.loads(done.stdout)
    assert [(e["line"], e["objectId"], e["field"]) for e in document["errors"]] == [
        (2, "a2", "name")
    ]


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
