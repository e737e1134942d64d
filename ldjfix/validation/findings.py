"""What validation finds: findings worded like Gong's errors, and the report of a whole file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ldjfix.gong.status import LineError
from ldjfix.ldjson.printable import safe

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One defect of one line, worded like Gong's errors."""

    line: int
    object_id: str | None
    field: str | None
    description: str
    severity: str  # "error" | "warning"

    def as_line_error(self) -> LineError:
        """The finding as an entry of Gong's ``errors[]``."""
        return LineError(self.line, self.description)

    def as_json(self) -> dict[str, Any]:
        """The ``validate --json`` form."""
        return {
            "line": self.line,
            "objectId": self.object_id,
            "field": self.field,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What validating a whole file found: counts of good and bad lines, and every finding."""

    valid: int
    invalid: int
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings that Gong is documented to reject."""
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings whose real strictness at Gong is unknown."""
        return tuple(f for f in self.findings if f.severity == WARNING)

    def as_json(self) -> dict[str, Any]:
        """The stable ``validate --json`` document."""
        return {
            "valid": self.valid,
            "invalid": self.invalid,
            "errors": [f.as_json() for f in self.errors],
            "warnings": [f.as_json() for f in self.warnings],
        }


@dataclass(slots=True)
class Tally:
    """Counts kept while a stream is checked: lines holding something, and the bad ones."""

    lines: int = 0
    bad_lines: set[int] = field(default_factory=set)


def render_text(report: ValidationReport, name: str) -> str:
    """The report for people: one line per error, warnings grouped, then the counts."""
    out = [_error_line(name, f) for f in report.errors]
    groups: dict[str, list[int]] = {}
    for finding in report.warnings:
        groups.setdefault(finding.description, []).append(finding.line)
    for text, lines in groups.items():
        where = f"line {lines[0]}" if len(lines) == 1 else f"{len(lines)} lines, first {lines[0]}"
        out.append(f"warning: {safe(text)} ({where})")
    out.append(
        f"{report.valid} valid, {report.invalid} invalid; "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    )
    return "\n".join(out) + "\n"


def _error_line(name: str, finding: Finding) -> str:
    oid = f" objectId={safe(finding.object_id)}" if finding.object_id is not None else ""
    return f"{safe(name)}:{finding.line}:{oid} {safe(finding.description)}"
