"""``fixes.jsonl``: one line per change, each reason written once (README, "fixes.jsonl").

A rule applied to 300,000 records gives 300,000 changes with the same field and the same
``why``; writing that text on every line made the log half the size of the source. So a
*declaration* line names a kind of change once, before its first change::

    {"fix":1,"field":"modifiedDate","why":"rule 2 (…): reformat_datetime for: …"}

and each change after it is one short array, the line first::

    [17,"001Dn0000000ffG","2024-03-14T00:26:35.864Z","2024-03-14T00:26:35Z",1]

that is ``[line, objectId, old, new, fix]`` (``null`` for an absent objectId or value). The
first format, one object per change (``{"line", "objectId", "field", "old", "new", "why"}``), is
still read, and the two may be mixed in one file (a job resumed by a newer ldjfix).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ldjfix.fixing.fixer import Fix, FixDoc
from ldjfix.ldjson.serial import dump_json

_KINDS_KEPT = 4096  # declared kinds remembered; past it a kind is declared again (a new id)
_OLD_KEYS = ("objectId", "field", "old", "new")  # what replay needs of a first-format line
_NEWLINE = orjson.OPT_APPEND_NEWLINE
Kind = tuple[str | None, str]  # (field, why)
Entry = tuple[Any, Any, str | None, Any, Any, str]  # a Fix's fields, in its order, unchecked


class LogWriter:
    """Turns fixes into ``fixes.jsonl`` bytes, declaring each (field, why) once."""

    def __init__(self, declared: dict[int, Kind] | None = None) -> None:
        declared = declared or {}
        self.ids: dict[Kind, int] = {kind: n for n, kind in declared.items()}
        self.next_id = max(declared, default=0) + 1

    def encode(self, fixes: Iterable[Fix]) -> bytes:
        """The lines for ``fixes`` (declarations first where a kind is new), joined."""
        change = self.change
        return b"".join(
            change(fix.source_line, fix.object_id, fix.field, fix.why, fix.old, fix.new)
            for fix in fixes
        )

    def change(
        self, line: int, object_id: str | None, field: str | None, why: str, old: Any, new: Any
    ) -> bytes:
        """The line for one change (after its kind's declaration when the kind is new)."""
        number = self.ids.get((field, why))
        if number is None:
            head = self._declare(field, why)
            return head + self.change(line, object_id, field, why, old, new)
        return _change_line([line, object_id, old, new, number])

    def changes(
        self,
        lines: Sequence[int],
        object_ids: Sequence[str | None],
        field: str | None,
        why: str,
        olds: Sequence[Any],
        news: Sequence[Any],
    ) -> bytes:
        """:meth:`change` for a streak of changes of one kind (one lookup, one join)."""
        number = self.ids.get((field, why))
        head = self._declare(field, why) if number is None else b""
        number = self.ids[(field, why)]
        out = [head]
        for line, object_id, old, new in zip(lines, object_ids, olds, news, strict=True):
            out.append(_change_line([line, object_id, old, new, number]))
        return b"".join(out)

    def _declare(self, field: str | None, why: str) -> bytes:
        if len(self.ids) >= _KINDS_KEPT:
            self.ids.clear()
        number = self.next_id
        self.next_id += 1
        self.ids[(field, why)] = number
        return dump_json({"fix": number, "field": field, "why": why}) + b"\n"


def _change_line(change: list[Any]) -> bytes:
    """``[line, objectId, old, new, fix]`` as one line of the log."""
    try:
        return orjson.dumps(change, option=_NEWLINE)
    except TypeError:  # nested past orjson's limit: the slow writer copes
        return dump_json(change) + b"\n"


class LogProblem(ValueError):
    """A line that is no recorded fix (the caller says which file and line)."""


class LogReader:
    """Reads ``fixes.jsonl`` lines of either format, keeping the declarations met so far.

    A declaration holds until the same number is declared again (two logs joined with
    ``cat`` each start at 1), so each change refers to the latest one before it.
    """

    def __init__(self) -> None:
        self.kinds: list[Kind] = []  # every declaration met, in file order
        self.declared: dict[int, int] = {}  # declared number -> its place in ``kinds``
        self.kind = -1  # the place in ``kinds`` of the last change read (-1: the first format)

    def read(self, raw: bytes) -> Fix | None:
        """The change on line ``raw``; None for a declaration (remembered) or a blank line."""
        entry = self.entry(raw)
        return None if entry is None else Fix(*entry)

    def entry(self, raw: bytes) -> Entry | None:
        """:meth:`read` as a plain tuple (a reader of 300k changes builds no objects)."""
        try:
            item = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if not raw.strip():
                return None
            raise LogProblem(f"is not JSON ({exc.msg})") from None
        if type(item) is list:  # a change: the common line, so no call of its own
            if len(item) != 5 or type(item[0]) is not int:
                raise LogProblem("is not a recorded fix")
            line, object_id, old, new, number = item
            kind = self.declared.get(number, -1) if type(number) is int else -1
            if kind < 0:
                raise LogProblem(f"refers to fix {number!r}, which no line before it declares")
            self.kind = kind
            field, why = self.kinds[kind]
            return (line, object_id, field, old, new, why)
        if type(item) is dict:
            if "line" not in item and "fix" in item:
                self._declaration(item)
                return None
            if all(key in item for key in _OLD_KEYS):
                self.kind = -1
                return _first_format(item)
        raise LogProblem("is not a recorded fix")

    def again(self, raw: bytes, kind: int) -> Entry:
        """A change :meth:`entry` read before, its kind then ``kind``: for readers that seek."""
        item = orjson.loads(raw)
        if kind < 0:
            return _first_format(item)
        field, why = self.kinds[kind]
        return (item[0], item[1], field, item[2], item[3], why)

    def _declaration(self, item: dict[str, Any]) -> None:
        number, field, why = item.get("fix"), item.get("field"), item.get("why")
        if type(number) is not int or not isinstance(why, str):
            raise LogProblem("is not a recorded fix")
        if field is not None and not isinstance(field, str):
            raise LogProblem("is not a recorded fix")
        self.declared[number] = len(self.kinds)
        self.kinds.append((field, why))


def _first_format(item: dict[str, Any]) -> Entry:
    why = item.get("why")
    why = why if isinstance(why, str) else ""
    return (item.get("line", 0), item["objectId"], item["field"], item["old"], item["new"], why)


def read_fixes(stream: BinaryIO) -> Iterator[Fix]:
    """Every change of a ``fixes.jsonl`` stream, in order (either format); LogProblem if bad."""
    reader = LogReader()
    for number, raw in enumerate(stream, 1):
        try:
            fix = reader.read(raw)
        except LogProblem as exc:
            raise LogProblem(f"line {number} {exc}") from None
        if fix is not None:
            yield fix


def fix_docs(path: str | Path) -> Iterator[FixDoc]:
    """Every change of the ``fixes.jsonl`` at ``path`` in its full form, one dict each."""
    with Path(path).open("rb") as stream:
        for fix in read_fixes(stream):
            yield fix.as_json()


def declared_kinds(stream: BinaryIO) -> dict[int, Kind]:
    """The kinds declared in a ``fixes.jsonl`` stream (to go on appending to it)."""
    reader = LogReader()
    for raw in stream:
        if raw.startswith(b"{") and b'"fix"' in raw:
            try:
                reader.read(raw)
            except LogProblem:
                continue  # not ours to judge here: replay says what is wrong with it
    return {number: reader.kinds[at] for number, at in reader.declared.items()}
