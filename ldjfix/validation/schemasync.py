"""``schema pull|push|diff``: Gong's custom fields to a file `validate --schema-file` reads.

``pull`` saves Gong's ``GET /v2/crm/entity-schema`` answer for one object type as it came.
``push`` takes that file, or a bare JSON array of field definitions (the body of ``POST
/v2/crm/entity-schema``), checks it against the field model (:mod:`ldjfix.validation.fieldmodel`)
before a byte is sent, compares it with what Gong has, and refuses a push that would lose
fields or their values unless the caller allows it; the removals are then sent explicitly
(``isDeleted: true``), which is how Gong documents removing a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ldjfix.errors import InputProblem, RemoteProblem, UsageProblem
from ldjfix.gong.client import GongClient
from ldjfix.gong.identifiers import check_object_type
from ldjfix.gong.limits import SCHEMA_TYPES
from ldjfix.ldjson.files import STDIO, read_input, write_bytes_atomic
from ldjfix.validation.fieldmodel import SchemaDiff, check_fields, diff_fields

_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Push:
    """What a push did (or would do): the changes, the notes, and whether it was sent."""

    diff: SchemaDiff
    notes: tuple[str, ...]
    sent: bool
    request_id: str | None = None


def schema_type(object_type: str) -> str:
    """The object type, if Gong keeps custom fields for it (ACCOUNT, CONTACT, DEAL, LEAD)."""
    return check_object_type(object_type, SCHEMA_TYPES)


def gong_fields(client: GongClient, integration_id: int, object_type: str) -> list[Any]:
    """The field definitions Gong has for one object type."""
    return _fields_of(fetch(client, integration_id, object_type), object_type, "Gong's answer")


def fetch(client: GongClient, integration_id: int, object_type: str) -> dict[str, Any]:
    """Gong's entity-schema answer for one object type."""
    answer = client.entity_schema(
        integration_id=integration_id, object_type=schema_type(object_type)
    )
    by_type = answer.get("objectTypeToSelectedFields")
    if not isinstance(by_type, dict) or not isinstance(by_type.get(object_type, []), list):
        raise RemoteProblem("Gong's entity-schema answer has no list of fields for " + object_type)
    return answer


def pull(client: GongClient, integration_id: int, object_type: str, output: str) -> int:
    """Save Gong's schema of ``object_type`` to ``output``; how many fields it holds."""
    answer = fetch(client, integration_id, object_type)
    fields = answer["objectTypeToSelectedFields"].get(object_type, [])
    doc = {
        "requestId": answer.get("requestId"),
        "objectTypeToSelectedFields": {object_type: fields},
    }
    write_bytes_atomic(output, orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    return len(fields)


def load_fields(path: str, object_type: str) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """The checked field list of a schema file (a pull file or a bare array), and its notes."""
    name = "stdin" if path == STDIO else path
    try:
        doc = orjson.loads(read_input(path, what="schema file"))
    except orjson.JSONDecodeError as exc:
        raise InputProblem(
            f"schema file {name} is not JSON ({exc.msg} at character {exc.pos + 1}).",
            hint="Give a JSON array of field definitions, or a file `ldjfix schema pull` wrote.",
        ) from None
    items = _fields_of(doc, object_type, f"schema file {name}")
    checked = check_fields(items)
    if checked.problems:
        shown = "; ".join(checked.problems[:_SHOWN])
        more = len(checked.problems) - _SHOWN
        raise InputProblem(
            f"schema file {name}: {shown}" + (f" (and {more} more)" if more > 0 else "") + ".",
            hint="Fix the file (reference 3.8: uniqueName, label and type are required). "
            "Nothing was sent.",
        )
    return list(checked.fields), checked.notes


def _fields_of(doc: Any, object_type: str, source: str) -> list[Any]:
    if isinstance(doc, list):
        return doc
    by_type = doc.get("objectTypeToSelectedFields") if isinstance(doc, dict) else None
    if not isinstance(by_type, dict):
        raise InputProblem(
            f"{source} is neither a JSON array of field definitions nor an entity schema "
            "(no 'objectTypeToSelectedFields').",
            hint="Give the body of POST /v2/crm/entity-schema, or what `ldjfix schema pull` wrote.",
        )
    if object_type not in by_type:
        held = ", ".join(sorted(by_type)) or "no type"
        raise InputProblem(f"{source} holds fields of {held}, not {object_type}.",
                           hint="Pass the matching -t, or pull that type's schema.")  # fmt: skip
    fields = by_type[object_type]
    if not isinstance(fields, list):
        raise InputProblem(f"{source}: the {object_type} fields are not a list.")
    return fields


def plan_push(
    client: GongClient, integration_id: int, object_type: str, path: str
) -> tuple[list[dict[str, Any]], list[Any], SchemaDiff, tuple[str, ...]]:
    """The checked list of ``path``, Gong's current list, what sending it changes, the notes."""
    wanted, notes = load_fields(path, schema_type(object_type))
    current = gong_fields(client, integration_id, object_type)
    return wanted, current, diff_fields(current, wanted), notes


def push(
    client: GongClient,
    integration_id: int,
    object_type: str,
    path: str,
    *,
    allow_remove: bool = False,
) -> Push:
    """Check, compare and send ``path``'s field list; nothing is sent if nothing changes."""
    wanted, current, diff, notes = plan_push(client, integration_id, object_type, path)
    if diff.loses_data and not allow_remove:
        raise UsageProblem(
            f"pushing {path} would lose {object_type} fields Gong has: {_losses(diff)}. "
            "Nothing was sent.",
            hint="Add the fields back to the file, or pass --allow-remove to remove them "
            "(`ldjfix schema diff` shows every change).",
        )
    if diff.empty:
        return Push(diff, notes, sent=False)
    # Gong wants the full list; a field it has goes away explicitly, as its docs say
    body = [*wanted, *(_removal(current, name) for name in diff.dropped)]
    answer = client.put_entity_schema(
        integration_id=integration_id, object_type=object_type, fields=body
    )
    request_id = answer.get("requestId")
    return Push(
        diff, notes, sent=True, request_id=request_id if isinstance(request_id, str) else None
    )


def _removal(current: list[Any], name: str) -> dict[str, Any]:
    """Gong's definition of a dropped field, marked ``isDeleted`` (label and type stay)."""
    for item in current:
        if isinstance(item, dict) and item.get("uniqueName", item.get("name")) == name:
            kept = {k: v for k, v in item.items() if k in _REMOVAL_KEYS}
            return {**kept, "uniqueName": name, "isDeleted": True}
    return {"uniqueName": name, "isDeleted": True}


_REMOVAL_KEYS = ("label", "type", "referenceTo", "orderedValueList")


def _losses(diff: SchemaDiff) -> str:
    parts = []
    if diff.dropped:
        parts.append("left out: " + ", ".join(diff.dropped))
    if diff.deleted:
        parts.append("isDeleted: " + ", ".join(diff.deleted))
    if diff.retyped:
        parts.append(
            "type changed (old values deleted): " + ", ".join(n for n, _, _ in diff.retyped)
        )
    return "; ".join(parts)


def diff(client: GongClient, integration_id: int, object_type: str, path: str) -> SchemaDiff:
    """What ``push`` of ``path`` would change."""
    return plan_push(client, integration_id, object_type, path)[2]
