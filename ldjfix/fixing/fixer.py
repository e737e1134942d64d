"""The fixing seam: what a fixer gets (a record and its errors) and gives back.

The correction loop and ``ldjfix fix`` talk to fixers only through :class:`Fixer`. A fixer
either returns a corrected record with the changes it made, or quarantines the record with a
reason. :class:`QuarantineFixer` is the fixer when nothing else is configured: every reported
record goes to the rejected file with its errors, none is lost.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from ldjfix.gong.status import LineError

if TYPE_CHECKING:
    from ldjfix.fixing.known import KnownFix
    from ldjfix.validation.shapes import Known


class FixDoc(TypedDict):
    """One change in full, as ``fixes.jsonl``'s first format wrote it (and progress files do)."""

    line: int
    objectId: str | None
    field: str | None
    old: Any
    new: Any
    why: str


@dataclass(slots=True)  # not frozen: one per record fixed, built 2.5x faster
class Fix:
    """One change to one record: a line of ``fixes.jsonl`` (:mod:`~ldjfix.fixing.fixlog`)."""

    source_line: int
    object_id: str | None
    field: str | None
    old: Any
    new: Any
    why: str

    def as_json(self) -> FixDoc:
        """This change in full, every field named (fixes.jsonl writes it shorter: fixlog)."""
        return {
            "line": self.source_line,
            "objectId": self.object_id,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "why": self.why,
        }


@dataclass(slots=True)  # not frozen: one per record fixed, built 2.5x faster
class Outcome:
    """What a fixer decided for one record: ``record`` is None when it is quarantined."""

    record: dict[str, Any] | None
    fixes: tuple[Fix, ...] = ()
    quarantine_reason: str | None = None
    undecided: bool = False  # skipped at the terminal: left as it is, neither fixed nor rejected

    @property
    def quarantined(self) -> bool:
        """True when the record goes to the rejected file."""
        return self.record is None and not self.undecided


class Fixer(Protocol):
    """Decides, record by record, how to fix reported defects.

    ``ldjfix fix`` and ``run`` drive every fixer the same way (the policy in the README,
    "One fixing policy"): :meth:`expect` first when ``counts_ahead`` says the fixer wants every
    error before the first record, then :meth:`fix` per reported record (:meth:`fix_text` for a
    line that is no JSON object), then :meth:`propagate` per record nobody reported.

    Two shortcuts serve a file bad everywhere the same way: :meth:`fix_known` for a record
    with one error of a failure shape the validator knew, and :attr:`known`, the defect the
    fixer settled last that way, compiled to one check and change per record. Each is the
    fixer's own answer for the records it fits; a fixer without them gives None.
    """

    counts_ahead: bool  # True: call expect() with every error before the first fix()
    known: KnownFix | None  # the defect last fixed by a plan, compiled (None: take the paths)

    def expect(self, errors: Sequence[LineError]) -> None:
        """Every error the fixer is about to see (only when ``counts_ahead``)."""
        ...

    def fix(self, source_line: int, record: dict[str, Any], errors: Sequence[LineError]) -> Outcome:
        """Fix ``record`` (from ``source_line``) for ``errors``, or quarantine it."""
        ...

    def fix_text(self, source_line: int, content: bytes, errors: Sequence[LineError]) -> Outcome:
        """Repair a line that holds no JSON object (``content`` its bytes), or quarantine it."""
        ...

    def propagate(
        self, source_line: int, record: dict[str, Any], passed: object = None
    ) -> Outcome | None:
        """Apply fixes learned so far to a record nobody reported; None when none applies.

        ``passed``: the local validator that found nothing at all in ``record`` (as it is),
        when the caller knows; a fixer checking with the same validator need not ask again."""
        ...

    def fix_known(
        self, source_line: int, record: dict[str, Any], text: str, shape: Known | None
    ) -> Outcome | None:
        """:meth:`fix` for a record whose one error is ``text``, of failure ``shape``, when the
        fixer has a plan for it; None to ask :meth:`fix`."""
        ...


def not_an_object(errors: Sequence[LineError]) -> Outcome:
    """A line that is no JSON object, quarantined with its errors: what rules can do with it."""
    return Outcome(None, (), "; ".join(e.description for e in errors) or "not a JSON object")


class QuarantineFixer:
    """The fixer with no rules: every reported record is quarantined with its errors."""

    counts_ahead = False
    known: KnownFix | None = None

    def expect(self, errors: Sequence[LineError]) -> None:
        """Nothing to prepare."""

    def fix_text(self, source_line: int, content: bytes, errors: Sequence[LineError]) -> Outcome:
        """Quarantine the line with its errors."""
        return not_an_object(errors)

    def fix(self, source_line: int, record: dict[str, Any], errors: Sequence[LineError]) -> Outcome:
        """Quarantine the record, giving its errors as the reason."""
        reason = "; ".join(e.description for e in errors) or "rejected"
        return Outcome(None, (), reason)

    def propagate(
        self, source_line: int, record: dict[str, Any], passed: object = None
    ) -> Outcome | None:
        """Nothing was learned, so nothing applies."""
        return None

    def fix_known(
        self, source_line: int, record: dict[str, Any], text: str, shape: Known | None
    ) -> Outcome | None:
        """No plans: :meth:`fix` quarantines."""
        return None


@functools.lru_cache(maxsize=1024)
def defect_of(why: str) -> str:
    """The defect a fix's reason names (``rule 2 (...): reformat_datetime for: <defect>``).

    Cached: a rule applied to every record gives one reason, so the summaries' grouping sees
    the same string object each time and finds its group at once.
    """
    return why.split(" for: ", 1)[-1]
