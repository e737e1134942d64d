"""What only the socket sees: HTTP the server cannot parse, idle and lying clients, big bodies.

The in-process transport never meets these (httpx builds well-formed requests); a real client
or a hostile tester does. Each must get a prompt JSON ``ErrorResponse`` or a closed connection,
never a hang, an HTML page or a reset that loses the answer.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving
from tests.sandbox.wire import AUTH, CLIENT_TIMEOUT, READ_TIMEOUT, Reply, Wire, send_raw

AUTHZ = f"Authorization: {AUTH}\r\n".encode()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    """A served sandbox with a short read timeout."""
    knobs = Knobs(polls=0, calls_per_second=0)
    with serving(tmp_path / "state", knobs, read_timeout=READ_TIMEOUT) as running:
        yield running


@pytest.mark.parametrize(
    ("request_bytes", "code", "words"),
    [
        (b"garbage\r\n\r\n", 400, "Bad request line 'garbage'"),
        (b"\r\n\r\n", 400, "Bad request line ''"),
        (b"GET /v2/crm/integrations\r\n", 400, "expected METHOD TARGET HTTP/1.x"),  # HTTP/0.9
        (b"GET /v2/crm/integrations HTTP/2.0\r\n\r\n", 505, "Invalid HTTP version"),
        (b"GET /v2/crm/integrations HTTP/x\r\n\r\n", 400, "Bad request version"),
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400, "Bad request version"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "Request line too long"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", 431, "Line too long"),
        (b"GET / HTTP/1.1\r\n" + b"X: a\r\n" * 101 + b"\r\n", 431, "Too many headers"),
        (b"get /v2/crm/integrations HTTP/1.1\r\n" + AUTHZ + b"\r\n", 405, "get is not allowed"),
    ],
    ids=lambda value: value[:24] if isinstance(value, bytes) else str(value),
)
def test_sandbox_socket_unparsable_http_gets_a_json_error(
    sandbox: RunningSandbox, request_bytes: bytes, code: int, words: str
) -> None:
    """HTTP the server cannot parse: a status line, JSON ErrorResponse and no wait."""
    reply = send_raw(sandbox.url, request_bytes)
    assert reply.code == code and reply.headers["content-type"] == "application/json"
    assert words in reply.errors()[0]
    assert reply.seconds < READ_TIMEOUT


def test_sandbox_socket_absolute_target_is_the_same_path(sandbox: RunningSandbox) -> None:
    """``GET http://host/v2/crm/integrations`` (absolute form, RFC 9112 3.2.2) is that path."""
    target = f"{sandbox.url}/v2/crm/integrations"
    assert send_raw(sandbox.url, Wire("GET", target).raw()).code == 200


def test_sandbox_socket_idle_client_is_closed_and_others_are_served(
    sandbox: RunningSandbox,
) -> None:
    """A client that connects and says nothing is dropped after the read timeout; meanwhile
    the server answers everyone else."""
    host, port = sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=CLIENT_TIMEOUT) as idle:
        started = time.monotonic()
        other = send_raw(sandbox.url, Wire("GET", "/v2/crm/integrations").raw())
        assert other.code == 200 and other.seconds < READ_TIMEOUT
        assert idle.recv(1) == b""  # closed by the server, without a word
        assert READ_TIMEOUT <= time.monotonic() - started < CLIENT_TIMEOUT


def test_sandbox_socket_stalled_headers_are_dropped(sandbox: RunningSandbox) -> None:
    """Half a header block and then silence: the connection is closed, not held forever."""
    host, port = sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=CLIENT_TIMEOUT) as sock:
        sock.sendall(b"GET /v2/crm/integrations HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - started < CLIENT_TIMEOUT


@pytest.mark.parametrize(
    ("headers", "target", "code"),
    [
        ((("Authorization", "Bearer"),), "/v2/crm/entities", 401),
        ((("Authorization", AUTH),), "/v2/crm/nowhere", 404),
        ((("Authorization", AUTH),), "/v2/crm/entities?integrationId=1", 400),
        ((("Authorization", AUTH),), "/v2/crm/request-status", 405),
    ],
)
def test_sandbox_socket_early_answer_survives_a_big_body(
    sandbox: RunningSandbox, headers: tuple[tuple[str, str], ...], target: str, code: int
) -> None:
    """An answer given without reading an 8 MB body still reaches the client whole: the
    server discards the body after answering instead of resetting the connection."""
    wire = Wire("POST", target, headers, b"x" * (8 << 20))
    reply = send_raw(sandbox.url, wire.raw())
    assert reply.code == code and reply.errors()


def test_sandbox_socket_upload_over_the_cap_is_answered_without_reading_it(
    sandbox: RunningSandbox,
) -> None:
    """Content-Length past 200 MB: 201 at once and a line-0 failure, the body never read."""
    target = "/v2/crm/entities?integrationId=1&objectType=ACCOUNT&clientRequestId=huge"
    headers = (
        ("Authorization", AUTH),
        ("Content-Type", "multipart/form-data; boundary=b"),
        ("Content-Length", str(300 * 1000 * 1000)),
    )
    reply: Reply = send_raw(sandbox.url, Wire("POST", target, headers, b"--b\r\n").raw())
    assert reply.code == 201 and reply.seconds < READ_TIMEOUT
    outcome = sandbox.store.request(1, "huge")
    assert outcome is not None
    assert outcome["result"]["errors"] == [
        {"line": 0, "description": "File size 300000000 bytes exceeds the maximum of 200 MB"}
    ]


_SEEDS = [
    Wire(
        "PUT",
        "/v2/crm/integrations",
        (("Authorization", AUTH), ("Content-Type", "application/json")),
        b'{"name": "a", "ownerEmail": "b@c"}',
    ),
    Wire(
        "POST",
        "/v2/crm/entity-schema?integrationId=1&objectType=ACCOUNT",
        (("Authorization", AUTH), ("Content-Type", "application/json")),
        b'[{"uniqueName": "t", "label": "T", "type": "STRING"}]',
    ),
    Wire(
        "POST",
        "/v2/crm/entities?integrationId=1&objectType=ACCOUNT&clientRequestId=c1",
        (("Authorization", AUTH), ("Content-Type", "multipart/form-data; boundary=xYz")),
        b'--xYz\r\nContent-Disposition: form-data; name="dataFile"\r\n\r\n'
        b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00Z"}\r\n--xYz--\r\n',
    ),
    Wire("GET", "/v2/crm/entities?integrationId=1&objectType=ACCOUNT", body=b'["a1"]'),
    Wire("GET", "/v2/crm/request-status?integrationId=1&clientRequestId=c1"),
]
_SPLINTERS = [b"\r\n", b"\x00", b"\xff", b"%", b"%FF", b"&", b"=", b";", b" ", b'"', b"9" * 25]


def _mutated(rng: random.Random, data: bytes) -> bytes:
    """The request with a few bytes deleted, replaced or inserted."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at, roll = rng.randrange(len(out) + 1), rng.random()
        if roll < 0.3:
            del out[at : at + rng.randint(1, 8)]
        elif roll < 0.7:
            out[at:at] = rng.choice(_SPLINTERS)
        else:
            out[at:at] = rng.randbytes(rng.randint(1, 4))
    return bytes(out)


def test_sandbox_socket_mangled_requests_get_prompt_json_answers(sandbox: RunningSandbox) -> None:
    """400 requests with random damage (seeded): each a JSON answer at once, never a 500."""
    rng = random.Random(11)
    codes = set()
    for _ in range(400):
        data = _mutated(rng, rng.choice(_SEEDS).raw())
        reply = send_raw(sandbox.url, data, half_close=True)  # done sending: nothing to wait for
        assert reply.code < 500 or reply.code == 505, (data, reply.body)
        assert reply.seconds < READ_TIMEOUT, data
        assert reply.headers["content-type"] == "application/json", data
        codes.add(reply.code)
    assert {200, 400, 401, 404} <= codes  # the damage reached every layer
