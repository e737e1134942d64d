"""samples/ is exactly what its recipe makes, and its statuses have Gong's shape."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from ldjfix.gong.status import parse_status
from ldjfix.ldjson.lines import iter_lines, parse_line
from ldjfix.synth import generator as synth
from ldjfix.synth import samples
from tests.conftest import SAMPLES

ROOT = Path(__file__).parents[2]
GENERATE = ROOT / "bench" / "generate.py"
OPENAPI = Path(__file__).parents[1] / "reference" / "gong-openapi-crm.json"
STATUS_FILES = [*samples.STATUSES, samples.GENERAL_STATUS]


def _strict(schema: Any) -> Any:
    """Gong's schema made strict: no unlisted properties; all required where it names none."""
    if isinstance(schema, dict):
        strict = {key: _strict(value) for key, value in schema.items()}
        if schema.get("type") == "object" and "properties" in schema:
            strict.setdefault("required", list(schema["properties"]))
            strict["additionalProperties"] = False
        return strict
    return [_strict(item) for item in schema] if isinstance(schema, list) else schema


def _status_validator(name: str = "RequestStatusResponse") -> jsonschema.Draft202012Validator:
    components = _strict(json.loads(OPENAPI.read_text())["components"])
    schema = {"$ref": f"#/components/schemas/{name}", "components": components}
    return jsonschema.Draft202012Validator(schema)


# Standard (non-custom) fields per object type, from the reference's field tables (section 3).
_COMMON = {"objectId", "modifiedDate", "isDeleted", "url"}
_PERSON = {"emailAddress", "firstName", "lastName", "title", "phoneNumber"}
_STANDARD = {
    "ACCOUNT": _COMMON | {"name", "domains"},
    "CONTACT": _COMMON | _PERSON | {"accountId"},
    "DEAL": _COMMON
    | {"accountId", "ownerId", "name", "createdDate", "closeDate", "status", "stage", "amount"},
    "LEAD": _COMMON | _PERSON | {"convertedToAccountId"},
}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample folder rebuilt from its recipe into a temporary folder."""
    folder = tmp_path_factory.mktemp("samples")
    samples.make_samples(folder)
    return folder


def test_synth_samples_committed_equal_regenerated(regenerated: Path) -> None:
    """Every generated sample file is committed byte for byte (no drift from the recipe)."""
    made = sorted(p.name for p in regenerated.iterdir())
    assert made == sorted([*samples.FILES, *STATUS_FILES, samples.MANIFEST, samples.ENTITY_SCHEMA])
    for name in made:
        assert (SAMPLES / name).read_bytes() == (regenerated / name).read_bytes(), name


def test_synth_samples_script_rebuilds_them(tmp_path: Path) -> None:
    """`python bench/generate.py --samples DIR` (a real process) writes the same files."""
    done = subprocess.run(
        [sys.executable, str(GENERATE), "--samples", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "5 data files, 61 defects" in done.stderr
    for name in samples.FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes()


def test_synth_samples_manifest_matches_files() -> None:
    """defects.json lists each file's bad lines; 3-8% of ACCOUNT/CONTACT/DEAL lines are bad."""
    manifest = json.loads((SAMPLES / samples.MANIFEST).read_text())
    assert list(manifest) == list(samples.FILES)
    for name, (_, count, defects) in samples.FILES.items():
        entries = manifest[name]
        assert sorted(e["kind"] for e in entries) == sorted(
            k for k, n in defects.items() for _ in range(n)
        )
        assert sum(1 for _ in iter_lines((SAMPLES / name).open("rb"))) == count
        if name.split(".")[0] in ("accounts", "contacts", "deals"):
            assert 0.03 <= len(entries) / count <= 0.08
    kinds = {e["kind"] for e in manifest["accounts.ldjson"]}
    assert {"domain_is_url", "name_too_long"} <= kinds
    assert "dangling_account_ref" in {e["kind"] for e in manifest["contacts.ldjson"]}


@pytest.mark.parametrize("name", STATUS_FILES)
def test_synth_samples_status_matches_gong_schema(name: str) -> None:
    """Each saved status validates against Gong's RequestStatusResponse, strictly read."""
    validator = _status_validator()
    doc = orjson.loads((SAMPLES / name).read_bytes())
    errors = sorted(validator.iter_errors(doc), key=str)
    assert not errors, errors[0].message if errors else ""
    assert parse_status((SAMPLES / name).read_bytes(), source=name).status == "FAILED"


def test_synth_samples_strict_schema_catches_a_bad_status() -> None:
    """The strict schema rejects a status with a missing count or a non-integer line."""
    validator = _status_validator()
    assert not validator.is_valid({"requestId": "x", "status": "FAILED", "errors": []})
    bad_line = {
        "requestId": "x",
        "status": "FAILED",
        "errors": [{"line": "7", "description": "d"}],
        "totalErrorCount": 1,
        "totalSuccessCount": 0,
    }
    assert not validator.is_valid(bad_line)


@pytest.mark.parametrize("status_name", list(samples.STATUSES))
def test_synth_samples_status_lists_first_twenty(status_name: str) -> None:
    """A status lists the first 20 bad lines, each describing its field, and true totals."""
    data_name = samples.STATUSES[status_name]
    doc = json.loads((SAMPLES / status_name).read_text())
    planted = json.loads((SAMPLES / samples.MANIFEST).read_text())[data_name]
    first = sorted(planted, key=lambda e: e["line"])[:20]
    assert [e["line"] for e in doc["errors"]] == [e["line"] for e in first]
    assert doc["totalErrorCount"] == len(planted) > 20
    assert doc["totalSuccessCount"] == samples.FILES[data_name][1] - len(planted)
    for error, entry in zip(doc["errors"], first, strict=True):
        field = entry["field"]
        assert (f"[{field}]" if field else "Unable to parse") in error["description"]


def test_synth_samples_entity_schema_declares_custom_fields() -> None:
    """entity-schema.json has Gong's shape and declares every custom field the records carry."""
    doc = json.loads((SAMPLES / samples.ENTITY_SCHEMA).read_text())
    validator = _status_validator("ListSelectedFieldsResponse")
    assert validator.is_valid(doc), next(iter(validator.iter_errors(doc))).message
    for object_type, standard in _STANDARD.items():
        declared = {f["uniqueName"]: f for f in doc["objectTypeToSelectedFields"][object_type]}
        for line in synth.records(object_type, 300, seed=1):
            record = orjson.loads(line[0])
            assert set(record) - standard <= set(declared), object_type
            for name, spec in declared.items():
                if name in record and "orderedValueList" in spec:
                    assert record[name] in spec["orderedValueList"]


def test_synth_samples_general_error_is_line_zero() -> None:
    """The general-error sample holds exactly one file-level error."""
    status = parse_status((SAMPLES / samples.GENERAL_STATUS).read_bytes(), source="general")
    assert [e.line for e in status.errors] == [0]
    assert status.general_errors == status.errors


def test_synth_samples_lines_parse_or_are_planted() -> None:
    """Every sample line that is not a planted invalid_json/not_object line is a JSON object."""
    manifest = json.loads((SAMPLES / samples.MANIFEST).read_text())
    for name in samples.FILES:
        broken = {e["line"] for e in manifest[name] if e["kind"] in ("invalid_json", "not_object")}
        with (SAMPLES / name).open("rb") as stream:
            for line in iter_lines(stream):
                parsed = parse_line(line)
                assert (parsed.defect is not None) == (line.number in broken), (name, line.number)


def test_synth_samples_generate_count_and_manifest(tmp_path: Path) -> None:
    """generate.py --count writes the file and <out>.defects.json naming each bad line."""
    out = tmp_path / "deals.ldjson"
    args = ["--type", "DEAL", "--count", "300", "--bad", "12", "--seed", "4", "-o", str(out)]
    args += ["--kinds", "dangling_stage_ref,bad_status_enum"]
    done = subprocess.run([sys.executable, str(GENERATE), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"wrote {out} (300 records" in done.stderr and "12 defects" in done.stderr
    manifest = json.loads(Path(f"{out}.defects.json").read_text())["deals.ldjson"]
    assert [e["kind"] for e in manifest].count("dangling_stage_ref") == 6
    assert out.read_bytes().count(b"\n") == 300


def test_synth_samples_generate_files_agree(tmp_path: Path) -> None:
    """A CONTACT file made with --accounts N refers only to clean lines of the N-account file."""
    accounts, contacts = tmp_path / "a.ldjson", tmp_path / "c.ldjson"
    for args in (
        ["--type", "ACCOUNT", "--count", "150", "--bad", "20", "-o", str(accounts)],
        ["--type", "CONTACT", "--count", "400", "--accounts", "150", "-o", str(contacts)],
    ):
        done = subprocess.run([sys.executable, str(GENERATE), "--seed", "3", *args], check=False)
        assert done.returncode == 0
    bad = {e["line"] for e in json.loads(Path(f"{accounts}.defects.json").read_text())["a.ldjson"]}
    clean = {
        orjson.loads(line)["objectId"]
        for number, line in enumerate(accounts.read_bytes().splitlines(), start=1)
        if number not in bad
    }
    refs = {orjson.loads(line)["accountId"] for line in contacts.read_bytes().splitlines()}
    assert len(refs) > 50 and refs <= clean


def test_synth_samples_generate_rejects_bad_kind(tmp_path: Path) -> None:
    """generate.py refuses a kind that does not fit the type: exit 2, one clear line."""
    out = tmp_path / "a.ldjson"
    args = ["--type", "ACCOUNT", "--count", "10", "--bad", "1", "--kinds", "bad_status_enum"]
    done = subprocess.run(
        [sys.executable, str(GENERATE), *args, "-o", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "'bad_status_enum' does not apply to ACCOUNT records" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
