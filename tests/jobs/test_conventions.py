"""One set of conventions: every command reads flags > LDJFIX_*/GONG_* > ldjfix.toml alike.

Real processes in a folder holding an ``ldjfix.toml``, as a person with a config file meets
them; the sandbox's log says which integration each upload went to.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from ldjfix.sandbox.store import SandboxStore

FIELDS = b'"modifiedDate":"2024-01-01T00:00:00Z","name":"A","domains":["a.com"]'
GOOD = b'{"objectId":"a-1",' + FIELDS + b"}\n"
UNDERSCORE = b'{"objectId":"a_2",' + FIELDS + b"}\n"
FAST = '{"polls": 0, "calls_per_second": 0}'


def ldjfix(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``ldjfix ARGS`` in ``cwd`` with no GONG_*/LDJFIX_* but those given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    full = {**clean, "LDJFIX_SANDBOX_KNOBS": FAST, "LDJFIX_SANDBOX_DIR": str(cwd / "sb"), **env}
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _sent_to(folder: Path) -> list[int]:
    return [e["integrationId"] for e in SandboxStore(folder / "sb").uploads()]


def test_conventions_upload_and_status_take_integration_id_from_ldjfix_toml(
    tmp_path: Path,
) -> None:
    """integration_id and sandbox in ldjfix.toml: upload and status need no --integration-id."""
    (tmp_path / "ldjfix.toml").write_text("integration_id = 41\nsandbox = true\n")
    (tmp_path / "a.ldjson").write_bytes(GOOD)
    sent = ldjfix(tmp_path, "upload", "a.ldjson", "-t", "account")
    assert sent.returncode == 0, sent.stderr
    assert _sent_to(tmp_path) == [41]
    asked = ldjfix(tmp_path, "status", "--client-request-id", sent.stdout.strip(), "--json")
    assert asked.returncode == 0, asked.stderr
    assert orjson.loads(asked.stdout)["status"] in ("DONE", "PENDING", "IN_PROGRESS")


def test_conventions_flags_beat_environment_beat_the_file(tmp_path: Path) -> None:
    """The file says 41, LDJFIX_INTEGRATION_ID 42, the flag 43: each wins over the one before."""
    (tmp_path / "ldjfix.toml").write_text("integration_id = 41\nsandbox = true\n")
    (tmp_path / "a.ldjson").write_bytes(GOOD)
    assert ldjfix(tmp_path, "upload", "a.ldjson", "-t", "ACCOUNT").returncode == 0
    env = {"LDJFIX_INTEGRATION_ID": "42"}
    assert ldjfix(tmp_path, "upload", "a.ldjson", "-t", "ACCOUNT", **env).returncode == 0
    flag = ("--integration-id", "43")
    assert ldjfix(tmp_path, "upload", "a.ldjson", "-t", "ACCOUNT", *flag, **env).returncode == 0
    assert _sent_to(tmp_path) == [41, 42, 43]


def test_conventions_a_config_named_with_config_works_for_upload(tmp_path: Path) -> None:
    """--config C on upload, as on run; without any id anywhere: exit 2 saying where to put one."""
    (tmp_path / "other.toml").write_text("integration_id = 7\nsandbox = true\n")
    (tmp_path / "a.ldjson").write_bytes(GOOD)
    sent = ldjfix(tmp_path, "upload", "a.ldjson", "-t", "ACCOUNT", "--config", "other.toml")
    assert sent.returncode == 0, sent.stderr
    assert _sent_to(tmp_path) == [7]
    none = ldjfix(tmp_path, "upload", "a.ldjson", "-t", "ACCOUNT", "--sandbox")
    assert none.returncode == 2
    assert none.stderr == (
        "Error: No integration id: pass --integration-id, or set integration_id in "
        "ldjfix.toml or LDJFIX_INTEGRATION_ID.\n"
    )


def test_conventions_run_strict_quarantines_what_is_only_a_warning(tmp_path: Path) -> None:
    """`_` in objectId is a warning; run --strict (or strict = true) treats it as an error."""
    (tmp_path / "a.ldjson").write_bytes(GOOD + UNDERSCORE)
    base = ("run", "a.ldjson", "-t", "ACCOUNT", "--integration-id", "1", "--sandbox")
    lenient = ldjfix(tmp_path, *base, "--job-dir", "lenient")
    assert lenient.returncode == 0, lenient.stderr
    strict = ldjfix(tmp_path, *base, "--job-dir", "strict", "--strict")
    assert strict.returncode == 1, strict.stderr
    rejected = [
        orjson.loads(x) for x in (tmp_path / "strict/rejected.ldjson").read_bytes().splitlines()
    ]
    assert [r["objectId"] for r in rejected] == ["a_2"]
    (tmp_path / "ldjfix.toml").write_text("strict = true\n")
    from_file = ldjfix(tmp_path, *base, "--job-dir", "from-file")
    assert from_file.returncode == 1, from_file.stderr


def test_conventions_run_schema_file_types_custom_fields(tmp_path: Path) -> None:
    """run --schema-file: a PICKLIST value Gong's schema does not list is found before upload."""
    samples = Path(__file__).parents[2] / "samples"
    bad = b'{"objectId":"a-3",' + FIELDS + b',"industry":"Piracy"}\n'
    (tmp_path / "a.ldjson").write_bytes(GOOD + bad)
    base = ("run", "a.ldjson", "-t", "ACCOUNT", "--integration-id", "1", "--sandbox")
    typed = ldjfix(tmp_path, *base, "--schema-file", str(samples / "entity-schema.json"))
    assert typed.returncode == 1, typed.stderr
    report = orjson.loads((tmp_path / "a.ldjson.ldjfix-job/report.json").read_bytes())
    assert report["local"]["findings"] == 1 and report["quarantined"] == 1
    broken = tmp_path / "cut.json"
    broken.write_text('{"objectTypeToSelectedFields": ')
    refused = ldjfix(tmp_path, *base, "--schema-file", "cut.json", "--job-dir", "other")
    assert refused.returncode == 3 and refused.stderr.startswith("Error: schema file cut.json")
    assert not (tmp_path / "other").exists()
