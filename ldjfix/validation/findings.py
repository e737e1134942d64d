"""What validation finds: findings worded like Gong's errors, and the report of a whole file."""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import field as attribute
from typing import Any

from ldjfix.gong.status import LineError
from ldjfix.ldjson.printable import safe

ERROR = "error"
WARNING = "warning"


@dataclass(slots=True)
class Finding:
    """One defect of one line, worded like Gong's errors.

    Not frozen: a file bad everywhere makes one per record, and a frozen dataclass costs twice
    as much to build. Treat it as a value all the same.
    """

    line: int
    object_id: str | None
    field: str | None
    description: str
    severity: str  # "error" | "warning"
    value: Any = attribute(
        default=None, compare=False, hash=False
    )  # the field's value, for reports

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
    """Counts kept while a stream is checked: lines holding something, and the bad ones.

    Bad lines are bits in a bitmap (a 366k-line file costs 46 kB), so a file bad everywhere
    costs no more memory than a clean one, and a line with several errors counts once.
    """

    lines: int = 0
    bits: bytearray = field(default_factory=bytearray)

    @property
    def invalid(self) -> int:
        """How many lines were marked invalid."""
        return int.from_bytes(self.bits, "little").bit_count()

    def mark(self, line: int) -> None:
        """Count ``line`` as invalid (once, however many errors it has)."""
        self.room(line)
        self.bits[line >> 3] |= 1 << (line & 7)

    def room(self, line: int) -> int:
        """Make the bitmap hold ``line``; returns the first line it cannot hold yet."""
        bits = self.bits
        need = (line >> 3) + 1
        if need > len(bits):
            bits.extend(bytes(max(need - len(bits), len(bits), 4096)))
        return len(bits) << 3

    def is_bad(self, line: int) -> bool:
        """True when ``line`` was marked invalid."""
        byte = line >> 3
        return byte < len(self.bits) and bool(self.bits[byte] & (1 << (line & 7)))


def render_text(report: ValidationReport, name: str) -> str:
    """The report for people: one line per error, warnings grouped, then the counts."""
    out = [_error_line(name, f) for f in report.errors]
    groups: dict[str, list[int]] = {}
    for finding in report.warnings:
        groups.setdefault(finding.description, []).append(finding.line)
    for text, lines in groups.items():
        where = f"line {lines[0]}" if len(lines) == 1 else f"{len(lines):,} lines, first {lines[0]}"
        out.append(f"warning: {safe(text)} ({where})")
    out.append(
        f"{report.valid:,} valid, {report.invalid:,} invalid; "
        f"{len(report.errors):,} errors, {len(report.warnings):,} warnings"
    )
    return "\n".join(out) + "\n"


def _error_line(name: str, finding: Finding) -> str:
    oid = f" objectId={safe(finding.object_id)}" if finding.object_id is not None else ""
    return f"{safe(name)}:{finding.line}:{oid} {safe(finding.description)}"
