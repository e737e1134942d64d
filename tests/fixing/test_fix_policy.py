"""Tests of the one fixing policy shared by ``fix`` and ``run``."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ldjfix.fixing.fixer import Fix, Outcome, QuarantineFixer
from ldjfix.fixing.known import KnownFix
from ldjfix.fixing.policy import UNCHANGED, decide_reported, decide_unreported, is_reason
from ldjfix.gong.status import LineError

ERR = LineError(1, "Invalid value for field [status]: expected one of WON, LOST, OPEN")


class _Fixed:
    """A fixer that returns a given record from fix() and from propagate()."""

    counts_ahead = False
    known: KnownFix | None = None

    def __init__(self, record: dict[str, Any] | None) -> None:
        self.record = record

    def expect(self, errors: Sequence[LineError]) -> None:
        """Nothing to prepare."""

    def fix(self, source_line: int, record: dict[str, Any], errors: Sequence[LineError]) -> Outcome:
        """The given record, or a quarantine."""
        if self.record is None:
            return Outcome(None, (), "rule 1 (field 'status'): quarantine")
        return Outcome(self.record, (Fix(source_line, None, "status", 1, 2, "why"),))

    def fix_text(self, source_line: int, content: bytes, errors: Sequence[LineError]) -> Outcome:
        """Never repairs text."""
        return Outcome(None, (), "no")

    def propagate(
        self, source_line: int, record: dict[str, Any], passed: object = None
    ) -> Outcome | None:
        """Same as fix."""
        return self.fix(source_line, record, [])

    def fix_known(self, source_line: int, record: dict[str, Any], text: str, shape: Any) -> None:
        """No shortcut."""


def test_fix_policy_a_fix_that_changes_nothing_quarantines() -> None:
    """Returning the record unchanged is not a fix: Gong would reject it again."""
    decision = decide_reported(_Fixed({"status": "Won"}), 1, {"status": "Won"}, [ERR])
    assert decision.record is None
    assert decision.reasons == (ERR.description, UNCHANGED)


def test_fix_policy_quarantine_keeps_the_error_and_the_rule_once() -> None:
    """A quarantined record keeps its errors and the fixer's reason, each once."""
    decision = decide_reported(_Fixed(None), 1, {"status": "Won"}, [ERR])
    assert decision.reasons == (ERR.description, "rule 1 (field 'status'): quarantine")
    assert decision.errors == (ERR.description,) and is_reason(decision.reasons[1])
    plain = decide_reported(QuarantineFixer(), 1, None, [ERR], b"{broken")
    assert plain.reasons == (ERR.description,)


def test_fix_policy_propagation_never_quarantines_on_a_guess() -> None:
    """A record nobody reported stays as it is when propagating a fix fails or does nothing."""
    assert decide_unreported(_Fixed(None), 5, {"status": "Won"}) is None
    assert decide_unreported(_Fixed({"status": "Won"}), 5, {"status": "Won"}) is None
    changed = decide_unreported(_Fixed({"status": "WON"}), 5, {"status": "Won"})
    assert changed is not None and changed.record == {"status": "WON"}


def test_fix_policy_no_getattr_probes_of_fixers() -> None:
    """fix and run call fixers only through the Fixer protocol, never by getattr."""
    package = Path(__file__).parents[2] / "ldjfix"
    for name in ("fixing/fix_file.py", "fixing/policy.py", "loop/settling.py", "loop/rounds.py"):
        tree = ast.parse((package / name).read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        assert not [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "getattr"], (
            name
        )
