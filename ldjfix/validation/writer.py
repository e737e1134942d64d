"""The writer of validate's findings: counts, groups, and each streak's findings in batches.

A writer takes :class:`Finding` objects (:meth:`FindingWriter.finding`, the general path) and,
for a streak of records failing one rule the same way, a shortcut (:meth:`FindingWriter.streak`):
a function of (line, objectId, value) that holds the finding; held findings are written in a
batch, with what the streak shares (field, text, group, the line's ending) worked out once, and
come out byte for byte as the general path writes them. The forms (text, the JSON document,
JSON Lines) are in :mod:`ldjfix.validation.stream`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

import orjson

from ldjfix.validation.findings import ERROR, Finding, Tally
from ldjfix.validation.groups import NO_VALUE, DefectGroups

Emit = Callable[[int, "str | None", Any], None]  # one finding of a streak: line, objectId, value


class Streaks(Protocol):
    """Where a validator hands findings of a streak: one function per field, text, severity."""

    def streak(self, name: str, text: str, severity: str) -> Emit:
        """The function that takes each finding of ``name`` failing with ``text``."""
        ...  # pragma: no cover


@dataclass(slots=True)
class StreamResult:
    """What a streamed validation counted, and its defects grouped."""

    valid: int = 0
    invalid: int = 0
    errors: int = 0
    warnings: int = 0
    groups: DefectGroups = field(default_factory=DefectGroups)

    @property
    def exit_code(self) -> int:
        """0 when no line has an error (warnings allowed), else 1."""
        return 1 if self.errors else 0

    def counts_line(self) -> str:
        """``V valid, I invalid; E errors, W warnings``."""
        return (
            f"{self.valid:,} valid, {self.invalid:,} invalid; "
            f"{self.errors:,} errors, {self.warnings:,} warnings"
        )


class FindingWriter:
    """Counts and groups findings; each form writes them its way (in parts, flushed in batches).

    Findings of a streak are held (line, objectId, value) and handed to the form's batch
    writer together: before any other finding, when another streak's come, when
    :data:`LINES_HELD` are held, and at the end; so the output keeps the order they came in.
    """

    form = ""

    def __init__(self, out: BinaryIO, name: str, summary_only: bool) -> None:
        self.out, self.name, self.summary_only = out, name, summary_only
        self.result = StreamResult()
        self.counts = [0, 0]  # errors, warnings
        self.parts: list[Any] = []  # stdout may be unbuffered: a write per line is slow
        self.unwritten = 0  # lines in ``parts``
        self.held: tuple[list[int], list[str | None], list[Any]] = ([], [], [])
        self.holder: list[Batch | None] = [None]  # whose findings are held
        self._streaks: dict[tuple[str, str, str], Emit] = {}

    def finding(self, finding: Finding) -> None:
        """Count, group and write one finding (the general path)."""
        if self.holder[0] is not None:
            self.settle()
        self._write(finding)

    def _write(self, finding: Finding) -> None:
        raise NotImplementedError

    def streak(self, name: str, text: str, severity: str) -> Emit:
        """The shortcut of :meth:`finding` for findings of ``name`` failing with ``text``."""
        key = (name, text, severity)
        emit = self._streaks.get(key)
        if emit is None:
            add = self.result.groups.adder(name, text, severity)
            emit = self._streaks[key] = self._hold(self._batch(add, name, text, severity))
        return emit

    def _hold(self, batch: Batch) -> Emit:
        lines, oids, values = self.held
        holder, settle = self.holder, self.settle
        keep_line, keep_oid, keep_value = lines.append, oids.append, values.append

        def hold(line: int, object_id: str | None, value: Any) -> None:
            if holder[0] is not batch:
                settle()
                holder[0] = batch
            keep_line(line)
            keep_oid(object_id)
            keep_value(value)
            if len(lines) >= LINES_HELD:
                settle()

        return hold

    def settle(self) -> None:
        """Hand the findings held to their streak's batch writer."""
        batch = self.holder[0]
        if batch is not None:
            lines, oids, values = self.held
            batch(lines, oids, values)
            lines.clear()
            oids.clear()
            values.clear()
            self.holder[0] = None

    def _batch(self, add: Adder, name: str, text: str, severity: str) -> Batch:
        """The form's writer of a batch of findings of one streak (here: count and group)."""
        counts, index = self.counts, 0 if severity == ERROR else 1

        def count(lines: list[int], object_ids: list[str | None], values: list[Any]) -> None:
            add(lines, values)
            counts[index] += len(lines)

        return count

    def _count(self, finding: Finding) -> bool:
        """Count ``finding`` and group it; True when it is an error."""
        name = finding.field
        value = finding.value if name is not None else NO_VALUE
        self.result.groups.add(finding.line, name, finding.description, finding.severity, value)
        is_error = finding.severity == ERROR
        self.counts[0 if is_error else 1] += 1
        return is_error

    def _put(self, part: Any, lines: int = 1) -> None:
        """Hold ``part`` (of ``lines`` lines) for the next write."""
        self.parts.append(part)
        self.unwritten += lines
        if self.unwritten >= LINES_HELD:
            self.flush()

    def flush(self) -> None:
        """Write the parts held so far."""
        if self.parts:
            self.out.write(b"".join(self.parts))
            self.parts.clear()
        self.unwritten = 0

    def finish(self, tally: Tally) -> StreamResult:
        """Write what is held, then the summary and counts; what was counted."""
        self.settle()
        self._close()
        result = self.result
        result.errors, result.warnings = self.counts
        result.valid, result.invalid = tally.lines - tally.invalid, tally.invalid
        self.out.write(self._tail(result))
        self.out.flush()
        return result

    def _close(self) -> None:
        self.flush()

    def _tail(self, result: StreamResult) -> bytes:
        counted = ("errorCount", "warningCount") if self.form == "json" else ("errors", "warnings")
        tail = {
            "valid": result.valid,
            "invalid": result.invalid,
            counted[0]: result.errors,
            counted[1]: result.warnings,
            "summary": result.groups.as_json(),
        }
        return orjson.dumps(tail) + b"\n"


LINES_HELD = 1024  # lines held before a write: about 150 kB of findings
Adder = Callable[[list[int], list[Any]], None]  # DefectGroups.adder: lines and their values
Batch = Callable[[list[int], list["str | None"], list[Any]], None]  # lines, objectIds, values


def after_object_id(name: str, text: str, *more: str) -> bytes:
    """What follows a finding's objectId in its JSON form: field, description (and severity)."""
    keys = ("field", "description", "severity")
    return orjson.dumps(dict(zip(keys, (name, text, *more), strict=False)))[1:]
