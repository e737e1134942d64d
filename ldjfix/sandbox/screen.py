"""A shortcut through the judge's rules: a compiled JSON Schema only plainly good records pass.

:func:`screen_for` turns a :class:`~ldjfix.sandbox.rules.RecordRules` into a jsonschema-rs
validator that is *at least as strict* as :meth:`RecordRules.first_broken`: a record it passes
breaks none of the rules, so the judge skips the Python checks for it; a record it fails is
judged by them as before (and may still pass). It may refuse more than the rules do, never less:

* date-times: years 1000-9999, days a month always has (29 February is left to the rules),
  ``Z`` or an offset up to ±23:59; ``[0-9]``, never ``\\d`` (Python's takes other digits);
* strings that must not hold whitespace hold printable ASCII only; ``objectId`` is an id or a
  plain ASCII email address; ``emailAddress`` of BUSINESS_USER is required even in a deletion;
* a check it has no schema for lets the field pass only when absent or null: ``sortOrder``
  (JSON Schema's ``integer`` takes ``1.0``, Python's ``isinstance(..., int)`` does not) and a
  PICKLIST whose values are not all strings (its ``in`` compares numbers, booleans and
  containers by Python's ``==``, which is not JSON Schema's equality; strings compare alike).

References to other objects are not part of it: the judge checks them after either path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import orjson

from ldjfix.sandbox import formats as fmt
from ldjfix.sandbox.rules import MAX_NAME, Check, OneOf, RecordRules

_DAY = (
    "(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
    "|(?:0[13-9]|1[0-2])-(?:29|30)"
    "|(?:0[13578]|1[02])-31)"
)
_DATE = f"[1-9][0-9]{{3}}-{_DAY}"
_TIME = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
DATETIME_PATTERN = f"^{_DATE}T{_TIME}:[0-5][0-9](?:Z|[+-]{_TIME})$"
DATE_PATTERN = f"^{_DATE}$"
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+"
_NOT_NULL = ["string", "number", "boolean", "array", "object"]


def _or_null(kind: str, **keywords: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **keywords}


# each check of formats.py -> a schema its values pass only if the check passes them
_BY_CHECK: dict[Check, dict[str, Any]] = {
    fmt.datetime: _or_null("string", pattern=DATETIME_PATTERN),
    fmt.date: _or_null("string", pattern=DATE_PATTERN),
    fmt.boolean: _or_null("boolean"),
    fmt.number: _or_null("number"),
    fmt.percent: _or_null("number", minimum=0, maximum=100),
    fmt.string: _or_null("string"),
    fmt.string_array: _or_null("array", items={"type": "string"}),
    fmt.url: _or_null("string", pattern="^https?://[A-Za-z0-9][!-~]*$"),
    fmt.email: _or_null("string", pattern=f"^{_EMAIL}$"),
    fmt.deal_status: {"enum": ["WON", "LOST", "OPEN", None]},
}
_ABSENT = {"type": "null"}  # for a check without a schema: the field passes only when absent
# mandatory: present, not null and, as a string, not blank (one printable ASCII character)
_PRESENT = {"type": _NOT_NULL, "pattern": "[!-~]"}
_OBJECT_ID = {"type": "string", "maxLength": 64, "pattern": f"^(?:[A-Za-z0-9_-]{{1,64}}|{_EMAIL})$"}
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_BARE_DOMAINS = _or_null(
    "array",
    items={"type": "string", "maxLength": 253, "pattern": rf"^(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$"},
)


def screen_schema(rules: RecordRules) -> dict[str, Any]:
    """The JSON Schema of records that break none of ``rules`` (references aside)."""
    mandatory = rules.mandatory + rules.live_mandatory  # a deletion's exemption: the slow path
    by_field: dict[str, list[dict[str, Any]]] = {name: [_PRESENT] for name in mandatory}
    by_field.setdefault("objectId", []).append(_OBJECT_ID)
    for name, check in (*rules.standard, *rules.custom):
        by_field.setdefault(name, []).append(_value_schema(check))
    if rules.bare_domains:
        by_field.setdefault("domains", []).append(_BARE_DOMAINS)
    by_field.setdefault("name", []).append({"maxLength": MAX_NAME})
    properties = {
        name: schemas[0] if len(schemas) == 1 else {"allOf": schemas}
        for name, schemas in by_field.items()
    }
    return {"type": "object", "required": list(mandatory), "properties": properties}


def _value_schema(check: Check) -> dict[str, Any]:
    if isinstance(check, OneOf):
        allowed = check.allowed
        plain = isinstance(allowed, list) and all(isinstance(v, str) for v in allowed)
        return {"enum": [*allowed, None]} if plain else _ABSENT
    return _BY_CHECK.get(check, _ABSENT)


def screen_for(rules: RecordRules) -> Callable[[Any], bool]:
    """A test of a parsed record: True only if ``rules.first_broken`` would return None."""
    return _compiled(orjson.dumps(screen_schema(rules)))


@functools.lru_cache(maxsize=32)
def _compiled(schema: bytes) -> Callable[[Any], bool]:
    """One validator per distinct schema (object type and custom fields), not per upload."""
    validator = jsonschema_rs.validator_for(orjson.loads(schema))
    return validator.is_valid
