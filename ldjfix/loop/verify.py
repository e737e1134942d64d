"""``run --verify N``: proof that DONE means the records are in Gong, by reading some back.

After a job settles with nothing pending, N accepted records (spread evenly over
``corrected.ldjson``, the last version of each ``objectId``) are read back with ``GET
/v2/crm/entities`` (at most 100 ids a call; Gong reads back ACCOUNT, CONTACT, DEAL and LEAD
only) and compared field by field *as Gong returns them*: every field Gong returns that the
record also has must hold the same value (numbers by value, datetimes as instants). Fields Gong
adds (a default ``name``) are not differences; fields of the record that Gong does not return
(outside its schema, reference 3.8) are counted, not held against it. A record Gong does not
know (``null``) is a mismatch, unless it was a deletion.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from ldjfix.gong.client import GongClient
from ldjfix.gong.limits import MAX_READBACK_IDS, SCHEMA_TYPES
from ldjfix.ldjson.files import open_input
from ldjfix.ldjson.lines import BOM

_SHOWN_VALUE = 200


def verify_records(
    client: GongClient,
    corrected: Path,
    object_type: str,
    integration_id: int,
    count: int,
    accepted: int,
) -> dict[str, Any]:
    """Read back ``count`` records of ``corrected`` and compare them: the report's ``verify``."""
    if object_type not in SCHEMA_TYPES:
        return {
            "checked": 0,
            "mismatched": [],
            "skipped": f"Gong reads back only {', '.join(SCHEMA_TYPES)} records, not {object_type}",
        }
    picked = pick_records(corrected, count, accepted)
    ids = list(picked)
    found: dict[str, Any] = {}
    for start in range(0, len(ids), MAX_READBACK_IDS):
        batch = ids[start : start + MAX_READBACK_IDS]
        answer = client.get_entities(
            integration_id=integration_id, object_type=object_type, ids=batch
        )
        objects = answer.get("crmObjectsMap")
        if isinstance(objects, dict):
            found.update({key: objects.get(key, _MISSING) for key in batch})
    mismatched = []
    not_returned = 0
    for object_id, (line, record) in picked.items():
        problem, unreturned = compare(record, found.get(object_id, _MISSING))
        not_returned += unreturned
        if problem is not None:
            mismatched.append({"objectId": object_id, "line": line, **problem})
    return {"checked": len(picked), "mismatched": mismatched, "fieldsNotReturned": not_returned}


_MISSING: Any = object()


def pick_records(path: Path, count: int, accepted: int) -> dict[str, tuple[int, dict[str, Any]]]:
    """``count`` objectIds spread evenly over the file, each with its last line and record."""
    stride = max(1, accepted // max(count, 1))
    picked: dict[str, tuple[int, dict[str, Any]]] = {}
    index = 0
    for number, record in _records(path):
        object_id = record.get("objectId")
        if not isinstance(object_id, str):
            continue
        if object_id in picked:
            picked[object_id] = (number, record)  # a later line upserts over the earlier one
        elif len(picked) < count and index % stride == 0:
            picked[object_id] = (number, record)
        index += 1
    return picked


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with open_input(path, what="corrected file") as stream:
        for number, raw in enumerate(stream, 1):
            try:
                record = orjson.loads(raw.removeprefix(BOM) if number == 1 else raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield number, record


def compare(expected: dict[str, Any], actual: Any) -> tuple[dict[str, Any] | None, int]:
    """How Gong's copy differs from ``expected`` (None: it does not), and fields not returned."""
    deleted = expected.get("isDeleted") is True
    if actual is _MISSING:
        return {"reason": "Gong's answer does not mention this objectId"}, 0
    if actual is None:
        return (None, 0) if deleted else ({"reason": "Gong does not have this record"}, 0)
    if not isinstance(actual, dict):
        return {"reason": f"Gong returned {type(actual).__name__}, not an object"}, 0
    if deleted:
        return {"reason": "deleted (isDeleted: true), but Gong still has it"}, 0
    fields = [
        {"field": name, "expected": _shown(value), "actual": _shown(actual[name])}
        for name, value in expected.items()
        if name in actual and not same(value, actual[name])
    ]
    unreturned = sum(1 for k, v in expected.items() if k not in actual and v is not None)
    return ({"reason": "fields differ", "fields": fields} if fields else None), unreturned


def same(expected: Any, actual: Any) -> bool:
    """Equal as Gong would mean it: numbers by value, datetimes as the same instant."""
    if expected == actual and type(expected) is type(actual):
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return False
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    if isinstance(expected, str) and isinstance(actual, str):
        return _instant(expected) is not None and _instant(expected) == _instant(actual)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(same, expected, actual))
    return expected is None and actual is None


def _instant(text: str) -> datetime | None:
    if len(text) < 20 or text[10:11] != "T":
        return None
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


def _shown(value: Any) -> Any:
    """A value for the report, long strings cut."""
    if isinstance(value, str) and len(value) > _SHOWN_VALUE:
        return value[: _SHOWN_VALUE - 1] + "…"
    return value


def describe(verify: dict[str, Any]) -> str:
    """One line for people."""
    if verify.get("skipped"):
        return f"read-back skipped: {verify['skipped']}"
    bad = len(verify["mismatched"])
    if not bad:
        return f"read-back: {verify['checked']} record(s) checked, all as in corrected.ldjson"
    ids = ", ".join(str(m["objectId"]) for m in verify["mismatched"][:5])
    return (
        f"read-back: {bad} of {verify['checked']} record(s) differ in Gong ({ids}; "
        "see verify in report.json)"
    )
