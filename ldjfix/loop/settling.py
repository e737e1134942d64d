"""The fixing path of the loop: from errors (local or Gong's) to a round's :class:`Settlement`.

Local findings and Gong's errors take the same path: each reported record goes to the fixer,
which returns a corrected record or quarantines it. When a reported record was fixed, every
unknown record is offered to :meth:`Fixer.propagate`, so a defect found 20 at a time is fixed
everywhere before the next upload instead of being rediscovered round after round.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from ldjfix.fixing.fixer import Fix, Fixer, Outcome
from ldjfix.gong.status import LineError
from ldjfix.ldjson.files import open_input
from ldjfix.ldjson.lines import Line, Shape, scan
from ldjfix.ldjson.sources import SourcePath
from ldjfix.loop.ledger import InvariantBroken, Ledger, Settlement
from ldjfix.loop.lineage import Verdict, hold_back_later_duplicates

UNCHANGED = "the fix left the record unchanged, so Gong would reject it again"


@dataclass(slots=True)
class Decisions:
    """What the fixer decided for a batch of records, accumulated into a settlement."""

    quarantined: dict[int, tuple[str, ...]] = field(default_factory=dict)
    fixed: dict[int, dict[str, Any]] = field(default_factory=dict)
    fixes: list[Fix] = field(default_factory=list)

    def record(
        self, line: int, current: dict[str, Any], outcome: Outcome, errors: Sequence[str]
    ) -> bool:
        """Take one outcome; True when the record was changed (and so stays in the loop)."""
        if outcome.undecided:  # skipped at the terminal: still pending, sent again as it is
            return False
        if outcome.record is None:
            reason = outcome.quarantine_reason
            extra = (reason,) if reason and reason != "; ".join(errors) else ()
            self.quarantined[line] = (*errors, *extra)
            return False
        if outcome.record == current:
            self.quarantined[line] = (*errors, UNCHANGED)
            return False
        self.fixed[line] = outcome.record
        self.fixes.extend(outcome.fixes)
        return True


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
    wanted = sorted(set(lines))
    rest = [n for n in wanted if n not in fixed]
    parsed: Iterator[tuple[int, dict[str, Any] | None]] = iter(())
    with open_input(source, what="source file") as stream:
        if rest:
            parsed = (
                (item.number, _parse(item.content))
                for item in scan(stream, rest, Shape())
                if isinstance(item, Line)
            )
        ahead = next(parsed, None)
        for line in wanted:
            if line in fixed:
                yield line, fixed[line]
                continue
            if ahead is None or ahead[0] != line:
                raise InvariantBroken(f"line {line} of the source is missing")
            yield ahead
            ahead = next(parsed, None)


def _parse(content: bytes) -> dict[str, Any] | None:
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def fix_reported(
    fixer: Fixer,
    reported: Mapping[int, Sequence[LineError]],
    records: Mapping[int, dict[str, Any] | None],
    decisions: Decisions,
    texts: Mapping[int, bytes] | None = None,
) -> int:
    """Offer every reported record to the fixer; returns how many were changed.

    A line that is not a JSON object goes to the fixer's ``fix_text`` when it has one (a
    person can repair the text in an editor); otherwise it is quarantined with its defect.
    """
    changed = 0
    expect = getattr(fixer, "expect", None)
    if expect is not None:  # lets a person at the terminal see how many share a defect
        expect([e for errors in reported.values() for e in errors])
    fix_text = getattr(fixer, "fix_text", None)
    for line in sorted(reported):
        errors = reported[line]
        described = [e.description for e in errors]
        record = records.get(line)
        if record is not None:
            outcome = fixer.fix(line, dict(record), errors)
        elif fix_text is not None and texts is not None and line in texts:
            outcome = fix_text(line, texts[line], errors)
            record = {}
        else:  # not a JSON object, and no way to edit text: quarantine it
            decisions.quarantined[line] = tuple(described)
            continue
        changed += decisions.record(line, record, outcome, described)
    return changed


def propagate(
    fixer: Fixer, records: Iterable[tuple[int, dict[str, Any] | None]], decisions: Decisions
) -> set[int]:
    """Offer every unknown record to :meth:`Fixer.propagate`; returns the lines it changed."""
    changed: set[int] = set()
    for line, record in records:
        if record is None:
            continue
        outcome = fixer.propagate(line, dict(record))
        if outcome is None or outcome.record == record:
            continue
        if outcome.record is None:
            decisions.quarantined[line] = (outcome.quarantine_reason or "quarantined by a rule",)
        else:
            decisions.fixed[line] = outcome.record
            decisions.fixes.extend(outcome.fixes)
        changed.add(line)
    return changed


def settle_round(
    round_no: int, verdicts: Sequence[Verdict], fixer: Fixer, source: SourcePath, ledger: Ledger
) -> Settlement:
    """Fix what the round's uploads reported, propagate the fixes, and settle the round."""
    reported = {n: e for v in verdicts for n, e in v.failed.items()}
    decisions = Decisions()
    records = read_records(source, reported, ledger.fixed)
    changed = fix_reported(fixer, reported, records, decisions)
    verdicts = [hold_back_later_duplicates(v, decisions.fixed, ledger.keys) for v in verdicts]
    unknown = [n for v in verdicts for n in v.unknown]
    spread: set[int] = set()
    if changed and unknown:
        spread = propagate(fixer, iter_records(source, unknown, ledger.fixed), decisions)
    return round_settlement(round_no, verdicts, decisions, spread)


def round_settlement(
    round_no: int, verdicts: Sequence[Verdict], decisions: Decisions, spread: set[int]
) -> Settlement:
    """Turn a round's mapped statuses and the fixer's decisions into its settlement."""
    accepted = sorted(n for v in verdicts for n in v.accepted)
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
    return Settlement(
        round_no,
        tuple(accepted),
        tuple(sorted(decisions.quarantined.items())),
        tuple(sorted(decisions.fixed.items())),
        tuple(decisions.fixes),
        expected,
        notes,
    )
