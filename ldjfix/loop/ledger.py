"""Where every source record stands: pending, accepted or quarantined, and its current content.

One byte per source line keeps this small (a 366k-line file costs 366 kB); records a fix
changed live on disk (:mod:`ldjfix.loop.fixedstore`), the ledger keeps where. Every change
arrives as a :class:`Settlement` (what one round, or the local validation, settled), which
is also what the job folder stores, so a resumed run
rebuilds the same ledger by replaying them. Illegal transitions and a broken invariant
(accepted + quarantined + pending = records) are bugs and raise :class:`InvariantBroken`.
"""

from __future__ import annotations

import itertools
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ldjfix.loop.fixedstore import FixedRecords
from ldjfix.loop.runs import pack, stretch, unpack
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
    """What one round settled: accepted lines, quarantined lines with errors, fixed lines.

    A fixed line's record is the store entry at ``fixed_at`` (same index as in ``fixed``);
    the round wrote those entries between the two offsets of ``fixed_in`` (a settlement read
    back finds them there: ``fixed_at`` is not kept on disk). Their changes are in
    ``fixes.jsonl``, which was ``fixes_end`` bytes long once they were in.
    """

    round: int
    accepted: Sequence[int] = ()
    quarantined: tuple[tuple[int, tuple[str, ...]], ...] = ()
    fixed: Sequence[int] = ()
    fixed_at: Sequence[int] = ()  # empty when read back: the store's entries say
    fixed_in: tuple[int, int] = (0, 0)
    fix_count: int = 0
    fixes_end: int = 0
    expected: dict[str, int] = field(default_factory=dict)  # upload -> failures still unseen
    notes: dict[str, Any] = field(default_factory=dict)  # round summary for the report

    def as_json(self) -> SettlementDoc:
        """The JSON form kept in the job folder."""
        return {
            "round": self.round,
            "accepted": pack(self.accepted),
            "quarantined": [{"line": n, "errors": list(e)} for n, e in self.quarantined],
            "fixed": pack(self.fixed),
            "fixedIn": list(self.fixed_in),
            "fixCount": self.fix_count,
            "fixesEnd": self.fixes_end,
            "expected": self.expected,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, doc: SettlementDoc) -> Settlement:
        """Read back what :meth:`as_json` wrote."""
        return cls(
            round=doc["round"],
            accepted=unpack(doc["accepted"]),
            quarantined=tuple((q["line"], tuple(q["errors"])) for q in doc["quarantined"]),
            fixed=unpack(doc["fixed"]),
            fixed_at=doc.get("fixedAt", ()),  # an older job folder lists them
            fixed_in=(doc["fixedIn"][0], doc["fixedIn"][1]) if "fixedIn" in doc else (0, 0),
            fix_count=doc["fixCount"],
            fixes_end=doc["fixesEnd"],
            expected=dict(doc["expected"]),
            notes=dict(doc["notes"]),
        )


class Unstored(Mapping[int, dict[str, Any]]):
    """Where fixed lines are when no store is attached (a bare ledger): known, not readable."""

    def __init__(self) -> None:
        self.at: dict[int, int] = {}

    def adopt(self, line: int, at: int) -> None:
        """Line ``line`` is fixed (its record at ``at`` of a store nobody attached)."""
        self.at[line] = at

    def adopt_all(self, lines: Sequence[int], ats: Sequence[int]) -> None:
        """:meth:`adopt` for each of ``lines`` and ``ats``."""
        self.at.update(zip(lines, ats, strict=True))

    def __getitem__(self, line: int) -> dict[str, Any]:
        raise KeyError(line)

    def __contains__(self, line: object) -> bool:
        return line in self.at

    def __iter__(self) -> Iterator[int]:
        return iter(self.at)

    def __len__(self) -> int:
        return len(self.at)

    def entries_at(self, lines: Sequence[int], start: int, end: int) -> Sequence[int] | None:
        """Where ``lines``' entries are: unknown without a store (each at 0)."""
        return array("q", bytes(8 * len(lines)))

    def upload_size(self, line: int) -> None:
        """Unknown: the record is in no attached store (a bare ledger sizes it as the source)."""
        return None

    def upload_sizes(self, lines: Sequence[int], sizes: array[int]) -> None:
        """Nothing known to change in ``sizes``: the records are sized as the source."""

    def store_or_none(self) -> None:
        """No store to write fixed records to."""
        return None

    def close(self) -> None:
        """Nothing to close."""


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
        self.fixed: Unstored | FixedRecords = Unstored()  # the job attaches its store
        self.errors: dict[int, tuple[str, ...]] = {}
        self.fix_count = 0
        self.fixes_end = 0
        self.version = 0  # counts the settlements that changed a record's content or dropped one
        self.drafted_at: int | None = None  # the version a draft of corrected.ldjson shows
        # round 0 of this run: 1 for each line whose record, as it is, the local validator
        # ``passed_by`` found nothing in (a fix clears it); empty when not known (resumed)
        self.passed = bytearray()
        self.passed_by: object = None

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
        count = len(lines)
        if stretch(lines) and len(keys) == count:
            # every line of a stretch, in order (the common file): by slices, in C
            first, end = lines[0], lines[-1] + 1
            if self.state.count(NOT_A_RECORD, first, end) != count:
                raise InvariantBroken(f"a line of {first} to {end - 1} counted twice")
            self.state[first:end] = bytes([PENDING]) * count
            self.keys[first:end] = array("I", keys)
            if sizes is not None:
                self.sizes[first:end] = array("I", map(min, sizes, itertools.repeat(_MAX_SIZE)))
            self.records += count
            return
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
        fixed_at: Sequence[int] | None = settlement.fixed_at
        if settlement.fixed and not fixed_at:  # read back: where the round wrote its entries
            fixed_at = self.fixed.entries_at(settlement.fixed, *settlement.fixed_in)
        if fixed_at is None:
            raise InvariantBroken("the fixed records it lists are not in rounds/fixed.jsonl")
        fixed, passed, count = settlement.fixed, self.passed, len(settlement.fixed)
        if len(fixed_at) != count:
            raise InvariantBroken("the fixed records and their entries do not pair up")
        first, end = (fixed[0], fixed[-1] + 1) if count else (0, 0)
        in_file = count and first > 0 and end <= len(self.state)
        if in_file and stretch(fixed) and self.state.count(PENDING, first, end) == count:
            passed[first : min(end, len(passed))] = bytes(max(0, min(end, len(passed)) - first))
        else:  # line by line, to say which line is wrong
            for line in fixed:
                if not 0 < line < len(self.state) or self.state[line] != PENDING:
                    raise InvariantBroken(f"line {line} fixed while not pending")
                if line < len(passed):
                    passed[line] = 0  # its record is another now
        self.fixed.adopt_all(fixed, fixed_at)
        self.version += bool(settlement.fixed or settlement.quarantined)
        self.fix_count += settlement.fix_count
        self.fixes_end = max(self.fixes_end, settlement.fixes_end)
        self.check()

    def _leave_pending(self, line: int, state: int) -> None:
        if line >= len(self.state) or self.state[line] != PENDING:
            raise InvariantBroken(f"line {line} settled twice or is not a record")
        self.state[line] = state

    def upload_size(self, line: int) -> int:
        """Bytes ``line`` takes in an upload set now: its fixed form when a fix changed it."""
        size = self.fixed.upload_size(line)
        return self.sizes[line] if size is None else size

    def upload_sizes(self, lines: Sequence[int]) -> array[int]:
        """:meth:`upload_size` of each of ``lines``, in their order."""
        sizes = array("I", map(self.sizes.__getitem__, lines))
        self.fixed.upload_sizes(lines, sizes)
        return sizes

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
        """Lines in ``state``, in source order (picked in C, not a Python loop per line)."""
        states = itertools.islice(self.state, 1, None)
        return itertools.compress(range(1, len(self.state)), map(state.__eq__, states))

    def pending_of(self, lines: Iterable[int]) -> array[int]:
        """Those of ``lines`` that are records still pending, in their order."""
        lines = lines if isinstance(lines, Sequence) else list(lines)
        if lines and not (min(lines) > 0 and max(lines) < len(self.state)):
            return array("l", filter(self.is_pending, lines))  # a line no record is on
        states = map(self.state.__getitem__, lines)
        return array("l", itertools.compress(lines, map(PENDING.__eq__, states)))

    def is_pending(self, line: int) -> bool:
        """True when ``line`` is a record still waiting to be settled."""
        return 0 < line < len(self.state) and self.state[line] == PENDING

    def key_of(self, lines: Sequence[int]) -> list[int]:
        """The objectId keys of ``lines``."""
        keys = self.keys
        return [keys[n] for n in lines]
