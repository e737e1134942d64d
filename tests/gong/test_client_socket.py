"""The client against `sandbox serve` on a real loopback socket: retries, faults and messages."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ldjfix.clock import ManualClock
from ldjfix.errors import RemoteProblem
from ldjfix.gong.client import (
    AccessDenied,
    ApiError,
    Connection,
    GongClient,
    RequestIdUsed,
)
from ldjfix.gong.connect import connect
from ldjfix.gong.connection import basic_auth
from ldjfix.gong.ratelimit import RateLimiter
from ldjfix.gong.retry import RetryPolicy
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving

GOOD = b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00Z","name":"Acme"}\n'
CREDENTIALS = {"GONG_ACCESS_KEY": "key", "GONG_ACCESS_KEY_SECRET": "secret"}
BIG_ID = 5517027188234205706


@pytest.fixture
def clock() -> ManualClock:
    """Fake time shared by client and server: nothing in these tests really sleeps."""
    return ManualClock()


@pytest.fixture
def accounts(tmp_path: Path) -> Path:
    """A one-record ACCOUNT file."""
    path = tmp_path / "accounts.ldjson"
    path.write_bytes(GOOD)
    return path


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Lets a stalled server thread finish when the test ends."""
    event = threading.Event()
    yield event
    event.set()


def run_sandbox(tmp_path: Path, clock: ManualClock, knobs: Knobs, **options: Any) -> Any:
    """A sandbox on 127.0.0.1 with the test's fake clock."""
    return serving(tmp_path / "state", knobs, clock=clock.now, **options)


def client_for(
    sandbox: RunningSandbox,
    clock: ManualClock,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 5.0,
    calls_per_second: float = 1000.0,
    attempts: int = 6,
) -> GongClient:
    """A real client (connect) for the sandbox's URL, on fake time."""
    conn = Connection(base_url=sandbox.url, timeout=timeout, calls_per_second=calls_per_second)
    policy = RetryPolicy(attempts=attempts, rng=random.Random(7))
    return connect(conn, env=env or CREDENTIALS, policy=policy, sleep=clock.sleep, clock=clock.now)


def codes(sandbox: RunningSandbox) -> list[int | None]:
    """The HTTP codes the sandbox answered, in order (None = connection dropped)."""
    return [call.code for call in sandbox.app.calls]


def test_client_socket_429_storm_honours_retry_after(
    tmp_path: Path, clock: ManualClock, accounts: Path
) -> None:
    """A storm of 429s is waited out per Retry-After and the upload then goes through."""
    knobs = Knobs(script=("429",) * 4, retry_after=2, calls_per_second=0)
    with run_sandbox(tmp_path, clock, knobs) as sandbox, client_for(sandbox, clock) as client:
        receipt = client.upload(
            accounts, object_type="ACCOUNT", integration_id=1, client_request_id="storm-1"
        )
        assert receipt.client_request_id == "storm-1"
        assert codes(sandbox) == [429, 429, 429, 429, 201]
        assert client.calls == 5
        assert [round(s, 3) for s in clock.sleeps if s > 0.01] == [2.0, 2.0, 2.0, 2.0]
        assert len(sandbox.store.uploads()) == 1


def test_client_socket_5xx_then_success_backs_off(tmp_path: Path, clock: ManualClock) -> None:
    """500 and 503 are retried with growing, jittered waits; then the answer is used."""
    knobs = Knobs(script=("500", "503", "500"), calls_per_second=0)
    with run_sandbox(tmp_path, clock, knobs) as sandbox, client_for(sandbox, clock) as client:
        schema = client.entity_schema(integration_id=1, object_type="ACCOUNT")
        assert schema["objectTypeToSelectedFields"] == {"ACCOUNT": []}
        assert codes(sandbox) == [500, 503, 500, 200]
        waits = [s for s in clock.sleeps if s > 0.001]
        assert len(waits) == 3
        assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 1.5 and 2.0 <= waits[2] <= 2.5


def test_client_socket_gives_up_after_all_attempts(tmp_path: Path, clock: ManualClock) -> None:
    """Endless 5xx end in a RemoteProblem (exit 4) naming the attempts and Gong's answer."""
    knobs = Knobs(script=("503",) * 10, calls_per_second=0)
    with (
        run_sandbox(tmp_path, clock, knobs) as sandbox,
        client_for(sandbox, clock) as client,
        pytest.raises(RemoteProblem) as caught,
    ):
        client.entity_schema(integration_id=1, object_type="DEAL")
        assert client.calls == 6
    message = str(caught.value)
    assert caught.value.exit_code == 4
    assert "gave up after 6 attempts" in message and "HTTP 503" in message
    assert "An error has occurred" in message


def test_client_socket_timeout_is_retried(
    tmp_path: Path, clock: ManualClock, release: threading.Event
) -> None:
    """A server that does not answer in time is given up on and asked again."""
    knobs = Knobs(script=("stall",), stall_seconds=30, calls_per_second=0)
    options = {"sleep": release.wait}
    with (
        run_sandbox(tmp_path, clock, knobs, **options) as sandbox,
        client_for(sandbox, clock, timeout=0.2) as client,
    ):
        schema = client.entity_schema(integration_id=1, object_type="LEAD")
        assert "objectTypeToSelectedFields" in schema
        assert client.calls == 2
        release.set()


def test_client_socket_timeouts_exhausted_say_so(
    tmp_path: Path, clock: ManualClock, release: threading.Event
) -> None:
    """When every attempt times out, the message says there was no answer in time."""
    knobs = Knobs(script=("stall", "stall"), stall_seconds=30, calls_per_second=0)
    with (
        run_sandbox(tmp_path, clock, knobs, sleep=release.wait) as sandbox,
        client_for(sandbox, clock, timeout=0.1, attempts=2) as client,
    ):
        with pytest.raises(RemoteProblem, match="no answer in time"):
            client.request_status(integration_id=1, client_request_id="x")
        release.set()


def test_client_socket_dropped_connection_is_retried(tmp_path: Path, clock: ManualClock) -> None:
    """A connection closed without an answer is a transport error: retried."""
    knobs = Knobs(script=("drop",), calls_per_second=0)
    with run_sandbox(tmp_path, clock, knobs) as sandbox, client_for(sandbox, clock) as client:
        assert client.list_integrations() == []
        assert codes(sandbox) == [None, 200]


def test_client_socket_lost_upload_reply_gives_409_on_retry(
    tmp_path: Path, clock: ManualClock, accounts: Path
) -> None:
    """An upload whose reply was lost is retried; the 409 then says the first one arrived."""
    knobs = Knobs(script=("lost",), calls_per_second=0)
    with (
        run_sandbox(tmp_path, clock, knobs) as sandbox,
        client_for(sandbox, clock) as client,
        pytest.raises(RequestIdUsed) as caught,
    ):
        client.upload(accounts, object_type="ACCOUNT", integration_id=1, client_request_id="lost-1")
        assert codes(sandbox) == [None, 409]
        assert [u["clientRequestId"] for u in sandbox.store.uploads()] == ["lost-1"]
    assert caught.value.on_retry is True
    assert caught.value.client_request_id == "lost-1"
    assert "most likely arrived" in str(caught.value)


def test_client_socket_reused_id_gives_409_without_retry(
    tmp_path: Path, clock: ManualClock, accounts: Path
) -> None:
    """Reusing a clientRequestId is a plain 409: not retried, and explained."""
    with (
        run_sandbox(tmp_path, clock, Knobs(calls_per_second=0)) as sandbox,
        client_for(sandbox, clock) as client,
    ):
        args: dict[str, Any] = {
            "object_type": "ACCOUNT",
            "integration_id": 1,
            "client_request_id": "same",
        }
        client.upload(accounts, **args)
        with pytest.raises(RequestIdUsed) as caught:
            client.upload(accounts, **args)
        assert client.calls == 2
    assert caught.value.on_retry is False and caught.value.status_code == 409
    assert "already used" in str(caught.value) and "Client request id" in str(caught.value)
    assert "leave --client-request-id out" in str(caught.value)


def test_client_socket_401_is_not_retried(tmp_path: Path, clock: ManualClock) -> None:
    """Wrong credentials get one 401, shown with Gong's text and what to check."""
    required = basic_auth("right", "s3cr3t-right").header()
    knobs = Knobs(calls_per_second=0)
    with run_sandbox(tmp_path, clock, knobs, require_auth=required) as sandbox:
        wrong = {"GONG_ACCESS_KEY": "wrong", "GONG_ACCESS_KEY_SECRET": "s3cr3t-wrong"}
        with (
            client_for(sandbox, clock, env=wrong) as client,
            pytest.raises(AccessDenied) as caught,
        ):
            client.list_integrations()
            assert client.calls == 1
        right = {"GONG_ACCESS_KEY": "right", "GONG_ACCESS_KEY_SECRET": "s3cr3t-right"}
        with client_for(sandbox, clock, env=right) as client:
            assert client.list_integrations() == []
    message = str(caught.value)
    assert "HTTP 401" in message and "Access denied: invalid credentials" in message
    assert "GONG_ACCESS_KEY" in message and "s3cr3t" not in message


def test_client_socket_400_is_not_retried(tmp_path: Path, clock: ManualClock) -> None:
    """A 400 (status of an id never used) fails at once with Gong's error text."""
    with (
        run_sandbox(tmp_path, clock, Knobs(calls_per_second=0)) as sandbox,
        client_for(sandbox, clock) as client,
    ):
        with pytest.raises(ApiError) as caught:
            client.request_status(integration_id=1, client_request_id="never-sent")
        assert client.calls == 1
    assert caught.value.status_code == 400
    assert "No request with clientRequestId never-sent" in str(caught.value)
    assert caught.value.request_id and caught.value.request_id in str(caught.value)


def test_client_socket_keeps_64bit_integration_id_exact(
    tmp_path: Path, clock: ManualClock, accounts: Path
) -> None:
    """A 64-bit integrationId survives registration, listing, upload and status exactly."""
    with (
        run_sandbox(tmp_path, clock, Knobs(polls=0, calls_per_second=0)) as sandbox,
        client_for(sandbox, clock) as client,
    ):
        new_id = client.register_integration(name="ACME", owner_email="a@acme.com")
        assert isinstance(new_id, int) and new_id > 2**62  # beyond a double's exact range
        assert client.list_integrations()[0]["integrationId"] == new_id
        for integration_id in (new_id, BIG_ID):
            client.upload(
                accounts,
                object_type="ACCOUNT",
                integration_id=integration_id,
                client_request_id="big",
            )
            status = client.request_status(integration_id=integration_id, client_request_id="big")
            assert status.status == "DONE"
        assert sandbox.store.integrations()[0]["integrationId"] == new_id
        assert set(sandbox.store.records(BIG_ID, "ACCOUNT")) == {"a1"}
        assert [u["integrationId"] for u in sandbox.store.uploads()] == [new_id, BIG_ID]


def test_client_socket_limiter_keeps_under_3_per_second(tmp_path: Path, clock: ManualClock) -> None:
    """With the shared limiter at 3/s, the sandbox (limit 3/s) never answers 429."""
    with (
        run_sandbox(tmp_path, clock, Knobs()) as sandbox,
        client_for(sandbox, clock, calls_per_second=3.0) as client,
    ):
        for _ in range(10):
            client.entity_schema(integration_id=1, object_type="CONTACT")
        times = [call.arrived for call in sandbox.app.calls]
        assert codes(sandbox) == [200] * 10
        assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) == 3


def test_client_socket_too_fast_client_gets_429_and_recovers(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A client faster than Gong allows gets 429s, waits Retry-After, and gets its answers."""
    with (
        run_sandbox(tmp_path, clock, Knobs(retry_after=1)) as sandbox,
        client_for(sandbox, clock, calls_per_second=100.0) as client,
    ):
        for _ in range(6):
            client.entity_schema(integration_id=1, object_type="DEAL")
        answered = codes(sandbox)
        assert answered.count(200) == 6 and 429 in answered


def test_client_socket_concurrent_uploads_share_one_limiter(tmp_path: Path, accounts: Path) -> None:
    """Threads uploading through one limiter (real time, 40/s) each land exactly once."""
    with serving(tmp_path / "state", Knobs(calls_per_second=40)) as sandbox:
        limiter = RateLimiter(40.0)
        conn = Connection(base_url=sandbox.url)
        policy = RetryPolicy(rng=random.Random(3))
        clients = [connect(conn, env=CREDENTIALS, limiter=limiter, policy=policy) for _ in range(6)]

        def send(n: int) -> None:
            for k in range(5):
                clients[n].upload(
                    accounts, object_type="ACCOUNT", integration_id=1, client_request_id=f"t{n}-{k}"
                )

        threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for client in clients:
            client.close()
        sent = [u["clientRequestId"] for u in sandbox.store.uploads()]
        assert sorted(sent) == sorted(f"t{n}-{k}" for n in range(6) for k in range(5))
        assert codes(sandbox).count(201) == 30
        assert sum(client.calls for client in clients) == len(sandbox.app.calls)


def test_client_socket_wait_for_status_polls_with_growing_intervals(
    tmp_path: Path, clock: ManualClock, accounts: Path
) -> None:
    """Polling sees PENDING, IN_PROGRESS…, then the outcome, waiting longer each time."""
    seen: list[str] = []
    with (
        run_sandbox(tmp_path, clock, Knobs(polls=3, calls_per_second=0)) as sandbox,
        client_for(sandbox, clock) as client,
    ):
        client.upload(accounts, object_type="ACCOUNT", integration_id=1, client_request_id="p")
        clock.sleeps.clear()
        final = client.wait_for_status(
            integration_id=1,
            client_request_id="p",
            on_poll=lambda s: seen.append(s.status),
        )
    assert seen == ["PENDING", "IN_PROGRESS", "IN_PROGRESS", "DONE"]
    assert final.status == "DONE" and final.total_success_count == 1
    waits = [s for s in clock.sleeps if s > 0.01]
    assert waits == sorted(waits) and waits[0] == 2.0 and waits[-1] > waits[0]


def test_client_socket_wait_for_status_stops_at_deadline(
    tmp_path: Path, clock: ManualClock, accounts: Path
) -> None:
    """A status that stays IN_PROGRESS ends in a RemoteProblem at the deadline."""
    with (
        run_sandbox(tmp_path, clock, Knobs(polls=1000, calls_per_second=0)) as sandbox,
        client_for(sandbox, clock) as client,
    ):
        client.upload(accounts, object_type="ACCOUNT", integration_id=1, client_request_id="s")
        start = clock.now()
        with pytest.raises(RemoteProblem) as caught:
            client.wait_for_status(integration_id=1, client_request_id="s", timeout=60)
        assert clock.now() - start == pytest.approx(60, abs=1)
    assert "still says IN_PROGRESS" in str(caught.value) and "after 60 s" in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("429", "HTTP 429: API request limit exceeded"),
        ("drop", "the connection was dropped without an answer"),
        ("500", "HTTP 500: An error has occurred"),
    ],
)
def test_client_socket_endless_faults_name_the_cause(
    tmp_path: Path, clock: ManualClock, fault: str, words: str
) -> None:
    """A fault that never clears ends after the attempts with a message naming the cause."""
    knobs = Knobs(script=(fault,) * 3, calls_per_second=0)
    with (
        run_sandbox(tmp_path, clock, knobs) as sandbox,
        client_for(sandbox, clock, attempts=3) as client,
    ):
        with pytest.raises(RemoteProblem) as caught:
            client.list_integrations()
        assert client.calls == 3 and len(sandbox.app.calls) == 3
    assert words in str(caught.value) and "gave up after 3 attempts" in str(caught.value)
    assert str(caught.value).startswith("Integration list: ")
