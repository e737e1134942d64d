"""Tests of the value conversions behind the rules: datetimes, numbers, booleans, arrays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ldjfix.fixing import conversions as convert
from ldjfix.validation.validator import Validator

DATETIMES = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
OFFSETS = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@given(DATETIMES, OFFSETS, st.sampled_from(["iso", "iso-space", "us", "epoch", "epoch-ms"]))
def test_convert_any_readable_datetime_becomes_valid_for_gong(
    moment: datetime, zone: timezone, form: str
) -> None:
    """Whatever readable form a datetime comes in, the result passes the validator, same instant."""
    local = moment.astimezone(zone)
    text: object = {
        "iso": local.isoformat(),
        "iso-space": local.isoformat(sep=" "),
        "us": moment.strftime("%m/%d/%Y %H:%M:%S"),
        "epoch": int(moment.timestamp()),
        "epoch-ms": int(moment.timestamp() * 1000),
    }[form]
    result = convert.to_gong_datetime(text)
    record = {"objectId": "a", "modifiedDate": result}
    assert [f.field for f in Validator("BUSINESS_USER", strict=False).check_record(1, record)] == [
        "emailAddress"
    ]
    assert abs(datetime.fromisoformat(result) - moment.replace(microsecond=0)) < timedelta(
        seconds=1
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-04T10:15:00.123Z", "2025-03-04T10:15:00Z"),
        ("2025-03-04T10:15:00.123+02:00", "2025-03-04T08:15:00Z"),
        ("03/04/2025 10:15", "2025-03-04T10:15:00Z"),
        ("Mar 4, 2025", "2025-03-04T00:00:00Z"),
        ("Tue, 04 Mar 2025 10:15:00 +0000", "2025-03-04T10:15:00Z"),
    ],
)
def test_convert_to_gong_datetime_common_forms(value: str, expected: str) -> None:
    """Milliseconds, offsets, US and RFC 2822 forms all become UTC Z without milliseconds."""
    assert convert.to_gong_datetime(value) == expected


def test_convert_to_gong_date_keeps_the_written_date() -> None:
    """A date with a time keeps its own calendar date (no shift to UTC); impossible dates fail."""
    assert convert.to_gong_date("2025-06-30T23:30:00-05:00") == "2025-06-30"
    assert convert.to_gong_date("06/30/2025") == "2025-06-30"
    with pytest.raises(convert.ConversionError, match="not a real date"):
        convert.to_gong_date("2025-02-30")


def test_convert_numbers_booleans_and_arrays() -> None:
    """The coercions a rules file can ask for, and what they refuse."""
    assert convert.to_number("1,200.00") == 1200.0
    assert convert.to_number("$ 5") == 5.0
    assert convert.to_integer("1,200") == 1200
    assert (convert.to_boolean("yes"), convert.to_boolean("False"), convert.to_boolean(0)) == (
        True,
        False,
        False,
    )
    assert convert.to_array("a.com, b.com;c.com") == ["a.com", "b.com", "c.com"]
    assert convert.to_string(True) == "true"
    for bad, function in [
        ("n/a", convert.to_number),
        ("maybe", convert.to_boolean),
        (2.5, convert.to_integer),
    ]:
        with pytest.raises(convert.ConversionError):
            function(bad)  # type: ignore[operator]
    with pytest.raises(convert.ConversionError, match="cannot read 'soon' as a date-time"):
        convert.to_gong_datetime("soon")
