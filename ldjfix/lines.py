"""Physical lines of an LDJSON file, exactly as design section 3 defines them.

Lines end at ``\\n`` (0x0A) only. ``\\r\\n`` is one ending; a lone ``\\r``, U+2028, U+2029,
U+0085 or a form feed inside a line belongs to that line. A last line without ``\\n`` is a
line; a file ending in ``\\n`` has no empty line after it. A UTF-8 BOM at the start of line 1
is not part of the record. Everything is read as bytes, streaming, never the whole file.

Two readers share these rules:

* :func:`iter_lines` walks every line (validation, rewriting whole files);
* :func:`scan` walks the file in large chunks and stops only at the lines asked for, which
  is what makes extracting or replacing a few thousand lines of a 200 MB file cost about as
  much as reading it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import orjson

BOM = b"\xef\xbb\xbf"
CHUNK_SIZE = 1 << 20
_JSON_SPACE = b" \t\r\n"
# A line holding only JSON whitespace, found between two newlines of a chunk.
_BLANK_INSIDE = re.compile(rb"\n[ \t\r]*\n")


@dataclass(frozen=True, slots=True)
class Line:
    """One physical line: its 1-based number, content (no ending, no BOM) and ending."""

    number: int
    content: bytes
    ending: bytes  # b"\n", b"\r\n" or b"" for a last line without newline

    @property
    def is_blank(self) -> bool:
        """True for an empty or whitespace-only line: a line that holds no record."""
        return not self.content.strip(_JSON_SPACE)


@dataclass(frozen=True, slots=True)
class Parsed:
    """What a line holds: a record (a JSON object), nothing (blank), or a defect."""

    line: Line
    record: dict[str, object] | None
    defect: str | None

    @property
    def object_id(self) -> str | None:
        """The record's ``objectId`` when it is a string, else None."""
        if self.record is None:
            return None
        value = self.record.get("objectId")
        return value if isinstance(value, str) else None


def parse_line(line: Line) -> Parsed:
    """Parse one line; invalid UTF-8, invalid JSON and non-objects become a defect, not a crash."""
    if line.is_blank:
        return Parsed(line, None, None)
    try:
        value = orjson.loads(line.content)
    except orjson.JSONDecodeError as exc:
        return Parsed(line, None, _describe_bad_json(line.content, exc))
    if not isinstance(value, dict):
        return Parsed(line, None, f"line holds a JSON {_json_kind(value)}, not an object")
    return Parsed(line, value, None)


def _describe_bad_json(content: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"invalid UTF-8 at byte {bad.start + 1} of the line"
    return f"invalid JSON: {exc.msg} at character {exc.pos + 1}"


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def iter_lines(stream: BinaryIO) -> Iterator[Line]:
    """Yield every physical line of a binary stream, numbered from 1."""
    for number, raw in enumerate(stream, 1):  # binary iteration splits on b"\n" only
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        yield _make_line(number, raw)


def _make_line(number: int, raw: bytes) -> Line:
    if raw.endswith(b"\r\n"):
        return Line(number, raw[:-2], b"\r\n")
    if raw.endswith(b"\n"):
        return Line(number, raw[:-1], b"\n")
    return Line(number, raw, b"")


@dataclass(slots=True)
class Shape:
    """Facts about a whole file that bear on how Gong may have numbered its lines."""

    lines: int = 0
    bom: bool = False
    crlf: bool = False
    blank_lines: bool = False
    ends_with_newline: bool = True
    missing: list[int] = field(default_factory=list)

    @property
    def risky(self) -> list[str]:
        """What in this file makes Gong's line numbers uncertain (design section 3)."""
        found = []
        if self.bom:
            found.append("a UTF-8 byte order mark")
        if self.blank_lines:
            found.append("blank lines")
        if self.crlf:
            found.append("\\r\\n line endings")
        return found


def scan(stream: BinaryIO, wanted: Iterable[int], shape: Shape) -> Iterator[bytes | Line]:
    """Walk ``stream`` in chunks, yielding raw bytes between the wanted lines and the lines.

    Concatenating every ``bytes`` item with each ``Line``'s original bytes gives the file back
    exactly, so the same walk serves extraction (ignore the bytes) and rewriting (copy them).
    ``shape`` is filled in as the walk goes: line count, BOM, ``\\r\\n``, blank lines, and the
    wanted line numbers that lie past the end of the file.
    """
    targets = sorted({n for n in wanted if n >= 1})
    index = 0
    target = targets[0] if targets else 0
    line_no = 1  # the line the next byte belongs to
    current: bytearray | None = None  # bytes of a wanted line being collected
    tail = b""  # the end of the previous chunk after its last newline, for shape checks
    first = True
    while chunk := stream.read(CHUNK_SIZE if not first else max(CHUNK_SIZE, len(BOM))):
        if first:
            first = False
            if chunk.startswith(BOM):
                shape.bom = True
                yield BOM
                chunk = chunk[len(BOM) :]
        _observe(shape, tail, chunk)
        newline_at = chunk.rfind(b"\n")
        tail = (tail + chunk) if newline_at < 0 else chunk[newline_at + 1 :]
        if len(tail) > 64:
            tail = tail[-64:] if tail.strip(_JSON_SPACE) == b"" else b"x"
        pos = 0
        size = len(chunk)
        while pos < size:
            if current is not None:
                end = chunk.find(b"\n", pos)
                if end < 0:
                    current += chunk[pos:]
                    break
                current += chunk[pos : end + 1]
                yield _make_line(target, bytes(current))
                current = None
                line_no += 1
                pos = end + 1
                index += 1
                target = targets[index] if index < len(targets) else 0
                continue
            if not target:
                line_no += chunk.count(b"\n", pos)
                yield chunk[pos:]
                break
            skip = target - line_no
            start = pos
            if skip:
                if chunk.count(b"\n", pos) < skip:
                    line_no += chunk.count(b"\n", pos)
                    yield chunk[pos:]
                    break
                for _ in range(skip):
                    pos = chunk.find(b"\n", pos) + 1
                line_no = target
            if pos > start:
                yield chunk[start:pos]
            current = bytearray()
    open_last_line = bool(tail) or (shape.bom and line_no == 1)  # a BOM alone is a blank line
    if open_last_line and target == line_no:
        yield _make_line(target, bytes(current or b""))
        index += 1
    shape.lines = line_no if open_last_line else line_no - 1
    shape.ends_with_newline = not open_last_line
    if open_last_line and not tail.strip(_JSON_SPACE):
        shape.blank_lines = True
    shape.missing = [n for n in targets[index:] if n > shape.lines]


def _observe(shape: Shape, tail: bytes, chunk: bytes) -> None:
    if not shape.crlf and (b"\r\n" in chunk or (tail.endswith(b"\r") and chunk[:1] == b"\n")):
        shape.crlf = True
    if shape.blank_lines:
        return
    # The previous chunk may have ended inside a line that is blank so far.
    if (
        not tail.strip(_JSON_SPACE)
        and b"\n" in chunk
        and not chunk[: chunk.find(b"\n")].strip(_JSON_SPACE)
    ):
        shape.blank_lines = True
        return
    if b"\n\n" in chunk or b"\n\r\n" in chunk or _BLANK_INSIDE.search(chunk):
        shape.blank_lines = True


def read_lines(stream: BinaryIO, wanted: Iterable[int]) -> tuple[dict[int, Line], Shape]:
    """Return the wanted lines of ``stream`` by number, and the file's shape."""
    shape = Shape()
    found = {item.number: item for item in scan(stream, wanted, shape) if isinstance(item, Line)}
    return found, shape
