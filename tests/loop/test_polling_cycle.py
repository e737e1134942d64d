"""Polling a wave's uploads together: one paced cycle, the first poll waiting for the size."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest

from ldjfix.clock import ManualClock
from ldjfix.errors import RemoteProblem
from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.gong.client import GongClient
from ldjfix.gong.connection import Connection
from ldjfix.gong.ratelimit import RateLimiter
from ldjfix.gong.status import Status
from ldjfix.jobs.remote import open_client
from ldjfix.loop.polling import InFlight, first_wait, poll_together
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.synth.generator import write_file
from ldjfix.validation.validator import Validator

MB = 1_000_000


class TimedGong:
    """A Gong stand-in that finishes each upload a given number of seconds after it was sent."""

    def __init__(self, clock: ManualClock, ready_at: dict[str, float]) -> None:
        self.clock = clock
        self.ready_at = ready_at
        self.polls: list[tuple[float, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        crid = request.url.params["clientRequestId"]
        self.polls.append((self.clock.now(), crid))
        done = self.clock.now() >= self.ready_at[crid]
        body = {"requestId": "r", "status": "DONE" if done else "IN_PROGRESS", "errors": []}
        return httpx.Response(200, content=orjson.dumps(body))


def client_for(gong: TimedGong, clock: ManualClock, rate: float = 3.0) -> GongClient:
    """A client on the stand-in, with Gong's 3 calls a second and the manual clock."""
    http = httpx.Client(transport=httpx.MockTransport(gong), base_url="https://g.test")
    limiter = RateLimiter(rate, clock=clock.now, sleep=clock.sleep)
    return GongClient(http, limiter=limiter, sleep=clock.sleep, clock=clock.now,
                      processing_rate=4 * MB)  # fmt: skip


def run(uploads: list[InFlight], client: GongClient, timeout: float = 3600.0) -> dict[str, str]:
    """Poll them together; each one's final status."""
    done: dict[str, str] = {}

    def finished(name: str, status: Status) -> None:
        assert name not in done
        done[name] = status.status

    poll_together(uploads, client=client, integration_id=1, first_interval=1.0, timeout=timeout,
                  on_status=lambda n, s: None, on_done=finished)  # fmt: skip
    return done


def test_polling_cycle_many_shards_share_one_set_of_waits() -> None:
    """60 shards that take 30 s at Gong: each asked a handful of times, waits shared by all."""
    clock = ManualClock(0.0)
    gong = TimedGong(clock, {f"s{i}": 30.0 for i in range(60)})
    client = client_for(gong, clock)
    uploads = [InFlight(f"s{i}", f"s{i}", 0.0) for i in range(60)]
    assert set(run(uploads, client).values()) == {"DONE"}
    per_shard = {crid: sum(1 for _, c in gong.polls if c == crid) for crid in gong.ready_at}
    assert max(per_shard.values()) <= 4  # a timer per shard at 1 s x 1.5 would ask ~7 times
    assert len(gong.polls) <= 4 * 60
    cycles: list[list[str]] = [[]]
    for crid in (c for _, c in gong.polls):
        if crid in cycles[-1]:
            cycles.append([])
        cycles[-1].append(crid)
    assert all(len(set(cycle)) == len(cycle) for cycle in cycles)  # once per cycle at most


def test_polling_cycle_first_poll_waits_for_the_size() -> None:
    """A 200 MB upload is first asked after its size says Gong could be done, not at once."""
    clock = ManualClock(0.0)
    gong = TimedGong(clock, {"big": 45.0, "small": 0.5})
    client = client_for(gong, clock)
    big = InFlight("big", "big", 0.0, first_wait(200 * MB, client.processing_rate))
    small = InFlight("small", "small", 0.0, first_wait(20_000, client.processing_rate))
    assert run([big, small], client) == {"small": "DONE", "big": "DONE"}
    first_big = min(t for t, c in gong.polls if c == "big")
    assert first_big >= 50.0 and sum(1 for _, c in gong.polls if c == "big") == 1
    assert min(t for t, c in gong.polls if c == "small") < 1.0
    assert first_wait(10**12, 4 * MB) == 60.0 and first_wait(10, None) == 0.0


def test_polling_cycle_gives_up_after_the_timeout() -> None:
    """An upload still running after the timeout is a remote problem that says how to go on."""
    clock = ManualClock(0.0)
    gong = TimedGong(clock, {"slow": 10**9})
    with pytest.raises(RemoteProblem, match="still says IN_PROGRESS for clientRequestId 'slow'"):
        run([InFlight("slow", "slow", 0.0)], client_for(gong, clock), timeout=120.0)
    assert clock.now() < 200


def test_polling_cycle_in_the_loop_waits_once_per_round(tmp_path: Path) -> None:
    """Many shards, a sandbox that takes 2 polls: a few waits per round, not a few per shard."""
    source = tmp_path / "accounts.ldjson"
    write_file(source, "ACCOUNT", 3000, seed=8, defects={"name_too_long": 150})
    clock = ManualClock(0.0)
    conn = Connection(sandbox=True, sandbox_dir=tmp_path / "state", calls_per_second=1000)
    knobs = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 2, "calls_per_second": 0}'}
    with open_client(conn, env=knobs, sleep=clock.sleep, clock=clock.now) as client:
        report = run_job(JobSpec(source, "ACCOUNT", 1, tmp_path / "job"), client=client,
                         fixer=QuarantineFixer(), validator=Validator("ACCOUNT"))  # fmt: skip
    assert report.outcome == "QUARANTINED" and report.counts.quarantined == 150
    uploads = report.uploads
    assert uploads > 10  # shards past the 20-error cap
    assert report.api_calls == uploads * 4  # an upload and three status calls each
    waits = [s for s in clock.sleeps if s > 0.1]  # not the rate limiter's milliseconds
    assert len(waits) <= 2 * report.rounds  # two growing waits per round, shared by its shards
