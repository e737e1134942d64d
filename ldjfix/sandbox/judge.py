"""The sandbox's own rejection rules: how the simulated Gong judges an uploaded LDJSON file.

Deliberately independent of ldjfix's validator (so the loop is tested against a second
opinion), and stricter in places only a server can be (references to objects it has never
received, bare domain names, name length). Decisions where Gong's behaviour is unknown:

* lines are physical lines ending at ``\\n``, numbered from 1; a UTF-8 BOM at the start is
  skipped; a blank line is an error of its line (it holds no object);
* one error per failing line (the first rule it breaks), in line order;
* a file that is empty, over the size cap or not UTF-8 anywhere fails as a whole: one error
  with ``line: 0``;
* several lines with the same ``objectId`` are upserted in order (the last one wins).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from ldjfix.gong import descriptions as say
from ldjfix.gong.limits import MAX_UPLOAD_BYTES
from ldjfix.sandbox.rules import RecordRules
from ldjfix.sandbox.screen import screen_for


class Buffer(Protocol):
    """Bytes, an mmap or a spooled body: what an uploaded file is searched and sliced in."""

    def find(self, sub: bytes, start: int = ..., end: int = ..., /) -> int: ...
    def __getitem__(self, key: slice, /) -> bytes: ...


@dataclass
class Judgement:
    """What processing one uploaded file gave: errors by line, counts, records to keep.

    ``errors`` holds every error, or only the first ``listed`` when judging with a limit;
    ``error_count`` counts them all. ``upserts`` and ``deletes`` are filled only when no
    :data:`Keep` callback takes the accepted records instead.
    """

    errors: list[tuple[int, str]] = field(default_factory=list)
    success: int = 0
    upserts: dict[str, bytes] = field(default_factory=dict)
    deletes: set[str] = field(default_factory=set)
    error_count: int = 0
    whole: bool = False  # the file failed as a whole (line 0): nothing of it is kept

    @property
    def failed(self) -> bool:
        """True when any line (or the whole file) was rejected."""
        return self.error_count > 0

    def keep(self, object_id: str, content: bytes, deleted: bool) -> None:
        """Remember an accepted record in ``upserts``/``deletes`` (last one wins)."""
        if deleted:
            self.upserts.pop(object_id, None)
            self.deletes.add(object_id)
        else:
            self.deletes.discard(object_id)
            self.upserts[object_id] = content


# takes each accepted record as it is judged: (objectId, stripped line, is a deletion)
Keep = Callable[[str, bytes, bool], None]


def general_failure(description: str) -> Judgement:
    """A verdict for a file that cannot be read at all: one error on line 0."""
    return Judgement(errors=[(0, description)], error_count=1, whole=True)


def iter_physical_lines(data: Buffer, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """(number, content) of every line between ``start`` and ``end``; ``\\n`` ends a line."""
    if data[start : start + 3] == b"\xef\xbb\xbf":
        start += 3
    number, pos = 0, start
    while pos < end:
        stop = data.find(b"\n", pos, end)
        stop = end if stop == -1 else stop
        number += 1
        content = data[pos:stop]
        yield number, content[:-1] if content.endswith(b"\r") else content
        pos = stop + 1


def iter_chunked_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """:func:`iter_physical_lines` over a file read in chunks (never all of it at once)."""
    number, first = 0, True
    carry: list[bytes] = []
    for chunk in chunks:
        if first:
            chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False  # chunks are >= 3 bytes
        lines = chunk.split(b"\n")  # each chunk's lines at once: a Python loop costs 5x more
        tail = lines.pop()
        if not lines:  # no line ends in this chunk
            if tail:
                carry.append(tail)
            continue
        if carry:
            lines[0], carry = b"".join([*carry, lines[0]]), []
        if b"\r" in chunk or lines[0].endswith(b"\r"):
            lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        yield from enumerate(lines, number + 1)
        number += len(lines)
        if tail:
            carry.append(tail)
    if carry:
        content = b"".join(carry)
        yield number + 1, content[:-1] if content.endswith(b"\r") else content


def is_blank(chunks: Iterable[bytes]) -> bool:
    """True when the chunks hold only ASCII whitespace (stops at the first that does not)."""
    return not any(chunk.strip() for chunk in chunks)


def judge_file(
    data: Buffer,
    start: int,
    end: int,
    *,
    object_type: str,
    custom: Mapping[str, Mapping[str, Any]],
    known: Callable[[str, str], bool],
    screen: bool = True,
) -> Judgement:
    """Judge the uploaded file ``data[start:end]`` as Gong would; see the module notes."""
    size = end - start
    if size > MAX_UPLOAD_BYTES:
        return general_failure(f"File size {size} bytes exceeds the maximum of 200 MB")
    if not data[start:end].strip():
        return general_failure("The file is empty")
    verdict = Judgement()
    lines = iter_physical_lines(data, start, end)
    return judge_lines(
        lines, verdict, object_type=object_type, custom=custom, known=known, screen=screen
    )


def judge_lines(
    lines: Iterable[tuple[int, bytes]],
    verdict: Judgement,
    *,
    object_type: str,
    custom: Mapping[str, Mapping[str, Any]],
    known: Callable[[str, str], bool],
    keep: Keep | None = None,
    listed: int | None = None,
    screen: bool = True,
) -> Judgement:
    """Judge numbered lines into ``verdict``; accepted records go to ``keep`` as they pass.

    A line that is not UTF-8 makes the whole file fail: the verdict returned is then a
    :func:`general_failure` and what ``keep`` took must be taken back by the caller.
    ``screen=False`` judges every record by the rules alone. The screen is only a shortcut
    (the verdict is the same either way); once it has refused over :data:`_SCREEN_TRIAL`
    lines and more than half of a file's lines so far, it stands aside for the rest of it,
    where it would only add its own cost to the rules'.
    """
    take = verdict.keep if keep is None else keep
    errors = verdict.errors
    rules = RecordRules.of(object_type, custom)
    passes = screen_for(rules) if screen else _refused
    references, loads, refused = rules.references, orjson.loads, 0
    for number, content in lines:
        try:
            record = loads(content)
        except orjson.JSONDecodeError:
            record = _UNPARSED
        if type(record) is dict and passes(record):  # the shortcut: it breaks no rule
            problem = _dangling(record, references, known) if references else None
        else:
            refused += 1
            if refused > _SCREEN_TRIAL and 2 * refused > number:
                passes = _refused  # a file the screen mostly refuses: it only costs time here
            problem, record = _judge_line(content, record, rules, known)
        if problem is _NOT_UTF8:
            return general_failure(f"The file is not valid UTF-8 (line {number})")
        if problem is not None:
            verdict.error_count += 1
            if listed is None or len(errors) < listed:
                errors.append((number, problem))
            continue
        verdict.success += 1
        take(str(record["objectId"]), content.strip(), record.get("isDeleted") is True)
    return verdict


_NOT_UTF8 = "not UTF-8"  # the marker _judge_line returns for a line that is not UTF-8
_SCREEN_TRIAL = 1024  # lines the screen may refuse before it is judged not worth its cost
_UNPARSED: Any = object()  # what a line orjson refused as bytes holds until _reparsed reads it


def _refused(record: object) -> bool:
    """The screen of a judgement without one: every record goes by the rules."""
    return False


def _judge_line(
    content: bytes, record: Any, rules: RecordRules, known: Callable[[str, str], bool]
) -> tuple[str | None, Any]:
    """The general path: the first rule the line's ``record`` breaks, and the record."""
    if record is _UNPARSED:
        problem, record = _reparsed(content)
        if problem is not None:
            return problem, None
    if not isinstance(record, dict):
        return say.unparsable("the line is not a JSON object"), None
    problem = rules.first_broken(record)
    if problem is None and rules.references:
        problem = _dangling(record, rules.references, known)
    return problem, record


def _reparsed(content: bytes) -> tuple[str | None, Any]:
    """A line orjson refused as bytes, decoded, so its error reads as before.

    orjson checks the bytes are UTF-8 as it parses; only a line it refuses is decoded here:
    (problem, None) says why (:data:`_NOT_UTF8`, blank, or a position in characters).
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return _NOT_UTF8, None
    if not text.strip():
        return say.unparsable("the line is empty"), None
    try:
        return None, orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return say.unparsable(f"{exc.msg} at character {exc.pos + 1}"), None


def check_record(
    record: Mapping[str, Any], object_type: str, custom: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The first rule ``record`` breaks (a Gong-style description), or None."""
    return RecordRules.of(object_type, custom).first_broken(record)


def _dangling(
    record: Mapping[str, Any],
    targets: Sequence[tuple[str, str]],
    known: Callable[[str, str], bool],
) -> str | None:
    if record.get("isDeleted") is True:
        return None  # a deletion carries old values; Gong has no reason to resolve them
    for name, target in targets:
        value = record.get(name)
        if isinstance(value, str) and value and not known(target, value):
            return say.dangling(name, value)
    return None
