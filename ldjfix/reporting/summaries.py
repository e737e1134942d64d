"""Reports of a batch for pipelines and people: JSON summary, final table, CSV, Markdown.

The JSON summary is a stable contract (documented in the README). ``rejected.csv`` is meant to
be opened in a spreadsheet: UTF-8 with a BOM so Excel reads it right, and every text cell that a
spreadsheet would take for a formula (``= + - @``, tab, CR) gets a leading apostrophe — record
values come from a CRM export and must never run as formulas. ``summary.md`` is Markdown a CI
job summary (e.g. ``$GITHUB_STEP_SUMMARY``) can show.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as attribute
from pathlib import Path
from typing import Any

import orjson

from ldjfix.errors import ExitCode
from ldjfix.fixing.policy import is_reason
from ldjfix.gong.status import field_named_in
from ldjfix.ldjson.files import atomic_output
from ldjfix.ldjson.printable import safe
from ldjfix.validation.groups import NO_VALUE, DefectGroups, defect_of, example_text, more_line

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("line", "objectId", "field", "error", "value", "defect")
_FIELD_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_.$-]{0,199}$")
COUNTS = ("rounds", "uploads", "apiCalls", "accepted", "quarantined", "pending")
_MD_LIMIT = 160  # characters per Markdown cell; the CSV has the full text
_MD_ROWS = 20  # quarantined records listed in summary.md


@dataclass(frozen=True, slots=True)
class FileResult:
    """How one file of a batch ended: the per-file entry of the JSON summary."""

    file: str
    object_type: str
    outcome: str
    exit_code: ExitCode
    rounds: int = 0
    uploads: int = 0
    api_calls: int = 0
    accepted: int = 0
    quarantined: int = 0
    pending: int = 0
    job_dir: str | None = None
    resumable: bool = False
    message: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON form (camelCase, as in report.json)."""
        return {
            "file": self.file,
            "objectType": self.object_type,
            "outcome": self.outcome,
            "exitCode": self.exit_code,
            "rounds": self.rounds,
            "uploads": self.uploads,
            "apiCalls": self.api_calls,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "pending": self.pending,
            "jobDir": self.job_dir,
            "resumable": self.resumable,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """One quarantined record as a row of ``rejected.csv``.

    ``field`` and ``value`` name the record's own fields (never text of a rule); ``errors``
    are the defects one by one, for grouping (``error`` joins them with the fixer's reason).
    """

    line: int
    object_id: str | None
    field: str | None
    error: str
    value: Any = None
    errors: tuple[str, ...] = attribute(default=(), compare=False)


def group_rows(rows: Iterable[RejectedRow]) -> DefectGroups:
    """Quarantined records grouped by field and kind of defect, as the summaries show them."""
    groups = DefectGroups()
    for row in rows:
        for text in _defects(row):
            name = field_named_in(text)
            value = _field_value(row, name)
            groups.add(row.line, name if is_field_name(name) else None, text, "quarantined", value)
    return groups


def is_field_name(name: str | None) -> bool:
    """True for a name a record's field can have (not, say, a regular expression's text)."""
    return name is not None and bool(_FIELD_NAME.match(name))


def _field_value(row: RejectedRow, name: str | None) -> Any:
    if name is None or not is_field_name(name) or row.value is None:
        return NO_VALUE
    if isinstance(row.value, dict) and name in row.value:
        return row.value[name]
    return row.value if row.field == name else NO_VALUE


def _defects(row: RejectedRow) -> tuple[str, ...]:
    """The row's defects, without the reasons a fixer gave (the rule is not a defect)."""
    texts = row.errors or (row.error,)
    return tuple(t for t in texts if not is_reason(t)) or texts[:1]


def defect_of_row(row: RejectedRow, groups: DefectGroups) -> str:
    """The label of the (first) defect group ``row`` is in."""
    text = _defects(row)[0]
    name = field_named_in(text)
    name = name if is_field_name(name) else None
    kind, detail = defect_of(name, text, _field_value(row, name))
    label = f"{name or 'line'}: {kind}"
    return f"{label} ({detail})" if detail else label


def worst_exit_code(results: Iterable[FileResult]) -> ExitCode:
    """The batch's exit code: the worst (highest) code of its files, 0 for none."""
    return ExitCode(max((result.exit_code for result in results), default=ExitCode.OK))


def summary_json(
    results: Sequence[FileResult], *, api_calls_this_run: int | None = None
) -> dict[str, Any]:
    """The JSON summary printed on stdout at the end of a batch.

    Per file, ``apiCalls`` is what its report.json says: every call of the job, over all the
    runs that resumed it; ``apiCallsThisRun`` is what this run used of ``--max-api-calls``.
    """
    files = [result.as_json() for result in results]
    totals = {key: sum(entry[key] for entry in files) for key in COUNTS}
    return {
        "exitCode": worst_exit_code(results),
        "apiCallsThisRun": api_calls_this_run,
        "files": files,
        "totals": {"files": len(files), **totals},
    }


def format_table(results: Sequence[FileResult]) -> str:
    """The final table for a person: one row per file and a totals row, aligned."""
    head = ("file", "type", "outcome", *COUNTS)
    rows = [
        (safe(r.file), r.object_type, r.outcome, *(str(v) for v in _counts(r))) for r in results
    ]
    total = [sum(_counts(r)[i] for r in results) for i in range(len(COUNTS))]
    rows.append(("total", "", "", *(str(v) for v in total)))
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(len(head))]
    lines = []
    for row in (head, *rows):
        cells = [
            c.ljust(w) if i < 3 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _counts(result: FileResult) -> tuple[int, ...]:
    return (
        result.rounds,
        result.uploads,
        result.api_calls,
        result.accepted,
        result.quarantined,
        result.pending,
    )


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: formula-looking strings get a leading '."""
    if value is None:
        return ""
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        value = orjson.dumps(value).decode("utf-8")
    return f"'{value}" if value.startswith(FORMULA_START) else value


def write_rejected_csv(path: Path, rows: Iterable[RejectedRow]) -> int:
    """Write ``rejected.csv`` atomically (UTF-8 with BOM); returns the number of rows.

    Rows come grouped as ``summary.md`` groups them: the biggest defect first, then by line;
    the ``defect`` column names the group (``field: kind``).
    """
    rows = list(rows) if not isinstance(rows, list) else rows
    groups = group_rows(rows)
    labels = [defect_of_row(row, groups) for row in rows]
    sizes: dict[str, int] = {}
    first: dict[str, int] = {}
    for label, row in zip(labels, rows, strict=True):
        sizes[label] = sizes.get(label, 0) + 1
        first.setdefault(label, row.line)
    order = sorted(
        range(len(rows)), key=lambda i: (-sizes[labels[i]], first[labels[i]], rows[i].line)
    )
    count = 0
    with atomic_output(path) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for index in order:
            row = rows[index]
            cells = (row.line, row.object_id, row.field, row.error, row.value, labels[index])
            writer.writerow([safe_cell(cell) for cell in cells])
            count += 1
        text.flush()
        text.detach()  # atomic_output still owns (and fsyncs) the binary stream
    return count


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: no pipes, newlines or raw HTML; shortened."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    if len(text) > _MD_LIMIT:
        text = text[: _MD_LIMIT - 1] + "…"
    for raw, escaped in (("\\", "\\\\"), ("|", "\\|"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(raw, escaped)
    return text.replace("`", "\\`")


def _md_table(head: Sequence[str], rows: Iterable[Sequence[Any]], numeric_from: int) -> list[str]:
    rule = ["---" if i < numeric_from else "---:" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
    return lines


def summary_markdown(result: FileResult, rejected: Sequence[RejectedRow]) -> str:
    """``summary.md`` of one job folder: its counts, errors by kind and the first records."""
    lines = [f"## ldjfix: {md_cell(result.file)} ({result.object_type}): {result.outcome}", ""]
    lines += _md_table(("outcome", *COUNTS), [(result.outcome, *_counts(result))], 1)
    if result.message:
        lines += ["", f"> {md_cell(result.message)}"]
    if rejected:
        groups = group_rows(rejected).ordered()
        lines += ["", f"### Quarantined records by defect ({len(rejected)} in rejected.csv)", ""]
        table = [
            (
                g.label,
                g.count,
                g.where(),
                example_text(g.example) if g.example is not NO_VALUE else "",
            )
            for g in groups[:_MD_ROWS]
        ]
        lines += _md_table(("defect", "records", "first lines", "example"), table, 1)
        lines += more_line(groups[_MD_ROWS:])
        lines += ["", f"### First {min(len(rejected), _MD_ROWS)} quarantined records", ""]
        shown = [(r.line, r.object_id, r.field, r.error) for r in rejected[:_MD_ROWS]]
        lines += _md_table(("line", "objectId", "field", "error"), shown, 4)
        if len(rejected) > _MD_ROWS:
            lines += ["", f"… and {len(rejected) - _MD_ROWS:,} more in rejected.csv"]
    return "\n".join(lines) + "\n"


def batch_markdown(results: Sequence[FileResult]) -> str:
    """The batch's Markdown table: one row per file plus totals, for a CI job summary."""
    code = worst_exit_code(results)
    lines = [f"## ldjfix batch: {len(results)} files, exit code {code}", ""]
    rows = [(r.file, r.object_type, r.outcome, *_counts(r)) for r in results]
    totals = [sum(_counts(r)[i] for r in results) for i in range(len(COUNTS))]
    rows.append(("**total**", "", "", *totals))
    lines += _md_table(("file", "type", "outcome", *COUNTS), rows, 3)
    return "\n".join(lines) + "\n"
