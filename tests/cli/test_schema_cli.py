"""schema pull|push|diff as a user runs them, against --sandbox and sandbox serve."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.support.cli import REMOTES, remote

ID = ["--integration-id", "1", "-t", "ACCOUNT"]
FIELDS = [
    {
        "uniqueName": "tier",
        "label": "Tier",
        "type": "PICKLIST",
        "orderedValueList": ["Gold", "Silver"],
    },
    {"uniqueName": "arr", "label": "ARR", "type": "CURRENCY"},
]


def write(path: Path, doc: object) -> str:
    """Write a JSON document; its path as a string."""
    path.write_bytes(orjson.dumps(doc))
    return str(path)


@pytest.mark.parametrize("kind", REMOTES)
def test_schema_push_pull_diff_round_trip(kind: str, tmp_path: Path) -> None:
    """A pushed list comes back by pull, validate reads the pulled file, diff and push agree."""
    fields = write(tmp_path / "fields.json", FIELDS)
    with remote(kind, tmp_path) as gong:
        before = gong.ldjfix("schema", "diff", fields, *ID)
        assert before.returncode == 1 and before.stdout.splitlines() == [
            "+ tier: new field",
            "+ arr: new field",
        ]
        pushed = gong.ldjfix("schema", "push", fields, *ID)
        assert pushed.returncode == 0, pushed.stderr
        assert "ACCOUNT schema updated" in pushed.stderr
        pulled = tmp_path / "schema.json"
        assert gong.ldjfix("schema", "pull", *ID, "-o", str(pulled)).returncode == 0
        doc = orjson.loads(pulled.read_bytes())
        assert doc["objectTypeToSelectedFields"]["ACCOUNT"] == FIELDS
        same = gong.ldjfix("schema", "diff", str(pulled), *ID, "--json")
        assert same.returncode == 0
        assert orjson.loads(same.stdout)["unchanged"] == 2
        again = gong.ldjfix("schema", "push", str(pulled), *ID)
        assert again.returncode == 0 and "nothing sent" in again.stderr
        records = tmp_path / "a.ldjson"
        records.write_text(
            '{"objectId":"a1","modifiedDate":"2025-01-01T00:00:00Z","tier":"Bronze","arr":"x"}\n',
            encoding="utf-8",
        )
        checked = gong.ldjfix("validate", str(records), "-t", "ACCOUNT", "--schema-file",
                              str(pulled), "--json")  # fmt: skip
    assert checked.returncode == 1
    fields_hit = {e["field"] for e in orjson.loads(checked.stdout)["errors"]}
    assert fields_hit == {"tier", "arr"}


@pytest.mark.parametrize("kind", REMOTES)
def test_schema_push_refuses_to_drop_fields(kind: str, tmp_path: Path) -> None:
    """A list leaving out a field Gong has is refused (exit 2, named) unless --allow-remove."""
    with remote(kind, tmp_path) as gong:
        gong.ldjfix("schema", "push", write(tmp_path / "both.json", FIELDS), *ID)
        fewer = write(tmp_path / "fewer.json", FIELDS[:1])
        refused = gong.ldjfix("schema", "push", fewer, *ID)
        assert refused.returncode == 2
        assert refused.stderr.startswith(
            f"Error: pushing {fewer} would lose ACCOUNT fields Gong has: left out: arr. "
            "Nothing was sent."
        )
        shown = gong.ldjfix("schema", "diff", fewer, *ID, "--json")
        assert orjson.loads(shown.stdout)["removed"] == ["arr"]
        done = gong.ldjfix("schema", "push", fewer, *ID, "--allow-remove")
        assert done.returncode == 0, done.stderr
        assert "- arr: left out of the list" in done.stdout
        out = gong.ldjfix("schema", "pull", *ID, "-o", "-")
    assert orjson.loads(out.stdout)["objectTypeToSelectedFields"]["ACCOUNT"] == FIELDS[:1]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([{"name": "tier", "type": "STRING"}],
         "field 1: 'uniqueName' is required (Gong's field model calls the key uniqueName); "
         "field 1: 'label' is required."),
        ([{"uniqueName": "t", "label": "T", "type": "string"}],
         "field 1 ('t'): 'type' 'string' is not one of BOOLEAN"),
        ([{"uniqueName": "r", "label": "R", "type": "REFERENCE"}],
         "a REFERENCE needs 'referenceTo'"),
        ([{"uniqueName": "p", "label": "P", "type": "PICKLIST"}],
         "a PICKLIST needs 'orderedValueList'"),
        ([FIELDS[1], FIELDS[1]], "field 2 ('arr') repeats field 1"),
        ({"objectTypeToSelectedFields": {"DEAL": []}}, "holds fields of DEAL, not ACCOUNT."),
        ({"fields": []}, "is neither a JSON array of field definitions nor an entity schema"),
    ],
)  # fmt: skip
def test_schema_push_checks_the_field_model_first(
    tmp_path: Path, doc: object, message: str
) -> None:
    """A list breaking Gong's field model is refused with exit 3 before anything is sent."""
    path = write(tmp_path / "bad.json", doc)
    with remote("serve", tmp_path) as gong:
        done = gong.ldjfix("schema", "push", path, *ID)
        assert gong.server is not None
        sent = [c.method for c in gong.server.app.calls]
    assert done.returncode == 3
    assert done.stderr.startswith("Error: ") and message in done.stderr
    assert "Traceback" not in done.stderr
    assert "POST" not in sent and "GET" not in sent


def test_schema_commands_refuse_types_without_custom_fields(tmp_path: Path) -> None:
    """STAGE and BUSINESS_USER have no entity schema: exit 2 naming the four that do."""
    with remote("sandbox", tmp_path) as gong:
        done = gong.ldjfix("schema", "pull", "--integration-id", "1", "-t", "STAGE", "-o", "-")
    assert done.returncode == 2
    assert "is not one of ACCOUNT, CONTACT, DEAL, LEAD" in done.stderr
