"""Tests of the value conversions behind the rules: datetimes, numbers, booleans, arrays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ldjfix.fixing import conversions as convert
from ldjfix.validation.validator import Validator
from tests.support.fixing import fix_by_rule

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


BAD_DATETIME = "Invalid value for field [modifiedDate]: expected an ISO-8601 date-time"


def test_convert_coerce_number_refuses_a_decimal_comma(tmp_path: Path) -> None:
    """coerce to number quarantines "1,5" and "1.200,50" instead of writing 15.0 and 1.2005."""
    deal = '{"objectId":"d-%d","modifiedDate":"2024-01-01T00:00:00Z","amount":"%s"}'
    bad = "Invalid value for field [amount]: expected a number"
    rule = 'field = "amount"\naction = "coerce"\nto = "number"\n'
    result, out = fix_by_rule(
        tmp_path, [deal % (1, "1,5"), deal % (2, "1.200,50")], bad, rule, "DEAL"
    )
    assert "0 fixed, 2 quarantined" in result.output
    assert out.read_text() == ""


def test_convert_reformat_date_refuses_a_yyyymmdd_number(tmp_path: Path) -> None:
    """reformat_datetime quarantines closeDate 20250304 (a number) instead of writing 1970-08-23."""
    deal = '{"objectId":"d-1","modifiedDate":"2024-01-01T00:00:00Z","closeDate":20250304}'
    bad = "Invalid value for field [closeDate]: expected a date YYYY-MM-DD without a time"
    rule = 'field = "closeDate"\naction = "reformat_datetime"\nto = "date"\n'
    result, out = fix_by_rule(tmp_path, [deal], bad, rule, "DEAL")
    assert "0 fixed, 1 quarantined" in result.output
    assert "1970" not in out.read_text()


def test_convert_reformat_datetime_huge_number_is_quarantined(tmp_path: Path) -> None:
    """reformat_datetime on modifiedDate 1e16 quarantines the record instead of a traceback."""
    user = '{"objectId":"u-1","modifiedDate":1e16,"emailAddress":"a@b.com"}'
    rule = 'field = "modifiedDate"\naction = "reformat_datetime"\n'
    result, _ = fix_by_rule(tmp_path, [user], BAD_DATETIME, rule, "BUSINESS_USER")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "0 fixed, 1 quarantined" in result.output


def test_convert_reformat_datetime_year_9999_is_quarantined(tmp_path: Path) -> None:
    """reformat_datetime on the 9999-12-31 sentinel with an offset quarantines, no traceback."""
    user = (
        '{"objectId":"u-1","modifiedDate":"9999-12-31T23:59:59.000-05:00","emailAddress":"a@b.com"}'
    )
    rule = 'field = "modifiedDate"\naction = "reformat_datetime"\n'
    result, _ = fix_by_rule(tmp_path, [user], BAD_DATETIME, rule, "BUSINESS_USER")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "0 fixed, 1 quarantined" in result.output


def _general_path(value: str) -> str:
    """to_gong_datetime without its fast path: parse, shift to UTC, whole seconds."""
    utc = convert.parse_datetime(value).astimezone(UTC)
    if utc.year >= 1000:
        return utc.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return utc.strftime(convert.GONG_DATETIME)


@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from(["", ".1", ".864", ".123456", ".1234567"]),
    st.sampled_from(["Z", "z"]),
)
def test_convert_utc_fast_path_agrees_with_the_general_path(
    moment: datetime, fraction: str, zulu: str
) -> None:
    """A UTC date-time with or without a fraction converts exactly as the general path does."""
    value = moment.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0") + fraction + zulu
    assert convert.to_gong_datetime(value) == _general_path(value)


@pytest.mark.parametrize(
    "value", ["2024-02-30T00:00:00.5Z", "2024-03-14T24:00:00Z", "2024-03-14T00:26:60.1Z"]
)
def test_convert_utc_fast_path_refuses_what_is_no_real_time(value: str) -> None:
    """A UTC-looking text that is no real date or time is refused, as before the fast path."""
    with pytest.raises(convert.ConversionError):
        convert.to_gong_datetime(value)
