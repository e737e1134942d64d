"""Small WSGI plumbing for the sandbox: requests, JSON answers, multipart bodies.

Kept apart from the simulated API (``sandbox.py``) so that file reads as Gong's behaviour.
Multipart bodies are spooled to a temporary file and searched through an mmap, so a 200 MB
upload is never held in memory twice.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import secrets
import string
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson

CHUNK = 1 << 20
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')
_NAME = re.compile(r'name="([^"]*)"')
_ID_CHARS = string.ascii_lowercase + string.digits

Headers = list[tuple[str, str]]


class BadRequest(Exception):
    """The request is malformed: answered 400 with this message."""


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the sandbox."""

    code: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def new_request_id() -> str:
    """A Gong-looking request reference id (19 lowercase letters and digits)."""
    return "".join(secrets.choice(_ID_CHARS) for _ in range(19))


def error(code: int, *messages: str) -> Answer:
    """An ``ErrorResponse`` answer: ``{requestId, errors[]}``."""
    return Answer(code, {"requestId": new_request_id(), "errors": list(messages)})


def encode(answer: Answer) -> tuple[str, Headers, bytes]:
    """Status line, headers and body bytes of an answer."""
    body = orjson.dumps(answer.body)
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        *answer.headers,
    ]
    return f"{answer.code} {REASONS.get(answer.code, 'Error')}", headers, body


@dataclass(frozen=True)
class Request:
    """The parts of a WSGI request the sandbox looks at."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    environ: dict[str, Any]

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        """Wrap a WSGI environ."""
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=environ.get("PATH_INFO", "/").rstrip("/") or "/",
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            environ=environ,
        )

    def param(self, name: str) -> str | None:
        """The first value of a query parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def length(self) -> int:
        """The body's Content-Length (0 when absent)."""
        try:
            return max(0, int(self.environ.get("CONTENT_LENGTH") or 0))
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None

    def body(self, limit: int = 16 << 20) -> bytes:
        """The whole (small) body."""
        if self.length > limit:
            raise BadRequest("Request body too large")
        data: bytes = self.environ["wsgi.input"].read(self.length)
        return data

    def json_body(self) -> Any:
        """The body parsed as JSON (big integers stay exact)."""
        try:
            return orjson.loads(self.body())
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"Request body is not valid JSON: {exc.msg}") from None

    def drain(self) -> None:
        """Read and discard the body (so the connection stays sane)."""
        remaining, stream = self.length, self.environ["wsgi.input"]
        while remaining > 0:
            chunk = stream.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)


@dataclass(frozen=True)
class Part:
    """Where one multipart part's content lies within the spooled body."""

    start: int
    end: int


@contextlib.contextmanager
def multipart(
    request: Request, scratch: Path
) -> Iterator[tuple[mmap.mmap | bytes, dict[str, Part]]]:
    """Spool a multipart body to ``scratch`` and yield (buffer, parts by name)."""
    match = _BOUNDARY.search(request.headers.get("content-type", ""))
    if not request.headers.get("content-type", "").startswith("multipart/form-data") or not match:
        raise BadRequest("Content-Type must be multipart/form-data with a boundary")
    fd, name = tempfile.mkstemp(dir=scratch, prefix="upload-")
    try:
        with os.fdopen(fd, "w+b") as spool:
            _copy_body(request, spool)
            if spool.tell() == 0:
                raise BadRequest("The request has no body")
            with mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
                yield buffer, _parts(buffer, match.group(1).encode("latin-1"))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _copy_body(request: Request, spool: Any) -> None:
    remaining, stream = request.length, request.environ["wsgi.input"]
    if not remaining:
        raise BadRequest("Content-Length is required")
    while remaining > 0:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            raise BadRequest("The request body ended early")
        spool.write(chunk)
        remaining -= len(chunk)
    spool.flush()


def _parts(buffer: mmap.mmap, boundary: bytes) -> dict[str, Part]:
    delimiter = b"--" + boundary
    pos = buffer.find(delimiter)
    if pos == -1:
        raise BadRequest("Multipart boundary not found in the body")
    parts: dict[str, Part] = {}
    while True:
        pos += len(delimiter)
        if buffer[pos : pos + 2] == b"--":
            return parts
        head_end = buffer.find(b"\r\n\r\n", pos)
        end = buffer.find(b"\r\n" + delimiter, head_end + 4) if head_end != -1 else -1
        if end == -1:
            raise BadRequest("Malformed multipart body")
        head = buffer[pos:head_end].decode("latin-1")
        found = _NAME.search(head)
        if found:
            parts.setdefault(found.group(1), Part(head_end + 4, end))
        pos = end + 2
