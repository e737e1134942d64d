"""Helpers shared by the loop tests: a fast in-process sandbox client and output checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson

from ldjfix.gong.client import GongClient
from ldjfix.gong.connection import Connection
from ldjfix.gong.ratelimit import RateLimiter
from ldjfix.jobs.remote import open_client
from ldjfix.ldjson.lines import iter_lines
from ldjfix.sandbox.store import SandboxStore

# The default is Gong's 3 calls/s; tests let the sandbox (and the client) go faster, and the
# sandbox answers on the first poll, so nothing waits for real.
FAST_KNOBS = '{"polls": 0, "calls_per_second": 50}'
FAST_ENV = {"LDJFIX_SANDBOX_KNOBS": FAST_KNOBS}
# faster still, for runs that make many calls (budget stops and resumes)
QUICK_ENV = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 1000}'}
SERVER_KINDS = ("domain_is_url", "name_too_long")
LOCAL_KINDS = (
    "millis_modified_date",
    "missing_modified_date",
    "is_deleted_as_string",
    "domains_not_array",
)


def run_args(source: Path, state: Path, *extra: str, job: Path | None = None) -> list[str]:
    """``ldjfix run`` arguments: ``source`` as ACCOUNTs into the sandbox kept in ``state``."""
    folder = ["--job-dir", str(job)] if job is not None else []
    return [
        "run",
        str(source),
        "--object-type",
        "ACCOUNT",
        "--integration-id",
        "1",
        *folder,
        "--sandbox",
        "--sandbox-dir",
        str(state),
        "--calls-per-second",
        "50",
        *extra,
    ]


def sandbox_client(state: Path, *, calls_per_second: float = 50.0) -> GongClient:
    """A client for the in-process sandbox kept in ``state``."""
    conn = Connection(sandbox=True, sandbox_dir=state, calls_per_second=calls_per_second)
    return open_client(conn, env=FAST_ENV)


def records_of(path: Path) -> dict[str, dict[str, Any]]:
    """The records of an LDJSON file by objectId (blank lines skipped)."""
    found: dict[str, dict[str, Any]] = {}
    with open(path, "rb") as stream:
        for line in iter_lines(stream):
            if line.content.strip():
                record = orjson.loads(line.content)
                found[record["objectId"]] = record
    return found


def assert_store_matches(state: Path, corrected: Path, object_type: str = "ACCOUNT") -> None:
    """Every record of corrected.ldjson is in the sandbox's store exactly as written, no more.

    Records marked ``isDeleted: true`` are accepted by deleting them, so they must be absent.
    """
    stored = SandboxStore(state).records(1, object_type)
    wanted = {k: r for k, r in records_of(corrected).items() if r.get("isDeleted") is not True}
    assert stored == wanted


def assert_invariant(report: dict[str, Any]) -> None:
    """accepted + quarantined + pending = records, as report.json says."""
    total = report["accepted"] + report["quarantined"] + report["pending"]
    assert total == report["records"]
    assert report["invariantHolds"] is True


def gong_answering(status: dict[str, object]) -> GongClient:
    """A stand-in Gong that takes every upload, then answers ``status`` to every status call."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            crid = request.url.params["clientRequestId"]
            return httpx.Response(201, json={"requestId": "r1", "clientRequestId": crid})
        return httpx.Response(200, json={"requestId": "r2", **status})

    http = httpx.Client(base_url="https://gong.test", transport=httpx.MockTransport(answer))
    return GongClient(http, limiter=RateLimiter(1000.0))
