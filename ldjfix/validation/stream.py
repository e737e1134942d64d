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
from collections.abc import Iterable
from typing import IO, Any, BinaryIO

import orjson

from ldjfix.ldjson.printable import safe
from ldjfix.validation.findings import ERROR, Finding, Tally
from ldjfix.validation.writer import (
    Adder,
    Batch,
    FindingWriter,
    StreamResult,
    after_object_id,
)

FORMATS = ("text", "json", "jsonl")


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


class _Text(FindingWriter):
    """``FILE:LINE: objectId=ID description`` per error; the summary; the counts."""

    form = "text"

    def __init__(self, out: BinaryIO, name: str, summary_only: bool) -> None:
        super().__init__(out, name, summary_only)
        self.head = safe(name) + ":"

    def _write(self, finding: Finding) -> None:
        if self._count(finding) and not self.summary_only:
            oid, line = finding.object_id, finding.line
            where = f"{line}: objectId={safe(oid)}" if oid is not None else f"{line}:"
            self._put(f"{self.head}{where} {safe(finding.description)}\n")

    def _batch(self, add: Adder, name: str, text: str, severity: str) -> Batch:
        if severity != ERROR or self.summary_only:  # counted and grouped, not listed
            return super()._batch(add, name, text, severity)
        counts, put, head, tail = self.counts, self._put, self.head, f" {safe(text)}\n"

        def write(lines: list[int], object_ids: list[str | None], values: list[Any]) -> None:
            add(lines, values)
            counts[0] += len(lines)
            shown = object_ids if _printable(object_ids) else [_safe_id(o) for o in object_ids]
            put(
                "".join(
                    [
                        f"{head}{line}: objectId={oid}{tail}"
                        if oid is not None
                        else f"{head}{line}:{tail}"
                        for line, oid in zip(lines, shown, strict=True)
                    ]
                ),
                len(lines),
            )

        return write

    def flush(self) -> None:
        if self.parts:
            self.out.write("".join(self.parts).encode())
            self.parts.clear()
        self.unwritten = 0

    def _tail(self, result: StreamResult) -> bytes:
        lines = [safe(line) for line in result.groups.render()]
        return "".join(f"{line}\n" for line in [*lines, result.counts_line()]).encode()


def _printable(object_ids: list[str | None], unsafe: str = "") -> bool:
    """True when every objectId is printable ASCII without a character of ``unsafe``.

    :func:`safe` leaves such a string as it is, and orjson writes it as it is between quotes
    when ``unsafe`` holds ``"`` and ``\\``; one check for a whole batch.
    """
    try:
        joined = "".join(object_ids)  # type: ignore[arg-type]  # a None: TypeError
    except TypeError:
        return False
    return joined.isascii() and joined.isprintable() and not any(c in joined for c in unsafe)


def _json_elements(
    lines: list[int], object_ids: list[str | None], before: bytes, after: bytes
) -> bytes:
    """``before`` ``{"line":N,"objectId":ID,`` ``after`` for each finding, as orjson writes it."""
    if _printable(object_ids, '"\\'):
        head, tail = before.decode(), after.decode()
        pairs = zip(lines, object_ids, strict=True)
        return "".join(
            [f'{head}{{"line":{n},"objectId":"{oid}",{tail}' for n, oid in pairs]
        ).encode()
    dumps = orjson.dumps
    return b"".join(
        [
            b'%b{"line":%d,"objectId":%b,%b' % (before, line, dumps(oid), after)
            for line, oid in zip(lines, object_ids, strict=True)
        ]
    )


def _safe_id(object_id: str | None) -> str | None:
    return None if object_id is None else safe(object_id)


class _Jsonl(FindingWriter):
    """One finding a line, then the counts and summary as one line."""

    form = "jsonl"

    def _write(self, finding: Finding) -> None:
        self._count(finding)
        if not self.summary_only:
            doc = finding.as_json()
            doc["severity"] = finding.severity
            self._put(orjson.dumps(doc) + b"\n")

    def _batch(self, add: Adder, name: str, text: str, severity: str) -> Batch:
        if self.summary_only:
            return super()._batch(add, name, text, severity)
        counts, index, put = self.counts, 0 if severity == ERROR else 1, self._put
        rest = after_object_id(name, text, severity) + b"\n"

        def write(lines: list[int], object_ids: list[str | None], values: list[Any]) -> None:
            add(lines, values)
            counts[index] += len(lines)
            put(_json_elements(lines, object_ids, b"", rest), len(lines))

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

    def _write(self, finding: Finding) -> None:
        is_error = self._count(finding)
        if self.summary_only:
            return
        element = b",\n  " + orjson.dumps(finding.as_json())
        if is_error:
            self._put(element)
        else:
            self._spool().write(element)

    def _batch(self, add: Adder, name: str, text: str, severity: str) -> Batch:
        if self.summary_only:
            return super()._batch(add, name, text, severity)
        counts, is_error = self.counts, severity == ERROR
        put = self._put if is_error else self._spool_lines
        rest = after_object_id(name, text)

        def write(lines: list[int], object_ids: list[str | None], values: list[Any]) -> None:
            add(lines, values)
            counts[0 if is_error else 1] += len(lines)
            put(_json_elements(lines, object_ids, b",\n  ", rest), len(lines))

        return write

    def _spool_lines(self, part: bytes, lines: int) -> None:
        self._spool().write(part)

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
        self.unwritten = 0

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
