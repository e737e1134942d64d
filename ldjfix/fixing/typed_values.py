"""A value typed at the terminal, read as the field's type.

A string field takes what was typed as a string (``12345`` typed for ``objectId`` stays
``"12345"``, a quoted ``"WON"`` is unquoted); a boolean field takes ``true``/``false``/``yes``/
``no``; a number field a JSON number; an array of strings JSON or ``a, b``; ``now`` is the
current time in Gong's format and ``null`` clears the field. A field the schema does not know
follows the value it holds now, else JSON when it parses, else text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from ldjfix.fixing.conversions import gong_now

_MISSING = object()
_TRUE = {"true", "yes", "y"}
_FALSE = {"false", "no", "n"}


def field_types(schema: dict[str, Any] | None, name: str) -> set[str]:
    """The JSON types the schema allows for ``name`` ("string" for an enum of strings)."""
    if not schema:
        return set()
    spec = schema.get("properties", {}).get(name)
    if not isinstance(spec, dict):
        return set()
    given = spec.get("type")
    if isinstance(given, str):
        return {given} - {"null"}
    if isinstance(given, list):
        return {t for t in given if isinstance(t, str)} - {"null"}
    enum = spec.get("enum")
    if isinstance(enum, list) and any(isinstance(v, str) for v in enum):
        return {"string"}
    return set()


def hint(schema: dict[str, Any] | None, name: str) -> str:
    """What the field takes, for the prompt: ``one of WON, LOST, OPEN``, ``a string``, or ""."""
    spec = (schema or {}).get("properties", {}).get(name)
    enum = spec.get("enum") if isinstance(spec, dict) else None
    if isinstance(enum, list) and enum:
        return "one of " + ", ".join(str(v) for v in enum if v is not None)
    types = field_types(schema, name)
    return f"a {' or '.join(sorted(types))}" if types else ""


def typed_value(
    text: str, types: set[str], now: Callable[[], datetime], current: Any = _MISSING
) -> Any:
    """What ``text`` means for a field of ``types`` (see the module's description)."""
    text = text.strip()
    if text == "now":
        return gong_now(now())
    if text == "null":
        return None
    if not types and isinstance(current, str):
        types = {"string"}
    if types == {"string"}:
        decoded = _json(text)
        return decoded if isinstance(decoded, str) else text
    if types == {"boolean"} and text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    if types == {"array"}:
        decoded = _json(text)
        if isinstance(decoded, list):
            return decoded
        return [part.strip() for part in text.split(",") if part.strip()]
    decoded = _json(text)
    return text if decoded is _MISSING else decoded


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _MISSING


def describe(value: Any) -> str:
    """A value as the person will see it in a confirmation: JSON (strings quoted)."""
    return orjson.dumps(value).decode()
