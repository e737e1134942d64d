"""The request-status model: tolerant of what Gong may add or omit, strict about what is not one."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.errors import InputProblem
from ldjfix.gong.status import LineError, field_named_in, parse_status

STATUS = Path(__file__).parents[1] / "cases" / "status"
LF = Path(__file__).parents[1] / "cases" / "lines" / "lf.ldjson"


def load(name: str) -> bytes:
    """The bytes of a status case file."""
    return (STATUS / name).read_bytes()


def test_status_reads_gong_shape_and_ignores_unknown_fields() -> None:
    """A FAILED status keeps every error in order; unknown fields are ignored but kept raw."""
    status = parse_status(load("failed.json"), source="failed.json")
    assert status.status == "FAILED" and status.is_terminal
    assert [(e.line, e.field) for e in status.errors] == [
        (2, "name"),
        (2, "modifiedDate"),
        (4, "objectId"),
    ]
    assert (status.total_error_count, status.total_success_count) == (57, 940)
    assert status.request_id == "4aaf1e1b-5e3c-4d8e-9a53-0c1f64c2a1b7"
    assert status.raw["processedAt"] == "2024-05-01T10:00:00Z"
    assert not status.all_failures_listed  # 57 failed, 2 lines named


def test_status_absent_optionals_are_none() -> None:
    """Only `status` is required: absent errors, counts and requestId are empty or None."""
    status = parse_status(load("minimal.json"), source="minimal.json")
    assert status.errors == () and status.request_id is None
    assert status.total_error_count is None and not status.is_terminal


def test_status_null_line_is_a_file_level_error() -> None:
    """An error with a null line concerns the whole file, like line 0; null counts are None."""
    status = parse_status(load("line_null.json"), source="line_null.json")
    assert status.general_errors == (LineError(0, "The file could not be read"),)
    assert status.line_errors == () and status.total_error_count is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("null_status.json", "is not a request status (no 'status' field)"),
        ("not_status.json", "is not a request status (not a JSON object)"),
        ("not_json.txt", "is not JSON"),
        ("errors_not_list.json", "'errors' is not a list"),
        ("bad_line.json", "errors[1].line is 'three', not a line number"),
        ("bad_count.json", "'totalErrorCount' is -1, not a count"),
    ],
)
def test_status_rejects_what_is_not_a_status(name: str, message: str) -> None:
    """What is not a request status is an InputProblem (exit 3) naming the source."""
    with pytest.raises(InputProblem) as caught:
        parse_status(load(name), source=name)
    assert caught.value.exit_code == 3
    assert str(caught.value).startswith(name) and message in str(caught.value)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("null_status.json", "is not a request status (no 'status' field)"),
        ("not_status.json", "is not a request status (not a JSON object)"),
        ("not_json.txt", "is not JSON"),
    ],
)
def test_status_cli_not_a_status_exits_3(name: str, message: str) -> None:
    """Through the CLI, a file that is not a status is one 'Error:' line and exit 3."""
    result = CliRunner().invoke(cli, ["annotate", str(LF), "--status-file", str(STATUS / name)])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: status file {STATUS / name} ")
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_status_cli_missing_status_file_exits_3(tmp_path: Path) -> None:
    """A status file that does not exist is exit 3 with its path in the message."""
    missing = tmp_path / "nope.json"
    result = CliRunner().invoke(cli, ["annotate", str(LF), "--status-file", str(missing)])
    assert result.exit_code == 3
    assert result.stderr == f"Error: status file {missing} does not exist. Check the path.\n"


def test_status_field_named_in_description() -> None:
    """The field in square brackets is picked out; a description without one names none."""
    assert field_named_in("Mandatory field [objectId] is missing or empty") == "objectId"
    assert field_named_in("Field [ name ] too long") == "name"
    assert field_named_in("Something went wrong") is None
    assert field_named_in("Empty [] brackets") is None
