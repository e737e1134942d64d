"""How a job stops short of DONE: a file-level error, no progress, --max-rounds (then more)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.gong.client import GongClient
from ldjfix.gong.ratelimit import RateLimiter
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.synth import generator as synth
from tests.support.loop import assert_invariant, sandbox_client

CLEAN = b"".join(
    orjson.dumps({"objectId": f"A{i}", "modifiedDate": "2025-01-01T00:00:00Z"}) + b"\n"
    for i in range(5)
)


def _gong(status: dict[str, Any]) -> tuple[GongClient, list[str]]:
    """A client whose Gong accepts every upload and then answers ``status``."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            crid = request.url.params["clientRequestId"]
            return httpx.Response(201, json={"requestId": "r1", "clientRequestId": crid})
        return httpx.Response(200, json={"requestId": "r2", **status})

    transport = httpx.MockTransport(answer)
    http = httpx.Client(base_url="https://gong.test", transport=transport)
    return GongClient(http, limiter=RateLimiter(1000.0)), seen


def _run(tmp_path: Path, client: GongClient, **spec: Any) -> Any:
    source = tmp_path / "src.ldjson"
    if not source.exists():
        source.write_bytes(CLEAN)
    return run_job(JobSpec(source, "ACCOUNT", 1, **spec), client=client, fixer=QuarantineFixer())


def test_loop_line_zero_stops_and_keeps_everything(tmp_path: Path) -> None:
    """FAILED with line 0: reported verbatim, exit 1, every record kept pending, none lost."""
    general = "File could not be processed: unexpected token at byte 12"
    client, seen = _gong(
        {
            "status": "FAILED",
            "totalErrorCount": 1,
            "totalSuccessCount": 0,
            "errors": [{"line": 0, "description": general}],
        }
    )
    result = _run(tmp_path, client)
    assert (result.outcome, result.exit_code) == ("STOPPED", 1)
    assert result.doc["generalErrors"] == [general]
    assert general in result.message
    assert (result.counts.pending, result.counts.accepted, result.counts.quarantined) == (5, 0, 0)
    assert (result.job_dir / "corrected.ldjson").read_bytes() == CLEAN
    assert seen.count("POST /v2/crm/entities") == 1  # stopped: no second round
    assert_invariant(result.doc)


def test_loop_stops_when_a_round_makes_no_progress(tmp_path: Path) -> None:
    """An error for a line past the end settles nothing: unmapped, no progress, stop."""
    client, seen = _gong(
        {
            "status": "FAILED",
            "totalErrorCount": 1,
            "totalSuccessCount": 4,
            "errors": [{"line": 99, "description": "Bad [name]"}],
        }
    )
    result = _run(tmp_path, client)
    assert (result.outcome, result.exit_code) == ("PENDING", 1)
    assert result.doc["reason"] == "the last round made no progress"
    assert result.doc["perRound"][0]["unmapped"] == [
        {"upload": "r01-s01", "line": 99, "description": "Bad [name]"}
    ]
    assert result.counts.pending == 5
    assert seen.count("POST /v2/crm/entities") == 1


def test_loop_max_rounds_leaves_records_pending_and_a_longer_run_continues(
    tmp_path: Path,
) -> None:
    """--max-rounds 1 ends PENDING (exit 1); the same job with more rounds finishes it."""
    source = tmp_path / "src.ldjson"
    planted = synth.write_file(source, "ACCOUNT", 3_000, seed=9, defects={"name_too_long": 50})
    state = tmp_path / "sandbox"
    with sandbox_client(state) as client:
        first = run_job(
            JobSpec(source, "ACCOUNT", 1, max_rounds=1), client=client, fixer=QuarantineFixer()
        )
    assert (first.outcome, first.exit_code, first.rounds) == ("PENDING", 1, 1)
    assert first.counts.quarantined == 20 and first.counts.pending == 2_980
    assert first.doc["reason"] == "--max-rounds 1 reached"
    with sandbox_client(state) as client:
        second = run_job(
            JobSpec(source, "ACCOUNT", 1, max_rounds=4), client=client, fixer=QuarantineFixer()
        )
    assert (second.outcome, second.rounds) == ("QUARANTINED", 2)
    assert second.counts.quarantined == len(planted)
    assert_invariant(second.doc)


def _events(sink: list[tuple[str, dict[str, Any]]]) -> Callable[..., None]:
    def take(event: str, /, **fields: Any) -> None:
        sink.append((event, fields))

    return take


def test_loop_reports_events_with_counts(tmp_path: Path) -> None:
    """Events carry the counts: the last says DONE with every record accepted."""
    events: list[tuple[str, dict[str, Any]]] = []
    source = tmp_path / "src.ldjson"
    source.write_bytes(CLEAN)
    with sandbox_client(tmp_path / "sandbox") as client:
        run_job(
            JobSpec(source, "ACCOUNT", 1),
            client=client,
            fixer=QuarantineFixer(),
            on_event=_events(events),
        )
    names = [name for name, _ in events]
    assert names == [
        "job_start",
        "validated",
        "round_start",
        "upload_status",
        "upload_done",
        "round_end",
        "job_end",
    ]
    last = events[-1][1]
    assert (last["outcome"], last["accepted"], last["pending"], last["records"]) == (
        "DONE",
        5,
        0,
        5,
    )


def test_loop_source_without_records_is_done_without_uploading(tmp_path: Path) -> None:
    """Only blank lines: nothing to upload, DONE (exit 0), no API call, lines kept as they were."""
    source = tmp_path / "blank.ldjson"
    source.write_bytes(b"\n  \r\n")
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(JobSpec(source, "ACCOUNT", 1), client=client, fixer=QuarantineFixer())
    assert (result.outcome, result.exit_code, result.api_calls) == ("DONE", 0, 0)
    assert result.message == "the source holds no records: nothing to upload"
    assert (result.job_dir / "corrected.ldjson").read_bytes() == b"\n  \r\n"
