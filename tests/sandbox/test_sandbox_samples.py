"""The sandbox finds exactly the defects planted in the sample files (their own manifest)."""

from __future__ import annotations

from pathlib import Path

import orjson

from ldjfix.clock import ManualClock
from ldjfix.gong.client import Connection
from ldjfix.jobs.remote import open_client
from tests.conftest import SAMPLES

# Gong's upload order: users and stages first, accounts, then what refers to them
ORDER = [
    ("users.ldjson", "BUSINESS_USER"),
    ("stages.ldjson", "STAGE"),
    ("accounts.ldjson", "ACCOUNT"),
    ("contacts.ldjson", "CONTACT"),
    ("deals.ldjson", "DEAL"),
]


def test_sandbox_samples_match_their_defect_manifest(tmp_path: Path) -> None:
    """Uploaded in order, each sample fails on exactly its planted lines (first 20 listed)."""
    manifest = orjson.loads((SAMPLES / "defects.json").read_bytes())
    clock = ManualClock()
    conn = Connection(sandbox=True, sandbox_dir=tmp_path)
    env = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'}
    with open_client(conn, env=env, sleep=clock.sleep, clock=clock.now) as client:
        for name, kind in ORDER:
            crid = name.replace(".", "-")
            client.upload(
                SAMPLES / name, object_type=kind, integration_id=1, client_request_id=crid
            )
            status = client.request_status(integration_id=1, client_request_id=crid)
            planted = sorted(entry["line"] for entry in manifest.get(name, []))
            records = len((SAMPLES / name).read_bytes().splitlines())
            assert status.status == ("FAILED" if planted else "DONE"), name
            assert [e.line for e in status.errors] == planted[:20], name
            assert status.total_error_count == len(planted), name
            assert status.total_success_count == records - len(planted), name
            fields = {e["line"]: e["field"] for e in manifest.get(name, [])}
            for error in status.errors:
                named = error.field
                assert named is None or named == fields[error.line], (name, error)
