"""Where every source record stands: pending, accepted or quarantined, and its current content.

One byte per source line keeps this small (a 366k-line file costs 366 kB); only records a fix
changed are held in memory. Every change arrives as a :class:`Settlement` (what one round, or
the local validation, settled), which is also what the job folder stores, so a resumed run
rebuilds the same ledger by replaying them. Illegal transitions and a broken invariant
(accepted + quarantined + pending = records) are bugs and raise :class:`InvariantBroken`.
"""

from __future__ import annotations

import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ldjfix.fixing.fixer import Fix
from ldjfix.ldjson.serial import dump_json
from ldjfix.loop.shapes import SettlementDoc

NOT_A_RECORD = 0
PENDING = 1
ACCEPTED = 2
QUARANTINED = 3
_MAX_SIZE = 2**32 - 1


class InvariantBroken(AssertionError):
    """A bookkeeping rule was broken: a bug in ldjfix, never a data problem."""


@dataclass(frozen=True, slots=True)
class Counts:
    """How the source's records stand."""

    records: int
    accepted: int
    quarantined: int
    pending: int

    def as_json(self) -> dict[str, int]:
        """The counts as report.json writes them."""
        return {
            "records": self.records,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "pending": self.pending,
        }


@dataclass(frozen=True, slots=True)
class Settlement:
    """What one round settled: accepted lines, quarantined lines with errors, fixed records."""

    round: int
    accepted: tuple[int, ...] = ()
    quarantined: tuple[tuple[int, tuple[str, ...]], ...] = ()
    fixed: tuple[tuple[int, dict[str, Any]], ...] = ()
    fixes: tuple[Fix, ...] = ()
    expected: dict[str, int] = field(default_factory=dict)  # upload -> failures still unseen
    notes: dict[str, Any] = field(default_factory=dict)  # round summary for the report

    def as_json(self) -> SettlementDoc:
        """The JSON form kept in the job folder."""
        return {
            "round": self.round,
            "accepted": list(self.accepted),
            "quarantined": [{"line": n, "errors": list(e)} for n, e in self.quarantined],
            "fixed": [{"line": n, "record": r} for n, r in self.fixed],
            "fixes": [f.as_json() for f in self.fixes],
            "expected": self.expected,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, doc: SettlementDoc) -> Settlement:
        """Read back what :meth:`as_json` wrote."""
        return cls(
            round=doc["round"],
            accepted=tuple(doc["accepted"]),
            quarantined=tuple((q["line"], tuple(q["errors"])) for q in doc["quarantined"]),
            fixed=tuple((f["line"], f["record"]) for f in doc["fixed"]),
            fixes=tuple(
                Fix(f["line"], f["objectId"], f["field"], f["old"], f["new"], f["why"])
                for f in doc["fixes"]
            ),
            expected=dict(doc["expected"]),
            notes=dict(doc["notes"]),
        )


def object_key(object_id: str | None) -> int:
    """A stable small key for an objectId (0 when there is none); equal ids give equal keys."""
    return 0 if object_id is None else zlib.crc32(object_id.encode()) | 1


class Ledger:
    """The state of every line of the source file."""

    def __init__(self, lines: int) -> None:
        self.state = bytearray(lines + 1)
        self.keys = array("I", bytes(4 * (lines + 1)))
        self.sizes = array("I", bytes(4 * (lines + 1)))  # bytes in an upload set, "\n" included
        self.records = 0
        self.fixed: dict[int, dict[str, Any]] = {}
        self.errors: dict[int, tuple[str, ...]] = {}
        self.fixes: list[Fix] = []

    def add_record(self, line: int, object_id: str | None) -> None:
        """Count ``line`` as a source record, pending until a round settles it."""
        if self.state[line] != NOT_A_RECORD:
            raise InvariantBroken(f"line {line} counted twice")
        self.state[line] = PENDING
        self.keys[line] = object_key(object_id)
        self.records += 1

    def add_records(
        self, lines: Sequence[int], keys: Sequence[int], sizes: Sequence[int] | None = None
    ) -> None:
        """Count many records at once: ``lines[i]`` with objectId key ``keys[i]``.

        ``sizes[i]`` is the bytes the record takes in an upload set as it stands in the source.
        """
        for at, (line, key) in enumerate(zip(lines, keys, strict=True)):
            if self.state[line] != NOT_A_RECORD:
                raise InvariantBroken(f"line {line} counted twice")
            self.state[line] = PENDING
            self.keys[line] = key
            if sizes is not None:
                self.sizes[line] = min(sizes[at], _MAX_SIZE)
        self.records += len(lines)

    def apply(self, settlement: Settlement) -> None:
        """Apply one round's settlement; only pending records may change."""
        for line in settlement.accepted:
            self._leave_pending(line, ACCEPTED)
        for line, errors in settlement.quarantined:
            self._leave_pending(line, QUARANTINED)
            self.errors[line] = errors
        for line, record in settlement.fixed:
            if self.state[line] != PENDING:
                raise InvariantBroken(f"line {line} fixed while not pending")
            self.fixed[line] = record
        self.fixes.extend(settlement.fixes)
        self.check()

    def _leave_pending(self, line: int, state: int) -> None:
        if line >= len(self.state) or self.state[line] != PENDING:
            raise InvariantBroken(f"line {line} settled twice or is not a record")
        self.state[line] = state

    def upload_size(self, line: int) -> int:
        """Bytes ``line`` takes in an upload set now: its fixed form when a fix changed it."""
        record = self.fixed.get(line)
        if record is None:
            return self.sizes[line]
        return len(dump_json(record)) + 1

    def counts(self) -> Counts:
        """Current counts, recounted from the per-line states."""
        return Counts(
            self.records,
            self.state.count(ACCEPTED),
            self.state.count(QUARANTINED),
            self.state.count(PENDING),
        )

    def check(self) -> Counts:
        """Raise unless accepted + quarantined + pending = records in the source."""
        counts = self.counts()
        if counts.accepted + counts.quarantined + counts.pending != counts.records:
            raise InvariantBroken(f"accepted + quarantined + pending != records: {counts}")
        return counts

    def pending_lines(self) -> list[int]:
        """Every pending line, in source order."""
        state = self.state
        return [n for n in range(1, len(state)) if state[n] == PENDING]

    def lines_in(self, state: int) -> Iterable[int]:
        """Lines in ``state``, in source order."""
        return (n for n in range(1, len(self.state)) if self.state[n] == state)

    def is_pending(self, line: int) -> bool:
        """True when ``line`` is a record still waiting to be settled."""
        return 0 < line < len(self.state) and self.state[line] == PENDING

    def key_of(self, lines: Sequence[int]) -> list[int]:
        """The objectId keys of ``lines``."""
        keys = self.keys
        return [keys[n] for n in lines]
