"""Gong's custom-field model (reference 3.8): checking a field list, and what pushing it changes.

A field definition is ``{uniqueName*, label*, type*, lastModified, isDeleted, referenceTo,
orderedValueList}``: ``type`` one of Gong's fourteen (case-sensitive), ``referenceTo`` required
for REFERENCE, ``orderedValueList`` for PICKLIST. Every problem of a list is collected (not
just the first), so a person fixes the file once. Each schema upload must carry the *full*
list of an object type; a field is removed by sending it with ``isDeleted: true``, and a type
change creates a new field and deletes the old one's data (reference 3.8) — :func:`diff_fields`
says which of these a push would do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = (
    *("BOOLEAN", "DATE", "DATETIME", "PICKLIST", "NUMBER", "PERCENT", "CURRENCY"),
    *("PHONENUMBER", "EMAILADDRESS", "REFERENCE", "ID", "STRING", "URL", "STRINGARRAY"),
)
REFERENCE_TARGETS = ("ACCOUNT", "CONTACT", "DEAL", "LEAD", "USER")
KEYS = (
    *("uniqueName", "label", "type", "lastModified", "isDeleted", "referenceTo"),
    "orderedValueList",
)
_NO_MILLIS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True, slots=True)
class FieldCheck:
    """A checked field list: the definitions to send, problems (errors) and notes (warnings)."""

    fields: tuple[dict[str, Any], ...]
    problems: tuple[str, ...]
    notes: tuple[str, ...]


def check_fields(items: Sequence[Any]) -> FieldCheck:
    """Check every definition against the field model; keys outside it are noted, not sent."""
    problems: list[str] = []
    notes: list[str] = []
    kept: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(items, 1):
        where = f"field {number}"
        if not isinstance(item, dict):
            problems.append(f"{where} is not an object")
            continue
        name = item.get("uniqueName")
        if isinstance(name, str) and name:
            where += f" ({name!r})"
            if name in seen:
                problems.append(f"{where} repeats field {seen[name]}")
            seen.setdefault(name, number)
        problems += [f"{where}: {p}" for p in _problems(item)]
        extra = [k for k in item if k not in KEYS]
        if extra:
            notes.append(
                f"{where}: {', '.join(map(repr, extra))} not in Gong's field model; not sent"
            )
        kept.append({k: v for k, v in item.items() if k in KEYS and v is not None})
    return FieldCheck(tuple(kept), tuple(problems), tuple(notes))


def _problems(item: Mapping[str, Any]) -> list[str]:
    found = []
    if not isinstance(item.get("uniqueName"), str) or not item["uniqueName"]:
        hint = " (Gong's field model calls the key uniqueName)" if "name" in item else ""
        found.append(f"'uniqueName' is required{hint}")
    if not isinstance(item.get("label"), str) or not item["label"]:
        found.append("'label' is required")
    kind = item.get("type")
    if not isinstance(kind, str) or kind not in FIELD_TYPES:
        found.append(f"'type' {kind!r} is not one of {', '.join(FIELD_TYPES)} (case-sensitive)")
    if kind == "REFERENCE" and item.get("referenceTo") not in REFERENCE_TARGETS:
        found.append(f"a REFERENCE needs 'referenceTo', one of {', '.join(REFERENCE_TARGETS)}")
    elif "referenceTo" in item and item["referenceTo"] not in (*REFERENCE_TARGETS, None):
        found.append(f"'referenceTo' {item['referenceTo']!r} is not one of {REFERENCE_TARGETS}")
    values = item.get("orderedValueList")
    listed = isinstance(values, list) and all(isinstance(v, str) for v in values)
    if kind == "PICKLIST" and not (listed and values):
        found.append("a PICKLIST needs 'orderedValueList', a non-empty list of strings")
    elif values is not None and not listed:
        found.append("'orderedValueList' must be a list of strings")
    deleted = item.get("isDeleted")
    if deleted is not None and not isinstance(deleted, bool):
        found.append("'isDeleted' must be true or false")
    modified = item.get("lastModified")
    if modified is not None and not (isinstance(modified, str) and _NO_MILLIS.fullmatch(modified)):
        found.append("'lastModified' must be an ISO-8601 date-time without milliseconds")
    return found


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    """What sending a field list would change in Gong's schema of one object type."""

    added: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()  # in Gong, left out of the list
    deleted: tuple[str, ...] = ()  # sent with isDeleted: true
    retyped: tuple[tuple[str, str, str], ...] = ()  # (name, old type, new type): data lost
    changed: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, keys that differ)
    unchanged: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """True when the push would change nothing."""
        return not (self.added or self.dropped or self.deleted or self.retyped or self.changed)

    @property
    def loses_data(self) -> bool:
        """True when fields (and their values) would go: dropped, deleted or retyped."""
        return bool(self.dropped or self.deleted or self.retyped)

    def as_json(self) -> dict[str, Any]:
        """The ``schema diff --json`` document."""
        return {
            "added": list(self.added),
            "removed": list(self.dropped),
            "deleted": list(self.deleted),
            "retyped": [{"field": n, "from": a, "to": b} for n, a, b in self.retyped],
            "changed": [{"field": n, "keys": list(k)} for n, k in self.changed],
            "unchanged": self.unchanged,
        }

    def lines(self) -> list[str]:
        """One line per change, for people."""
        out = [f"+ {name}: new field" for name in self.added]
        out += [f"- {name}: left out of the list; Gong would remove it and its values"
                for name in self.dropped]  # fmt: skip
        out += [
            f"- {name}: isDeleted=true; Gong removes it and its values" for name in self.deleted
        ]
        out += [f"~ {n}: type {a} -> {b}; Gong creates a new field and deletes the old one's data"
                for n, a, b in self.retyped]  # fmt: skip
        out += [f"~ {n}: {', '.join(k)} changed (values kept)" for n, k in self.changed]
        return out


def diff_fields(
    current: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]
) -> SchemaDiff:
    """What sending ``wanted`` does to Gong's ``current`` fields (both lists of definitions)."""
    have = {str(f.get("uniqueName", f.get("name"))): f for f in current if isinstance(f, Mapping)}
    added, deleted, retyped, changed = [], [], [], []
    unchanged = 0
    sent = set()
    for item in wanted:
        name = str(item.get("uniqueName"))
        sent.add(name)
        old = have.get(name)
        if item.get("isDeleted") is True:
            if old is not None:
                deleted.append(name)
            continue
        if old is None:
            added.append(name)
        elif old.get("type") != item.get("type"):
            retyped.append((name, str(old.get("type")), str(item.get("type"))))
        else:
            keys = tuple(k for k in ("label", "referenceTo", "orderedValueList")
                         if old.get(k) != item.get(k))  # fmt: skip
            if keys:
                changed.append((name, keys))
            else:
                unchanged += 1
    dropped = tuple(sorted(name for name in have if name not in sent))
    return SchemaDiff(
        tuple(added), dropped, tuple(deleted), tuple(retyped), tuple(changed), unchanged
    )
