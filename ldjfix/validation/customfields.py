"""Custom ("additional") fields from Gong's entity schema, as JSON Schema property schemas.

Reference section 3.8: each field has a ``uniqueName`` and a ``type``; its values in entity
lines follow the type table (BOOLEAN a boolean, DATE ``YYYY-MM-DD``, PICKLIST one of
``orderedValueList``, PERCENT a number from 0 to 100, ...). A bad schema file is an
:class:`~ldjfix.errors.InputProblem` (exit 3) naming the field.
"""

from __future__ import annotations

from typing import Any

from ldjfix.errors import InputProblem
from ldjfix.validation.schemas import BOOLEAN, DATE, DATETIME, NUMBER, STRING, STRING_ARRAY, URL

PERCENT = {
    "type": ["number", "null"],
    "minimum": 0,
    "maximum": 100,
    "description": "expected a number from 0 to 100",
}
# Value format per custom field type (reference 3.8, type table).
CUSTOM_TYPES: dict[str, dict[str, Any]] = {
    "BOOLEAN": BOOLEAN,
    "DATE": DATE,
    "DATETIME": DATETIME,
    "NUMBER": NUMBER,
    "PERCENT": PERCENT,
    "CURRENCY": NUMBER,
    "PHONENUMBER": STRING,
    "EMAILADDRESS": STRING,
    "REFERENCE": STRING,
    "ID": STRING,
    "STRING": STRING,
    "URL": URL,
    "STRINGARRAY": STRING_ARRAY,
}


def custom_fields(doc: object, object_type: str, *, source: str) -> dict[str, dict[str, Any]]:
    """Property schemas for the custom fields of ``object_type`` in a GET entity-schema answer.

    ``doc`` is the saved response ``{requestId, objectTypeToSelectedFields: {TYPE: [...]}}``
    or a bare list of field definitions (the body of ``POST /v2/crm/entity-schema``).
    """
    fields = _field_list(doc, object_type, source)
    result: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(fields):
        where = f"{source}: {object_type} field {index + 1}"
        if not isinstance(item, dict):
            raise InputProblem(f"{where} is not an object.", hint=_SCHEMA_HINT)
        name = item.get("uniqueName", item.get("name"))  # Gong's own example says "name"
        if not isinstance(name, str) or not name:
            raise InputProblem(f"{where} has no 'uniqueName'.", hint=_SCHEMA_HINT)
        if item.get("isDeleted") is True:
            continue
        result[name] = _custom_schema(item, f"{where} ({name!r})")
    return result


_SCHEMA_HINT = (
    "Pass the saved body of a GET /v2/crm/entity-schema response: "
    '{"objectTypeToSelectedFields": {"ACCOUNT": [{"uniqueName": "tier", "type": "STRING"}]}}.'
)


def _field_list(doc: object, object_type: str, source: str) -> list[object]:
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict) or not isinstance(doc.get("objectTypeToSelectedFields"), dict):
        raise InputProblem(
            f"{source} is not an entity schema (no 'objectTypeToSelectedFields').",
            hint=_SCHEMA_HINT,
        )
    by_type = doc["objectTypeToSelectedFields"]
    fields = by_type.get(object_type, by_type.get("*", []))
    if not isinstance(fields, list):
        raise InputProblem(f"{source}: the {object_type} fields are not a list.", hint=_SCHEMA_HINT)
    return fields


def _custom_schema(item: dict[str, Any], where: str) -> dict[str, Any]:
    kind = item.get("type")
    if kind == "PICKLIST":
        values = item.get("orderedValueList")
        if values is None:
            return dict(STRING)  # no list of allowed values: any string
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InputProblem(f"{where}: 'orderedValueList' is not a list of strings.")
        shown = ", ".join(values[:10]) + (", ..." if len(values) > 10 else "")
        return {"enum": [*values, None], "description": f"expected one of {shown}"}
    if not isinstance(kind, str) or kind not in CUSTOM_TYPES:  # an array or object is unhashable
        known = ", ".join([*CUSTOM_TYPES, "PICKLIST"])
        raise InputProblem(f"{where}: unknown type {kind!r}.", hint=f"Gong's types: {known}.")
    return dict(CUSTOM_TYPES[kind])
