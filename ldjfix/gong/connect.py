"""A :class:`~ldjfix.gong.client.GongClient` from a :class:`Connection`: URL, auth, limits."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

import httpx

from ldjfix.errors import UsageProblem
from ldjfix.gong.cancel import CancelToken
from ldjfix.gong.client import USER_AGENT, GongClient
from ldjfix.gong.connection import (
    CREDENTIAL_HINT,
    Connection,
    SecretAuth,
    basic_auth,
    credentials_from_env,
    normalize_base_url,
)
from ldjfix.gong.ratelimit import RateLimiter
from ldjfix.gong.retry import RetryPolicy

# Gong publishes no processing time; 4 MB a second is a guess that only delays a first poll
GONG_PROCESSING_RATE = 4_000_000.0


def check_connection(
    conn: Connection, *, env: Mapping[str, str] | None = None
) -> tuple[str, SecretAuth]:
    """The base URL and credentials :func:`connect` would use; a usage error (exit 2) when
    they are missing or wrong. No client is built: a run checks this before any work."""
    env = os.environ if env is None else env
    if conn.sandbox:
        if conn.base_url:
            raise UsageProblem("Use either --sandbox or --base-url, not both.")
        # the sandbox wants some credentials, like Gong; any will do unless it says otherwise
        auth = credentials_from_env(env) or basic_auth("sandbox", "sandbox")
        return "http://sandbox.localhost", auth
    base_url = normalize_base_url(conn.base_url)
    found = credentials_from_env(env)
    if found is None:
        raise UsageProblem("No Gong credentials in the environment.", hint=CREDENTIAL_HINT)
    return base_url, found


def connect(
    conn: Connection,
    *,
    limiter: RateLimiter | None = None,
    env: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    transport: httpx.BaseTransport | None = None,
    cancel: CancelToken | None = None,
) -> GongClient:
    """A client for Gong (``conn.base_url``) or a sandbox reached through ``transport``.

    ``transport`` replaces the network (tests, embedding, the in-process sandbox built by
    :func:`ldjfix.jobs.remote.open_client`); everything else (URL checks, credentials,
    headers) stays as in production.
    """
    base_url, auth = check_connection(conn, env=env)
    if conn.sandbox and transport is None:  # the client never builds the sandbox (layering)
        raise ValueError("a sandbox connection needs the sandbox's transport")
    http = httpx.Client(
        base_url=base_url,
        auth=auth,
        timeout=conn.timeout,
        headers={"User-Agent": USER_AGENT},
        transport=transport,
        follow_redirects=False,
    )
    limiter = limiter or RateLimiter(conn.calls_per_second, clock=clock, sleep=sleep)
    # the sandbox finishes by polls, not by time: waiting long between them only slows demos
    first_poll = 0.2 if conn.sandbox else 2.0
    return GongClient(
        http,
        limiter=limiter,
        policy=policy,
        sleep=sleep,
        clock=clock,
        first_poll=first_poll,
        cancel=cancel,
        processing_rate=None if conn.sandbox else GONG_PROCESSING_RATE,
    )
