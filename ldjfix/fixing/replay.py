"""``ldjfix replay``: apply a ``fixes.jsonl`` to the next export of the same CRM.

Each line of ``fixes.jsonl`` says: on the record with this ``objectId``, field ``field`` went
from ``old`` to ``new`` (``null`` for absent). Replay finds the record by ``objectId`` in the
new export and makes the change only where the field still holds ``old``: a value the CRM has
changed since is left alone and counted as stale. Unchanged lines are copied byte for byte.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from functools import partial
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


Change = tuple[int, str, Any, Any]  # its place in the index, field, old, new (one per record)


@dataclass
class ReplayReport:
    """What replay did with the recorded changes."""

    applied: int = 0
    already: int = 0
    stale: int = 0
    not_found: int = 0
    unkeyed: int = 0
    records: int = 0
    used: bytearray = field(default_factory=bytearray)  # a byte per indexed change: used

    def summary(self) -> str:
        """One line for stderr."""
        return (
            f"{self.applied:,} changes applied to {self.records:,} records; {self.already:,} "
            f"already in place; {self.stale:,} stale (the value changed since); {self.not_found:,} "
            f"for objectIds not in the file; {self.unkeyed:,} without an objectId (not replayable)."
        )


class ChangeIndex:
    """The changes of a fixes.jsonl by objectId, read from the file when asked for.

    A log of 366k changes held as objects costs hundreds of MiB; this keeps about 32 bytes a
    change (the objectId's hash, the line's offset, its kind, the change before it with the
    same hash, and a slot of an open-addressing table at most half full) and reads a change's
    line again when a record with that objectId comes by, so replay's memory stays flat. The
    table is built in one pass in file order, one slot per hash: the changes of one objectId
    are a chain back from its last one, so a thousand changes to one objectId cost one slot.
    """

    def __init__(self, path: SourcePath) -> None:
        self.path = path
        self.unkeyed = 0
        self.lines = 0
        self.reader = LogReader()
        hashes, offsets, kinds = array("q"), array("q"), array("q")
        add_hash, add_offset, add_kind = hashes.append, offsets.append, kinds.append
        entry_of = self.reader.entry
        at = number = 0
        with open_input(path, what="fixes file") as stream:
            for number, raw in enumerate(stream, 1):
                try:
                    entry = entry_of(raw)
                except LogProblem as exc:
                    problem = f"fixes file {path} line {number} {exc}."
                    raise InputProblem(problem, hint=_HINT) from None
                if entry is not None:
                    oid = entry[1]
                    if type(oid) is str and type(entry[2]) is str:
                        add_hash(hash(oid))
                        add_offset(at)
                        add_kind(self.reader.kind)
                    else:
                        self.unkeyed += 1  # e.g. a missing objectId that was filled in
                at += len(raw)
        self.lines = number
        self.hashes, self.offsets, self.kinds = hashes, offsets, kinds
        self.keyed = len(hashes)
        self.mask, self.table, self.earlier = _table(hashes)
        self._stream: BinaryIO | None = None

    def changes(self, object_id: str) -> list[Change]:
        """The changes recorded for ``object_id``, in file order."""
        key = hash(object_id)
        table, hashes, mask, earlier = self.table, self.hashes, self.mask, self.earlier
        slot = key & mask
        while (position := table[slot]) and hashes[position - 1] != key:
            slot = (slot + 1) & mask
        chain = []  # the changes with this hash, last first
        while position:
            chain.append(position - 1)
            position = earlier[position - 1]
        found: list[Change] = []
        for index in reversed(chain):
            stream = self._stream or self._open()
            stream.seek(self.offsets[index])
            _, oid, name, old, new, _ = self.reader.again(stream.readline(), self.kinds[index])
            if oid == object_id:  # its field was a string when indexed: same line, kind
                found.append((index, cast(str, name), old, new))
        return found

    def _open(self) -> BinaryIO:
        self._stream = Path(self.path).open("rb")  # noqa: SIM115 - held for lookups, closed by close()
        return self._stream

    def close(self) -> None:
        """Close the fixes file."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def _table(hashes: array[int]) -> tuple[int, array[int], array[int]]:
    """An open-addressing table of ``hashes``: slot -> position + 1 of the last change with that
    hash (0: empty), at most half full; and per change the position + 1 of the one before it
    with the same hash (0: none).

    One pass in file order with linear probing and one slot per distinct hash, so equal hashes
    never make a run that every later insert and lookup walks (a quadratic build for a log of
    many changes to one objectId); a sort (the index before) cost a third of a replay of 366k
    changes and a list of them.
    """
    size = 1 << max(2 * len(hashes), 1).bit_length()
    wide = size >= 1 << 31
    table = array("q" if wide else "i", bytes((8 if wide else 4) * size))
    earlier = array("q" if wide else "i", bytes((8 if wide else 4) * len(hashes)))
    mask = size - 1
    for position, key in enumerate(hashes, 1):
        slot = key & mask
        while (held := table[slot]) and hashes[held - 1] != key:
            slot = (slot + 1) & mask
        earlier[position - 1] = held
        table[slot] = position
    return mask, table, earlier


def replay_fixes(path: SourcePath, fixes: SourcePath, *, output: str | Path) -> ReplayReport:
    """Apply the changes in ``fixes`` to ``path``, writing the result to ``output``."""
    refuse_overwrite(path, output)
    index = ChangeIndex(fixes)
    report = ReplayReport(unkeyed=index.unkeyed, used=bytearray(index.keyed))

    try:
        with open_input(path) as source, atomic_output(output) as out:
            write_replaced(source, out, partial(_replayed, index, report))
    finally:
        index.close()
    report.not_found = index.keyed - sum(report.used)
    return report


def _replayed(index: ChangeIndex, report: ReplayReport, line: Line) -> Replacement:
    """The record of ``line`` with its recorded changes applied, or KEEP when none applies."""
    try:
        record = orjson.loads(line.content)
    except orjson.JSONDecodeError:
        return KEEP
    if type(record) is not dict:
        return KEEP
    object_id = record.get("objectId")
    if type(object_id) is not str:
        return KEEP
    queue = index.changes(object_id)
    if not queue or not _apply(record, queue, index, report):
        return KEEP
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
