"""Planted defects are really on the lines the manifest names, and only there."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from ldjfix.gong.status import field_named_in
from ldjfix.synth import generator as synth
from ldjfix.synth.defects import KINDS, LOCAL_KINDS, SERVER_KINDS, describe, kinds_for
from ldjfix.synth.universe import Universe

UNIVERSE = Universe(11, accounts=400, users=30, stages=8)
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")
_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d)")
_ID = re.compile(r"[A-Za-z0-9-]+")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def _existing(universe: Universe) -> dict[str, set[str]]:
    return {
        "accountId": {universe.account_id(i) for i in range(universe.accounts)},
        "ownerId": {universe.user_id(i) for i in range(universe.users)},
        "stage": {universe.stage_id(i) for i in range(universe.stages)},
    }


_DANGLING = {
    "accountId": "dangling_account_ref",
    "ownerId": "dangling_owner_ref",
    "stage": "dangling_stage_ref",
}


def _record_kinds(rec: dict[str, Any], object_type: str, existing: dict[str, set[str]]) -> set[str]:
    """Every defect kind visible in a record, judged independently of the generator."""
    found = set()
    oid, modified = rec.get("objectId"), rec.get("modifiedDate")
    if not oid:
        found.add("missing_object_id")
    elif len(oid) > 64:
        found.add("long_object_id")
    elif not _ID.fullmatch(oid):
        found.add("bad_object_id_chars")
    if "modifiedDate" in rec or object_type != "STAGE":  # STAGE may omit it
        if not modified:
            found.add("missing_modified_date")
        elif _MILLIS.fullmatch(modified):
            found.add("millis_modified_date")
        elif not _ISO.fullmatch(modified):
            found.add("bad_datetime")
    checks = {
        "close_date_with_time": "closeDate" in rec and not _DATE.fullmatch(rec["closeDate"]),
        "bad_status_enum": "status" in rec and rec["status"] not in ("WON", "LOST", "OPEN"),
        "amount_as_string": isinstance(rec.get("amount"), str),
        "domains_not_array": isinstance(rec.get("domains"), str),
        "is_deleted_as_string": isinstance(rec.get("isDeleted"), str),
        "missing_email": object_type == "BUSINESS_USER" and not rec.get("emailAddress"),
        "bad_url": "url" in rec and not str(rec["url"]).startswith("https://"),
        "domain_is_url": isinstance(rec.get("domains"), list)
        and any("://" in d for d in rec["domains"]),
        "name_too_long": len(str(rec.get("name", ""))) > 255,
    }
    found |= {kind for kind, hit in checks.items() if hit}
    for field, kind in _DANGLING.items():
        if field in rec and rec[field] not in existing[field]:
            found.add(kind)
    return found


def _line_kinds(line: bytes, object_type: str, existing: dict[str, set[str]]) -> set[str]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {"invalid_json"}
    if not isinstance(value, dict):
        return {"not_object"}
    return _record_kinds(value, object_type, existing)


def _kinds(object_type: str) -> list[str]:
    return kinds_for(object_type)[: UNIVERSE.size(object_type) or None]


def _all_kinds_file(object_type: str, per_kind: int) -> list[tuple[bytes, Any]]:
    count = UNIVERSE.size(object_type) or 1_000
    defects = dict.fromkeys(_kinds(object_type), per_kind)
    return list(synth.records(object_type, count, seed=5, defects=defects, universe=UNIVERSE))


@pytest.mark.parametrize("object_type", synth.OBJECT_TYPES)
def test_synth_defects_exactly_where_manifest_says(object_type: str) -> None:
    """Each planted line shows exactly its kind; every other line shows none."""
    per_kind = {"STAGE": 1, "BUSINESS_USER": 1}.get(object_type, 6)
    existing = _existing(UNIVERSE)
    planted = 0
    for number, (line, injected) in enumerate(_all_kinds_file(object_type, per_kind), start=1):
        found = _line_kinds(line, object_type, existing)
        if injected is None:
            assert found == set(), f"line {number} of clean {object_type}: {found}"
            continue
        planted += 1
        assert injected.line == number
        assert found == {injected.kind}, f"line {number}: {injected} but found {found}"
    assert planted == per_kind * len(_kinds(object_type))


@pytest.mark.parametrize("object_type", synth.OBJECT_TYPES)
def test_synth_defects_manifest_field_and_object_id(object_type: str) -> None:
    """The manifest names the broken field and the objectId as it stands on the line."""
    for line, injected in _all_kinds_file(object_type, 1):
        if injected is None:
            continue
        assert injected.field == KINDS[injected.kind][0]
        value = orjson.loads(line) if injected.field else None
        expected = value.get("objectId") or None if isinstance(value, dict) else None
        assert injected.object_id == expected


def test_synth_defects_every_kind_applies_somewhere() -> None:
    """Every kind is plantable in at least one object type, local and server kinds apart."""
    assert set(LOCAL_KINDS).isdisjoint(SERVER_KINDS)
    for kind in KINDS:
        assert any(kind in kinds_for(t) for t in synth.OBJECT_TYPES), kind


def test_synth_defects_descriptions_name_the_field() -> None:
    """Each kind's Gong-style description names its field in brackets (or none, for JSON)."""
    for kind, (field, _) in KINDS.items():
        text = describe(kind, {"accountId": "001x", "ownerId": "005x", "stage": "s"})
        assert field_named_in(text) == field, (kind, text)


def test_synth_defects_scattered_not_clustered() -> None:
    """Defects land all over a big file, not in one block at the start."""
    made = synth.records("CONTACT", 20_000, seed=3, defects={"bad_url": 200})
    lines = [injected.line for _, injected in made if injected is not None]
    assert len(lines) == 200
    assert min(lines) < 2_000 and max(lines) > 18_000


def test_synth_defects_rejects_kind_for_wrong_type() -> None:
    """A kind that cannot apply to the object type is refused with a clear message."""
    with pytest.raises(ValueError, match="'close_date_with_time' does not apply to ACCOUNT"):
        list(synth.records("ACCOUNT", 10, seed=1, defects={"close_date_with_time": 1}))
    with pytest.raises(ValueError, match="unknown defect kind 'typo'"):
        list(synth.records("DEAL", 10, seed=1, defects={"typo": 1}))
    with pytest.raises(ValueError, match="cannot be negative"):
        list(synth.records("DEAL", 3, seed=1, defects={"bad_url": -1}))
    with pytest.raises(ValueError, match="5 defects do not fit in 3 records"):
        list(synth.records("DEAL", 3, seed=1, defects={"bad_url": 5}))
