"""The rules fixer: applies a rules file to reported records, and what it learned to the rest.

A fix counts only when the record then passes local validation (when a validator is given):
an action that leaves a defect, or changes nothing, quarantines the record with the reason.
What a rule fixed once is remembered (field, kind, and for dangling references the offending
value), so :meth:`RulesFixer.propagate` applies it to every other record with the same defect
before the next upload.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from ldjfix.fixing import conversions as convert
from ldjfix.fixing.fixer import Fix, Outcome
from ldjfix.fixing.rules import Rule, Rules, defect_kind, target_field
from ldjfix.gong import descriptions
from ldjfix.gong.status import LineError
from ldjfix.validation.validator import ERROR, Validator

_EMPTY: tuple[Any, ...] = (None, "", [])
_NORMALIZERS = frozenset({"reformat_datetime", "coerce", "map", "replace", "truncate"})
_MAX_PASSES = 4  # fixing one defect may reveal another; each pass handles what is left
_LIMIT = re.compile(r"maximum length of (\d+)")


class CannotApply(Exception):
    """The action does not fit the value it met."""


@dataclass(frozen=True)
class Learned:
    """A defect a rule fixed once: how to recognise it on other records."""

    rule: Rule
    field: str
    kind: str
    description: str
    value: Any


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RulesFixer:
    """A :class:`~ldjfix.fixing.fixer.Fixer` driven by a rules file."""

    def __init__(
        self,
        rules: Rules,
        *,
        validator: Validator | None = None,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.rules = rules
        self.validator = validator
        self.now = now
        self.learned: dict[tuple[str, int, str], Learned] = {}

    def fix(self, source_line: int, record: dict[str, Any], errors: Sequence[LineError]) -> Outcome:
        """Apply the first matching rule to each error, re-validate, repeat; or quarantine."""
        work = copy.deepcopy(record)
        fixes: list[Fix] = []
        tried: set[tuple[str | None, str]] = set()
        pending = [e for e in errors if not e.is_general]
        for _ in range(_MAX_PASSES):
            for error in pending:
                key = (error.field, error.description)
                if key in tried:
                    return _quarantine(f"the rules left a defect: {error.description}")
                tried.add(key)
                reason = self._apply(source_line, work, error, fixes)
                if reason:
                    return _quarantine(reason)
            pending = self._local_errors(source_line, work)
            if not pending:
                return Outcome(work, tuple(fixes))
        return _quarantine(f"the rules left a defect: {pending[0].description}")

    def propagate(self, source_line: int, record: dict[str, Any]) -> Outcome | None:
        """Fix a record nobody reported if it has a defect a rule already fixed elsewhere.

        "The same defect" is one the local validator finds (errors and warnings: a URL in
        ``domains`` is only a warning here but an error at Gong), or one recognised by value:
        the same dangling reference, the same missing field, a string over the same limit.
        """
        if not self.learned:
            return None
        found = [e for e in self._local_findings(source_line, record) if self._knows(e)]
        for learned in self.learned.values():
            error = self._recognise(source_line, record, learned)
            if error is not None:
                found.append(error)
        if not found:
            return None
        return self.fix(source_line, record, list(dict.fromkeys(found)))

    def _apply(self, line: int, work: dict[str, Any], error: LineError, fixes: list[Fix]) -> str:
        """Apply the rule for ``error`` to ``work``; return why not, or "" when it worked."""
        rule = self.rules.find(error)
        if rule is None:
            return f"no rule for: {error.description}"
        if rule.action == "quarantine":
            return f"{rule.label}: quarantine ({error.description})"
        name = target_field(rule, error)
        if name is None:
            return f"{rule.label}: the error names no field ({error.description})"
        object_id = work.get("objectId")
        try:
            changes = apply_action(rule, work, name, self.now)
        except (CannotApply, convert.ConversionError) as exc:
            return f"{rule.label}: {exc} ({error.description})"
        if not changes:
            return f"{rule.label} changed nothing ({error.description})"
        why = f"{rule.label}: {rule.action} for: {error.description}"
        oid = object_id if isinstance(object_id, str) else None
        fixes += [Fix(line, oid, f, old, new, why) for f, old, new in changes]
        self._learn(rule, error, name, changes)
        return ""

    def _learn(self, rule: Rule, error: LineError, name: str, changes: list[Change]) -> None:
        kind = defect_kind(error.description)
        old = changes[0][1] if kind == "dangling" else None
        key = (name, rule.number, error.description)
        self.learned.setdefault(key, Learned(rule, name, kind, error.description, old))

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
        kind = defect_kind(error.description)
        return any(lr.field == error.field and lr.kind == kind for lr in self.learned.values())

    def _recognise(self, line: int, record: dict[str, Any], learned: Learned) -> LineError | None:
        """The learned defect as an error of ``record``, when its value shows it."""
        value = record.get(learned.field)
        if learned.kind == "dangling":
            hit = learned.value is not None and value == learned.value
            text = descriptions.dangling(learned.field, str(value))
        elif learned.kind == "missing":
            hit, text = value in _EMPTY, descriptions.mandatory(learned.field)
        elif learned.kind == "too_long":
            limit = _LIMIT.search(learned.description)
            hit = bool(limit) and isinstance(value, str) and len(value) > int(limit.group(1))  # type: ignore[union-attr]
            text = learned.description
        elif self.validator is None and learned.rule.action in _NORMALIZERS:
            # Without local rules, a normaliser that would change the value is the best sign.
            hit, text = _would_change(learned, record, self.now), learned.description
        else:
            return None
        return LineError(line, text) if hit else None


def _would_change(learned: Learned, record: dict[str, Any], now: Callable[[], datetime]) -> bool:
    trial = copy.deepcopy(record)
    try:
        return bool(apply_action(learned.rule, trial, learned.field, now))
    except (CannotApply, convert.ConversionError):
        return False


def _quarantine(reason: str) -> Outcome:
    return Outcome(None, (), reason)


Change = tuple[str, Any, Any]  # (field, old, new); None stands for "absent"


def apply_action(
    rule: Rule, record: dict[str, Any], name: str, now: Callable[[], datetime]
) -> list[Change]:
    """Apply ``rule``'s action to ``record[name]`` in place; return the changes made."""
    old = record.get(name)
    opts = rule.options
    if rule.action == "drop":
        return [(name, record.pop(name), None)] if name in record else []
    if rule.action == "rename":
        if name not in record:
            raise CannotApply(f"there is no field {name!r} to rename")
        to = opts["to"]
        before = record.get(to)
        record[to] = record.pop(name)
        return [(name, old, None), (to, before, old)]
    if rule.action == "fill" and old not in _EMPTY:
        return []
    if rule.action in ("set", "fill"):
        new = resolve_value(opts["value"], now)
    else:
        new = _normalize(rule, old)
    if name in record and _same(new, old):
        return []
    record[name] = new
    return [(name, old, new)]


def _same(new: Any, old: Any) -> bool:
    """Equal as JSON: ``True`` and ``1`` are different values in a record (Python says equal)."""
    try:
        return orjson.dumps(new) == orjson.dumps(old)
    except TypeError:
        return bool(new == old)


def resolve_value(value: Any, now: Callable[[], datetime]) -> Any:
    """A rule's value with ``"now"`` (Gong's datetime format) and ``"today"`` filled in."""
    if value == "now":
        return convert.gong_now(now())
    if value == "today":
        return now().astimezone(UTC).date().isoformat()
    if isinstance(value, datetime):  # TOML datetimes
        return convert.to_gong_datetime(value.isoformat())
    if isinstance(value, date):
        return value.isoformat()
    return value


def _normalize(rule: Rule, old: Any) -> Any:
    opts = rule.options
    if old is None and rule.action != "coerce":
        raise CannotApply("the field is missing")
    if rule.action == "truncate":
        if not isinstance(old, str):
            raise CannotApply(f"cannot truncate {old!r}: not a string")
        return old[: opts["length"]]
    if rule.action == "reformat_datetime":
        zone, day_first = opts["timezone"], opts["day_first"]
        if opts["to"] == "date":
            return convert.to_gong_date(old, zone=zone, day_first=day_first)
        return convert.to_gong_datetime(old, zone=zone, day_first=day_first)
    if rule.action == "coerce":
        return _coerce(opts, old)
    if rule.action == "map":
        return _each(old, lambda v: _mapped(opts, v))
    replace: Callable[[str], str] = opts["replace"]
    return _each(old, lambda v: replace(v) if isinstance(v, str) else v)


def _coerce(opts: dict[str, Any] | Any, old: Any) -> Any:
    if opts["to"] == "array":
        separator = opts.get("separator")
        return convert.to_array(old, split=separator.split if separator is not None else None)
    return convert.CONVERTERS[opts["to"]](old)


def _mapped(opts: Any, value: Any) -> Any:
    table: dict[str, Any] = opts["values"]
    if isinstance(value, str):
        if value in table:
            return table[value]
        if opts.get("ignore_case", True):
            folded = {k.casefold(): v for k, v in table.items()}
            if value.casefold() in folded:
                return folded[value.casefold()]
    if value in table.values():
        return value  # already a target value
    raise CannotApply(f"no mapping for {value!r}")


def _each(value: Any, change: Callable[[Any], Any]) -> Any:
    if isinstance(value, list):
        return [change(item) for item in value]
    return change(value)
