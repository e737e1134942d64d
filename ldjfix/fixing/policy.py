"""The one fixing policy of ``ldjfix fix`` and ``ldjfix run`` (README, "One fixing policy").

* A **reported** record (Gong or the local validator named it) goes to :meth:`Fixer.fix`; a
  reported line that is no JSON object goes to :meth:`Fixer.fix_text` with its bytes. The
  record is fixed when the fixer returns a record that differs from it; a fix that changes
  nothing quarantines the record (:data:`UNCHANGED`: Gong would reject it again); a quarantine
  keeps the record's errors and the fixer's reason, each once.
* An **unreported** record goes to :meth:`Fixer.propagate`. It is changed only when that
  returns a different record; a record nobody reported is never quarantined on a guess (a
  propagated fix that fails leaves it as it was, and its own verdict decides).
* A record the person skipped at the terminal is left as it is, to be decided later: ``fix``
  writes it unchanged, ``run`` keeps it pending and sends it again as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ldjfix.fixing.fixer import Fix, Fixer
from ldjfix.gong.status import LineError

UNCHANGED = "the fix left the record unchanged, so Gong would reject it again"


@dataclass(slots=True)  # not frozen: one per record fixed, built 2.5x faster
class Decision:
    """What the policy made of one record: its new content, or why it is quarantined."""

    record: dict[str, Any] | None
    fixes: tuple[Fix, ...] = ()
    reasons: tuple[str, ...] = ()  # quarantined: the errors, then the fixer's reason
    skipped: bool = False
    errors: tuple[str, ...] = ()  # the defects themselves (what the summaries group)

    @property
    def fixed(self) -> bool:
        """True when the record changed."""
        return self.record is not None


def decide_reported(
    fixer: Fixer,
    line: int,
    record: dict[str, Any] | None,
    errors: Sequence[LineError],
    content: bytes | None = None,
) -> Decision:
    """The policy for a reported record (``record`` None: the line's ``content`` is no object)."""
    described = tuple(e.description for e in errors)
    if record is not None:
        outcome = fixer.fix(line, record, errors)
    elif content is not None:
        outcome = fixer.fix_text(line, content, errors)
    else:  # no text to repair (a line seen in an earlier round): it stays as reported
        return Decision(None, (), described, errors=described)
    if outcome.undecided:  # skipped at the terminal: neither fixed nor rejected
        return Decision(None, (), described, skipped=True, errors=described)
    if outcome.record is None:
        reason = outcome.quarantine_reason
        extra = (reason,) if reason and reason != "; ".join(described) else ()
        return Decision(None, (), (*described, *extra), errors=described)
    if record is not None and _same(outcome.record, record):
        return Decision(None, (), (*described, UNCHANGED), errors=described)
    return Decision(outcome.record, outcome.fixes, errors=described)


def decide_unreported(
    fixer: Fixer, line: int, record: dict[str, Any], passed: object = None
) -> Decision | None:
    """The policy for a record nobody reported: a changed record, or None (left as it is).
    ``passed``: the local validator that found nothing in ``record`` (see Fixer.propagate)."""
    outcome = fixer.propagate(line, record, passed)
    if outcome is None or outcome.record is None or _same(outcome.record, record):
        return None
    return Decision(outcome.record, outcome.fixes)


def _same(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """The same record as JSON: ``true`` is not ``1``, though Python says they are equal."""
    if new != old:
        return False
    sort = orjson.OPT_SORT_KEYS
    return orjson.dumps(new, option=sort) == orjson.dumps(old, option=sort)


_REASON_STARTS = ("rule ", "no rule for", UNCHANGED, "the rules left a defect", "quarantined at")


def is_reason(text: str) -> bool:
    """True for a text a fixer or this policy adds to a record's errors (not a defect itself)."""
    return text.startswith(_REASON_STARTS)
