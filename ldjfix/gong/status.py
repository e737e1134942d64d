"""Gong's request-status response as typed values (``GET /v2/crm/request-status``).

Tolerant by design: unknown fields are ignored (Gong may add some without notice), optional
ones may be absent or null. What is not a status at all is an :class:`InputProblem` (exit 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from ldjfix.errors import InputProblem

TERMINAL = frozenset({"DONE", "FAILED"})
KNOWN_STATES = frozenset({"PENDING", "IN_PROGRESS", "DONE", "FAILED"})
_FIELD_IN_BRACKETS = re.compile(r"\[([^\[\]]{1,200})\]")


@lru_cache(maxsize=8192)  # asked for every error of every record; most texts repeat
def field_named_in(description: str) -> str | None:
    """The field a description names, e.g. ``objectId`` in "Mandatory field [objectId] is …"."""
    match = _FIELD_IN_BRACKETS.search(description)
    return match.group(1).strip() or None if match else None


@dataclass(frozen=True, slots=True)
class LineError:
    """One entry of ``errors[]``: a line of the uploaded file (0 = the whole file) and why."""

    line: int
    description: str

    @property
    def field(self) -> str | None:
        """The field named in the description, when there is one."""
        return field_named_in(self.description)

    @property
    def is_general(self) -> bool:
        """True for a file-level error (``line: 0``)."""
        return self.line == 0


@dataclass(frozen=True, slots=True)
class Status:
    """One request-status answer. ``raw`` keeps Gong's fields exactly as they came."""

    status: str
    errors: tuple[LineError, ...]
    total_error_count: int | None
    total_success_count: int | None
    request_id: str | None
    raw: dict[str, Any]

    @property
    def is_terminal(self) -> bool:
        """DONE or FAILED: polling can stop."""
        return self.status in TERMINAL

    @property
    def general_errors(self) -> tuple[LineError, ...]:
        """File-level errors (``line: 0``)."""
        return tuple(e for e in self.errors if e.is_general)

    @property
    def line_errors(self) -> tuple[LineError, ...]:
        """Errors that name a line (N >= 1)."""
        return tuple(e for e in self.errors if not e.is_general)

    @property
    def all_failures_listed(self) -> bool:
        """True when ``totalErrorCount`` says nothing failed beyond the errors listed."""
        listed = len({e.line for e in self.line_errors})
        return self.total_error_count is not None and self.total_error_count <= listed


def parse_status(data: bytes, *, source: str) -> Status:
    """Read a request-status response from JSON bytes; ``source`` names it in error messages."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputProblem(
            f"{source} is not JSON ({exc.msg} at character {exc.pos + 1}).",
            hint="Pass the saved body of a GET /v2/crm/request-status response.",
        ) from None
    return status_from_dict(doc, source=source)


def status_from_dict(doc: object, *, source: str) -> Status:
    """Build a :class:`Status` from an already-parsed JSON document."""
    hint = (
        "Expected a GET /v2/crm/request-status response such as "
        '{"status": "FAILED", "errors": [{"line": 3, "description": "..."}]}.'
    )
    if not isinstance(doc, dict):
        raise InputProblem(f"{source} is not a request status (not a JSON object).", hint=hint)
    state = doc.get("status")
    if not isinstance(state, str) or not state:
        raise InputProblem(f"{source} is not a request status (no 'status' field).", hint=hint)
    raw_errors = doc.get("errors")
    if raw_errors is None:
        raw_errors = []
    if not isinstance(raw_errors, list):
        raise InputProblem(f"{source}: 'errors' is not a list.", hint=hint)
    errors = tuple(_line_error(item, i, source, hint) for i, item in enumerate(raw_errors, 1))
    return Status(
        status=state,
        errors=errors,
        total_error_count=_count(doc, "totalErrorCount", source, hint),
        total_success_count=_count(doc, "totalSuccessCount", source, hint),
        request_id=doc["requestId"] if isinstance(doc.get("requestId"), str) else None,
        raw=doc,
    )


def _line_error(item: object, index: int, source: str, hint: str) -> LineError:
    if not isinstance(item, dict):
        raise InputProblem(f"{source}: errors[{index}] is not an object.", hint=hint)
    line = item.get("line", 0)
    if line is None:
        line = 0  # an error that names no line concerns the whole file
    if isinstance(line, bool) or not isinstance(line, int) or line < 0:
        raise InputProblem(
            f"{source}: errors[{index}].line is {line!r}, not a line number.", hint=hint
        )
    description = item.get("description")
    return LineError(line, description if isinstance(description, str) else "")


def _count(doc: dict[str, Any], key: str, source: str, hint: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputProblem(f"{source}: '{key}' is {value!r}, not a count.", hint=hint)
    return value
