"""Round 0 of a job: one pass over the source that counts its records and validates them.

Every non-blank line is a source record (a line that is not a JSON object is a record too: it
is quarantined with its defect, never dropped silently). On a new job the local validator
checks each record and its errors go through the fixing path like Gong's, so most defects
never reach Gong; on a resumed job the pass only rebuilds the ledger's record list.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson

from ldjfix.errors import InputProblem
from ldjfix.fixing.fixer import Fixer
from ldjfix.fixing.known import CLEAN, MISS, KnownFix
from ldjfix.gong import descriptions
from ldjfix.gong.status import LineError
from ldjfix.ldjson.files import atomic_output, open_input
from ldjfix.ldjson.lines import BOM, Parsed, make_line, parse_line
from ldjfix.ldjson.origin import ORIGIN_KEY
from ldjfix.ldjson.serial import dump_json
from ldjfix.ldjson.sources import SourcePath
from ldjfix.loop.fixedstore import FixedRecords
from ldjfix.loop.fixeslog import FixesLog
from ldjfix.loop.ledger import InvariantBroken, Ledger, Settlement, object_key
from ldjfix.loop.lineage import DraftOut, SetFacts
from ldjfix.loop.settling import Decisions, KnownStreak, fix_one, settlement_of
from ldjfix.validation.findings import ERROR
from ldjfix.validation.shapes import Known
from ldjfix.validation.validator import Validator


class Checker(Protocol):
    """The local validator (``ldjfix.validation.validator.Validator``): findings for a line."""

    def check(self, parsed: Parsed) -> list[Any]:
        """Findings for ``parsed`` (each with ``severity`` and ``as_line_error()``)."""
        ...


OnBad = Callable[[int, "dict[str, Any] | None", list[LineError], bytes], None]
# a record failing in one field the way an earlier one did (line, record, its error's text, the
# failure shape): True when it was settled there and then, False to take the general path
OnKnown = Callable[[int, "dict[str, Any]", str, "Known | None"], bool]
# a record, before the validator sees it: CLEAN (no defect), MISS (ask the validator), or
# anything else when it was settled there and then (fixed by the fixer's known defect)
OnRecord = Callable[[int, "dict[str, Any]"], object]
# a line decided: its number, its bytes with the ending, and the ending's length (2: \r\n)
OnLine = Callable[[int, bytes, int], None]


@dataclass(slots=True)
class Survey:
    """The ledger of a source, where each of its lines starts, and how many had local errors."""

    ledger: Ledger
    offsets: array[int] = field(default_factory=lambda: array("q", [0]))
    reported: int = 0
    drafted: SetFacts | None = None  # the draft round 0 wrote, when it is an upload set as it is


def survey(
    source: SourcePath,
    checker: Checker | None,
    *,
    validate: bool,
    on_bad: OnBad | None = None,
    offsets: array[int] | None = None,
    on_known: OnKnown | None = None,
    on_record: OnRecord | None = None,
    on_line: OnLine | None = None,
) -> Survey:
    """Walk the source once: its records, and with ``validate`` every local error.

    Each line with errors goes to ``on_bad`` (line, record or None, errors, content) as it is
    found, so the caller can fix it there and then: nothing is held per bad line. A record is
    offered to ``on_record`` first, then (with one error of a known failure shape) to
    ``on_known``, no errors built. ``on_line`` sees each line once it is decided.
    """
    numbers = array("l")
    keys = array("I")
    sizes = array("I")
    found = Survey(Ledger(0))
    if offsets is not None:
        found.offsets = offsets
    offsets = found.offsets
    at = 0
    number = 0
    bom = len(BOM) if _has_bom(source) else 0  # line 1's BOM is not content, but takes bytes
    if not validate:
        on_record = None
    # a record with no finding at all needs nothing built for the checker (one compiled check)
    passes = checker.passes if validate and isinstance(checker, Validator) else None
    passed = bytearray(1)  # per line: the checker passed its record as read (line 0: none)
    loads, decode_error, origin = orjson.loads, orjson.JSONDecodeError, ORIGIN_KEY
    with open_input(source, what="source file") as stream:
        for number, raw in enumerate(stream, 1):  # binary iteration splits on b"\n" only
            offsets.append(at)
            at += len(raw)
            if number == 1 and bom:
                raw = raw[bom:]
            ending = (raw[-1:] == b"\n") + (raw[-2:] == b"\r\n")  # 2 for \r\n, 1 for \n, 0: none
            try:  # a record is the common line: one parse, no Line or Parsed object built
                record = loads(raw)  # (JSON allows the ending after it, as white space)
            except decode_error:
                record = None
            if type(record) is not dict:
                record = None
                parsed = parse_line(make_line(number, raw))  # blank or a defect: says which
                if parsed.defect is None:
                    passed.append(False)
                    if on_line is not None:
                        on_line(number, raw, ending)
                    continue  # a blank line: it keeps its number but holds no record
            numbers.append(number)
            object_id = None if record is None else record.get("objectId")
            keys.append(object_key(object_id if type(object_id) is str else None))
            size = len(raw) + 1 - ending  # in an upload set its ending is \n
            sizes.append(size if size < 2**32 else 2**32 - 1)
            if record is not None and origin in record:
                raise InputProblem(
                    f"{source} line {number} still carries extract bookkeeping ({origin}).",
                    hint="Merge the edited records back with `ldjfix merge` first.",
                )
            done = MISS if on_record is None or record is None else on_record(number, record)
            clean = False
            if done is not MISS:
                found.reported += done is not CLEAN
            elif passes is not None and record is not None and passes(record):
                clean = True  # no finding at all: nothing to build for the checker
            elif validate:
                if record is not None:
                    parsed = Parsed(make_line(number, raw), record, None)
                errors = _errors(parsed, checker, on_known)
                if errors is None:  # settled by on_known
                    found.reported += 1
                elif errors:
                    found.reported += 1
                    if on_bad is not None:
                        on_bad(number, record, errors, parsed.line.content)
            passed.append(clean)
            if on_line is not None:
                on_line(number, raw, ending)
    found.ledger = Ledger(number)
    found.ledger.add_records(numbers, keys, sizes)
    if validate and checker is not None:
        found.ledger.passed, found.ledger.passed_by = passed, checker
    return found


_ENDINGS = (b"", b"\n", b"\r\n")  # by their length


def _has_bom(source: SourcePath) -> bool:
    with open_input(source, what="source file") as stream:
        return stream.read(len(BOM)) == BOM


def _errors(
    parsed: Parsed, checker: Checker | None, on_known: OnKnown | None
) -> list[LineError] | None:
    """The record's local errors; None when ``on_known`` settled it (it had one)."""
    if parsed.defect is not None:
        return [LineError(parsed.line.number, descriptions.unparsable(parsed.defect))]
    if checker is None:
        return []
    if isinstance(checker, Validator) and parsed.record is not None:
        # a record failing in one field the way an earlier one did: its text, no findings built
        known = checker.known_shape(parsed.record)
        if known is not None and len(known[0]) <= 1:
            failures, line = known[0], parsed.line.number
            error = failures[0][1] if failures and failures[0][2] == ERROR else None
            if error and on_known is not None and on_known(line, parsed.record, error, known[1]):
                return None
            return [LineError(line, text) for _, text, severity in failures if severity == ERROR]
    return [f.as_line_error() for f in checker.check(parsed) if f.severity == ERROR]


def local_notes(findings: int, fixed: int, quarantined: int) -> dict[str, Any]:
    """Round 0's notes for the report: what the fixer made of the local findings."""
    return {"round": 0, "findings": findings, "fixed": fixed, "quarantined": quarantined}


def local_round(
    source: SourcePath,
    checker: Checker | None,
    fixer: Fixer,
    store_path: Path,
    log: FixesLog,
    draft: Path | None = None,
) -> tuple[Survey, FixedRecords, Settlement]:
    """Round 0: validate the source and fix each record with errors as the pass meets it.

    The fixed record goes to the store, its changes to fixes.jsonl, so a file bad everywhere
    is never in memory. A fixer that wants every error first (a person: "6 records have this
    defect") gets them from a first pass that only counts. With ``draft``, the same pass
    writes corrected.ldjson as round 0 leaves it (each line as decided: fixed, copied, or left
    out when quarantined), so round 1 copies its upload sets from it, rebuilding no record.
    """
    if fixer.counts_ahead:
        seen: list[LineError] = []
        survey(source, checker, validate=True, on_bad=lambda n, r, e, c: seen.extend(e))
        fixer.expect(seen)
    offsets = array("q", [0])
    store_path.unlink(missing_ok=True)  # a new job: nothing is fixed yet
    log.cut(0)
    store = FixedRecords(source, store_path, offsets)
    decisions = Decisions(store=store, log=log)

    with contextlib.ExitStack() as stack:
        drafted = None if draft is None else stack.enter_context(atomic_output(draft))
        deciding = _Deciding(fixer, checker, decisions, drafted)
        if deciding.out is not None and _has_bom(source):
            deciding.out.write_bom()  # not part of line 1's content, but of the file
        found = survey(
            source,
            checker,
            validate=True,
            on_bad=deciding.bad,
            offsets=offsets,
            on_known=deciding.by_plan,
            on_record=deciding.by_known,
            on_line=deciding.line,
        )
        deciding.flush()
    found.drafted = None if deciding.out is None else deciding.out.as_upload_set()
    notes = local_notes(found.reported, len(decisions.fixed), len(decisions.quarantined))
    return found, store, settlement_of(0, decisions, notes=notes)


_WRITE_AT = 64  # lines of a streak (or of the draft) held before they are written


class _Deciding:
    """How round 0 decides each record, and drafts each line as decided.

    A record with the defect the fixer fixed last (:attr:`Fixer.known`) is fixed in place, as
    ``checker`` and the plan would fix it, and joins a streak of such records; the streak is
    written (store, fixes.jsonl, summary counts) in one go before anything else is decided,
    so every file gets the bytes, in the order, that deciding one record at a time gives.
    """

    def __init__(
        self, fixer: Fixer, checker: Checker | None, decisions: Decisions, draft: BinaryIO | None
    ) -> None:
        self.fixer, self.checker, self.decisions = fixer, checker, decisions
        self.known: KnownFix | None = None  # the streak's
        self.streak = KnownStreak()
        self.out = None if draft is None else DraftOut(draft)  # the draft, its lines held
        self.fixed, self.quarantined = decisions.fixed, decisions.quarantined  # (looked up a line)

    def by_known(self, line: int, record: dict[str, Any]) -> object:
        """Fix ``record`` by the known defect into the streak; CLEAN for a record with no
        defect; MISS for everything else (the general path)."""
        known = self.fixer.known
        if known is None or known.validator is not self.checker or known.finding[2] != ERROR:
            return MISS  # another validator's shapes, or a warning (no local error)
        object_id = record.get("objectId")  # the id before the fix, as the general path logs
        old = known.apply(record)
        if old is MISS or old is CLEAN:
            return old
        if known is not self.known:
            self.flush()
            self.known = known
        streak = self.streak
        streak.lines.append(line)
        streak.object_ids.append(object_id)
        streak.olds.append(old)
        streak.news.append(record[known.field])
        streak.contents.append(dump_json(record))  # the same bytes a rebuild gives
        return old

    def by_plan(self, line: int, record: dict[str, Any], text: str, shape: Known | None) -> bool:
        """Settle a reported record the way :func:`fix_one` would, when the fixer's plan fixes
        it: the shortcut of the one policy for its common case (a reported record the fixer
        changed is kept with its fixes). Anything else (no plan, the plan will not do, nothing
        changed) goes the general path, which decides it and says why."""
        self.flush()
        outcome = self.fixer.fix_known(line, record, text, shape)
        if outcome is None or outcome.record is None or outcome.record == record:
            return False
        # a plan's actions name every field they change (actions.apply_action)
        self.decisions.keep(line, outcome.record, outcome.fixes, record, fixes_name_all=True)
        return True

    def bad(
        self, line: int, record: dict[str, Any] | None, errors: list[LineError], text: bytes
    ) -> None:
        """The general path: the one policy decides the record with ``errors``."""
        self.flush()
        texts = {line: text} if record is None else None
        fix_one(self.fixer, line, record, errors, self.decisions, texts, record)

    def line(self, number: int, raw: bytes, ending: int) -> None:
        """Draft line ``number`` as decided: fixed, copied, or left out when quarantined."""
        streak, out = self.streak, self.out
        if streak.lines and streak.lines[-1] == number:  # by_known just took it
            if out is not None:
                out.held.append(streak.contents[-1] + _ENDINGS[ending])  # one item a line
            if len(streak.lines) >= _WRITE_AT:
                self.flush()
            return
        if out is None:
            return
        fixed = self.fixed  # the general path flushed the streak: its line is last
        if fixed and fixed[-1] == number:
            store = self.decisions.store
            done, content = (0, b"") if store is None else store.last_set
            if done != number:
                raise InvariantBroken(f"line {number} was fixed, but not last put in the store")
            out.held.append(content + _ENDINGS[ending])
        elif number not in self.quarantined:
            out.held.append(raw)
        if len(out.held) >= _WRITE_AT:
            out.flush()

    def flush(self) -> None:
        """Write the streak (and the draft's lines held so far)."""
        if self.streak.lines:
            assert self.known is not None
            self.decisions.keep_known(self.known, self.streak)
            self.streak = KnownStreak()
        if self.out is not None:
            self.out.flush()
