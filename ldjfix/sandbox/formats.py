"""Value formats the sandbox checks, each a function: a value in, None or what was expected.

Gong's documented formats (Gong's CRM API reference, section 3.1-3.8): ISO-8601 date-times without
milliseconds (with ``Z`` or an offset), ``YYYY-MM-DD`` dates, booleans, numbers, string arrays,
http(s) URLs; and :data:`BY_SCHEMA_TYPE`, the check for each custom-field type of the entity
schema (PICKLIST is checked against its value list by the caller).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date as _date_type
from datetime import datetime as _datetime_type

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
DATETIME_HINT = "expected an ISO-8601 date-time without milliseconds, e.g. 2024-05-01T10:00:00Z"


def datetime(value: object) -> str | None:
    """An ISO-8601 date-time with Z or an offset and no milliseconds."""
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        return DATETIME_HINT
    try:
        _datetime_type.fromisoformat(value)
    except ValueError:
        return DATETIME_HINT
    return None


def date(value: object) -> str | None:
    """A date YYYY-MM-DD."""
    hint = "expected a date YYYY-MM-DD"
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return hint
    try:
        _date_type.fromisoformat(value)
    except ValueError:
        return hint
    return None


def boolean(value: object) -> str | None:
    """true or false."""
    return None if isinstance(value, bool) else "expected true or false"


def number(value: object) -> str | None:
    """A JSON number (not a boolean)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return None if ok else "expected a number"


def sort_order(value: object) -> str | None:
    """An integer from 1."""
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    return None if ok else "expected an integer from 1"


def string_array(value: object) -> str | None:
    """An array of strings."""
    if not isinstance(value, list):
        return _STRING_ARRAY_HINT
    for entry in value:  # a plain loop: every ACCOUNT record has one, all() of a genexpr costs 3x
        if not isinstance(entry, str):
            return _STRING_ARRAY_HINT
    return None


_STRING_ARRAY_HINT = "expected an array of strings"


def url(value: object) -> str | None:
    """A full http(s) URL."""
    ok = isinstance(value, str) and _URL.fullmatch(value)
    return None if ok else "expected a full http(s) URL"


def deal_status(value: object) -> str | None:
    """One of WON, LOST, OPEN."""
    return None if value in ("WON", "LOST", "OPEN") else "expected one of WON, LOST, OPEN"


def string(value: object) -> str | None:
    """A string."""
    return None if isinstance(value, str) else "expected a string"


def email(value: object) -> str | None:
    """An email address."""
    ok = isinstance(value, str) and EMAIL.fullmatch(value)
    return None if ok else "expected an email address"


def percent(value: object) -> str | None:
    """A number from 0 to 100."""
    if number(value) or not 0 <= value <= 100:  # type: ignore[operator]
        return "expected a number from 0 to 100"
    return None


BY_SCHEMA_TYPE: dict[str, Callable[[object], str | None]] = {
    "BOOLEAN": boolean,
    "DATE": date,
    "DATETIME": datetime,
    "NUMBER": number,
    "PERCENT": percent,
    "CURRENCY": number,
    "PHONENUMBER": string,
    "EMAILADDRESS": email,
    "REFERENCE": string,
    "ID": string,
    "STRING": string,
    "URL": url,
    "STRINGARRAY": string_array,
}
