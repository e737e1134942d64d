"""Physical lines of an LDJSON file, exactly as the README's "Line numbers" defines them.

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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import orjson

BOM = b"\xef\xbb\xbf"
CHUNK_SIZE = 1 << 18  # 256 KiB: a chunk and its split stay in the CPU cache
_JSON_SPACE = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class Line:
    """One physical line: its 1-based number, content (no ending, no BOM) and ending."""

    number: int
    content: bytes
    ending: bytes  # b"\n", b"\r\n" or b"" for a last line without newline

    @property
    def is_blank(self) -> bool:
        """True for an empty or whitespace-only line: a line that holds no record."""
        content = self.content  # a record starts with "{": no copy of it stripped to see that
        return not content or (content[0] in _JSON_SPACE and not content.strip(_JSON_SPACE))


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
        yield make_line(number, raw)


def make_line(number: int, raw: bytes) -> Line:
    """Line ``number`` from its bytes as read (ending included, no BOM)."""
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
        """What in this file makes Gong's line numbers uncertain (README "Line numbers")."""
        found = []
        if self.bom:
            found.append("a UTF-8 byte order mark")
        if self.blank_lines:
            found.append("blank lines")
        if self.crlf:
            found.append("\\r\\n line endings")
        return found


def scan(
    stream: BinaryIO, wanted: Iterable[int], shape: Shape, *, copy: bool = True
) -> Iterator[bytes | Line]:
    """Walk ``stream`` in chunks, yielding raw bytes between the wanted lines and the lines.

    Concatenating every ``bytes`` item with each ``Line``'s original bytes gives the file back
    exactly, so the same walk serves extraction (ignore the bytes) and rewriting (copy them).
    With ``copy=False`` only the lines are yielded, which spares readers slicing the file.
    ``shape`` is filled in as the walk goes: line count, BOM, ``\\r\\n``, blank lines, and the
    wanted line numbers that lie past the end of the file.
    """
    targets = sorted({n for n in wanted if n >= 1})
    index = 0
    target = targets[0] if targets else 0
    line_no = 1  # the line the next byte belongs to
    carry: list[bytes] = []  # the first pieces of the wanted line, when it spans chunks
    state = _OpenLine()
    chunk = stream.read(max(CHUNK_SIZE, len(BOM)))
    if chunk.startswith(BOM):
        shape.bom = True
        if copy:
            yield BOM
        chunk = chunk[len(BOM) :] or stream.read(CHUNK_SIZE)
    while chunk:
        _observe_crlf(shape, state, chunk)
        if not target and shape.blank_lines:  # only the count is left to learn
            line_no += chunk.count(b"\n")
            state.has_bytes = not chunk.endswith(b"\n")
            if copy:
                yield chunk
            chunk = stream.read(CHUNK_SIZE)
            continue
        # A find() per line is memchr in C; the Python loop around it costs less than
        # splitting the chunk into objects, and it sees where each line starts.
        pos = done = 0  # the current line starts at pos; chunk[:done] is handed out
        find = chunk.find
        while (end := find(b"\n", pos)) >= 0:
            if chunk[pos] <= 32 and not shape.blank_lines:  # also an empty line: b"\n" is 10
                head_blank = state.blank if pos == 0 else True
                shape.blank_lines = head_blank and not chunk[pos:end].strip(_JSON_SPACE)
            if line_no == target:
                if copy and pos > done:
                    yield chunk[done:pos]
                raw = chunk[pos : end + 1]
                yield make_line(target, b"".join((*carry, raw)) if carry else raw)
                carry = []
                done = end + 1
                index += 1
                target = targets[index] if index < len(targets) else 0
            line_no += 1
            pos = end + 1
        _observe_open_line(state, chunk, pos)
        if line_no == target and pos < len(chunk):  # the open line is wanted: collect it
            if copy and pos > done:
                yield chunk[done:pos]
            carry.append(chunk[pos:])
        elif copy and done < len(chunk):
            yield chunk[done:] if done else chunk
        chunk = stream.read(CHUNK_SIZE)
    open_last_line = state.has_bytes or (shape.bom and line_no == 1)  # a BOM alone: blank line
    if open_last_line and target == line_no:
        yield make_line(line_no, b"".join(carry))
        index += 1
    shape.lines = line_no if open_last_line else line_no - 1
    shape.ends_with_newline = not open_last_line
    if open_last_line and state.blank:
        shape.blank_lines = True
    shape.missing = [n for n in targets[index:] if n > shape.lines]


@dataclass(slots=True)
class _OpenLine:
    """The line the chunks so far end inside: has it bytes, is it blank so far, ends it in \\r."""

    has_bytes: bool = False
    blank: bool = True
    cr: bool = False


def has_crlf(data: bytes) -> bool:
    """True when ``data`` holds ``\\r\\n``. A ``\\r`` is rare, and memchr finds one at memory
    speed, so most chunks skip the two-byte search (four times slower)."""
    return b"\r" in data and b"\r\n" in data


def _observe_crlf(shape: Shape, state: _OpenLine, chunk: bytes) -> None:
    if not shape.crlf:
        split_crlf = state.cr and chunk[:1] == b"\n"
        shape.crlf = split_crlf or has_crlf(chunk)
    state.cr = chunk.endswith(b"\r")


def _observe_open_line(state: _OpenLine, chunk: bytes, pos: int) -> None:
    """Remember what the line left open at the chunk's end (from ``pos``) holds so far."""
    rest_blank = not chunk[pos:].strip(_JSON_SPACE)
    if pos == 0:  # no newline in the chunk: the open line goes on
        state.has_bytes = True
        state.blank = state.blank and rest_blank
    else:
        state.has_bytes = pos < len(chunk)
        state.blank = rest_blank


def read_lines(stream: BinaryIO, wanted: Iterable[int]) -> tuple[dict[int, Line], Shape]:
    """Return the wanted lines of ``stream`` by number, and the file's shape."""
    shape = Shape()
    lines = scan(stream, wanted, shape, copy=False)
    found = {item.number: item for item in lines if isinstance(item, Line)}
    return found, shape
