"""One HTTP request as bytes, sent to the served sandbox on a socket and to the in-process one.

A :class:`Wire` is exactly what a client puts on the socket: no library fills in a Host,
Content-Length or encoding behind the test's back. :class:`Pair` sends it to a real
``sandbox serve``-style server (loopback, a short client timeout, so a hang fails the test
instead of blocking it) and, through :class:`SandboxTransport`, to an in-process app on a state
folder of its own, and returns both answers for comparison. Small builders at the end make
the usual calls (register, schema, upload, read-back, status) with a body to damage.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson
import pytest

from ldjfix.gong.connection import basic_auth
from ldjfix.sandbox.app import Knobs, SandboxApp, SandboxTransport
from ldjfix.sandbox.server import serving
from ldjfix.sandbox.store import SandboxStore

CLIENT_TIMEOUT = 3.0  # a served answer later than this is a hang
READ_TIMEOUT = 0.5  # how long the test server waits for body bytes that never come
AUTH = basic_auth("key", "secret").header()
COMPARED = ("content-type", "allow", "retry-after")


@dataclass(frozen=True)
class Wire:
    """One request: method, target and headers as sent (UTF-8 bytes where not ASCII), body."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = (("Authorization", AUTH),)
    body: bytes = b""
    # add Content-Length: len(body) unless a header gives one (or Transfer-Encoding) already
    auto_length: bool = True

    def header_lines(self) -> list[tuple[bytes, bytes]]:
        """Every header, Host first, as bytes."""
        lines = [(b"Host", b"127.0.0.1"), *((k.encode(), v.encode()) for k, v in self.headers)]
        given = {k.lower() for k, _ in self.headers}
        if self.auto_length and self.body and not given & {"content-length", "transfer-encoding"}:
            lines.append((b"Content-Length", str(len(self.body)).encode()))
        return lines

    def raw(self) -> bytes:
        """The request as bytes on the socket."""
        head = f"{self.method} ".encode() + self.target.encode() + b" HTTP/1.1\r\n"
        head += b"".join(k + b": " + v + b"\r\n" for k, v in self.header_lines())
        return head + b"\r\n" + self.body


@dataclass(frozen=True)
class Reply:
    """One answer: code, headers (lower-case names), body bytes; and how long it took."""

    code: int
    headers: dict[str, str]
    body: bytes
    seconds: float = 0.0

    def doc(self) -> Any:
        """The JSON body (None when empty)."""
        return orjson.loads(self.body) if self.body else None

    def errors(self) -> list[str]:
        """The ErrorResponse's ``errors``."""
        found: list[str] = self.doc()["errors"]
        return found

    def comparable(self) -> tuple[Any, ...]:
        """What must be the same served and in-process: all but the random requestId."""
        doc = self.doc()
        if isinstance(doc, dict):
            doc = {k: v for k, v in doc.items() if k != "requestId"}
        return self.code, {k: self.headers.get(k) for k in COMPARED}, doc


def parse_reply(data: bytes, seconds: float) -> Reply:
    """An HTTP/1.x answer read off the socket up to its end."""
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep, f"not an HTTP answer: {data[:200]!r}"
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(int(status.split()[1]), headers, body, seconds)


def send_raw(url: str, data: bytes, *, half_close: bool = False) -> Reply:
    """Send bytes to the server at ``url``; read its answer until it closes the connection."""
    parts = urlsplit(url)
    started = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=CLIENT_TIMEOUT) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(1 << 16):
                chunks.append(chunk)
        except TimeoutError:
            pytest.fail(f"the served sandbox gave no answer within {CLIENT_TIMEOUT} s: it hangs")
    return parse_reply(b"".join(chunks), time.monotonic() - started)


def escaped(target: str) -> str:
    """The target as an HTTP library sends it: non-ASCII characters percent-escaped as UTF-8."""
    return quote(target, safe="".join(chr(c) for c in range(0x21, 0x7F)))


def send_in_process(app: SandboxApp, wire: Wire) -> Reply:
    """The same request through the in-process transport (``--sandbox``)."""
    request = httpx.Request(
        wire.method,
        "http://127.0.0.1" + escaped(wire.target),
        headers=wire.header_lines(),
        stream=httpx.ByteStream(wire.body),  # no headers added: the wire's are all there is
    )
    started = time.monotonic()
    response = SandboxTransport(app=app).handle_request(request)
    body = response.read()
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Reply(response.status_code, headers, body, time.monotonic() - started)


@dataclass
class Pair:
    """A served sandbox and an in-process one, each on its own (equally fresh) state."""

    url: str
    app: SandboxApp
    seen: list[tuple[Reply, Reply]] = field(default_factory=list)

    def both(self, wire: Wire, *, half_close: bool = False) -> tuple[Reply, Reply]:
        """(served, in-process) answers to one request."""
        served = send_raw(self.url, wire.raw(), half_close=half_close)
        answers = served, send_in_process(self.app, wire)
        self.seen.append(answers)
        return answers


@contextmanager
def sandbox_pair(folder: Path, knobs: Knobs | None = None, **options: Any) -> Iterator[Pair]:
    """A served and an in-process sandbox with the same knobs and options."""
    knobs = knobs or Knobs(polls=0, calls_per_second=0)
    app = SandboxApp(SandboxStore(folder / "in-process"), knobs, in_process=True, **options)
    with serving(folder / "served", knobs, read_timeout=READ_TIMEOUT, **options) as running:
        yield Pair(running.url, app)


# request builders -------------------------------------------------------------------------

JSON = ("Content-Type", "application/json")
AUTHZ = ("Authorization", AUTH)
GOOD = b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00Z"}\n'


def form(*parts: tuple[str, bytes], boundary: str = "xYz") -> bytes:
    """A multipart/form-data body: (Content-Disposition parameters, content) per part."""
    out = b""
    for disposition, content in parts:
        out += f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n".encode()
        out += b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


MULTIPART = ("Content-Type", "multipart/form-data; boundary=xYz")


def upload(crid: str, body: bytes, *headers: tuple[str, str], **options: bool) -> Wire:
    """A POST /v2/crm/entities with the three query parameters."""
    target = f"/v2/crm/entities?integrationId=1&objectType=ACCOUNT&clientRequestId={crid}"
    return Wire("POST", target, (AUTHZ, *(headers or (MULTIPART,))), body, **options)


def schema(body: bytes, *headers: tuple[str, str]) -> Wire:
    """A POST /v2/crm/entity-schema for ACCOUNT."""
    target = "/v2/crm/entity-schema?integrationId=1&objectType=ACCOUNT"
    return Wire("POST", target, (AUTHZ, *(headers or (JSON,))), body)


def register(body: bytes, *headers: tuple[str, str], **options: bool) -> Wire:
    """A PUT /v2/crm/integrations."""
    return Wire("PUT", "/v2/crm/integrations", (AUTHZ, *headers), body, **options)


def status(query: str, *headers: tuple[str, str]) -> Wire:
    """A GET /v2/crm/request-status with the given query."""
    return Wire("GET", f"/v2/crm/request-status?{query}", headers or (AUTHZ,))


def read_back(body: bytes, query: str = "integrationId=1&objectType=ACCOUNT") -> Wire:
    """A GET /v2/crm/entities with ids in the body."""
    return Wire("GET", f"/v2/crm/entities?{query}", (AUTHZ,), body)
