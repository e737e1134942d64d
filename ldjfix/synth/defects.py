"""Defects the sample-data generator plants on purpose, and how Gong would describe them.

Each kind is a string shared with the validator and the sandbox. The "local" kinds break a
documented rule (Gong's CRM API reference, section 3), so ``ldjfix validate`` finds them;
the "server" kinds look fine locally and only Gong (or the sandbox) rejects them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from ldjfix.gong import descriptions

ALL_TYPES = frozenset({"ACCOUNT", "CONTACT", "DEAL", "LEAD", "BUSINESS_USER", "STAGE"})
_NOT_STAGE = ALL_TYPES - {"STAGE"}
_WITH_URL = frozenset({"ACCOUNT", "CONTACT", "DEAL", "LEAD"})

# kind -> (field it breaks, object types it applies to); field None = the whole line.
LOCAL_KINDS: dict[str, tuple[str | None, frozenset[str]]] = {
    "missing_object_id": ("objectId", ALL_TYPES),
    "long_object_id": ("objectId", ALL_TYPES),
    "bad_object_id_chars": ("objectId", ALL_TYPES),
    "missing_modified_date": ("modifiedDate", _NOT_STAGE),
    "millis_modified_date": ("modifiedDate", ALL_TYPES),
    "bad_datetime": ("modifiedDate", ALL_TYPES),
    "close_date_with_time": ("closeDate", frozenset({"DEAL"})),
    "bad_status_enum": ("status", frozenset({"DEAL"})),
    "amount_as_string": ("amount", frozenset({"DEAL"})),
    "domains_not_array": ("domains", frozenset({"ACCOUNT"})),
    "is_deleted_as_string": ("isDeleted", _NOT_STAGE),
    "missing_email": ("emailAddress", frozenset({"BUSINESS_USER"})),
    "bad_url": ("url", _WITH_URL),
    "invalid_json": (None, ALL_TYPES),
    "not_object": (None, ALL_TYPES),
}
SERVER_KINDS: dict[str, tuple[str | None, frozenset[str]]] = {
    "dangling_account_ref": ("accountId", frozenset({"CONTACT", "DEAL"})),
    "dangling_owner_ref": ("ownerId", frozenset({"DEAL"})),
    "dangling_stage_ref": ("stage", frozenset({"DEAL"})),
    "domain_is_url": ("domains", frozenset({"ACCOUNT"})),
    "name_too_long": ("name", frozenset({"ACCOUNT", "DEAL", "STAGE"})),
}
KINDS = {**LOCAL_KINDS, **SERVER_KINDS}

NAME_LIMIT = 255
OBJECT_ID_LIMIT = 64
_ISO_DETAIL = "expected an ISO-8601 date-time without milliseconds, e.g. 2025-03-04T10:15:00Z"


@dataclass(frozen=True, slots=True)
class Injected:
    """One planted defect: its 1-based line, kind, the field it breaks and the line's objectId."""

    line: int
    kind: str
    field: str | None
    object_id: str | None

    def as_json(self) -> dict[str, Any]:
        """The manifest entry: ``{line, kind, field, objectId}``."""
        return {
            "line": self.line,
            "kind": self.kind,
            "field": self.field,
            "objectId": self.object_id,
        }


def kinds_for(object_type: str) -> list[str]:
    """Every defect kind that can be planted in a file of ``object_type``."""
    return [kind for kind, (_, types) in KINDS.items() if object_type in types]


def check_kinds(object_type: str, kinds: Iterable[str]) -> None:
    """Raise ValueError naming the first kind that is unknown or does not fit ``object_type``."""
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown defect kind {kind!r}; known: {', '.join(KINDS)}")
        if object_type not in KINDS[kind][1]:
            raise ValueError(f"defect kind {kind!r} does not apply to {object_type} records")


Dangling = Callable[[str, random.Random], str]  # field -> an id naming no existing record
_Mutation = Callable[[dict[str, Any], random.Random, Dangling], None]


def inject(
    kind: str, record: dict[str, Any], rng: random.Random, line: int, dangling: Dangling
) -> tuple[bytes, Injected]:
    """Plant ``kind`` in ``record`` (changed in place) and return the serialized line."""
    field = KINDS[kind][0]
    if "isDeleted" in record:
        # Only a live record surely counts: a deletion needs no email and resolves no reference.
        record["isDeleted"] = False
    if kind == "invalid_json":
        return _garble(orjson.dumps(record), rng), Injected(line, kind, None, None)
    if kind == "not_object":
        return orjson.dumps([record]), Injected(line, kind, None, None)
    _MUTATIONS[kind](record, rng, dangling)
    value = record.get("objectId")
    object_id = value if isinstance(value, str) and value else None
    return orjson.dumps(record), Injected(line, kind, field, object_id)


def _garble(data: bytes, rng: random.Random) -> bytes:
    """A line as a broken exporter writes it: cut short, or missing a comma."""
    if rng.random() < 0.5:
        comma = data.find(b',"', 2)
        return data[:comma] + data[comma + 1 :]
    cut = rng.randrange(len(data) // 3, len(data) - 1)
    while data[cut] >= 0x80:  # cut between characters, so the line stays valid UTF-8
        cut -= 1
    return data[:cut]


def _long_id(rec: dict[str, Any], rng: random.Random) -> str:
    base = str(rec["objectId"])
    return (base + "-" + "0" * OBJECT_ID_LIMIT)[: OBJECT_ID_LIMIT + rng.randrange(1, 20)]


def _bad_chars_id(rec: dict[str, Any], rng: random.Random) -> str:
    base = str(rec["objectId"])
    cut = rng.randrange(2, len(base) - 2)
    return f"{base[:cut]}#{base[cut:-2]} {base[-2:]}"


def _millis(rec: dict[str, Any], rng: random.Random) -> str:
    value = str(rec.get("modifiedDate") or "2025-03-04T10:15:00Z")
    return f"{value[:19]}.{rng.randrange(1000):03d}{value[19:]}"


def _us_datetime(rec: dict[str, Any], rng: random.Random) -> str:
    value = str(rec.get("modifiedDate") or "2025-03-04T10:15:00Z")
    return f"{value[5:7]}/{value[8:10]}/{value[:4]} {value[11:16]}"


def _domain_url(rec: dict[str, Any], rng: random.Random) -> list[str]:
    domains = list(rec["domains"])
    domains[0] = f"https://www.{domains[0]}/{rng.choice(('about', 'contact', 'en/home'))}"
    return domains


def _long_name(rec: dict[str, Any], rng: random.Random) -> str:
    name = str(rec["name"])
    filler = " — imported from legacy ERP, see notes"
    return (name + filler * (NAME_LIMIT // len(filler) + 1))[: NAME_LIMIT + rng.randrange(1, 60)]


def _setter(field: str, make: Callable[[dict[str, Any], random.Random], Any]) -> _Mutation:
    def mutate(rec: dict[str, Any], rng: random.Random, dangling: Dangling) -> None:
        rec[field] = make(rec, rng)

    return mutate


def _dropper(field: str) -> _Mutation:
    def mutate(rec: dict[str, Any], rng: random.Random, dangling: Dangling) -> None:
        # Exporters drop a field, or write it empty; Gong treats both as missing.
        if rng.random() < 0.7:
            rec.pop(field, None)
        else:
            rec[field] = rng.choice(("", None))

    return mutate


def _dangler(field: str) -> _Mutation:
    def mutate(rec: dict[str, Any], rng: random.Random, dangling: Dangling) -> None:
        rec[field] = dangling(field, rng)

    return mutate


_MUTATIONS: dict[str, _Mutation] = {
    "missing_object_id": _dropper("objectId"),
    "long_object_id": _setter("objectId", _long_id),
    "bad_object_id_chars": _setter("objectId", _bad_chars_id),
    "missing_modified_date": _dropper("modifiedDate"),
    "millis_modified_date": _setter("modifiedDate", _millis),
    "bad_datetime": _setter("modifiedDate", _us_datetime),
    "close_date_with_time": _setter("closeDate", lambda r, g: f"{r['closeDate']}T00:00:00Z"),
    "bad_status_enum": _setter("status", lambda r, g: str(r["status"]).title()),
    "amount_as_string": _setter("amount", lambda r, g: f"{float(r['amount']):,.2f}"),
    "domains_not_array": _setter("domains", lambda r, g: ", ".join(r["domains"])),
    "is_deleted_as_string": _setter("isDeleted", lambda r, g: g.choice(("yes", "no", "false"))),
    "missing_email": _dropper("emailAddress"),
    "bad_url": _setter("url", lambda r, g: g.choice(("htp//crm", "crm/record", "www .crm.com"))),
    "dangling_account_ref": _dangler("accountId"),
    "dangling_owner_ref": _dangler("ownerId"),
    "dangling_stage_ref": _dangler("stage"),
    "domain_is_url": _setter("domains", _domain_url),
    "name_too_long": _setter("name", _long_name),
}

_DETAILS = {
    "bad_object_id_chars": "only letters, digits and '-' (or an email address) are allowed",
    "millis_modified_date": _ISO_DETAIL,
    "bad_datetime": _ISO_DETAIL,
    "close_date_with_time": "expected a date YYYY-MM-DD without a time",
    "bad_status_enum": "expected one of WON, LOST, OPEN",
    "amount_as_string": "expected a number",
    "domains_not_array": "expected an array of strings",
    "is_deleted_as_string": "expected a boolean",
    "bad_url": "expected an absolute http(s) URL",
    "domain_is_url": "expected bare domain names such as acme.com, not URLs",
}


def describe(kind: str, record: dict[str, Any] | None) -> str:
    """Gong-style error text for a planted defect (texts from :mod:`ldjfix.gong.descriptions`)."""
    field = KINDS[kind][0]
    if field is None:
        detail = "the line holds a JSON array" if kind == "not_object" else "malformed JSON"
        return descriptions.unparsable(detail)
    if kind.startswith("missing_"):
        return descriptions.mandatory(field)
    if kind == "long_object_id":
        return descriptions.too_long(field, OBJECT_ID_LIMIT)
    if kind == "name_too_long":
        return descriptions.too_long(field, NAME_LIMIT)
    if kind.startswith("dangling_"):
        return descriptions.dangling(field, str((record or {}).get(field)))
    return descriptions.invalid(field, _DETAILS[kind])
