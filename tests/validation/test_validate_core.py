"""Tests of the local validator on single records and whole streams."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest

from ldjfix.errors import UsageProblem
from ldjfix.validation.validator import Validator, reference_validator
from ldjfix.validation.wholefile import validate_file

GOOD = {
    "objectId": "a-1",
    "modifiedDate": "2024-01-01T10:00:00Z",
    "name": "Acme",
    "domains": ["acme.com"],
}


def _descriptions(object_type: str, record: dict[str, Any], **kw: Any) -> list[str]:
    return [f.description for f in Validator(object_type, **kw).check_record(1, record)]


def test_validator_passes_a_good_account() -> None:
    """A record that follows every rule has no findings."""
    assert Validator("ACCOUNT").check_record(1, GOOD) == []


def test_validator_missing_object_id_in_gongs_words() -> None:
    """A missing objectId reads exactly like Gong's published error."""
    record = {k: v for k, v in GOOD.items() if k != "objectId"}
    assert _descriptions("ACCOUNT", record) == ["Mandatory field [objectId] is missing or empty"]


@pytest.mark.parametrize("value", [None, ""])
def test_validator_empty_mandatory_counts_as_missing(value: object) -> None:
    """null and "" in a mandatory field are 'missing or empty', as Gong says."""
    assert _descriptions("ACCOUNT", {**GOOD, "modifiedDate": value}) == [
        "Mandatory field [modifiedDate] is missing or empty"
    ]


def test_validator_catches_bad_datetime_and_bad_url_in_both_validators() -> None:
    """Format checks really run: values that pass the patterns but not the formats are caught."""
    validator = Validator("ACCOUNT")
    for field, value in [
        ("modifiedDate", "2024-13-45T10:00:00Z"),
        ("url", "https://exa mple.com/"),
    ]:
        record = {**GOOD, field: value}
        assert not validator._rs_hard.is_valid(record)  # jsonschema-rs
        failing = reference_validator(validator.schemas.hard).iter_errors(
            record
        )  # python-jsonschema
        assert [(list(e.path), e.validator) for e in failing] == [([field], "format")]
        assert [f.field for f in validator.check_record(1, record)] == [field]


def test_validator_rejects_milliseconds() -> None:
    """Gong forbids milliseconds, which JSON Schema's date-time allows."""
    found = _descriptions("ACCOUNT", {**GOOD, "modifiedDate": "2024-01-01T10:00:00.123Z"})
    assert found == [
        "Invalid value for field [modifiedDate]: expected an ISO-8601 date-time without "
        "milliseconds, e.g. 2025-03-04T10:15:00Z"
    ]


def test_validator_underscore_in_object_id_is_a_warning_unless_strict() -> None:
    """Gong's docs contradict themselves on '_': a warning, an error only with strict."""
    record = {**GOOD, "objectId": "a_1"}
    (loose,) = Validator("ACCOUNT").check_record(1, record)
    (strict,) = Validator("ACCOUNT", strict=True).check_record(1, record)
    assert (loose.severity, strict.severity) == ("warning", "error")
    assert loose.field == strict.field == "objectId"


def test_validator_stream_reports_broken_lines_and_duplicates() -> None:
    """Invalid JSON, non-objects and duplicate objectIds are findings with their line numbers."""
    data = orjson.dumps(GOOD) + b"\n\n[1]\n{bad\n" + orjson.dumps(GOOD) + b"\n"
    found = list(Validator("ACCOUNT", strict=True).check_stream(io.BytesIO(data)))
    assert [(f.line, f.field) for f in found] == [(3, None), (4, None), (5, "objectId")]
    assert "already appears on line 1" in found[2].description


def test_validate_file_counts_valid_and_invalid(tmp_path: Any) -> None:
    """The report counts lines with records; blank lines count as neither."""
    path = tmp_path / "a.ldjson"
    path.write_bytes(orjson.dumps(GOOD) + b"\n\n" + orjson.dumps({"objectId": "x"}) + b"\n")
    report = validate_file(path, "ACCOUNT")
    assert (report.valid, report.invalid) == (1, 1)


def test_validator_unknown_object_type_is_a_usage_problem() -> None:
    """A misspelt object type stops with exit 2 (usage) and the list of types."""
    with pytest.raises(UsageProblem, match="objectType 'account' is not one of ACCOUNT, CONTACT"):
        Validator("account")


def test_validator_reuses_explanations_per_failure_shape() -> None:
    """Records failing the same way share one explanation (a shape), with their own values."""
    base = {"name": "n", "domains": ["a.com"]}
    records = [
        {**base, "objectId": None, "modifiedDate": "2024-01-01T10:00:00Z"},
        {**base, "objectId": 5, "modifiedDate": "2024-01-01T10:00:00Z"},
        {**base, "objectId": "", "modifiedDate": "2024-01-01T10:00:00Z"},
        {**base, "objectId": "a#1", "modifiedDate": "2024-01-01T10:00:00.1Z"},
        {**base, "objectId": "b#2", "modifiedDate": "2024-01-01T10:00:00.2Z"},
        {**base, "objectId": "c#3", "modifiedDate": "2024-01-01T10:00:00.3Z"},
        {"objectId": "x", "name": "n", "domains": ["a.com", 7]},
        {"objectId": "y", "modifiedDate": None, "domains": [8, "b.com"]},
        {"objectId": "z", "modifiedDate": None, "domains": [8, "b.com"]},
    ]
    shared = Validator("ACCOUNT")
    for line, record in enumerate(records, 1):
        assert shared.check_record(line, record) == Validator("ACCOUNT").check_record(line, record)
    assert len(shared._shapes.relaxed) == 2  # objectId, objectId + date; the rest lack a field


def test_validator_duplicates_name_the_first_line_across_gaps_and_a_bom() -> None:
    """Repeats are found after blank, broken and id-less lines, with a BOM on line 1."""
    rec = orjson.dumps(GOOD)
    data = b"\xef\xbb\xbf" + rec + b"\n\n{bad\n" + orjson.dumps({"x": 1}) + b"\n" + rec + b"\n"
    data += b"".join(orjson.dumps({**GOOD, "objectId": f"id-{n}"}) + b"\n" for n in range(500))
    data += rec + b"\r\n"
    stream = io.BytesIO(data)
    found = [f for f in Validator("ACCOUNT").check_stream(stream) if "Duplicate" in f.description]
    assert [(f.line, f.description) for f in found] == [
        (5, "Duplicate value for field [objectId]: 'a-1' already appears on line 1"),
        (506, "Duplicate value for field [objectId]: 'a-1' already appears on line 1"),
    ]
    assert {f.severity for f in found} == {"warning"}


def test_validator_empty_object_ids_are_missing_not_repeated() -> None:
    """Two records with objectId "" are each 'missing', never a duplicate of each other."""
    line = orjson.dumps({**GOOD, "objectId": ""}) + b"\n"
    found = list(Validator("ACCOUNT").check_stream(io.BytesIO(line * 2)))
    assert [(f.line, f.description) for f in found] == [
        (1, "Mandatory field [objectId] is missing or empty"),
        (2, "Mandatory field [objectId] is missing or empty"),
    ]


def test_validator_known_failures_say_what_check_record_says() -> None:
    """Once a failure shape is known, its (field, text, severity) are check_record's findings."""
    validator = Validator("ACCOUNT")
    first = {**GOOD, "modifiedDate": "2024-01-01T10:00:00.123Z"}
    second = {**GOOD, "objectId": "a-2", "modifiedDate": "2025-06-30T08:00:00.9+02:00"}
    assert validator.known_failures(GOOD) == []
    found = validator.check_record(1, first)  # learns the shape
    assert found
    for record in (first, second):
        expected = [(f.field, f.description, f.severity) for f in validator.check_record(2, record)]
        assert validator.known_failures(record) == expected
    assert validator.known_failures({**GOOD, "name": None, "objectId": 5}) is None  # a new shape
