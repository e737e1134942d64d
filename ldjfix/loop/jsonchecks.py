"""Checks of JSON values: the words the job files' shapes (:mod:`ldjfix.loop.shapes`) are
written in. Each takes a parsed value and says whether it has the shape, never raising."""

from __future__ import annotations

from collections.abc import Callable, Mapping

Check = Callable[[object], bool]


def count(value: object) -> bool:
    """A whole number, 0 or more (a JSON bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def number(value: object) -> bool:
    """Any JSON number (a bool is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def text(value: object) -> bool:
    """A JSON string."""
    return isinstance(value, str)


def list_of(check: Check) -> Check:
    """A JSON array whose every item passes ``check``."""
    return lambda v: isinstance(v, list) and all(map(check, v))


def map_of(check: Check) -> Check:
    """A JSON object whose every value passes ``check``."""
    return lambda v: isinstance(v, dict) and all(map(check, v.values()))


def obj(required: Mapping[str, Check], optional: Mapping[str, Check] | None = None) -> Check:
    """A JSON object with ``required`` keys, and ``optional`` ones, each passing its check."""
    extra = optional or {}

    def check(value: object) -> bool:
        if not isinstance(value, dict):
            return False
        return all(k in value and ok(value[k]) for k, ok in required.items()) and all(
            ok(value[k]) for k, ok in extra.items() if k in value
        )

    return check


def one_of(*checks: Check) -> Check:
    """Passes when any of ``checks`` does."""
    return lambda v: any(c(v) for c in checks)


def is_none(value: object) -> bool:
    """JSON null."""
    return value is None


def is_dict(value: object) -> bool:
    """A JSON object."""
    return isinstance(value, dict)
