"""``validate`` as a stream: findings written as found, memory flat, a grouped summary last.

Three forms, the same findings:

* ``text``: one line per error (``FILE:LINE: objectId=ID description``), then the defects grouped
  by field and kind (warnings only there: a warning rule may hold for every record), then the
  counts ``V valid, I invalid; E errors, W warnings``.
* ``json``: one document, written as it goes: ``{"errors": [...], "warnings": [...], "valid": n,
  "invalid": n, "summary": [...]}``. Warnings arrive mixed with errors, so they wait in a
  temporary file (on disk, not in memory) until the errors are out.
* ``jsonl``: one finding per line (``line, objectId, field, description, severity``), then one
  line ``{"valid", "invalid", "errors", "warnings", "summary"}``.

With ``summary_only`` the findings themselves are left out (the JSON forms keep the counts and the
summary). Duplicated objectIds are found at the end of the pass, so they come after the others.

A writer takes :class:`Finding` objects (:meth:`FindingWriter.finding`, the general path) and,
for a streak of records failing one rule the same way, a shortcut (:meth:`FindingWriter.streak`):
a function of (line, objectId, value) that writes what the general path writes for that finding,
with everything the streak shares (field, text, group, the line's ending) worked out once.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, Protocol

import orjson

from ldjfix.ldjson.printable import safe
from ldjfix.validation.findings import ERROR, Finding, Tally
from ldjfix.validation.groups import NO_VALUE, DefectGroups

FORMATS = ("text", "json", "jsonl")
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


def write_findings(
    findings: Iterable[Finding],
    tally: Tally,
    out: BinaryIO,
    *,
    name: str,
    form: str = "text",
    summary_only: bool = False,
) -> StreamResult:
    """Write ``findings`` to ``out`` in ``form`` as they come; then the summary and counts.

    ``tally`` is filled by the validator while ``findings`` is consumed.
    """
    writer = open_writer(out, name=name, form=form, summary_only=summary_only)
    for finding in findings:
        writer.finding(finding)
    return writer.finish(tally)


def open_writer(
    out: BinaryIO, *, name: str, form: str = "text", summary_only: bool = False
) -> FindingWriter:
    """A writer of findings to ``out`` in ``form`` (see the module's docstring)."""
    if form not in FORMATS:
        raise ValueError(f"unknown form {form!r}")
    kinds = {"text": _Text, "jsonl": _Jsonl, "json": _Json}
    return kinds[form](out, name, summary_only)


class FindingWriter:
    """Counts and groups findings; each form writes them its way (in parts, flushed in batches)."""

    form = ""

    def __init__(self, out: BinaryIO, name: str, summary_only: bool) -> None:
        self.out, self.name, self.summary_only = out, name, summary_only
        self.result = StreamResult()
        self.counts = [0, 0]  # errors, warnings
        self.parts: list[Any] = []  # stdout may be unbuffered: a write per line is slow
        self._streaks: dict[tuple[str, str, str], Emit] = {}

    def finding(self, finding: Finding) -> None:
        """Count, group and write one finding (the general path)."""
        raise NotImplementedError

    def streak(self, name: str, text: str, severity: str) -> Emit:
        """The shortcut of :meth:`finding` for findings of ``name`` failing with ``text``."""
        key = (name, text, severity)
        emit = self._streaks.get(key)
        if emit is None:
            add = self.result.groups.adder(name, text, severity)
            emit = self._streaks[key] = self._emitter(add, name, text, severity)
        return emit

    def _emitter(
        self, add: Callable[[int, Any], None], name: str, text: str, severity: str
    ) -> Emit:
        counts, index = self.counts, 0 if severity == ERROR else 1

        def count(line: int, object_id: str | None, value: Any) -> None:
            add(line, value)
            counts[index] += 1

        return count

    def _count(self, finding: Finding) -> bool:
        """Count ``finding`` and group it; True when it is an error."""
        name = finding.field
        value = finding.value if name is not None else NO_VALUE
        self.result.groups.add(finding.line, name, finding.description, finding.severity, value)
        is_error = finding.severity == ERROR
        self.counts[0 if is_error else 1] += 1
        return is_error

    def flush(self) -> None:
        """Write the parts held so far."""
        if self.parts:
            self.out.write(b"".join(self.parts))
            self.parts.clear()

    def finish(self, tally: Tally) -> StreamResult:
        """Write what is held, then the summary and counts; what was counted."""
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


_LINES_HELD = 1024  # parts held before a write: about 150 kB of findings


class _Text(FindingWriter):
    """``FILE:LINE: objectId=ID description`` per error; the summary; the counts."""

    form = "text"

    def __init__(self, out: BinaryIO, name: str, summary_only: bool) -> None:
        super().__init__(out, name, summary_only)
        self.head = safe(name) + ":"

    def finding(self, finding: Finding) -> None:
        if self._count(finding) and not self.summary_only:
            oid, line = finding.object_id, finding.line
            where = f"{line}: objectId={safe(oid)}" if oid is not None else f"{line}:"
            self.parts.append(f"{self.head}{where} {safe(finding.description)}\n")
            if len(self.parts) >= _LINES_HELD:
                self.flush()

    def _emitter(
        self, add: Callable[[int, Any], None], name: str, text: str, severity: str
    ) -> Emit:
        if severity != ERROR or self.summary_only:  # counted and grouped, not listed
            return super()._emitter(add, name, text, severity)
        counts, parts, flush = self.counts, self.parts, self.flush
        head, tail = self.head, f" {safe(text)}\n"

        def write(line: int, object_id: str | None, value: Any) -> None:
            add(line, value)
            counts[0] += 1
            if object_id is None:
                parts.append(f"{head}{line}:{tail}")
            else:
                parts.append(f"{head}{line}: objectId={safe(object_id)}{tail}")
            if len(parts) >= _LINES_HELD:
                flush()

        return write

    def flush(self) -> None:
        if self.parts:
            self.out.write("".join(self.parts).encode())
            self.parts.clear()

    def _tail(self, result: StreamResult) -> bytes:
        lines = [safe(line) for line in result.groups.render()]
        return "".join(f"{line}\n" for line in [*lines, result.counts_line()]).encode()


class _Jsonl(FindingWriter):
    """One finding a line, then the counts and summary as one line."""

    form = "jsonl"

    def finding(self, finding: Finding) -> None:
        self._count(finding)
        if not self.summary_only:
            doc = finding.as_json()
            doc["severity"] = finding.severity
            self.parts.append(orjson.dumps(doc) + b"\n")
            if len(self.parts) >= _LINES_HELD:
                self.flush()

    def _emitter(
        self, add: Callable[[int, Any], None], name: str, text: str, severity: str
    ) -> Emit:
        if self.summary_only:
            return super()._emitter(add, name, text, severity)
        counts, index = self.counts, 0 if severity == ERROR else 1
        parts, flush, dumps = self.parts, self.flush, orjson.dumps
        rest = _after_object_id(name, text, severity) + b"\n"

        def write(line: int, object_id: str | None, value: Any) -> None:
            add(line, value)
            counts[index] += 1
            parts.append(b'{"line":%d,"objectId":%b,%b' % (line, dumps(object_id), rest))
            if len(parts) >= _LINES_HELD:
                flush()

        return write


class _Json(FindingWriter):
    """One document: errors as found, warnings spooled to disk until the errors are out.

    Each element is written with a leading ``,``; the first element of each array drops it.
    """

    form = "json"

    def __init__(self, out: BinaryIO, name: str, summary_only: bool) -> None:
        super().__init__(out, name, summary_only)
        self.spool: IO[bytes] | None = None
        self.leading = 1  # bytes of the next flush to drop: the first error's ","
        if not summary_only:
            out.write(b'{"errors": [')

    def finding(self, finding: Finding) -> None:
        is_error = self._count(finding)
        if self.summary_only:
            return
        element = b",\n  " + orjson.dumps(finding.as_json())
        if not is_error:
            self._spool().write(element)
            return
        self.parts.append(element)
        if len(self.parts) >= _LINES_HELD:
            self.flush()

    def _emitter(
        self, add: Callable[[int, Any], None], name: str, text: str, severity: str
    ) -> Emit:
        if self.summary_only:
            return super()._emitter(add, name, text, severity)
        counts, dumps, is_error = self.counts, orjson.dumps, severity == ERROR
        parts, flush = self.parts, self.flush
        rest = _after_object_id(name, text)
        put = parts.append if is_error else self._spool().write

        def write(line: int, object_id: str | None, value: Any) -> None:
            add(line, value)
            counts[0 if is_error else 1] += 1
            put(b',\n  {"line":%d,"objectId":%b,%b' % (line, dumps(object_id), rest))
            if len(parts) >= _LINES_HELD:
                flush()

        return write

    def _spool(self) -> IO[bytes]:
        if self.spool is None:
            import tempfile  # only a file with warnings needs it

            self.spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _close)
        return self.spool

    def flush(self) -> None:
        if self.parts:
            data = b"".join(self.parts)
            self.out.write(data[self.leading :] if self.leading else data)
            self.parts.clear()
            self.leading = 0

    def _close(self) -> None:
        if self.summary_only:
            return
        self.flush()
        errors, warnings = self.counts
        self.out.write(b'\n], "warnings": [' if errors else b'], "warnings": [')
        if self.spool is not None:
            with self.spool as spool:
                spool.seek(1)  # the first warning's ","
                shutil.copyfileobj(spool, self.out)
        self.out.write(b"\n]" if warnings else b"]")

    def _tail(self, result: StreamResult) -> bytes:
        body = super()._tail(result)
        return (b"{" if self.summary_only else b", ") + body[1:]


def _after_object_id(name: str, text: str, *more: str) -> bytes:
    """What follows a finding's objectId in its JSON form: field, description (and severity)."""
    keys = ("field", "description", "severity")
    return orjson.dumps(dict(zip(keys, (name, text, *more), strict=False)))[1:]
