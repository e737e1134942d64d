"""The rules file (TOML): which defect gets which fix (README "Rules files").

A rules file is a list of ``[[rule]]`` tables. Each picks defects by ``field`` and ``kind``
(missing, invalid, too_long, dangling, duplicate, unparsable, any) and/or a regular expression
``pattern`` searched in Gong's description, and names one ``action``. The first rule that
matches a defect wins. Every problem with the file is reported as one :class:`InputProblem`
naming the file, the rule and what is wrong (exit 3).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ldjfix.errors import InputProblem
from ldjfix.fixing.patterns import PatternError, UserPattern, compile_pattern
from ldjfix.gong.descriptions import defect_kind
from ldjfix.gong.status import LineError, field_named_in
from ldjfix.ldjson.files import read_input

KINDS = ("missing", "invalid", "too_long", "dangling", "duplicate", "unparsable", "any")
# action -> (required options, optional options)
ACTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "set": (frozenset({"value"}), frozenset()),
    "fill": (frozenset({"value"}), frozenset()),
    "drop": (frozenset(), frozenset()),
    "rename": (frozenset({"to"}), frozenset()),
    "truncate": (frozenset({"length"}), frozenset()),
    "reformat_datetime": (frozenset(), frozenset({"to", "timezone", "day_first"})),
    "coerce": (frozenset({"to"}), frozenset({"separator"})),
    "map": (frozenset({"values"}), frozenset({"ignore_case"})),
    "replace": (frozenset({"regex"}), frozenset({"with"})),
    "quarantine": (frozenset(), frozenset()),
}
COERCE_TARGETS = ("number", "integer", "boolean", "string", "array")
_SELECTORS = frozenset({"field", "kind", "pattern", "action", "note"})


@dataclass(frozen=True)
class Rule:
    """One ``[[rule]]`` of a rules file."""

    number: int
    field: str | None
    kind: str
    pattern: UserPattern | None
    action: str
    options: Mapping[str, Any]

    @property
    def label(self) -> str:
        """How messages name this rule, e.g. ``rule 3 (field 'closeDate')``."""
        what = f"field {self.field!r}" if self.field else f"pattern {self.pattern.pattern!r}"  # type: ignore[union-attr]
        return f"rule {self.number} ({what})"

    def matches(self, error: LineError) -> bool:
        """True when this rule is about ``error``."""
        if self.field is not None and self.field != error.field:
            return False
        if self.kind != "any" and self.kind != defect_kind(error.description):
            return False
        return self.pattern is None or self.pattern.search(error.description)


@dataclass(frozen=True)
class Rules:
    """A parsed rules file: the rules in order, and where they came from."""

    rules: tuple[Rule, ...]
    source: str = "rules"

    def find(self, error: LineError) -> Rule | None:
        """The first rule about ``error``, or None."""
        return next((rule for rule in self.rules if rule.matches(error)), None)


def load_rules(path: str | Path) -> Rules:
    """Read and check a rules file; any problem is an InputProblem naming the rule."""
    source = str(path)
    data = read_input(path, what="rules file")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputProblem(f"{source} is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputProblem(f"{source} is not valid TOML: {exc}.", hint=_HINT) from None
    return parse_rules(doc, source=source)


_HINT = 'See "Rules files" in the README; each rule is a [[rule]] table.'


def parse_rules(doc: Mapping[str, Any], *, source: str = "rules") -> Rules:
    """Check an already-parsed rules document."""
    extra = sorted(set(doc) - {"rule"})
    if extra:
        raise InputProblem(f"{source}: unknown top-level key {extra[0]!r}.", hint=_HINT)
    items = doc.get("rule", [])
    if not isinstance(items, list):
        raise InputProblem(f"{source}: 'rule' must be a list of [[rule]] tables.", hint=_HINT)
    return Rules(tuple(_rule(item, n, source) for n, item in enumerate(items, 1)), source)


def _rule(item: Any, number: int, source: str) -> Rule:
    where = f"{source} rule {number}"
    if not isinstance(item, dict):
        raise InputProblem(f"{where}: not a table.", hint=_HINT)
    name = item.get("field")
    if name is not None:
        where += f" (field {name!r})"
        if not isinstance(name, str) or not name:
            raise InputProblem(f"{where}: 'field' must be a non-empty string.")

    def fail(problem: str, hint: str | None = None) -> InputProblem:
        return InputProblem(f"{where}: {problem}", hint=hint)

    action = item.get("action")
    if not isinstance(action, str) or action not in ACTIONS:  # a table or array is unhashable
        raise fail(
            f"unknown action {action!r}." if action else "no 'action'.",
            hint=f"Actions: {', '.join(ACTIONS)}.",
        )
    kind = item.get("kind", "any")
    if kind not in KINDS:
        raise fail(f"unknown kind {kind!r}.", hint=f"Kinds: {', '.join(KINDS)}.")
    pattern = _compile(item.get("pattern"), "pattern", fail)
    if name is None and pattern is None:
        raise fail("give 'field' and/or 'pattern' to say which defects the rule is for.")
    required, optional = ACTIONS[action]
    options = {k: v for k, v in item.items() if k not in _SELECTORS}
    unknown = sorted(set(options) - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional)) or "none"
        raise fail(f"unknown option {unknown[0]!r} for action {action!r} (allowed: {allowed}).")
    missing = sorted(required - set(options))
    if missing:
        raise fail(f"action {action!r} needs {missing[0]!r}.")
    _check_options(action, options, fail)
    return Rule(number, name, kind, pattern, action, options)


def _compile(value: Any, key: str, fail: Any) -> UserPattern | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(f"{key!r} must be a string (a regular expression).")
    try:
        return compile_pattern(value)
    except PatternError as exc:
        raise fail(
            f"{key!r} is not a valid regular expression (RE2 syntax, run in linear time): {exc}."
        ) from None


def _check_options(action: str, options: dict[str, Any], fail: Any) -> None:
    if action == "rename" and (not isinstance(options["to"], str) or not options["to"]):
        raise fail("'to' must be the new field name.")
    if action == "truncate":
        length = options["length"]
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise fail(f"'length' must be a whole number of characters >= 1, not {length!r}.")
    if action == "coerce" and options["to"] not in COERCE_TARGETS:
        raise fail(f"cannot coerce to {options['to']!r}.", hint=f"Use {', '.join(COERCE_TARGETS)}.")
    if action == "coerce" and "separator" in options:
        options["separator"] = _compile(options["separator"], "separator", fail)
    if action == "reformat_datetime":
        _check_reformat(options, fail)
    if action == "map" and not isinstance(options["values"], dict):
        raise fail("'values' must be a table such as { Won = \"WON\" }.")
    if action == "replace":
        options["regex"] = _compile(options["regex"], "regex", fail)
        if not isinstance(options.setdefault("with", ""), str):
            raise fail("'with' must be a string.")
        try:
            options["replace"] = options["regex"].replacer(options["with"])
        except PatternError as exc:
            raise fail(f"'with' cannot be used: {exc}.") from None


def _check_reformat(options: dict[str, Any], fail: Any) -> None:
    if options.setdefault("to", "datetime") not in ("datetime", "date"):
        raise fail(f'\'to\' must be "datetime" or "date", not {options["to"]!r}.')
    zone = options.get("timezone", "UTC")
    try:
        options["timezone"] = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise fail(
            f"unknown time zone {zone!r}.", hint="Use an IANA name such as Europe/Berlin."
        ) from None
    if not isinstance(options.setdefault("day_first", False), bool):
        raise fail("'day_first' must be true or false.")


def target_field(rule: Rule, error: LineError) -> str | None:
    """The field an action changes: the rule's field, else the one the description names."""
    return rule.field or field_named_in(error.description)
