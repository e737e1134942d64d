"""Small WSGI plumbing for the sandbox: requests, JSON answers, multipart bodies.

Kept apart from the simulated API (``endpoints.py``) so that file reads as Gong's behaviour.
A body is read through :class:`Body`, never past its Content-Length, so the app behaves the
same on a socket (where reading further would block) as in-process (where it finds the end).
Multipart bodies are spooled to a temporary file in chunks and searched and read back through
:class:`Spool` a window at a time, so a 200 MB upload is never held in memory (not even as the
resident pages of an mmap).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import string
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson

CHUNK = 1 << 20
JSON_LIMIT = 16 << 20  # a JSON body (integration, schema, ids) is small
_LENGTH = re.compile(r"[0-9]{1,20}")
# one parameter of a header value: ; name="x" or ; name=x (quoted strings read whole, so a
# "boundary=" or "name=" inside another parameter's quotes is not taken for one)
_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')
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


class Body:
    """A request body read only as far as its Content-Length, so a socket never blocks past it.

    ``left`` counts what is still unread: reading the body and then draining it cannot wait
    for bytes the client never announced (on a socket that would hang until it gives up).
    """

    def __init__(self, stream: Any, length: int) -> None:
        # read1 returns what has arrived instead of waiting for all of it, so a body that stops
        # short is counted alike on a socket (which times out) and in memory (which ends)
        self._read = getattr(stream, "read1", stream.read)
        self.length = length
        self.left = length

    def read(self, size: int = CHUNK) -> bytes:
        """Up to ``size`` more bytes; b"" once all ``length`` bytes were read."""
        want = min(size, self.left)
        if want <= 0:
            return b""
        try:
            chunk: bytes = self._read(want)
        except (TimeoutError, ConnectionError):  # the server's read timeout, or a reset
            chunk = b""
        if not chunk:
            arrived = self.length - self.left
            raise BadRequest(
                f"The request body ended early: {arrived} of {self.length} bytes arrived"
            )
        self.left -= len(chunk)
        return chunk

    def read_all(self, limit: int) -> bytes:
        """The whole (small) body; one over ``limit`` bytes is refused unread."""
        if self.length > limit:
            raise BadRequest(f"Request body too large (at most {limit} bytes)")
        parts = []
        while self.left > 0:
            parts.append(self.read(self.left))
        return b"".join(parts)


@dataclass(frozen=True)
class Request:
    """The parts of a WSGI request the sandbox looks at."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    input: Body
    framing: str | None = None  # why the body cannot be read at all, if so

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        """Wrap a WSGI environ (PEP 3333: header values are latin-1 decoded bytes)."""
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = str(environ.get("CONTENT_TYPE") or "")
        length, framing = _declared_length(environ)
        return cls(
            method=str(environ.get("REQUEST_METHOD") or "GET"),  # methods are case-sensitive
            path=_wire_text(str(environ.get("PATH_INFO") or "/")).rstrip("/") or "/",
            query=parse_query(str(environ.get("QUERY_STRING") or "")),
            headers=headers,
            input=Body(environ.get("wsgi.input") or io.BytesIO(), length),
            framing=framing,
        )

    def param(self, name: str) -> str | None:
        """The one value of a query parameter, or None; a repeated one is malformed."""
        values = self.query.get(name)
        if values and len(values) > 1:
            raise BadRequest(f"Query parameter {name} is given {len(values)} times; give it once")
        return values[0] if values else None

    @property
    def length(self) -> int:
        """The body's Content-Length (0 when absent)."""
        return self.input.length

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower-cased (``multipart/form-data``)."""
        return self.headers.get("content-type", "").partition(";")[0].strip().lower()

    def json_body(self, *, typed: bool = True) -> Any:
        """The body parsed as JSON (big integers stay exact); ``typed``: as application/json."""
        if typed and self.media_type != "application/json":
            raise BadRequest("Content-Type must be application/json")
        try:
            return orjson.loads(self.input.read_all(JSON_LIMIT))
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"Request body is not valid JSON: {exc.msg}") from None


def _declared_length(environ: dict[str, Any]) -> tuple[int, str | None]:
    """Content-Length as a number, or 0 and why the body's framing is unusable."""
    if environ.get("HTTP_TRANSFER_ENCODING"):
        return 0, "Transfer-Encoding is not supported; send the body with a Content-Length"
    raw = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        return 0, None
    if not _LENGTH.fullmatch(raw):
        return 0, "Content-Length must be one number of bytes"
    return int(raw), None


def parse_query(query: str) -> dict[str, list[str]]:
    """Query parameters by name; percent-escapes and raw bytes are read as UTF-8 alike."""
    found: dict[str, list[str]] = {}
    for pair in _wire_bytes(query).split(b"&"):
        if not pair:
            continue
        key, _, value = pair.partition(b"=")
        found.setdefault(_unescape(key), []).append(_unescape(value))
    return found


def _unescape(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")


def _wire_bytes(text: str) -> bytes:
    """The bytes a PEP 3333 string stands for (latin-1); UTF-8 for anything past U+00FF."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def _wire_text(text: str) -> str:
    """A PEP 3333 string as the client meant it: its bytes read as UTF-8."""
    return _wire_bytes(text).decode("utf-8", "replace")


@dataclass(frozen=True)
class Part:
    """Where one multipart part's content lies within the spooled body."""

    start: int
    end: int


class Spool:
    """A spooled body read back by position: ``find`` and slices as on bytes, a window at a time."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: slice) -> bytes:
        start, stop, _ = key.indices(self.size)
        return self._read(start, stop - start)

    def find(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        """Where ``sub`` first occurs in ``[start, end)``, or -1 (as ``bytes.find``)."""
        start, end, _ = slice(start, end).indices(self.size)
        overlap = max(len(sub) - 1, 0)
        pos = start
        while pos < end or (pos == end and not sub):
            window = self._read(pos, min(CHUNK + overlap, end - pos))
            found = find_in(window, sub)
            if found != -1:
                return pos + found
            if pos + len(window) >= end:
                return -1
            pos += CHUNK
        return -1

    def chunks(self, start: int, end: int) -> Iterator[bytes]:
        """The bytes of ``[start, end)`` in chunks of at most :data:`CHUNK`."""
        pos = start
        while pos < end:
            chunk = self._read(pos, min(CHUNK, end - pos))
            if not chunk:
                return
            yield chunk
            pos += len(chunk)

    def _read(self, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        parts = []
        while length > 0:
            part = os.pread(self._fd, length, start)
            if not part:
                break
            parts.append(part)
            start += len(part)
            length -= len(part)
        return b"".join(parts)


def find_in(data: bytes, sub: bytes) -> int:
    """``data.find(sub)``, faster when ``sub`` starts with a byte ``data`` rarely holds.

    A multipart delimiter starts with ``\\r``, which an LDJSON file with ``\\n`` endings may
    not hold at all: looking for that one byte runs at memory speed, four times the speed of
    looking for the whole delimiter. After a few false starts, the whole is looked for.
    """
    if len(sub) < 8:
        return data.find(sub)
    first, pos = sub[:1], data.find(sub[:1])
    for _ in range(_FALSE_STARTS):
        if pos == -1 or data.startswith(sub, pos):
            return pos
        pos = data.find(first, pos + 1)
    return -1 if pos == -1 else data.find(sub, pos)


_FALSE_STARTS = 64  # occurrences of a delimiter's first byte checked one by one, per window


@contextlib.contextmanager
def multipart(request: Request, scratch: Path) -> Iterator[tuple[Spool, dict[str, Part]]]:
    """Spool a multipart body to ``scratch`` and yield (spool, parts by form-field name)."""
    content_type = request.headers.get("content-type", "")
    boundary = header_params(content_type.partition(";")[2]).get("boundary")
    if request.media_type != "multipart/form-data" or not boundary:
        raise BadRequest("Content-Type must be multipart/form-data with a boundary")
    if not request.length:
        raise BadRequest("The upload has no body (Content-Length is missing or 0)")
    fd, name = tempfile.mkstemp(dir=scratch, prefix="upload-")
    try:
        with os.fdopen(fd, "w+b") as spool:
            while chunk := request.input.read():
                spool.write(chunk)
            spool.flush()
            buffer = Spool(spool.fileno(), spool.tell())
            yield buffer, _parts(buffer, _wire_bytes(boundary))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _parts(buffer: Spool, boundary: bytes) -> dict[str, Part]:
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
        name = field_name(buffer[pos:head_end].decode("latin-1"))
        if name is not None:
            parts.setdefault(name, Part(head_end + 4, end))
        pos = end + 2


def field_name(head: str) -> str | None:
    """The form-field ``name`` of a part from its headers (never its ``filename``)."""
    for line in head.split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == "content-disposition":
            kind, _, params = value.partition(";")
            if kind.strip().lower() != "form-data":
                return None
            name = header_params(params).get("name")
            return None if name is None else _wire_text(name)
    return None


def header_params(text: str) -> dict[str, str]:
    """The ``key=value`` parameters after a header's first ``;``, keys lower-cased; first wins."""
    found: dict[str, str] = {}
    for match in _PARAM.finditer(";" + text):
        quoted, bare = match.group(2), match.group(3)
        value = bare if quoted is None else re.sub(r"\\(.)", r"\1", quoted)
        found.setdefault(match.group(1).lower(), value)
    return found
