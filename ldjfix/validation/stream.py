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
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

import orjson

from ldjfix.ldjson.printable import safe
from ldjfix.validation.findings import ERROR, Finding, Tally
from ldjfix.validation.groups import NO_VALUE, DefectGroups

FORMATS = ("text", "json", "jsonl")


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
    if form not in FORMATS:
        raise ValueError(f"unknown form {form!r}")
    result = StreamResult()
    if form == "text":
        _text(findings, out, name, summary_only, result)
    elif form == "jsonl":
        _jsonl(findings, out, summary_only, result)
    else:
        _json(findings, out, summary_only, result)
    result.valid, result.invalid = tally.lines - tally.invalid, tally.invalid
    if form == "text":
        lines = [safe(line) for line in result.groups.render()]
        out.write("".join(f"{line}\n" for line in [*lines, result.counts_line()]).encode())
    else:
        counted = ("errorCount", "warningCount") if form == "json" else ("errors", "warnings")
        tail = {
            "valid": result.valid,
            "invalid": result.invalid,
            counted[0]: result.errors,
            counted[1]: result.warnings,
            "summary": result.groups.as_json(),
        }
        body = orjson.dumps(tail)
        if form == "json":
            opening = b"{" if summary_only else b", "
            out.write(opening + body[1:] + b"\n")
        else:
            out.write(body + b"\n")
    out.flush()
    return result


def _count(finding: Finding, result: StreamResult) -> bool:
    """Count ``finding`` and group it; True when it is an error."""
    value = finding.value if finding.field is not None else NO_VALUE
    is_error = finding.severity == ERROR
    result.groups.add(finding.line, finding.field, finding.description, finding.severity, value)
    if is_error:
        result.errors += 1
    else:
        result.warnings += 1
    return is_error


class _Chunks:
    """Writes in chunks of about 64 kB: stdout may be unbuffered, a write per line is slow."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.parts, self.size = out, list[bytes](), 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size > _CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.out.write(b"".join(self.parts))
        self.parts, self.size = [], 0


_CHUNK = 1 << 16


def _text(
    findings: Iterable[Finding], out: BinaryIO, name: str, summary_only: bool, result: StreamResult
) -> None:
    chunks = _Chunks(out)
    write, add = chunks.write, result.groups.add
    errors = warnings = 0
    head, tail, said = safe(name).encode() + b":", b"", ""
    for finding in findings:  # _count, inlined: the hot loop of a file bad everywhere
        field_, text, line = finding.field, finding.description, finding.line
        add(line, field_, text, finding.severity, finding.value if field_ is not None else NO_VALUE)
        if finding.severity != ERROR:
            warnings += 1
            continue
        errors += 1
        if not summary_only:
            if text is not said:  # most lines end the same way: encode that once
                said, tail = text, f" {safe(text)}\n".encode()
            oid = finding.object_id
            where = f"{line}: objectId={safe(oid)}" if oid is not None else f"{line}:"
            write(head + where.encode() + tail)
    chunks.flush()
    result.errors, result.warnings = errors, warnings


def _jsonl(
    findings: Iterable[Finding], out: BinaryIO, summary_only: bool, result: StreamResult
) -> None:
    chunks = _Chunks(out)
    dumps, write = orjson.dumps, chunks.write
    for finding in findings:
        _count(finding, result)
        if not summary_only:
            doc = finding.as_json()
            doc["severity"] = finding.severity
            write(dumps(doc) + b"\n")
    chunks.flush()


def _json(
    findings: Iterable[Finding], out: BinaryIO, summary_only: bool, result: StreamResult
) -> None:
    if summary_only:
        for finding in findings:
            _count(finding, result)
        return
    chunks = _Chunks(out)
    dumps, write = orjson.dumps, chunks.write
    with tempfile.TemporaryFile() as spool:
        write(b'{"errors": [')
        first_error = first_warning = True
        for finding in findings:
            if _count(finding, result):
                write((b"\n  " if first_error else b",\n  ") + dumps(finding.as_json()))
                first_error = False
            else:
                spool.write((b"\n  " if first_warning else b",\n  ") + dumps(finding.as_json()))
                first_warning = False
        write(b'\n], "warnings": [' if not first_error else b'], "warnings": [')
        chunks.flush()
        spool.seek(0)
        shutil.copyfileobj(spool, out)
        write(b"\n]" if not first_warning else b"]")
        chunks.flush()
