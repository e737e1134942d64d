"""Tests of ``ldjfix validate`` through click's runner and a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
from click.testing import CliRunner

from ldjfix.cli import cli

GOOD = {
    "objectId": "a-1",
    "modifiedDate": "2024-01-01T10:00:00Z",
    "name": "A",
    "domains": ["a.com"],
}


def _file(tmp_path: Path, *records: object, raw: bytes = b"") -> Path:
    path = tmp_path / "accounts.ldjson"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records) + raw)
    return path


def test_validate_cli_valid_file_exits_0(tmp_path: Path) -> None:
    """A clean file: exit 0 and the counts."""
    result = CliRunner().invoke(cli, ["validate", str(_file(tmp_path, GOOD)), "-t", "ACCOUNT"])
    assert result.exit_code == 0
    assert "1 valid, 0 invalid; 0 errors, 0 warnings" in result.output


def test_validate_cli_json_contract(tmp_path: Path) -> None:
    """--json prints valid, invalid and errors with line, objectId, field, description."""
    path = _file(tmp_path, GOOD, {**GOOD, "objectId": "a-2", "modifiedDate": None}, raw=b"[1]\n")
    result = CliRunner().invoke(cli, ["validate", str(path), "-t", "ACCOUNT", "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert (doc["valid"], doc["invalid"]) == (1, 2)
    assert doc["errors"] == [
        {
            "line": 2,
            "objectId": "a-2",
            "field": "modifiedDate",
            "description": "Mandatory field [modifiedDate] is missing or empty",
        },
        {
            "line": 3,
            "objectId": None,
            "field": None,
            "description": "Unable to parse the line as a JSON object: "
            "line holds a JSON array, not an object",
        },
    ]


def test_validate_cli_bad_schema_file_exits_3(tmp_path: Path) -> None:
    """A schema file with an unknown field type stops with exit 3, naming the field."""
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps(
            {"objectTypeToSelectedFields": {"ACCOUNT": [{"uniqueName": "t", "type": "FOO"}]}}
        )
    )
    args = ["validate", str(_file(tmp_path, GOOD)), "-t", "ACCOUNT", "--schema-file", str(schema)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3
    assert (
        f"Error: schema file {schema}: ACCOUNT field 1 ('t'): unknown type 'FOO'" in result.output
    )


def test_validate_cli_custom_fields_typed_by_schema_file(tmp_path: Path) -> None:
    """Custom fields are checked against the types in the saved entity schema."""
    schema = tmp_path / "schema.json"
    fields = [
        {"uniqueName": "tier", "label": "Tier", "type": "PICKLIST", "orderedValueList": ["A", "B"]},
        {"uniqueName": "score", "label": "Score", "type": "PERCENT"},
    ]
    schema.write_text(
        json.dumps({"requestId": "r", "objectTypeToSelectedFields": {"ACCOUNT": fields}})
    )
    path = _file(tmp_path, {**GOOD, "tier": "C", "score": 101})
    args = ["validate", str(path), "-t", "ACCOUNT", "--schema-file", str(schema), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert [e["description"] for e in json.loads(result.output)["errors"]] == [
        "Invalid value for field [tier]: expected one of A, B",
        "Invalid value for field [score]: expected a number from 0 to 100",
    ]


def test_validate_cli_missing_file_exits_3(tmp_path: Path) -> None:
    """A file that does not exist: exit 3 and a one-line message."""
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope"), "-t", "ACCOUNT"])
    assert result.exit_code == 3
    assert "does not exist" in result.output


def test_validate_subprocess_reports_line_and_exits_1(tmp_path: Path) -> None:
    """The real command in a real process: error lines name file and line; exit 1."""
    path = _file(tmp_path, GOOD, {**GOOD, "objectId": "x" * 65})
    proc = subprocess.run(
        [sys.executable, "-m", "ldjfix", "validate", str(path), "--object-type", "ACCOUNT"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert (
        f"{path}:2: objectId={'x' * 65} Field [objectId] exceeds the maximum length of 64"
        in proc.stdout
    )


def test_validate_cli_asks_the_sandbox_for_the_entity_schema(tmp_path: Path) -> None:
    """--integration-id fetches GET /v2/crm/entity-schema (from the sandbox) for custom fields."""
    from ldjfix.gong.client import Connection
    from ldjfix.jobs.remote import open_client

    state = tmp_path / "sandbox"
    fields = [
        {"uniqueName": "tier", "label": "Tier", "type": "PICKLIST", "orderedValueList": ["A"]}
    ]
    env = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'}
    with open_client(Connection(sandbox=True, sandbox_dir=state), env=env) as client:
        client.put_entity_schema(integration_id=1, object_type="ACCOUNT", fields=fields)
    path = _file(tmp_path, {**GOOD, "tier": "B"})
    args = ["validate", str(path), "-t", "ACCOUNT", "--integration-id", "1", "--sandbox",
            "--sandbox-dir", str(state), "--json"]  # fmt: skip
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1, result.output
    errors = json.loads(result.stdout)["errors"]
    assert [e["description"] for e in errors] == [
        "Invalid value for field [tier]: expected one of A"
    ]


def test_validate_numeric_object_id_says_it_must_be_a_string(tmp_path: Path) -> None:
    """objectId 12345 (a number) is reported as not a string, not as holding bad characters."""
    source = tmp_path / "accounts.ldjson"
    source.write_text('{"objectId":12345,"modifiedDate":"2025-03-04T10:15:00Z"}\n')
    result = CliRunner().invoke(cli, ["validate", str(source), "-t", "ACCOUNT"])
    assert result.exit_code == 1
    assert "Invalid value for field [objectId]: must be a string" in result.output
    assert "only letters" not in result.output
