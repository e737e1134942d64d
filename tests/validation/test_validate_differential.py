"""Property test: python-jsonschema and jsonschema-rs agree on records nobody wrote by hand."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ldjfix.validation.explain import explain
from ldjfix.validation.schemas import COMMON, FIELDS, OBJECT_TYPES
from ldjfix.validation.validator import Validator

CHECKER = Draft202012Validator.FORMAT_CHECKER
TEXTS = st.sampled_from(
    [
        "", " ", "a-1", "a_1", "a#1 b", "x" * 65, "jo@acme.com", "WON", "Won", "acme.com",
        "https://www.acme.com/about", "https://exa mple.com/", "htp//crm", "2025-03-04T10:15:00Z",
        "2025-03-04T10:15:00.123Z", "2025-13-04T10:15:00Z", "2025-03-04T10:15:00+02:00",
        "2025-03-04", "2025-02-30", "03/04/2025", "1,200.00", "yes",
    ]
)  # fmt: skip
VALUES = st.one_of(
    TEXTS, st.none(), st.booleans(), st.integers(-3, 300), st.floats(-1, 101, allow_nan=False),
    st.lists(TEXTS | st.integers(0, 9), max_size=3),
)  # fmt: skip


@st.composite
def records(draw: Any) -> tuple[str, dict[str, Any]]:
    """An object type and a record of its fields with values of any type."""
    object_type = draw(st.sampled_from(OBJECT_TYPES))
    names = sorted({*COMMON, *FIELDS[object_type]})
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    return object_type, {name: draw(VALUES) for name in chosen}


@settings(max_examples=300, deadline=None)
@given(records(), st.booleans())
def test_validate_differential_random_records(
    case: tuple[str, dict[str, Any]], strict: bool
) -> None:
    """Both validators give the same verdict and the same findings on any record."""
    object_type, record = case
    validator = Validator(object_type, strict=strict)
    schemas = validator.schemas
    mandatory = schemas.mandatory_hard | schemas.mandatory_soft
    for schema in (schemas.hard, schemas.soft):
        reference = Draft202012Validator(schema, format_checker=CHECKER)
        fast = validator._rs_hard if schema is schemas.hard else validator._rs_soft
        assert reference.is_valid(record) == fast.is_valid(record)
        args = (schema, record, mandatory)
        slow = {
            pair
            for e in reference.iter_errors(record)
            for pair in explain(
                list(e.absolute_path), list(e.absolute_schema_path), e.instance, *args
            )
        }
        quick = {
            pair
            for e in fast.iter_errors(record)
            for pair in explain(e.instance_path, e.schema_path, e.instance, *args)
        }
        assert slow == quick


SHARED: dict[tuple[str, bool], Validator] = {}


def _reference_findings(validator: Validator, record: dict[str, Any]) -> set[tuple[Any, ...]]:
    """Every failure python-jsonschema finds, explained, hard rules as errors, soft as warnings."""
    schemas = validator.schemas
    mandatory = schemas.mandatory_hard | schemas.mandatory_soft
    found = set()
    for schema, severity in ((schemas.hard, "error"), (schemas.soft, "warning")):
        for e in Draft202012Validator(schema, format_checker=CHECKER).iter_errors(record):
            path, where = list(e.absolute_path), list(e.absolute_schema_path)
            for name, text in explain(path, where, e.instance, schema, record, mandatory):
                found.add((name, text, severity))
    errors = {(name, text) for name, text, severity in found if severity == "error"}
    return {f for f in found if f[2] == "error" or (f[0], f[1]) not in errors}


@settings(max_examples=400, deadline=None)
@given(records(), st.booleans())
def test_validate_differential_shapes_match_the_reference(
    case: tuple[str, dict[str, Any]], strict: bool
) -> None:
    """Findings explained once per failure shape equal python-jsonschema's, record by record."""
    object_type, record = case
    validator = SHARED.setdefault((object_type, strict), Validator(object_type, strict=strict))
    quick = {(f.field, f.description, f.severity) for f in validator.check_record(1, record)}
    assert quick == _reference_findings(validator, record)
