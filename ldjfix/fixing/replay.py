"""``ldjfix replay``: apply a ``fixes.jsonl`` to the next export of the same CRM.

Each line of ``fixes.jsonl`` says: on the record with this ``objectId``, field ``field`` went
from ``old`` to ``new`` (``null`` for absent). Replay finds the record by ``objectId`` in the
new export and makes the change only where the field still holds ``old``: a value the CRM has
changed since is left alone and counted as stale. Unchanged lines are copied byte for byte.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson

from ldjfix.errors import InputProblem
from ldjfix.fixing.fixlog import LogProblem, LogReader
from ldjfix.ldjson.files import atomic_output, open_input, refuse_overwrite
from ldjfix.ldjson.lines import Line
from ldjfix.ldjson.rewrite import KEEP, Replacement, write_replaced
from ldjfix.ldjson.sources import SourcePath

_HINT = "Each line is a change or a declaration as ldjfix writes them (README, fixes.jsonl)."


Change = tuple[int, str, Any, Any]  # its line in fixes.jsonl, field, old, new (one per record)


@dataclass
class ReplayReport:
    """What replay did with the recorded changes."""

    applied: int = 0
    already: int = 0
    stale: int = 0
    not_found: int = 0
    unkeyed: int = 0
    records: int = 0
    used: bytearray = field(default_factory=bytearray)  # a byte per fixes.jsonl line: used

    def summary(self) -> str:
        """One line for stderr."""
        return (
            f"{self.applied:,} changes applied to {self.records:,} records; {self.already:,} "
            f"already in place; {self.stale:,} stale (the value changed since); {self.not_found:,} "
            f"for objectIds not in the file; {self.unkeyed:,} without an objectId (not replayable)."
        )


class ChangeIndex:
    """The changes of a fixes.jsonl by objectId, read from the file when asked for.

    A log of 366k changes held as objects costs hundreds of MiB; this keeps 16 bytes a change
    (the objectId's hash and the line's offset, sorted by hash) and reads a change's line again
    when a record with that objectId comes by, so replay's memory stays flat.
    """

    def __init__(self, path: SourcePath) -> None:
        self.path = path
        self.unkeyed = 0
        self.lines = 0
        self.reader = LogReader()
        hashes, offsets, numbers, kinds = array("q"), array("q"), array("q"), array("q")
        at = number = 0
        with open_input(path, what="fixes file") as stream:
            for number, raw in enumerate(stream, 1):
                here, at = at, at + len(raw)
                try:
                    entry = self.reader.entry(raw)
                except LogProblem as exc:
                    problem = f"fixes file {path} line {number} {exc}."
                    raise InputProblem(problem, hint=_HINT) from None
                if entry is None:
                    continue
                oid = entry[1]
                if type(oid) is not str or type(entry[2]) is not str:
                    self.unkeyed += 1  # e.g. a missing objectId that was filled in
                    continue
                hashes.append(hash(oid))
                offsets.append(here)
                numbers.append(number)
                kinds.append(self.reader.kind)
        self.lines = number
        order = _sorted_by_hash(hashes)
        # map with a C function: no Python frame per change, and no list in between
        self.hashes = array("q", map(hashes.__getitem__, order))
        self.offsets = array("q", map(offsets.__getitem__, order))
        self.numbers = array("q", map(numbers.__getitem__, order))
        self.kinds = array("q", map(kinds.__getitem__, order))
        self.keyed = len(order)
        self._stream: BinaryIO | None = None

    def changes(self, object_id: str) -> list[Change]:
        """The changes recorded for ``object_id``, in file order."""
        key = hash(object_id)
        hashes = self.hashes
        index = bisect_left(hashes, key)
        found: list[Change] = []
        end = len(hashes)
        while index < end and hashes[index] == key:
            _, oid, name, old, new, _ = self.reader.again(
                self._line(self.offsets[index]), self.kinds[index]
            )
            if oid == object_id:  # its field was a string when indexed: the same line, kind
                found.append((self.numbers[index], cast(str, name), old, new))
            index += 1
        return found

    def __contains__(self, object_id: str) -> bool:
        key = hash(object_id)
        index = bisect_left(self.hashes, key)
        return index < len(self.hashes) and self.hashes[index] == key

    def _line(self, at: int) -> bytes:
        if self._stream is None:
            self._stream = Path(self.path).open("rb")  # noqa: SIM115 - held for lookups, closed by close()
        self._stream.seek(at)
        return self._stream.readline()

    def close(self) -> None:
        """Close the fixes file."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def _sorted_by_hash(hashes: array[int]) -> array[int]:
    """The positions of ``hashes`` sorted by hash, ties in file order (a stable sort).

    One packed int per change (hash, then position) sorted in place: a key list beside a list
    of positions would hold two objects per change, the peak of a replay of 366k changes.
    """
    if len(hashes) > _LOW:  # past 4 billion changes the position does not fit: sort plainly
        return array("q", sorted(range(len(hashes)), key=hashes.__getitem__))
    packed = [((h + _HALF) << 32) | i for i, h in enumerate(hashes)]
    packed.sort()
    order = array("q", map(_LOW.__and__, packed))
    del packed
    return order


_HALF = 1 << 63  # makes a signed 64-bit hash non-negative, keeping its order
_LOW = (1 << 32) - 1  # the position's bits


def replay_fixes(path: SourcePath, fixes: SourcePath, *, output: str | Path) -> ReplayReport:
    """Apply the changes in ``fixes`` to ``path``, writing the result to ``output``."""
    refuse_overwrite(path, output)
    index = ChangeIndex(fixes)
    report = ReplayReport(unkeyed=index.unkeyed, used=bytearray(index.lines + 1))

    def change(line: Line) -> Replacement:
        record = _replayed(line, index, report)
        return KEEP if record is None else record

    try:
        with open_input(path) as source, atomic_output(output) as out:
            write_replaced(source, out, change)
    finally:
        index.close()
    report.not_found = index.keyed - sum(report.used)
    return report


def _replayed(line: Line, index: ChangeIndex, report: ReplayReport) -> dict[str, Any] | None:
    """The record of ``line`` with its recorded changes applied, or None when none applies."""
    try:
        record = orjson.loads(line.content)
    except orjson.JSONDecodeError:
        return None
    if type(record) is not dict or not isinstance(record.get("objectId"), str):
        return None
    queue = index.changes(record["objectId"])
    if not queue or not _apply(record, queue, index, report):
        return None
    report.records += 1
    return record


def _apply(
    record: dict[str, Any], queue: list[Change], index: ChangeIndex, report: ReplayReport
) -> bool:
    """Apply ``queue``, this record's changes, in order; an objectId fix brings its own."""
    changed = False
    while queue:
        number, name, old, new = queue.pop(0)
        report.used[number] = 1
        current = record.get(name)
        if _same(current, new) and (new is not None or name not in record):
            report.already += 1
        elif not _same(current, old):
            report.stale += 1
        else:
            if new is None:
                record.pop(name, None)
            else:
                record[name] = new
            report.applied += 1
            changed = True
            if name == "objectId" and isinstance(new, str):
                queue += [c for c in index.changes(new) if not report.used[c[0]]]
    return changed


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: ``true`` and ``1`` are different values in a record (Python says equal)."""
    if type(a) is str and type(b) is str:  # the common case (dates, names): no serialising
        return a == b
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        b, option=orjson.OPT_SORT_KEYS
    )
