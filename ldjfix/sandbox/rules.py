"""The rules a simulated Gong holds each uploaded record to, put in order once per upload.

:class:`RecordRules` is the sandbox's own reading of Gong's rules (see :mod:`judge`): which
fields are mandatory, the format of each standard field of a type, ACCOUNT's bare domain names,
``name``'s length, the custom fields of the entity schema and the fields that name other objects.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ldjfix.gong import descriptions as say
from ldjfix.sandbox import formats as fmt

MAX_NAME = 255
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)

# (object type, field) -> the object type its value must name
REFERENCES: dict[tuple[str, str], str] = {
    ("CONTACT", "accountId"): "ACCOUNT",
    ("DEAL", "accountId"): "ACCOUNT",
    ("DEAL", "ownerId"): "BUSINESS_USER",
    ("DEAL", "stage"): "STAGE",
    ("LEAD", "convertedToDealId"): "DEAL",
    ("LEAD", "convertedToContactId"): "CONTACT",
    ("LEAD", "convertedToAccountId"): "ACCOUNT",
}
_MANDATORY: dict[str, tuple[str, ...]] = {"STAGE": ("objectId", "name")}
_DEFAULT_MANDATORY = ("objectId", "modifiedDate")

Check = Callable[[object], "str | None"]


@dataclass(frozen=True)
class RecordRules:
    """The rules one object type's records must keep, put in order once per upload.

    :meth:`first_broken` tries them in this order, one description for the first broken:
    mandatory fields (BUSINESS_USER's ``emailAddress`` unless it is a deletion), ``objectId``,
    the standard fields of the type, ACCOUNT's domain names, ``name``'s length, the custom
    fields of the entity schema. ``references`` (field -> the type it names) are checked
    after all of them, against the objects the sandbox holds.
    """

    mandatory: tuple[str, ...]
    live_mandatory: tuple[str, ...]  # mandatory too, unless the record is a deletion
    standard: tuple[tuple[str, Check], ...]
    bare_domains: bool
    custom: tuple[tuple[str, Check], ...]
    references: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, object_type: str, custom: Mapping[str, Mapping[str, Any]]) -> RecordRules:
        """The rules of ``object_type`` with the custom fields of its entity schema."""
        checks = [(name, _custom_check(spec)) for name, spec in custom.items()]
        return cls(
            mandatory=_MANDATORY.get(object_type, _DEFAULT_MANDATORY),
            live_mandatory=("emailAddress",) if object_type == "BUSINESS_USER" else (),
            standard=_standard_checks(object_type),
            bare_domains=object_type == "ACCOUNT",
            custom=tuple((name, check) for name, check in checks if check is not None),
            references=tuple(reference_targets(object_type, custom).items()),
        )

    def first_broken(self, record: Mapping[str, Any]) -> str | None:
        """The description of the first rule ``record`` breaks, or None (references aside)."""
        get = record.get
        mandatory = self.mandatory
        if self.live_mandatory and get("isDeleted") is not True:
            mandatory += self.live_mandatory
        for name in mandatory:
            value = get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                return say.mandatory(name)
        problem = _object_id(record["objectId"])
        if problem:
            return problem
        for name, check in self.standard:
            value = get(name)
            if value is not None and (problem := check(value)):
                return say.invalid(name, problem)
        if self.bare_domains and isinstance(domains := get("domains"), list):
            for entry in domains:
                if not _DOMAIN.fullmatch(entry):
                    return say.invalid(
                        "domains", f"'{entry}' is not a bare domain name like acme.com"
                    )
        title = get("name")
        if isinstance(title, str) and len(title) > MAX_NAME:
            return say.too_long("name", MAX_NAME)
        for name, check in self.custom:
            value = get(name)
            if value is not None and (problem := check(value)):
                return say.invalid(name, problem)
        return None


def _object_id(value: object) -> str | None:
    if not isinstance(value, str):
        return say.invalid("objectId", "must be a string")
    if len(value) > 64:
        return say.too_long("objectId", 64)
    if not (_ID.fullmatch(value) or fmt.EMAIL.fullmatch(value)):
        return say.invalid("objectId", "only letters, digits, '-' and '_', or an email address")
    return None


# field -> (the object types it is a standard field of, empty = all; its check)
_STANDARD: dict[str, tuple[tuple[str, ...], Check]] = {
    "modifiedDate": ((), fmt.datetime),
    "createdDate": (("DEAL",), fmt.datetime),
    "closeDate": (("DEAL",), fmt.date),
    "status": (("DEAL",), fmt.deal_status),
    "amount": (("DEAL",), fmt.number),
    "isDeleted": ((), fmt.boolean),
    "isActive": (("STAGE",), fmt.boolean),
    "sortOrder": (("STAGE",), fmt.sort_order),
    "domains": (("ACCOUNT",), fmt.string_array),
    "url": ((), fmt.url),
}


@functools.cache
def _standard_checks(object_type: str) -> tuple[tuple[str, Check], ...]:
    """The standard fields of ``object_type`` and their checks, in :data:`_STANDARD` order."""
    return tuple(
        (name, check)
        for name, (types, check) in _STANDARD.items()
        if not types or object_type in types
    )


@dataclass(frozen=True, eq=False)
class OneOf:
    """A PICKLIST field's check: the value is one of the entity schema's ``orderedValueList``."""

    allowed: Any  # the list as the entity schema gave it
    hint: str

    def __call__(self, value: object) -> str | None:
        return None if value in self.allowed else self.hint


def _custom_check(spec: Mapping[str, Any]) -> Check | None:
    """The check of one custom field's values by its schema type (None: any value passes)."""
    if spec.get("type") == "PICKLIST":
        allowed = spec.get("orderedValueList") or []
        return OneOf(allowed, f"expected one of {', '.join(map(str, allowed))}")
    return fmt.BY_SCHEMA_TYPE.get(str(spec.get("type")))


def reference_targets(object_type: str, custom: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The fields of ``object_type`` that name another object, and that object's type."""
    targets = {f: t for (kind, f), t in REFERENCES.items() if kind == object_type}
    for name, spec in custom.items():
        if spec.get("type") == "REFERENCE" and spec.get("referenceTo"):
            target = str(spec["referenceTo"])
            targets[name] = "BUSINESS_USER" if target == "USER" else target
    return targets
