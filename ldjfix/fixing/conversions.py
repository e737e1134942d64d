"""Value conversions behind the fixing actions: datetimes to Gong's format, types, splitting.

Gong wants ISO-8601 datetimes without milliseconds, with ``Z`` or an offset, and dates as
``YYYY-MM-DD`` (reference 3.1, 3.5). CRM exports write many other things; these functions
read the common ones and raise :class:`ConversionError` (with a reason a person can act on)
for the rest, never guessing silently.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any

GONG_DATETIME = "%Y-%m-%dT%H:%M:%SZ"
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%b %d, %Y %H:%M",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
)
_TRUE = frozenset({"true", "yes", "y", "1", "on", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "f"})
_YEAR_OF_SECONDS = 365 * 24 * 3600
_UTC_TEXT = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.[0-9]{1,6})?[Zz]"
)  # UTC, whole seconds or a fraction: the fast path of to_gong_datetime
_EPOCH_TEXT = re.compile(r"\d{9,13}")
_SEPARATORS = re.compile(r"[,;\s]+")
_NUMBER_JUNK = re.compile(r"[\s$€£¥_']")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?%?")


class ConversionError(ValueError):
    """A value that a conversion cannot read; the message says why."""


def gong_now(now: datetime) -> str:
    """``now`` in Gong's datetime format, e.g. ``2026-11-29T14:00:00Z``."""
    return now.astimezone(UTC).strftime(GONG_DATETIME)


def parse_datetime(value: Any, *, zone: tzinfo = UTC, day_first: bool = False) -> datetime:
    """Read a datetime as CRMs write them; a value without a zone is taken to be in ``zone``."""
    if isinstance(value, bool):
        raise ConversionError(f"cannot read {value!r} as a date-time")
    if isinstance(value, int | float):
        # before 1971 it is likelier a YYYYMMDD date such as 20250304; from 1e13 out of range
        if not _YEAR_OF_SECONDS <= abs(value) < 1e13:
            raise ConversionError(f"cannot read {value!r} as a date-time (not an epoch time)")
        return _from_epoch(float(value))
    if not isinstance(value, str) or not value.strip():
        raise ConversionError(f"cannot read {value!r} as a date-time")
    text = value.strip()
    if _EPOCH_TEXT.fullmatch(text):  # epoch seconds or milliseconds written as text
        return _from_epoch(float(text))
    found = _parse_text(text, day_first)
    return found if found.tzinfo else found.replace(tzinfo=zone)


def _parse_text(text: str, day_first: bool) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        pass
    formats = [f.replace("%m/%d", "%d/%m") for f in _FORMATS] if day_first else _FORMATS
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    raise ConversionError(f"cannot read {text!r} as a date-time")


def _from_epoch(seconds: float) -> datetime:
    if abs(seconds) >= 1e10:  # milliseconds: 1e10 seconds would be past the year 2286
        seconds /= 1000
    return datetime.fromtimestamp(seconds, UTC)


def to_gong_datetime(value: Any, *, zone: tzinfo = UTC, day_first: bool = False) -> str:
    """Any readable datetime as Gong wants it: UTC, ``Z``, whole seconds."""
    if type(value) is str and (plain := _UTC_TEXT.fullmatch(value)):
        head = plain[1]  # the common case, e.g. milliseconds in UTC: only the fraction goes
        if head >= "1000":
            try:
                datetime.fromisoformat(head)  # a real date and time (not 2025-02-30)
            except ValueError:
                pass  # the general path says why
            else:
                return head + "Z"
    found = parse_datetime(value, zone=zone, day_first=day_first)
    try:
        utc = found.astimezone(UTC)
        if utc.year >= 1000:  # isoformat is C-fast; strftime would not pad a year below 1000
            return utc.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
        return utc.strftime(GONG_DATETIME)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-05:00 is in the year 10000 in UTC
        raise ConversionError(f"{value!r} is out of range in UTC") from None


def to_gong_date(value: Any, *, zone: tzinfo = UTC, day_first: bool = False) -> str:
    """A date ``YYYY-MM-DD``; the date as written, not shifted to another time zone."""
    if isinstance(value, str) and (match := _ISO_DATE.match(value.strip())):
        try:
            return date(*map(int, match.groups())).isoformat()
        except ValueError:
            raise ConversionError(f"{value!r} is not a real date") from None
    return parse_datetime(value, zone=zone, day_first=day_first).date().isoformat()


def to_number(value: Any) -> float | int:
    """``"1,200.00"`` -> 1200.0, ``"$5"`` -> 5.0, ``"45%"`` -> 45.0; numbers stay as they are."""
    if isinstance(value, bool) or value is None:
        raise ConversionError(f"cannot read {value!r} as a number")
    if isinstance(value, int | float):
        return value
    text = _NUMBER_JUNK.sub("", str(value))
    if "," in text and not _GROUPED.fullmatch(text):
        # "1,5" or "1.200,50": a decimal comma; dropping it would multiply the value
        raise ConversionError(f"cannot read {value!r} as a number (a comma that is not 1,000s)")
    text = text.replace(",", "").removesuffix("%")
    try:
        number = float(text)
    except ValueError:
        raise ConversionError(f"cannot read {value!r} as a number") from None
    if not math.isfinite(number):  # "1e999", "NaN": no JSON number holds them
        raise ConversionError(f"cannot read {value!r} as a number (it is not a finite one)")
    return number


def to_integer(value: Any) -> int:
    """A whole number; ``"1,200"`` -> 1200, ``2.5`` is refused."""
    number = to_number(value)
    if float(number) != int(number):
        raise ConversionError(f"{value!r} is not a whole number")
    return int(number)


def to_boolean(value: Any) -> bool:
    """``"yes"``/``"true"``/``1`` -> True, ``"no"``/``"false"``/``0`` -> False."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConversionError(f"cannot read {value!r} as true or false")


def to_string(value: Any) -> str:
    """Numbers and booleans as JSON writes them (``true``, ``12.5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, dict | list):
        raise ConversionError(f"cannot turn {value!r} into a string")
    return str(value)


def to_array(value: Any, *, split: Callable[[str], list[str]] | None = None) -> list[Any]:
    """``"a.com, b.com"`` -> ``["a.com", "b.com"]``; a single value becomes a one-item list.

    ``split`` cuts a string (a rules file's ``separator``); by default at commas, semicolons
    and white space.
    """
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        parts = (split or _SEPARATORS.split)(value.strip())
        return [part for part in parts if part]
    if value is None:
        raise ConversionError("cannot turn null into an array")
    return [value]


CONVERTERS = {
    "number": to_number,
    "integer": to_integer,
    "boolean": to_boolean,
    "string": to_string,
}
