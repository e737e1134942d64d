"""Tests of the batch reports: JSON summary, final table, rejected.csv and summary.md."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ldjfix.reporting.summaries import (
    FileResult,
    RejectedRow,
    batch_markdown,
    format_table,
    md_cell,
    safe_cell,
    summary_json,
    summary_markdown,
    worst_exit_code,
    write_rejected_csv,
)

DONE = FileResult("a.ldjson", "ACCOUNT", "done", 0, 1, 1, 3, 10, 0, 0, "a.job")
QUAR = FileResult("d.ldjson", "DEAL", "quarantined", 1, 2, 3, 9, 7, 2, 1, "d.job")


def test_summary_json_totals_and_worst_code() -> None:
    """Totals add up per count and the exit code is the worst of the files."""
    doc = summary_json([DONE, QUAR])
    assert doc["exitCode"] == 1
    assert doc["totals"] == {
        "files": 2,
        "rounds": 3,
        "uploads": 4,
        "apiCalls": 12,
        "accepted": 17,
        "quarantined": 2,
        "pending": 1,
    }
    assert doc["files"][1]["objectType"] == "DEAL" and doc["files"][1]["jobDir"] == "d.job"
    assert worst_exit_code([]) == 0
    remote = FileResult("s", "STAGE", "failed", 4)
    assert worst_exit_code([DONE, remote, QUAR]) == 4


def test_summary_table_aligns_and_totals() -> None:
    """The final table has a header, one row per file and a totals row, numbers right-aligned."""
    lines = format_table([DONE, QUAR]).splitlines()
    assert lines[0].split() == [
        "file",
        "type",
        "outcome",
        *(["rounds", "uploads", "apiCalls"]),
        "accepted",
        "quarantined",
        "pending",
    ]
    assert lines[2].split() == ["d.ldjson", "DEAL", "quarantined", "2", "3", "9", "7", "2", "1"]
    assert lines[3].split() == ["total", "3", "4", "12", "17", "2", "1"]
    assert len({len(line) for line in lines[:3]}) == 1


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain", "plain"),
        (None, ""),
        (12.5, 12.5),
        (["=a", 1], '["=a",1]'),
    ],
)
def test_summary_safe_cell_defuses_formulas(value: object, cell: object) -> None:
    """Formula-looking text gets a leading apostrophe; numbers stay numbers."""
    assert safe_cell(value) == cell


def test_summary_rejected_csv_opens_cleanly(tmp_path: Path) -> None:
    """rejected.csv: BOM, header, one row per record, quotes/newlines/unicode round-trip."""
    rows = [
        RejectedRow(3, "acc-1", "closeDate", "Invalid [closeDate]", "2021-13-01"),
        RejectedRow(9, "=cmd|' /C calc'!A0", None, '-bad, "quoted"\nline', {"k": "é"}),
    ]
    path = tmp_path / "rejected.csv"
    assert write_rejected_csv(path, rows) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfline,objectId,field,error,value,defect\r\n")
    with path.open(encoding="utf-8-sig", newline="") as stream:
        table = list(csv.reader(stream))
    assert table[1] == ["3", "acc-1", "closeDate", "Invalid [closeDate]", "2021-13-01",
                        "closeDate: invalid (Invalid [closeDate])"]  # fmt: skip
    assert table[2][:5] == ["9", "'=cmd|' /C calc'!A0", "", '\'-bad, "quoted"\nline', '{"k":"é"}']
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)


def test_summary_rejected_csv_no_half_file(tmp_path: Path) -> None:
    """A failure while writing leaves no rejected.csv (and no temp file) behind."""

    def rows() -> object:
        yield RejectedRow(1, "a", None, "x")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_rejected_csv(tmp_path / "rejected.csv", rows())  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_summary_markdown_escapes_and_lists() -> None:
    """summary.md has the counts, errors by kind and records, with table syntax escaped."""
    rejected = [
        RejectedRow(4, "a|b", "stage", "Invalid [stage]: <none>"),
        RejectedRow(5, "c", "stage", "Invalid [stage]: <none>"),
    ]
    text = summary_markdown(QUAR, rejected)
    assert text.startswith("## ldjfix: d.ldjson (DEAL): quarantined\n")
    assert "| quarantined | 2 | 3 | 9 | 7 | 2 | 1 |" in text
    assert "| stage: invalid (&lt;none&gt;) | 2 | lines 4, 5 |  |" in text
    assert "| 4 | a\\|b | stage | Invalid [stage]: &lt;none&gt; |" in text
    assert "Quarantined records" not in summary_markdown(DONE, [])


def test_summary_md_cell_flattens_and_shortens() -> None:
    """Newlines collapse to spaces and long text is cut with an ellipsis."""
    assert md_cell("a\nb\r\nc") == "a b c"
    assert md_cell("`x`") == "\\`x\\`"
    assert len(md_cell("x" * 500)) == 160


def test_summary_batch_markdown_has_totals() -> None:
    """The batch Markdown names the exit code and ends with a totals row."""
    text = batch_markdown([DONE, QUAR])
    assert "exit code 1" in text.splitlines()[0]
    assert text.rstrip().endswith("| **total** |  |  | 3 | 4 | 12 | 17 | 2 | 1 |")
