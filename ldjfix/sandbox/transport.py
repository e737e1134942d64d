"""An httpx transport that hands requests to a WSGI app exactly as the socket server would.

httpx's own ``WSGITransport`` builds a different environ than a real server: it decodes the
path as UTF-8 (a server reads it as latin-1, PEP 3333), refuses non-ASCII header bytes, lets a
repeated header overwrite the first, and leaves out ``CONTENT_TYPE`` when none was sent. Here
the environ is the one ``wsgiref`` (``ldjfix sandbox serve``) builds, so the in-process sandbox
and the served one see the same request and give the same answer.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import unquote

import httpx

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def environ_for(request: httpx.Request) -> dict[str, Any]:
    """The WSGI environ ``wsgiref`` builds for this request (strings are latin-1 bytes)."""
    target = request.url.raw_path.decode("latin-1")
    path, _, query = target.partition("?")
    port = request.url.port or {"http": 80, "https": 443}.get(request.url.scheme, 80)
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.url.scheme,
        "wsgi.input": _RequestBody(request),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path, "iso-8859-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": request.url.host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
    environ.update(content_environ(headers))
    for name, value in headers:
        key = name.replace("-", "_").upper()
        if key in environ:
            continue  # Content-Type and Content-Length, as wsgiref skips them
        key = "HTTP_" + key
        # wsgiref joins a repeated header with commas
        environ[key] = f"{environ[key]},{value.strip()}" if key in environ else value.strip()
    return environ


def content_environ(headers: list[tuple[str, str]]) -> dict[str, str]:
    """``CONTENT_TYPE`` and ``CONTENT_LENGTH`` as the sandbox server sets them.

    As wsgiref: the first Content-Type, ``text/plain`` when there is none. Unlike wsgiref,
    several Content-Length headers are all kept (comma-joined), so the app sees the conflict
    instead of silently trusting the first.
    """
    types = [value for name, value in headers if name.lower() == "content-type"]
    lengths = [value.strip() for name, value in headers if name.lower() == "content-length"]
    found = {"CONTENT_TYPE": types[0] if types else "text/plain"}
    if any(lengths):
        found["CONTENT_LENGTH"] = ",".join(lengths)
    return found


class ServerlikeWSGITransport(httpx.BaseTransport):
    """Serve httpx requests from a WSGI app through :func:`environ_for`."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app on the request and wrap its answer."""
        seen: list[tuple[str, list[tuple[str, str]]]] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            seen.append((status, headers))
            return lambda _: None

        result = self.app(environ_for(request), start_response)
        body = _Stream(result)
        status, headers = seen[-1]
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return httpx.Response(int(status.split()[0]), headers=raw, stream=body)


class _RequestBody(io.RawIOBase):
    """The request's body as a file read as it is produced: an upload is never all in memory.

    ``read1`` hands back what the next chunk holds, as a socket hands back what has arrived.
    """

    def __init__(self, request: httpx.Request) -> None:
        if isinstance(request.stream, httpx.SyncByteStream):
            self._chunks: Iterator[bytes] = iter(request.stream)
        else:  # an async-only stream cannot be served here: read what httpx already holds
            self._chunks = iter([request.read()])
        self._pending = b""

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes from the current chunk (b"" at the end)."""
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._pending = bytes(chunk)
        if size is None or size < 0 or size >= len(self._pending):
            taken, self._pending = self._pending, b""
        else:
            taken, self._pending = self._pending[:size], self._pending[size:]
        return taken

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all that is left when ``size`` is negative)."""
        if size is None or size < 0:
            return b"".join(iter(self.read1, b""))
        parts, left = [], size
        while left > 0 and (part := self.read1(left)):
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        data = self.read1(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Stream(httpx.SyncByteStream):
    def __init__(self, result: Iterable[bytes]) -> None:
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        yield from self._result

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()
