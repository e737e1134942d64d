"""Checking a record again after a fix by its shape's field rules, against the full check."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ldjfix.validation.shapes import reads_values_by_name_only
from ldjfix.validation.validator import Validator

GOOD: dict[str, Any] = {
    "objectId": "001-1",
    "modifiedDate": "2024-01-01T00:00:00Z",
    "name": "Acme",
    "domains": ["acme.com"],
}
VALUES = [
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.5Z",
    "2024-02-30T00:00:00Z",
    "soon",
    "",
    None,
    17,
    True,
    ["2024-01-01T00:00:00Z"],
    "x" * 300,
    {"nested": 1},
]


BROKEN = [("modifiedDate", "2024-01-01T00:00:00.1Z"), ("name", 5), ("domains", "acme.com"),
          ("objectId", "a_b"), ("url", "ftp://x")]  # fmt: skip


@pytest.mark.parametrize(("name", "broken"), BROKEN)
def test_validator_passes_changed_says_what_the_full_check_says(name: str, broken: Any) -> None:
    """Any value put in the shape's field: the field rules agree with the whole-record check."""
    validator = Validator("ACCOUNT")
    record = {**GOOD, "url": "https://x.example", name: broken}
    assert validator.check_record(1, record)  # learn the shape
    known = validator.known_shape(record)
    assert known is not None and known[1] is not None and name in known[1][0]
    for value, other in itertools.product(VALUES, (None, True, "yes")):
        changed = {**record, name: value}
        assert validator.passes_changed(changed, known[1], [name]) == validator.passes(changed)
        also = {**changed, "isDeleted": other}  # a field outside the shape: the full check
        assert validator.passes_changed(also, known[1], [name, "isDeleted"]) == validator.passes(
            also
        )


def test_validator_passes_changed_with_a_field_removed_checks_in_full() -> None:
    """A shape field gone since (a drop) is never taken on the field rules' word."""
    validator = Validator("ACCOUNT")
    record = {**GOOD, "modifiedDate": "2024-01-01T00:00:00.1Z"}
    validator.check_record(1, record)
    known = validator.known_shape(record)
    assert known is not None
    dropped = {k: v for k, v in record.items() if k != "modifiedDate"}
    assert not validator.passes_changed(dropped, known[1], ["modifiedDate"])  # mandatory


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "object", "properties": {"a": {"enum": [1, 2]}}, "required": ["a"]}, True),
        ({"allOf": [{"properties": {"a": {"const": 1}}}], "not": {"required": ["b"]}}, True),
        ({"properties": {"a": {}}, "additionalProperties": False}, False),
        ({"allOf": [{"patternProperties": {"^a": {"type": "string"}}}]}, False),
        ({"properties": {"a": {}}, "$ref": "#/$defs/x", "$defs": {"x": {}}}, False),
        ({"anyOf": [{"enum": [{"a": 1}]}]}, False),  # a whole-object value
        ({"unevaluatedProperties": {"type": "string"}}, False),
    ],
)
def test_shapes_reads_values_by_name_only(schema: dict[str, Any], expected: bool) -> None:
    """Only schemas reading values through ``properties`` alone take the short recheck."""
    assert reads_values_by_name_only(schema) is expected
