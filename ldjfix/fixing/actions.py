"""What each action of a rules file does to a record: the changes, value by value.

An action replaces top-level values (it never changes one in place), so a shallow copy of a
record is all a fixer needs to try one. :func:`value_change` gives a normalising action as one
call on a value, for the fixer's compiled known defect (:mod:`ldjfix.fixing.known`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import orjson

from ldjfix.fixing import conversions as convert
from ldjfix.fixing.rules import Rule

_EMPTY: tuple[Any, ...] = (None, "", [])


class CannotApply(Exception):
    """The action does not fit the value it met."""


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
    if name in record and same_json(new, old):
        return []
    record[name] = new
    return [(name, old, new)]


def same_json(new: Any, old: Any) -> bool:
    """Equal as JSON: ``True`` and ``1`` are different values in a record (Python says equal)."""
    if type(new) is str and type(old) is str:  # the common case (dates, names): no serialising
        return new == old
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


def value_change(rule: Rule) -> Callable[[Any], Any]:
    """What a normalising ``rule`` makes of a field's value, as one call: ``_normalize``
    bound to it (a date-time reformat straight to its converter, the common case)."""
    opts = rule.options
    if rule.action == "reformat_datetime" and opts["to"] != "date":
        if getattr(opts["timezone"], "key", None) == "UTC" and not opts["day_first"]:
            return convert.to_gong_datetime  # its own defaults (UTC): no keywords merged a call
        return partial(convert.to_gong_datetime, zone=opts["timezone"], day_first=opts["day_first"])
    return partial(_normalize, rule)


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
