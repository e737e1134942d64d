"""value_change: what a normalising rule makes of a value, as one call, the action's own answer."""

from __future__ import annotations

import random
from typing import Any
from zoneinfo import ZoneInfo

from ldjfix.fixing import conversions
from ldjfix.fixing.actions import value_change
from ldjfix.fixing.rules import parse_rules

VALUES: list[Any] = [
    "2024-03-14T00:26:35.864Z",
    "2024-03-14 00:26:35",
    "03/04/2025 10:15",
    "2025-02-30T10:00:00",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00",
    "1710000000",
    1710000000000,
    "Tue, 14 Mar 2024 00:26:35",
    "2024-03-14T00:26:35+05:00",
    "2024-06-30T23:59:60Z",
    "",
    None,
    True,
    17.5,
]


def _outcome(change: Any, value: Any) -> tuple[str, str]:
    try:
        return "value", repr(change(value))
    except conversions.ConversionError as exc:
        return "refused", str(exc)


def test_value_change_in_utc_is_the_converter_with_its_time_zone() -> None:
    """A UTC reformat, called without the rule's keywords, answers what the converter answers
    given the rule's own zone (ZoneInfo "UTC"), for every kind of value, naive ones included."""
    doc = {"rule": [{"field": "modifiedDate", "kind": "invalid", "action": "reformat_datetime"}]}
    change = value_change(parse_rules(doc).rules[0])
    assert change is conversions.to_gong_datetime  # the shortcut this test holds to the rule
    rng = random.Random(5)
    values = VALUES + [
        f"{rng.randint(1, 9999):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 31):02d}"
        f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        for _ in range(500)
    ]
    zone = ZoneInfo("UTC")
    for value in values:
        expected = _outcome(lambda v: conversions.to_gong_datetime(v, zone=zone), value)
        assert _outcome(change, value) == expected, value
