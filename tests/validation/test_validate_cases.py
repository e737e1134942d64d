"""Golden case files: every rule of the reference's field tables fails one file and passes one.

Files live in ``tests/cases/validate/<TYPE>/<field>--<what>.<verdict>.ldjson``: ``pass`` has no
finding at all (even with --strict), ``fail`` has errors on exactly that field, ``warn`` has only
warnings on that field (errors with --strict). ``CUSTOM`` holds ACCOUNT records checked with the
entity schema beside them. Both validators (python-jsonschema and jsonschema-rs) must agree on
every file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest
from jsonschema import Draft202012Validator

from ldjfix.validation.schemas import OBJECT_TYPES
from ldjfix.validation.validator import (
    ERROR,
    WARNING,
    Finding,
    Validator,
    explain,
    load_entity_schema,
)

ROOT = Path(__file__).parents[1] / "cases" / "validate"
CASES = sorted(ROOT.glob("*/*.ldjson"))
CHECKER = Draft202012Validator.FORMAT_CHECKER


def _validator(path: Path, *, strict: bool) -> Validator:
    if path.parent.name == "CUSTOM":
        schema = load_entity_schema(path.parent / "schema.json")
        return Validator("ACCOUNT", entity_schema=schema, strict=strict)
    return Validator(path.parent.name, strict=strict)


def _records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _findings(path: Path, *, strict: bool) -> list[Finding]:
    with path.open("rb") as stream:
        return list(_validator(path, strict=strict).check_stream(stream))


def _name(path: Path) -> tuple[str, str]:
    stem, verdict = path.name.removesuffix(".ldjson").rsplit(".", 1)
    return stem.split("--")[0], verdict


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_validate_case_file_gets_its_verdict(path: Path) -> None:
    """Each case file gets the verdict its name states, on the field its name states."""
    field, verdict = _name(path)
    loose, strict = _findings(path, strict=False), _findings(path, strict=True)
    if verdict == "pass":
        assert loose == [] and strict == []
        return
    severity = ERROR if verdict == "fail" else WARNING
    assert loose and {(f.field, f.severity) for f in loose} == {(field, severity)}
    assert strict and {(f.field, f.severity) for f in strict} == {(field, ERROR)}


def test_validate_cases_cover_every_rule_both_ways() -> None:
    """Every field with a failing case also has a passing case that holds the field."""
    for folder in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        failing = {_name(p)[0] for p in folder.glob("*.ldjson") if _name(p)[1] != "pass"}
        passing: set[str] = set()
        for path in folder.glob("*.pass.ldjson"):
            for record in _records(path):
                passing |= set(record)
        assert failing - passing <= {"unknownField", "gone"}, folder.name
    assert {p.name for p in ROOT.iterdir() if p.is_dir()} == {*OBJECT_TYPES, "CUSTOM"}


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_validate_both_validators_agree_on_case_file(path: Path, strict: bool) -> None:
    """python-jsonschema and jsonschema-rs give the same verdict and the same explanations."""
    validator = _validator(path, strict=strict)
    for schema in (validator.schemas.hard, validator.schemas.soft):
        reference = Draft202012Validator(schema, format_checker=CHECKER)
        fast = jsonschema_rs.validator_for(schema, validate_formats=True)
        mandatory = validator.schemas.mandatory_hard | validator.schemas.mandatory_soft
        for record in _records(path):
            assert reference.is_valid(record) == fast.is_valid(record)
            slow = {
                pair
                for e in reference.iter_errors(record)
                for pair in explain(
                    list(e.absolute_path),
                    list(e.absolute_schema_path),
                    e.instance,
                    schema,
                    record,
                    mandatory,
                )
            }
            quick = {
                pair
                for e in fast.iter_errors(record)
                for pair in explain(
                    e.instance_path, e.schema_path, e.instance, schema, record, mandatory
                )
            }
            assert slow == quick


def test_validate_builtin_schemas_pass_the_meta_schema() -> None:
    """Every built-in schema (and one with custom fields) is valid draft 2020-12."""
    custom = load_entity_schema(ROOT / "CUSTOM" / "schema.json")
    validators = [Validator(t, strict=s) for t in OBJECT_TYPES for s in (False, True)]
    validators.append(Validator("ACCOUNT", entity_schema=custom, strict=True))
    for validator in validators:
        for schema in (validator.schemas.hard, validator.schemas.soft):
            Draft202012Validator.check_schema(schema)
