"""Tests of validate as a stream: text, --json, --jsonl and --summary, run as a user would."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import orjson

from ldjfix.validation.findings import Tally
from ldjfix.validation.groups import DefectGroups
from ldjfix.validation.stream import write_findings
from ldjfix.validation.validator import Validator

GOOD = {
    "objectId": "a-1",
    "modifiedDate": "2024-01-01T10:00:00Z",
    "name": "A",
    "domains": ["a.com"],
}


def _millis_file(tmp_path: Path, count: int = 50) -> Path:
    path = tmp_path / "accounts.ldjson"
    lines = [
        orjson.dumps(
            {**GOOD, "objectId": f"a-{n}", "modifiedDate": f"2024-01-01T10:00:00.{n:03d}Z"}
        )
        for n in range(1, count + 1)
    ]
    path.write_bytes(b"\n".join([*lines, b"{broken", b"[1]"]) + b"\n")
    return path


def _validate(path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ldjfix", "validate", str(path), "-t", "ACCOUNT", *flags]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_validate_stream_summary_reads_one_line_per_defect(tmp_path: Path) -> None:
    """--summary: 50 records with milliseconds read as one line, then the counts; exit 1."""
    done = _validate(_millis_file(tmp_path), "--summary")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "errors by defect:"
    assert lines[1] == (
        "  modifiedDate: milliseconds — 50 records (lines 1, 2, 3, 4, 5, …), "
        'e.g. "2024-01-01T10:00:00.001Z"'
    )
    assert (
        "line: unparsable (line holds a JSON array, not an object) — 1 record (line 52)" in lines[3]
    )
    assert lines[-1] == "0 valid, 52 invalid; 52 errors, 0 warnings"
    assert not any(":1: objectId=" in line for line in lines)


def test_validate_stream_text_lists_each_error_then_the_summary(tmp_path: Path) -> None:
    """Text: one line per error as found, the grouped summary, the counts."""
    path = _millis_file(tmp_path, 3)
    done = _validate(path)
    assert done.stdout.splitlines()[0] == (
        f"{path}:1: objectId=a-1 Invalid value for field [modifiedDate]: expected an ISO-8601 "
        "date-time without milliseconds, e.g. 2025-03-04T10:15:00Z"
    )
    assert "errors by defect:" in done.stdout


def test_validate_stream_json_document_and_json_lines(tmp_path: Path) -> None:
    """--json is one document (errors, warnings, counts, summary); --jsonl one finding a line."""
    path = _millis_file(tmp_path, 4)
    doc = json.loads(_validate(path, "--json").stdout)
    assert (doc["valid"], doc["invalid"], doc["errorCount"]) == (0, 6, 6)
    assert [e["line"] for e in doc["errors"]] == [1, 2, 3, 4, 5, 6]
    assert doc["summary"][0]["kind"] == "milliseconds" and doc["summary"][0]["count"] == 4
    rows = [json.loads(x) for x in _validate(path, "--jsonl").stdout.splitlines()]
    assert rows[0]["severity"] == "error" and rows[0]["field"] == "modifiedDate"
    assert rows[-1]["errors"] == 6 and rows[-1]["summary"][0]["lines"] == [1, 2, 3, 4]
    assert json.loads(_validate(path, "--json", "--summary").stdout).keys() == {
        "valid", "invalid", "errorCount", "warningCount", "summary"
    }  # fmt: skip


def test_validate_stream_json_and_jsonl_together_is_a_usage_error(tmp_path: Path) -> None:
    """--json with --jsonl: exit 2 and one line saying what to do."""
    done = _validate(_millis_file(tmp_path, 1), "--json", "--jsonl")
    assert done.returncode == 2
    assert "Error: Use --json or --jsonl, not both." in done.stderr


def test_validate_stream_warnings_spool_after_errors_in_the_document() -> None:
    """Warnings mixed among errors still come out as their own array, in order."""
    lines = [
        orjson.dumps({**GOOD, "objectId": "a_1"}),  # an underscore: a warning unless strict
        orjson.dumps({**GOOD, "objectId": "a-2", "modifiedDate": None}),
        orjson.dumps({**GOOD, "objectId": "a_3"}),
    ]
    tally, out = Tally(), io.BytesIO()
    validator = Validator("ACCOUNT")
    findings = validator.check_stream(io.BytesIO(b"\n".join(lines) + b"\n"), tally=tally)
    result = write_findings(findings, tally, out, name="x", form="json")
    doc = json.loads(out.getvalue())
    assert [e["line"] for e in doc["errors"]] == [2]
    assert [w["line"] for w in doc["warnings"]] == [1, 3]
    assert (result.errors, result.warnings, result.invalid) == (1, 2, 1)


def test_validate_groups_say_how_many_they_leave_out() -> None:
    """A summary cut at its limit ends with "… and N more defects (M records)"."""
    groups = DefectGroups()
    for n in range(1, 26):
        groups.add(n, f"custom{n}", f"Invalid value for field [custom{n}]: expected a number")
    lines = groups.render(limit=20)
    assert lines[-1] == "  … and 5 more defects (5 records)"
    assert len(lines) == 22
    one = DefectGroups()
    for n in range(1, 22):
        one.add(n, f"custom{n}", f"Invalid value for field [custom{n}]: expected a number")
    assert one.render(limit=20)[-1] == "  … and 1 more defect (1 record)"  # not "(1 records)"


def test_validate_groups_bad_json_by_kind_not_offset() -> None:
    """Broken lines with different character offsets are one defect."""
    groups = DefectGroups()
    for n, at in enumerate((3, 17, 40), 1):
        text = f"Unable to parse the line as a JSON object: invalid JSON: unexpected end at character {at}"  # noqa: E501
        groups.add(n, None, text)
    (group,) = groups.ordered()
    assert (group.count, group.detail) == (3, "invalid JSON: unexpected end")


def test_validate_memory_holds_bad_lines_as_bits() -> None:
    """The tally of a file bad everywhere is a bitmap: a line with two errors counts once."""
    tally = Tally()
    for line in (1, 1, 2, 70_000):
        tally.mark(line)
    assert tally.invalid == 3 and tally.is_bad(70_000) and not tally.is_bad(3)
    assert len(tally.bits) < 16_384


def test_groups_held_findings_count_as_added_ones() -> None:
    """add_held, mixed with add and past a batch's size, groups exactly as add does alone."""
    date = "Invalid value for field [modifiedDate]: expected an ISO-8601 date-time"
    other = "Invalid value for field [isDeleted]: expected a boolean"
    calls = []
    for n in range(1, 3_000):
        value = f"2024-01-01T10:00:00.{n % 1000:03d}Z" if n % 7 else "01/02/2024"
        text, name = (other, "isDeleted") if n % 500 == 0 else (date, "modifiedDate")
        calls.append((n, name, text, "fixed", value, n % 500 == 0 or n % 311 == 0))
    held, plain = DefectGroups(), DefectGroups()
    for line, name, text, severity, value, one_by_one in calls:
        plain.add(line, name, text, severity, value)
        if one_by_one:
            held.add(line, name, text, severity, value)
        else:
            held.add_held(line, name, text, severity, value)
    assert held.as_json() == plain.as_json()
    assert held.render() == plain.render()
