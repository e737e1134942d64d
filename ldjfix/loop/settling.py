"""The fixing path of the loop: from errors (local or Gong's) to a round's :class:`Settlement`.

Local findings and Gong's errors take the same path: each reported record goes to the fixer,
which returns a corrected record or quarantines it. When a reported record was fixed, every
unknown record is offered to :meth:`Fixer.propagate`, so a defect found 20 at a time is fixed
everywhere before the next upload instead of being rediscovered round after round.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ldjfix.fixing.fixer import Fix, Fixer, defect_of
from ldjfix.fixing.known import KnownFix
from ldjfix.fixing.policy import Decision, decide_reported, decide_unreported
from ldjfix.gong.status import LineError, field_named_in
from ldjfix.ldjson.files import open_input
from ldjfix.ldjson.lines import BOM
from ldjfix.ldjson.sources import SourcePath
from ldjfix.loop.fixedstore import FixedRecords
from ldjfix.loop.fixeslog import FixesLog
from ldjfix.loop.ledger import InvariantBroken, Ledger, Settlement
from ldjfix.loop.lineage import Verdict, hold_back_later_duplicates
from ldjfix.loop.runs import ascending, marks
from ldjfix.validation.groups import NO_VALUE, DefectGroups


@dataclass(slots=True)
class KnownStreak:
    """Records fixed one after another by the same known defect: for each, its line, its
    objectId before the fix, the old and new value, and the fixed record serialised."""

    lines: list[int] = field(default_factory=list)
    object_ids: list[Any] = field(default_factory=list)
    olds: list[Any] = field(default_factory=list)
    news: list[Any] = field(default_factory=list)
    contents: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class Decisions:
    """What the fixer decided for a batch of records, accumulated into a settlement.

    A fixed record goes straight to the store and its changes to the fixes log (when the job
    gives them), so deciding on every record of a file holds none of them in memory.
    """

    store: FixedRecords | None = None
    log: FixesLog | None = None
    quarantined: dict[int, tuple[str, ...]] = field(default_factory=dict)
    fixed: array[int] = field(default_factory=lambda: array("q"))
    fixed_at: array[int] = field(default_factory=lambda: array("q"))
    fix_count: int = 0
    groups: DefectGroups = field(default_factory=DefectGroups)  # fixed and quarantined, grouped

    def keep(
        self,
        line: int,
        record: dict[str, Any],
        fixes: Sequence[Fix],
        source_record: dict[str, Any] | None = None,
        *,
        fixes_name_all: bool = False,
    ) -> None:
        """Keep ``record`` as line ``line``'s new content, made by ``fixes``.

        ``fixes_name_all``: no field differs from ``source_record`` but those ``fixes`` name
        (so the store need not compare the others).
        """
        fields = [fix.field for fix in fixes] if fixes_name_all else None
        at = self.store.put(line, record, source_record, fields) if self.store is not None else 0
        self.fixed.append(line)
        self.fixed_at.append(at)
        if self.log is not None:
            self.log.write(fixes)
        self.fix_count += len(fixes)
        for fix in fixes:
            self.groups.add(line, fix.field, defect_of(fix.why), "fixed", fix.old)

    def keep_known(self, known: KnownFix, streak: KnownStreak) -> None:
        """:meth:`keep` for a streak of records, each fixed in place by ``known``: no Fix
        built, the store told the one change of each, one write to each file."""
        lines, news = streak.lines, streak.news
        if self.store is not None:
            starts = self.store.put_sets(lines, known.field, news, streak.contents)
        else:
            starts = array("q", bytes(8 * len(lines)))
        self.fixed.extend(lines)
        self.fixed_at.extend(starts)
        if self.log is not None:
            self.log.write_changes(
                lines, streak.object_ids, known.field, known.why, streak.olds, news
            )
        self.fix_count += len(lines)
        self.groups.adder(known.field, known.defect, "fixed")(lines, streak.olds)

    def take(
        self, line: int, decision: Decision, source_record: dict[str, Any] | None = None
    ) -> bool:
        """Take one decision of the policy; True when the record changed (and stays in the loop).

        A record skipped at the terminal stays pending: it is sent again as it is.
        """
        if decision.skipped:
            return False
        if decision.record is None:
            self.quarantined[line] = decision.reasons
            for text in decision.errors:
                self.groups.add(line, None, text, "quarantined", _value_of(source_record, text))
            return False
        self.keep(line, decision.record, decision.fixes, source_record)
        return True


def _value_of(record: dict[str, Any] | None, text: str) -> Any:
    name = field_named_in(text)
    if record is None or name is None or name not in record:
        return NO_VALUE
    return record[name]


def read_records(
    source: SourcePath, lines: Iterable[int], fixed: Mapping[int, dict[str, Any]]
) -> dict[int, dict[str, Any] | None]:
    """The current content of ``lines`` (a few: the reported ones), by line."""
    return dict(iter_records(source, lines, fixed))


def iter_records(
    source: SourcePath, lines: Iterable[int], fixed: Mapping[int, dict[str, Any]]
) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """The current content of ``lines`` in source order, one at a time (memory stays flat).

    The current content is the fixed record when a fix changed it, else the source line parsed
    (None when it is not a JSON object).
    """
    ordered = lines if isinstance(lines, Sequence) and ascending(lines) else sorted(set(lines))
    wanted = iter(ordered)
    line = next(wanted, 0)
    if not line:
        return
    changed = marks(fixed)  # one byte a line, not a lookup in the store per line
    loads, unreadable = orjson.loads, orjson.JSONDecodeError
    with open_input(source, what="source file") as stream:
        for number, raw in enumerate(stream, 1):  # binary iteration splits on b"\n" only
            if number != line:
                continue
            if line < len(changed) and changed[line]:
                yield line, fixed[line]
            else:  # JSON allows the line's ending after the object, as white space
                try:
                    record = loads(raw.removeprefix(BOM) if number == 1 else raw)
                except unreadable:
                    record = None
                yield line, record if type(record) is dict else None
            line = next(wanted, 0)
            if not line:
                return
    raise InvariantBroken(f"line {line} of the source is missing")


def fix_reported(
    fixer: Fixer,
    reported: Mapping[int, Sequence[LineError]],
    records: Mapping[int, dict[str, Any] | None],
    decisions: Decisions,
    texts: Mapping[int, bytes] | None = None,
) -> int:
    """Offer every reported record to the fixer; returns how many were changed.

    A line that is not a JSON object goes to the fixer's ``fix_text`` with its bytes (a
    person can repair the text in an editor; rules quarantine it).
    """
    if fixer.counts_ahead:  # lets a person at the terminal see how many share a defect
        fixer.expect([e for errors in reported.values() for e in errors])
    return sum(
        fix_one(fixer, line, records.get(line), reported[line], decisions, texts)
        for line in sorted(reported)
    )


def fix_one(
    fixer: Fixer,
    line: int,
    record: dict[str, Any] | None,
    errors: Sequence[LineError],
    decisions: Decisions,
    texts: Mapping[int, bytes] | None = None,
    source_record: dict[str, Any] | None = None,
) -> bool:
    """Offer one reported record (or line of text) to the fixer; True when it was changed."""
    content = texts.get(line) if texts is not None and record is None else None
    decision = decide_reported(fixer, line, record, errors, content)
    if decision.record is None:
        return decisions.take(line, decision, record)  # its values, for the summary's example
    return decisions.take(line, decision, source_record)


def propagate(
    fixer: Fixer,
    records: Iterable[tuple[int, dict[str, Any] | None]],
    decisions: Decisions,
    ledger: Ledger | None = None,
) -> set[int]:
    """Offer every unknown record to :meth:`Fixer.propagate`; returns the lines it changed.
    The ``ledger`` says which records the local validator passed as they are."""
    changed: set[int] = set()
    passed, by = (ledger.passed, ledger.passed_by) if ledger is not None else (b"", None)
    for line, record in records:
        if record is None:
            continue
        vouched = by if line < len(passed) and passed[line] else None
        decision = decide_unreported(fixer, line, record, vouched)
        if decision is not None:
            decisions.take(line, decision)
            changed.add(line)
    return changed


def settle_round(
    round_no: int,
    verdicts: Sequence[Verdict],
    fixer: Fixer,
    source: SourcePath,
    ledger: Ledger,
    decisions: Decisions,
) -> Settlement:
    """Fix what the round's uploads reported, propagate the fixes, and settle the round."""
    reported = {n: e for v in verdicts for n, e in v.failed.items()}
    records = read_records(source, reported, ledger.fixed)
    changed = fix_reported(fixer, reported, records, decisions)
    resent = set(decisions.fixed)
    verdicts = [hold_back_later_duplicates(v, resent, ledger.keys) for v in verdicts]
    unknown = [n for v in verdicts for n in v.unknown]
    spread: set[int] = set()
    if changed and unknown:
        spread = propagate(fixer, iter_records(source, unknown, ledger.fixed), decisions, ledger)
    return round_settlement(round_no, verdicts, decisions, spread)


def round_settlement(
    round_no: int, verdicts: Sequence[Verdict], decisions: Decisions, spread: set[int]
) -> Settlement:
    """Turn a round's mapped statuses and the fixer's decisions into its settlement."""
    parts = [v.accepted for v in verdicts if v.accepted]
    if len(parts) == 1 and ascending(parts[0]):
        accepted: tuple[int, ...] = parts[0]  # one upload's lines, in order: no copy
    else:
        accepted = tuple(sorted(n for part in parts for n in part))
    expected = {
        v.name: max(0, v.unseen_failures - len(spread.intersection(v.unknown)))
        for v in verdicts
        if v.unknown
    }
    uploads = [
        {
            "upload": v.name,
            "status": v.status,
            "records": len(v.accepted) + len(v.unknown) + len(v.failed),
            "listed": len(v.failed) + len(v.unmapped),
            "totalErrorCount": v.total_error_count,
        }
        for v in verdicts
    ]
    notes = {
        "round": round_no,
        "uploads": uploads,
        "accepted": len(accepted),
        "failed": sum(len(v.failed) for v in verdicts),
        "unknown": sum(len(v.unknown) for v in verdicts),
        "fixed": len(decisions.fixed),
        "propagated": len(spread),
        "quarantined": len(decisions.quarantined),
        "unmapped": [
            {"upload": v.name, "line": e.line, "description": e.description}
            for v in verdicts
            for e in v.unmapped
        ],
        "general": [g for v in verdicts for g in v.general],
        "progress": bool(accepted or decisions.quarantined or decisions.fixed),
    }
    return settlement_of(
        round_no, decisions, accepted=tuple(accepted), expected=expected, notes=notes
    )


def settlement_of(
    round_no: int,
    decisions: Decisions,
    *,
    accepted: tuple[int, ...] = (),
    expected: dict[str, int] | None = None,
    notes: dict[str, Any] | None = None,
) -> Settlement:
    """The settlement of ``decisions``, once the store and the log are durable."""
    end = 0
    if decisions.store is not None:
        decisions.store.sync()
        end = decisions.store.end
    # the round's entries follow one another in the store: from the first to the end
    fixed_in = (min(decisions.fixed_at), end) if decisions.fixed else (end, end)
    notes = {**(notes or {}), "defects": decisions.groups.as_json()}
    log_end = decisions.log.sync() if decisions.log is not None else 0
    fixed, fixed_at = _by_line(decisions.fixed, decisions.fixed_at)
    return Settlement(
        round_no,
        accepted,
        tuple(sorted(decisions.quarantined.items())),
        fixed,
        fixed_at,
        fixed_in,
        decisions.fix_count,
        log_end,
        expected or {},
        notes or {},
    )


def _by_line(lines: array[int], ats: array[int]) -> tuple[array[int], array[int]]:
    """``lines`` sorted, with ``ats`` in the same order (already sorted: no copy made)."""
    if ascending(lines):
        return lines, ats
    order = sorted(range(len(lines)), key=lines.__getitem__)
    return array("q", (lines[i] for i in order)), array("q", (ats[i] for i in order))
