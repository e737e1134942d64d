"""Tests of rejected.csv rows made from the loop's rejected.ldjson, and of summary.md on disk."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson

from ldjfix.jobs.runner import rejected_rows, write_job_reports
from ldjfix.reporting.summaries import FileResult, RejectedRow

REJECTED = [
    {
        "line": 4,
        "objectId": "acc-4",
        "errors": ["Field [name] exceeds the maximum length of 255 characters"],
        "record": {"objectId": "acc-4", "name": "=1+2"},
    },
    {
        "line": 9,
        "objectId": "d-9",
        "errors": ["Invalid value for field [status]", "Field [amount] must be a number"],
        "record": {"objectId": "d-9", "status": "open", "amount": "12"},
    },
    {"line": 12, "objectId": None, "errors": ["Line is not valid JSON"], "record": None,
     "text": "@{broken"},
]  # fmt: skip


def write_rejected(folder: Path) -> Path:
    """A rejected.ldjson in the loop's format."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rejected.ldjson"
    path.write_bytes(b"".join(orjson.dumps(doc) + b"\n" for doc in REJECTED))
    return path


def test_summary_rejected_rows_from_loop_output(tmp_path: Path) -> None:
    """One row per record: fields named in the errors, their values, the text of a bad line."""
    rows = rejected_rows(write_rejected(tmp_path))
    assert rows == [
        RejectedRow(4, "acc-4", "name", "Field [name] exceeds the maximum length of 255 characters",
                    "=1+2"),
        RejectedRow(9, "d-9", "status; amount",
                    "Invalid value for field [status]; Field [amount] must be a number",
                    {"status": "open", "amount": "12"}),
        RejectedRow(12, None, None, "Line is not valid JSON", "@{broken"),
    ]  # fmt: skip
    assert rejected_rows(tmp_path / "absent.ldjson") == []


def test_summary_job_reports_written_to_folder(tmp_path: Path) -> None:
    """write_job_reports adds rejected.csv (formulas defused) and summary.md to the folder."""
    write_rejected(tmp_path)
    result = FileResult("d.ldjson", "DEAL", "QUARANTINED", 1, 1, 1, 2, 7, 3, 0, str(tmp_path))
    write_job_reports(tmp_path, result)
    with (tmp_path / "rejected.csv").open(encoding="utf-8-sig", newline="") as stream:
        table = list(csv.reader(stream))
    assert [row[0] for row in table] == ["line", "4", "9", "12"]
    assert table[1][4] == "'=1+2" and table[3][4] == "'@{broken"
    assert table[2][4] == '{"status":"open","amount":"12"}'
    md = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "### Quarantined records by defect (3 in rejected.csv)" in md
    assert "| 12 |  |  | Line is not valid JSON |" in md


def test_summary_rows_name_the_record_field_never_rule_text(tmp_path: Path) -> None:
    """A dangling-reference quarantine by a pattern rule: the field is accountId, not the regex."""
    rule = r"rule 13 (pattern 'Referenced object \[(accountId|ownerId|stage)\]'): quarantine"
    doc = {
        "line": 3,
        "objectId": "c-3",
        "errors": ["Referenced object [accountId] 'acc-9' was not found", rule],
        "record": {"objectId": "c-3", "accountId": "acc-9"},
    }
    path = tmp_path / "rejected.ldjson"
    path.write_bytes(orjson.dumps(doc) + b"\n")
    (row,) = rejected_rows(path)
    assert (row.field, row.value) == ("accountId", "acc-9")
    result = FileResult("c.ldjson", "CONTACT", "QUARANTINED", 1, 1, 1, 2, 0, 1, 0, str(tmp_path))
    write_job_reports(tmp_path, result)
    md = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert '| accountId: dangling | 1 | line 3 | "acc-9" |' in md
    assert "(accountId\\|ownerId\\|stage)\\\\:" not in md
    with (tmp_path / "rejected.csv").open(encoding="utf-8-sig", newline="") as stream:
        table = list(csv.reader(stream))
    assert table[1][2] == "accountId" and table[1][5] == "accountId: dangling"
