"""``validate`` on samples/: every defect the samples were built with that a local check can see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ldjfix.synth.defects import LOCAL_KINDS, SERVER_KINDS
from ldjfix.validation.validator import load_entity_schema
from ldjfix.validation.wholefile import validate_file

SAMPLES = Path(__file__).parents[2] / "samples"
TYPES = {
    "accounts.ldjson": "ACCOUNT",
    "contacts.ldjson": "CONTACT",
    "deals.ldjson": "DEAL",
    "stages.ldjson": "STAGE",
    "users.ldjson": "BUSINESS_USER",
}
MANIFEST = json.loads((SAMPLES / "defects.json").read_text())


@pytest.mark.parametrize("name", sorted(TYPES))
def test_validate_samples_finds_every_local_defect_at_its_line(name: str) -> None:
    """Each planted local defect is an error on its line and field; no other line has errors."""
    report = validate_file(SAMPLES / name, TYPES[name])
    found = {(f.line, f.field) for f in report.errors}
    planted = MANIFEST.get(name, [])
    local = [(d["line"], d["field"]) for d in planted if d["kind"] in LOCAL_KINDS]
    assert [spot for spot in local if spot not in found] == []
    assert {f.line for f in report.errors} == {line for line, _ in local}
    server = {d["line"] for d in planted if d["kind"] in SERVER_KINDS}
    assert not server & {f.line for f in report.errors}


@pytest.mark.parametrize("name", ["accounts.ldjson", "contacts.ldjson", "deals.ldjson"])
def test_validate_samples_with_their_entity_schema_add_no_findings(name: str) -> None:
    """The samples' custom fields all match samples/entity-schema.json: same errors, no extras."""
    schema = load_entity_schema(SAMPLES / "entity-schema.json")
    plain = validate_file(SAMPLES / name, TYPES[name])
    typed = validate_file(SAMPLES / name, TYPES[name], entity_schema=schema)
    assert typed.findings == plain.findings
