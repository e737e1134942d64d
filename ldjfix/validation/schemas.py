"""Gong's field rules as JSON Schema (draft 2020-12), one pair of schemas per object type.

Every rule comes from the field tables of the reference (section 3). Each object type gets
two schemas:

* ``hard``: rules Gong documents today (mandatory fields of the current docs, objectId length
  and characters, datetime/date formats, enums, types). Breaking one is an error.
* ``soft``: rules whose real strictness at Gong is unknown (Gong's CRM API reference, section 6):
  the fields the 2023 docs called mandatory, ``_`` in objectIds, URLs in ``domains``, fields
  that are not in the entity schema. Breaking one is a warning, or an error with ``strict``.

Each property schema carries a ``description``: the detail a finding shows after
"Invalid value for field [x]: ", the wording the sandbox uses, so local and remote findings
read alike.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ldjfix.gong.identifiers import check_object_type
from ldjfix.gong.limits import UPLOAD_TYPES

OBJECT_TYPES = UPLOAD_TYPES
DIALECT = "https://json-schema.org/draft/2020-12/schema"
OBJECT_ID_LIMIT = 64

# JSON Schema's date-time allows fractional seconds; Gong forbids milliseconds.
DATETIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$"
)
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_EMAIL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
# Gong: "alphanumerics and -, or a valid email"; its own examples use "_" (reference 6.2).
OBJECT_ID_PATTERN = rf"^([A-Za-z0-9_-]+|{_EMAIL})$"
OBJECT_ID_STRICT_PATTERN = rf"^([A-Za-z0-9-]+|{_EMAIL})$"
DOMAIN_PATTERN = (
    r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)

ISO_DETAIL = "expected an ISO-8601 date-time without milliseconds, e.g. 2025-03-04T10:15:00Z"
OBJECT_ID_DETAIL = "only letters, digits and '-' (or an email address) are allowed"

STRING = {"type": ["string", "null"], "description": "expected a string"}
BOOLEAN = {"type": ["boolean", "null"], "description": "expected a boolean"}
NUMBER = {"type": ["number", "null"], "description": "expected a number"}
DATETIME = {
    "type": ["string", "null"],
    "format": "date-time",
    "pattern": DATETIME_PATTERN,
    "description": ISO_DETAIL,
}
DATE = {
    "type": ["string", "null"],
    "format": "date",
    "pattern": DATE_PATTERN,
    "description": "expected a date YYYY-MM-DD without a time",
}
URL = {
    "type": ["string", "null"],
    "format": "uri",
    "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
    "description": "expected an absolute http(s) URL",
}
STRING_ARRAY = {
    "type": ["array", "null"],
    "items": {"type": "string", "description": "expected an array of strings"},
    "description": "expected an array of strings",
}
# Gong: "missing or empty": absent, null, "" and [] all count as missing.
FILLED = {"minLength": 1, "minItems": 1, "not": {"type": "null"}}

COMMON: dict[str, dict[str, Any]] = {
    "objectId": {
        "type": "string",
        "minLength": 1,
        "maxLength": OBJECT_ID_LIMIT,
        "pattern": OBJECT_ID_PATTERN,
        "description": OBJECT_ID_DETAIL,
    },
    "modifiedDate": DATETIME,
    "isDeleted": BOOLEAN,
    "url": URL,
    "lastModified": DATETIME,
}
PERSON = {"emailAddress": STRING, "firstName": STRING, "lastName": STRING, "title": STRING}
PERSON |= {"phoneNumber": STRING}
FIELDS: dict[str, dict[str, dict[str, Any]]] = {
    "ACCOUNT": {"name": STRING, "domains": STRING_ARRAY},
    "CONTACT": {"accountId": STRING, **PERSON},
    "DEAL": {
        "accountId": STRING,
        "ownerId": STRING,
        "name": STRING,
        "createdDate": DATETIME,
        "closeDate": DATE,
        "status": {
            "enum": ["WON", "LOST", "OPEN", None],
            "description": "expected one of WON, LOST, OPEN",
        },
        "stage": STRING,
        "amount": NUMBER,
        "isOpen": BOOLEAN,
        "isWon": BOOLEAN,
        "estimatedCloseDate": DATE,
        "actualCloseDate": DATE,
        "estimatedAmount": NUMBER,
        "actualAmount": NUMBER,
    },
    "LEAD": {
        **PERSON,
        "convertedToDealId": STRING,
        "convertedToContactId": STRING,
        "convertedToAccountId": STRING,
    },
    "BUSINESS_USER": {"emailAddress": STRING},
    "STAGE": {
        "name": STRING,
        "isActive": BOOLEAN,
        "sortOrder": {
            "type": ["integer", "null"],
            "minimum": 1,
            "description": "expected an integer from 1",
        },
        "internalName": STRING,
    },
}
# Mandatory in the current docs (errors) and in the 2023 docs only (warnings unless strict).
REQUIRED_NOW: dict[str, tuple[str, ...]] = {"STAGE": ("objectId", "name")}
REQUIRED_2023: dict[str, tuple[str, ...]] = {
    "ACCOUNT": ("name", "domains"),
    "CONTACT": ("accountId", "emailAddress", "firstName", "lastName"),
    "DEAL": ("accountId", "ownerId", "name", "createdDate", "closeDate", "stage", "amount"),
    "LEAD": ("emailAddress", "firstName", "lastName"),
    "BUSINESS_USER": (),
    "STAGE": ("isActive", "sortOrder"),
}
_UNLESS_DELETED = {
    "if": {"properties": {"isDeleted": {"const": True}}, "required": ["isDeleted"]},
    "else": {"required": ["emailAddress"], "properties": {"emailAddress": FILLED}},
}


@dataclass(frozen=True)
class SchemaPair:
    """The error rules and warning rules of one object type, and the fields each makes mandatory."""

    hard: dict[str, Any]
    soft: dict[str, Any]
    mandatory_hard: frozenset[str]
    mandatory_soft: frozenset[str]

    def strict(self) -> SchemaPair:
        """The same rules with every warning turned into an error."""
        both = {"$schema": DIALECT, "allOf": [_bare(self.hard), _bare(self.soft)]}
        return SchemaPair(both, _empty(), self.mandatory_hard | self.mandatory_soft, frozenset())


def build(object_type: str, custom: Mapping[str, dict[str, Any]] | None = None) -> SchemaPair:
    """The schemas of ``object_type``, with custom fields (from Gong's entity schema) if given."""
    check_object_type(object_type, OBJECT_TYPES)
    properties = {**COMMON, **FIELDS[object_type]}
    for name, schema in (custom or {}).items():
        properties.setdefault(name, schema)  # a custom field never overrides a standard one
    now = REQUIRED_NOW.get(object_type, ("objectId", "modifiedDate"))
    hard_props = copy.deepcopy(properties)
    for name in now:
        hard_props[name] = {**hard_props[name], **FILLED}
    hard: dict[str, Any] = {
        "$schema": DIALECT,
        "type": "object",
        "required": list(now),
        "properties": hard_props,
    }
    if object_type == "BUSINESS_USER":
        hard |= copy.deepcopy(_UNLESS_DELETED)
    mandatory = frozenset(now) | ({"emailAddress"} if object_type == "BUSINESS_USER" else set())
    return SchemaPair(
        hard, _soft(object_type, properties, custom), mandatory, _soft_req(object_type)
    )


def _soft_req(object_type: str) -> frozenset[str]:
    return frozenset(REQUIRED_2023[object_type])


def _soft(
    object_type: str, properties: dict[str, Any], custom: Mapping[str, Any] | None
) -> dict[str, Any]:
    required = REQUIRED_2023[object_type]
    props: dict[str, Any] = {
        name: {**FILLED, "description": "expected a value"} for name in required
    }
    props["objectId"] = {"pattern": OBJECT_ID_STRICT_PATTERN, "description": OBJECT_ID_DETAIL}
    if object_type == "ACCOUNT":
        props["domains"] = {
            **props.get("domains", {}),
            "items": {
                "pattern": DOMAIN_PATTERN,
                "description": "expected bare domain names such as acme.com, not URLs",
            },
        }
    soft: dict[str, Any] = {"$schema": DIALECT, "required": list(required), "properties": props}
    if custom is not None:
        # Fields outside the entity schema are kept raw but not shown in Gong (reference 3.8).
        soft["propertyNames"] = {
            "enum": sorted(properties),
            "description": "expected a field of the schema",
        }
    return soft


def _bare(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "$schema"}


def _empty() -> dict[str, Any]:
    return {"$schema": DIALECT}
