"""The rules fixer: applies a rules file to reported records, and what it learned to the rest.

A fix counts only when the record then passes local validation (when a validator is given):
an action that leaves a defect, or changes nothing, quarantines the record with the reason.
What a rule fixed once is remembered (field, kind, and for dangling references the offending
value), so :meth:`RulesFixer.propagate` applies it to every other record with the same defect
before the next upload.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ldjfix.fixing import conversions as convert
from ldjfix.fixing.actions import CannotApply, Change, apply_action, value_change
from ldjfix.fixing.fixer import Fix, Outcome, defect_of, not_an_object
from ldjfix.fixing.known import KnownFix
from ldjfix.fixing.rules import Rule, Rules, target_field
from ldjfix.gong import descriptions
from ldjfix.gong.descriptions import defect_kind
from ldjfix.gong.status import LineError
from ldjfix.validation.shapes import Failure, Known
from ldjfix.validation.validator import ERROR, Validator

_EMPTY: tuple[Any, ...] = (None, "", [])
_NORMALIZERS = frozenset({"reformat_datetime", "coerce", "map", "replace", "truncate"})
_MAX_PASSES = 4  # fixing one defect may reveal another; each pass handles what is left
_LIMIT = re.compile(r"maximum length of (\d+)")
_PLANS_KEPT = 4096
_BY_VALUE = frozenset({"dangling", "missing", "too_long"})  # what _recognise finds by value


Step = tuple[Rule, str, str]  # the rule, the field it changes, why (for fixes.jsonl)


@dataclass(frozen=True)
class Learned:
    """A defect a rule fixed once: how to recognise it on other records."""

    rule: Rule
    field: str
    kind: str
    description: str
    value: Any
    limit: int | None = None  # a string over this many characters has it (too_long only)
    # for a defect seen by value (dangling, missing, too long): whether a field's value shows it
    seen_in: Callable[[Any], bool] | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RulesFixer:
    """A :class:`~ldjfix.fixing.fixer.Fixer` driven by a rules file."""

    counts_ahead = False

    def __init__(
        self,
        rules: Rules,
        *,
        validator: Validator | None = None,
        now: Callable[[], datetime] = _utc_now,
        shortcuts: bool = True,
    ) -> None:
        self.rules = rules
        self.validator = validator
        self.now = now
        self.shortcuts = shortcuts  # off: every record takes the general path (tests compare)
        self.known: KnownFix | None = None  # the defect a plan fixed last, compiled
        self._compiled: dict[tuple[str, int], KnownFix | None] = {}  # (text, shape) -> its fix
        self.learned: dict[tuple[str, int, str], Learned] = {}
        self._plans: dict[tuple[str, ...], tuple[Step, ...]] = {}  # errors -> rules that fixed them
        self._known: dict[str, bool] = {}  # description -> a rule fixed that defect already
        self._by_value: list[Learned] = []  # learned defects seen by value (dangling, missing,
        # too long): the only ones a record with no local finding can have; and their tests
        self._probes: list[tuple[str, Callable[[Any], bool]]] = []

    def expect(self, errors: Sequence[LineError]) -> None:
        """Nothing to prepare: rules need no counts."""

    def fix_text(self, source_line: int, content: bytes, errors: Sequence[LineError]) -> Outcome:
        """A rule cannot repair text that is no JSON object: quarantine it with its errors."""
        return not_an_object(errors)

    def fix(self, source_line: int, record: dict[str, Any], errors: Sequence[LineError]) -> Outcome:
        """Apply the first matching rule to each error, re-validate, repeat; or quarantine.

        ``record`` is never changed: actions replace top-level values (never change one in
        place), so a shallow copy is the record to work on, not a deep copy per record.
        """
        pending = [e for e in errors if not e.is_general]
        signature = tuple(e.description for e in pending)
        plan = self._plans.get(signature)
        if plan is not None:
            done = self._follow(source_line, record, plan)
            if done is not None:
                return done
        work = dict(record)
        fixes: list[Fix] = []
        tried: set[tuple[str | None, str]] = set()
        steps: list[Step] = []
        for passes in range(_MAX_PASSES):
            for error in pending:
                key = (error.field, error.description)
                if key in tried:
                    return _quarantine(f"the rules left a defect: {error.description}")
                tried.add(key)
                reason = self._apply(source_line, work, error, fixes, steps)
                if reason:
                    return _quarantine(reason)
            pending = self._local_errors(source_line, work)
            if not pending:
                if passes == 0 and len(self._plans) < _PLANS_KEPT:
                    self._plans[signature] = tuple(steps)
                return Outcome(work, tuple(fixes))
        return _quarantine(f"the rules left a defect: {pending[0].description}")

    def fix_known(
        self, source_line: int, record: dict[str, Any], text: str, shape: Known | None
    ) -> Outcome | None:
        """:meth:`fix` for a record reported with the one error ``text``, by the plan that fixed
        it before: ``shape`` (the failure shape that explained the record) lets only the changed
        fields be checked again. None when there is no such plan or it will not do (ask fix())."""
        plan = self._plans.get((text,)) if self.shortcuts else None  # what fix() looks up first
        if plan is None:
            return None
        done = self._follow(source_line, record, plan, shape)
        if done is not None:
            self._compile(text, plan, shape)
        return done

    def _follow(
        self, line: int, record: dict[str, Any], plan: tuple[Step, ...], shape: Known | None = None
    ) -> Outcome | None:
        """Fix ``record`` the way records with the same errors were fixed; None if it will not do.

        Which rule fits an error depends only on its field and text, so the rule matching of a
        defect is decided once: only the action runs per record, then the compiled validator.
        Anything unusual (the action does not fit, changes nothing, a defect is left) falls
        back to the full path, which says why. ``shape`` is the failure shape that explained
        ``record``, when known: then only the changed fields' rules are checked again.
        """
        work = dict(record)
        fixes: list[Fix] = []
        for rule, name, why in plan:
            object_id = work.get("objectId")  # as _apply: after an objectId fix, the new id
            oid = object_id if isinstance(object_id, str) else None
            try:
                changes = apply_action(rule, work, name, self.now)
            except (CannotApply, convert.ConversionError):
                return None
            if not changes:
                return None
            fixes += [Fix(line, oid, f, old, new, why) for f, old, new in changes]
        if not self._passes(work, shape, fixes) and self._local_errors(line, work):
            return None
        return Outcome(work, tuple(fixes))

    def _compile(self, text: str, plan: tuple[Step, ...], shape: Known | None) -> None:
        """Make the plan that just fixed a record failing with ``text`` (explained by
        ``shape``) :attr:`known`, when it is one value change of one field."""
        if shape is None or self.validator is None or self._by_value:
            return  # a defect recognised by value is decided per record: the general path
        key = (text, id(shape[2]))  # a shape's relaxed check lives as long as the shape
        if key not in self._compiled:
            if len(self._compiled) >= _PLANS_KEPT:
                self._compiled.clear()
            self._compiled[key] = self._known_fix(text, plan, shape)
        self.known = self._compiled[key]

    def _known_fix(self, text: str, plan: tuple[Step, ...], shape: Known) -> KnownFix | None:
        if len(plan) != 1 or self.validator is None:
            return None
        rule, name, why = plan[0]
        failing = [(f, t, severity) for f, _, t, severity, _ in shape[1] if t == text]
        if rule.action not in _NORMALIZERS or len(set(failing)) != 1 or failing[0][0] != name:
            return None
        if not self._knows(LineError(0, text)):
            return None  # propagate() would not take this defect for one a rule fixed
        validator = self.validator
        return KnownFix(
            finding=failing[0],
            field=name,
            why=why,
            defect=defect_of(why),
            shape=shape,
            change=value_change(rule),
            validator=validator,
            by_field=validator.decides_by_field(name, shape),
        )

    def propagate(
        self, source_line: int, record: dict[str, Any], passed: object = None
    ) -> Outcome | None:
        """Fix a record nobody reported if it has a defect a rule already fixed elsewhere.

        "The same defect" is one the local validator finds (errors and warnings: a URL in
        ``domains`` is only a warning here but an error at Gong), or one recognised by value:
        the same dangling reference, the same missing field, a string over the same limit.
        """
        if not self.learned:
            return None
        known: tuple[list[Failure], Known | None] | None
        if self.validator is None:
            known = None
        elif passed is self.validator and self.shortcuts:
            known = ([], None)  # what known_shape() says of a record that passes
        else:
            known = self.validator.known_shape(record)
        if self.shortcuts and known is not None and not known[0]:
            # the common case: no local finding, so only a defect seen by value can be there
            get = record.get
            for name, seen_in in self._probes:
                if seen_in(get(name)):
                    break
            else:
                return None  # none of them shows (each one test, as _recognise makes it)
            seen = [self._recognise(source_line, record, learned) for learned in self._by_value]
            found = [error for error in seen if error is not None]
            return self.fix(source_line, record, list(dict.fromkeys(found))) if found else None
        if known is not None and len(known[0]) == 1 and not self._by_value:
            # decided once per failure shape: a record failing in one field the way an earlier
            # one did needs no findings built, only the text of its defect
            text = known[0][0][1]
            if not self._known.get(text, False) and not self._knows(LineError(0, text)):
                return None
            done = self.fix_known(source_line, record, text, known[1])
            return done or self.fix(source_line, record, [LineError(source_line, text)])
        found = [e for e in self._local_findings(source_line, record) if self._knows(e)]
        for learned in self.learned.values():
            error = self._recognise(source_line, record, learned)
            if error is not None:
                found.append(error)
        if not found:
            return None
        return self.fix(source_line, record, list(dict.fromkeys(found)))

    def _apply(
        self,
        line: int,
        work: dict[str, Any],
        error: LineError,
        fixes: list[Fix],
        steps: list[Step],
    ) -> str:
        """Apply the rule for ``error`` to ``work``; return why not, or "" when it worked."""
        rule = self.rules.find(error)
        if rule is None:
            return f"no rule for: {_short(error.description)}"
        if rule.action == "quarantine":
            return f"{rule.label}: quarantine"  # the error itself is listed beside the reason
        name = target_field(rule, error)
        if name is None:
            return f"{rule.label}: the error names no field"
        object_id = work.get("objectId")
        try:
            changes = apply_action(rule, work, name, self.now)
        except (CannotApply, convert.ConversionError) as exc:
            return f"{rule.label}: {exc}"
        if not changes:
            return f"{rule.label} changed nothing"
        why = f"{rule.label}: {rule.action} for: {_short(error.description)}"
        oid = object_id if isinstance(object_id, str) else None
        fixes += [Fix(line, oid, f, old, new, why) for f, old, new in changes]
        steps.append((rule, name, why))
        self._learn(rule, error, name, changes)
        return ""

    def _learn(self, rule: Rule, error: LineError, name: str, changes: list[Change]) -> None:
        kind = defect_kind(error.description)
        old = changes[0][1] if kind == "dangling" else None
        key = (name, rule.number, error.description)
        if key not in self.learned:
            limit = _LIMIT.search(error.description) if kind == "too_long" else None
            learned = Learned(rule, name, kind, error.description, old, limit and int(limit[1]))
            if kind in _BY_VALUE:
                seen_in = _seen_by_value(learned)
                learned = dataclasses.replace(learned, seen_in=seen_in)
                self._by_value.append(learned)
                self._probes.append((name, seen_in))
            self.learned[key] = learned
            self._known.clear()
            if self._by_value:
                self.known = None  # by value, each record is its own case

    def _passes(self, record: dict[str, Any], shape: Known | None, fixes: list[Fix]) -> bool:
        """True when the local validator finds nothing at all in ``record`` after ``fixes``."""
        if self.validator is None:
            return True
        return self.validator.passes_changed(record, shape, (f.field or "" for f in fixes))

    def _local_errors(self, line: int, record: dict[str, Any]) -> list[LineError]:
        if self.validator is None:
            return []
        found = self.validator.check_record(line, record)
        return [f.as_line_error() for f in found if f.severity == ERROR]

    def _local_findings(self, line: int, record: dict[str, Any]) -> list[LineError]:
        if self.validator is None:
            return []
        return [f.as_line_error() for f in self.validator.check_record(line, record)]

    def _knows(self, error: LineError) -> bool:
        known = self._known.get(error.description)
        if known is None:
            kind, name = defect_kind(error.description), error.field
            known = any(lr.field == name and lr.kind == kind for lr in self.learned.values())
            if len(self._known) > _PLANS_KEPT:
                self._known.clear()
            self._known[error.description] = known
        return known

    def _recognise(self, line: int, record: dict[str, Any], learned: Learned) -> LineError | None:
        """The learned defect as an error of ``record``, when its value shows it."""
        value = record.get(learned.field)
        if learned.seen_in is not None:  # dangling, missing, too long: the value shows it
            if not learned.seen_in(value):
                return None
            if learned.kind == "dangling":
                return LineError(line, descriptions.dangling(learned.field, str(value)))
            if learned.kind == "missing":
                return LineError(line, descriptions.mandatory(learned.field))
            return LineError(line, learned.description)
        # without local rules, a normaliser that would change the value is the best sign
        normalises = self.validator is None and learned.rule.action in _NORMALIZERS
        if normalises and _would_change(learned, record, self.now):
            return LineError(line, learned.description)
        return None


def _seen_by_value(learned: Learned) -> Callable[[Any], bool]:
    """Whether a field's value shows ``learned`` (a defect seen by value), compiled once."""
    if learned.kind == "dangling":
        target = learned.value
        return lambda value: target is not None and value == target
    if learned.kind == "missing":
        return lambda value: value in _EMPTY
    limit = learned.limit
    return lambda value: limit is not None and isinstance(value, str) and len(value) > limit


def _would_change(learned: Learned, record: dict[str, Any], now: Callable[[], datetime]) -> bool:
    trial = dict(record)
    try:
        return bool(apply_action(learned.rule, trial, learned.field, now))
    except (CannotApply, convert.ConversionError):
        return False


def _short(description: str) -> str:
    """A description without the explanation the validator adds (the rule is said already)."""
    head, _, _ = description.partition("]: ")
    return f"{head}]" if head != description else description


def _quarantine(reason: str) -> Outcome:
    return Outcome(None, (), reason)
