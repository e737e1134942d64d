"""Turning JSON Schema failures into Gong-style findings, the same way for both validators.

python-jsonschema and jsonschema-rs report a failure as (instance path, schema path, instance);
:func:`explain` reads the failing keyword and the ``description`` of the schema around it and
words the finding as Gong does (:mod:`ldjfix.gong.descriptions`), so both give the same findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ldjfix.gong import descriptions


def explain(
    path: Sequence[Any],
    schema_path: Sequence[Any],
    instance: Any,
    schema: dict[str, Any],
    record: dict[str, Any],
    mandatory: frozenset[str],
) -> list[tuple[str | None, str]]:
    """Turn one JSON Schema failure into (field, Gong-style description) pairs."""
    keyword = schema_path[-1]
    where = walk(schema, schema_path[:-1])
    if keyword == "required":
        return [(n, descriptions.mandatory(n)) for n in where["required"] if n not in instance]
    if "propertyNames" in schema_path:
        at = list(schema_path).index("propertyNames")
        allowed = walk(schema, schema_path[: at + 1]).get("enum", [])
        # python-jsonschema reports the name, jsonschema-rs the whole object
        names = [instance] if isinstance(instance, str) else [k for k in record if k not in allowed]
        text = "not a standard field and not in Gong's entity schema, so Gong will not show it"
        return [(name, descriptions.invalid(name, text)) for name in names]
    name = str(path[0]) if path else None
    if name is None:
        return [(None, descriptions.invalid("record", f"failed rule {keyword!r}"))]
    if name in mandatory and record.get(name) in (None, "", []):
        return [(name, descriptions.mandatory(name))]
    if keyword == "maxLength":
        return [(name, descriptions.too_long(name, int(where["maxLength"])))]
    detail = where.get("description", f"failed rule {keyword!r}")
    if keyword == "type" and where.get("type") == "string":  # objectId: not its characters
        detail = "must be a string"
    return [(name, descriptions.invalid(name, detail))]


def failure_shape(validator: Any, record: dict[str, Any]) -> tuple[Any, ...]:
    """Where and by which rule ``record`` fails; a missing field's name counts, values do not."""
    return tuple(
        sorted(
            (
                tuple(map(str, e.instance_path)),
                tuple(map(str, e.schema_path)),
                e.message if e.schema_path[-1] == "required" else "",
            )
            for e in validator.iter_errors(record)
        )
    )


def at(record: Any, path: Sequence[Any]) -> Any:
    for key in path:
        record = record[key]
    return record


def walk(schema: Any, keys: Sequence[Any]) -> dict[str, Any]:
    for key in keys:
        schema = schema[key]
    return dict(schema)
