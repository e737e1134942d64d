"""The error descriptions ldjfix and its sandbox write, in the shape of Gong's.

Gong publishes one per-line text, ``Mandatory field [objectId] is missing or empty``
(Gong's CRM API reference, section 4.1); every description here names its field in square
brackets the same way, so :func:`ldjfix.gong.status.field_named_in` finds the field in local
and remote errors alike.
"""

from __future__ import annotations

import re
from functools import lru_cache


def mandatory(field: str) -> str:
    """A required field is absent, null or empty (Gong's own wording)."""
    return f"Mandatory field [{field}] is missing or empty"


def invalid(field: str, detail: str) -> str:
    """A field's value has the wrong type or format."""
    return f"Invalid value for field [{field}]: {detail}"


def too_long(field: str, limit: int) -> str:
    """A string field is longer than allowed."""
    return f"Field [{field}] exceeds the maximum length of {limit} characters"


def dangling(field: str, value: str) -> str:
    """A reference to an object the receiver has never been sent."""
    return f"Referenced object [{field}] '{value}' was not found"


def duplicate(object_id: str, first_line: int) -> str:
    """The same objectId appears twice in one file."""
    return (
        f"Duplicate value for field [objectId]: '{object_id}' already appears on line {first_line}"
    )


def unparsable(detail: str) -> str:
    """A line that is not one JSON object."""
    return f"Unable to parse the line as a JSON object: {detail}"


KIND_PATTERNS = (
    ("missing", re.compile(r"is missing or empty|^Mandatory field", re.I)),
    ("too_long", re.compile(r"exceeds the maximum length|too long", re.I)),
    ("dangling", re.compile(r"^Referenced object|was not found", re.I)),
    ("duplicate", re.compile(r"^Duplicate|already appears", re.I)),
    ("unparsable", re.compile(r"^Unable to parse|not valid JSON|malformed", re.I)),
    ("invalid", re.compile(r"^Invalid value|invalid", re.I)),
)


@lru_cache(maxsize=4096)  # rules ask once per error per rule; most texts repeat
def defect_kind(description: str) -> str:
    """The kind of defect a description states (``other`` for texts nobody has catalogued)."""
    for kind, pattern in KIND_PATTERNS:
        if pattern.search(description):
            return kind
    return "other"
