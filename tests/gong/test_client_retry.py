"""Retry policy, Retry-After parsing and the shared rate limiter, on fake time."""

from __future__ import annotations

import random
import threading

import httpx
import pytest

from ldjfix.clock import ManualClock
from ldjfix.errors import RemoteProblem
from ldjfix.gong.client import GongClient
from ldjfix.gong.ratelimit import RateLimiter
from ldjfix.gong.retry import RetryPolicy, is_retryable_status, parse_retry_after


def test_retry_policy_backoff_grows_with_jitter_and_cap() -> None:
    """Waits double from 0.5 s up to the cap, each plus at most `jitter` seconds."""
    policy = RetryPolicy(initial=0.5, maximum=4.0, jitter=0.25, rng=random.Random(1))
    waits = [policy.backoff(n) for n in range(1, 7)]
    for wait, base in zip(waits, [0.5, 1.0, 2.0, 4.0, 4.0, 4.0], strict=True):
        assert base <= wait <= base + 0.25
    assert len(set(waits)) == 6  # jitter: no two equal


def test_retry_policy_honours_retry_after() -> None:
    """A Retry-After value is used as given instead of the backoff."""
    policy = RetryPolicy(initial=0.5, jitter=0)
    assert policy.delay(1, 7.0) == 7.0
    assert policy.delay(1, None) == 0.5


def test_client_retry_gives_up_on_a_very_long_retry_after() -> None:
    """A 429 asking to wait longer than max_retry_after ends the call at once, explained."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = {"requestId": "rq", "errors": ["API request limit exceeded"]}
        return httpx.Response(429, json=body, headers={"Retry-After": "3600"})

    clock = ManualClock()
    http = httpx.Client(transport=httpx.MockTransport(answer), base_url="https://g.example")
    client = GongClient(
        http, policy=RetryPolicy(max_retry_after=300), sleep=clock.sleep, clock=clock.now
    )
    with pytest.raises(RemoteProblem) as caught:
        client.list_integrations()
    assert client.calls == 1 and clock.sleeps == []
    assert "Gong asks to wait 3600 s, longer than ldjfix waits" in str(caught.value)
    assert "daily limit" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "retry"),
    [
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (599, True),
        (400, False),
        (401, False),
        (404, False),
        (409, False),
        (200, False),
    ],
)
def test_retry_statuses(code: int, retry: bool) -> None:
    """Only 429 and 5xx are worth another try."""
    assert is_retryable_status(code) is retry


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 1 ", 1.0),
        ("0", 0.0),
        ("-1", None),
        ("soon", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
    ],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    """Retry-After in seconds is read; anything else falls back to backoff."""
    assert parse_retry_after(header) == seconds


def test_ratelimit_spaces_calls_evenly() -> None:
    """At 3 calls/s, calls are 1/3 s apart and no one-second window holds more than 3."""
    clock = ManualClock(0.0)
    limiter = RateLimiter(3.0, clock=clock.now, sleep=clock.sleep)
    times = []
    for _ in range(10):
        limiter.acquire()
        times.append(clock.now())
    assert times[1] - times[0] == pytest.approx(1 / 3)
    assert max(sum(1 for t in times if s <= t < s + 1 - 1e-9) for s in times) == 3


def test_ratelimit_does_not_wait_after_idle_time() -> None:
    """A caller after a pause goes at once (no burst credit, no needless wait)."""
    clock = ManualClock(0.0)
    limiter = RateLimiter(2.0, clock=clock.now, sleep=clock.sleep)
    limiter.acquire()
    clock.advance(10)
    limiter.acquire()
    assert clock.sleeps == []


def test_ratelimit_hold_off_delays_every_caller() -> None:
    """After hold_off(5) the next call, from any thread, waits until 5 s have passed."""
    clock = ManualClock(0.0)
    limiter = RateLimiter(100.0, clock=clock.now, sleep=clock.sleep)
    limiter.acquire()
    limiter.hold_off(5.0)
    limiter.acquire()
    assert clock.now() == pytest.approx(5.0)


def test_ratelimit_is_thread_safe() -> None:
    """Many threads get distinct slots, each 1/rate apart."""
    clock = ManualClock(0.0)
    slots: list[float] = []
    lock = threading.Lock()

    def fake_sleep(seconds: float) -> None:
        with lock:
            slots.append(seconds)

    limiter = RateLimiter(10.0, clock=clock.now, sleep=fake_sleep)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(s, 6) for s in slots) == [round(k / 10, 6) for k in range(1, 50)]


def test_ratelimit_rejects_nonpositive_rate() -> None:
    """A rate of zero or less is a programming error."""
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)


def test_client_retry_never_on_other_4xx_and_counts_calls() -> None:
    """A 404 fails on the first attempt with Gong's error text; calls counts it."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"requestId": "rq1", "errors": ["Request not found"]})

    clock = ManualClock()
    http = httpx.Client(transport=httpx.MockTransport(answer), base_url="https://g.example")
    client = GongClient(http, sleep=clock.sleep, clock=clock.now)
    with pytest.raises(RemoteProblem) as caught:
        client.request_status(integration_id=1, client_request_id="c")
    assert client.calls == 1 and clock.sleeps == []
    assert "HTTP 404: Request not found (Gong requestId rq1)" in str(caught.value)
    assert "check --base-url" in str(caught.value)


def test_client_retry_non_json_answer_is_a_remote_problem() -> None:
    """A 200 that is not JSON (a proxy page, a wrong URL) is explained, not a traceback."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>login</html>")

    http = httpx.Client(transport=httpx.MockTransport(answer), base_url="https://g.example")
    with pytest.raises(RemoteProblem, match="not a JSON object"):
        GongClient(http).entity_schema(integration_id=1, object_type="ACCOUNT")


def test_client_retry_bad_status_answer_is_a_remote_problem() -> None:
    """A request-status answer without a status is a remote problem (exit 4), not exit 3."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"requestId": "r"})

    http = httpx.Client(transport=httpx.MockTransport(answer), base_url="https://g.example")
    with pytest.raises(RemoteProblem, match="not usable") as caught:
        GongClient(http).request_status(integration_id=1, client_request_id="c")
    assert caught.value.exit_code == 4


def test_client_retry_undecodable_answer_is_not_retried() -> None:
    """An answer httpx cannot decode (broken gzip) is a RemoteProblem at once, no traceback."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not gzip", headers={"Content-Encoding": "gzip"})

    http = httpx.Client(transport=httpx.MockTransport(answer), base_url="https://g.example")
    client = GongClient(http)
    with pytest.raises(RemoteProblem, match="Integration list: DecodingError"):
        client.list_integrations()
    assert client.calls == 1


def test_ratelimit_hold_off_also_delays_a_caller_already_waiting() -> None:
    """A Retry-After hold-off reaches a thread already waiting for its slot: it waits it out too."""
    import threading
    import time

    from ldjfix.gong.ratelimit import RateLimiter

    limiter = RateLimiter(3.0)
    start = time.monotonic()
    limiter.acquire()  # the call that gets the 429
    returned: list[float] = []
    waiting = threading.Thread(
        target=lambda: (limiter.acquire(), returned.append(time.monotonic()))
    )
    waiting.start()  # reserves the slot at +0.33 s and sleeps
    time.sleep(0.1)
    limiter.hold_off(1.0)  # the 429 said Retry-After: 1
    waiting.join(timeout=5)
    assert returned and returned[0] - start >= 1.0
