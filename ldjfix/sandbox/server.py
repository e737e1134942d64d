"""The sandbox on a real loopback socket: ``ldjfix sandbox serve`` and a thread for tests.

A threading wsgiref server. It binds only to loopback addresses (the sandbox accepts any
credentials, so it must not be reachable from other machines). A ``drop`` fault closes the
socket without a byte of answer, as a crashed proxy would.

Every read has a timeout, a request HTTP itself cannot parse gets a JSON ``ErrorResponse``
like any other 4xx, and after answering the server discards whatever body the app did not need
before closing (so an early answer is not lost to a connection reset).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from ldjfix.errors import UsageProblem
from ldjfix.gong.connection import (
    CREDENTIAL_HINT,
    credentials_from_env,
    default_sandbox_dir,
    is_loopback,
)
from ldjfix.sandbox.app import DropConnection, Knobs, SandboxApp
from ldjfix.sandbox.store import SandboxStore
from ldjfix.sandbox.transport import content_environ
from ldjfix.sandbox.wsgi import CHUNK, REASONS, encode, error

log = logging.getLogger("ldjfix.sandbox.app")
READ_TIMEOUT = 10.0  # seconds a client may leave the server waiting for the next bytes
LINGER_SECONDS = 5.0  # at most this long spent discarding a body nobody will read
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]*")  # scheme://authority


class _Handler(ServerHandler):
    """Runs the app; a DropConnection sends nothing at all instead of a 500."""

    aborted = False

    def run(self, application: Any) -> None:
        """Serve one request (wsgiref's run, plus the two ways a connection can just end)."""
        try:
            self.setup_environ()
            self.result = application(self.environ, self.start_response)  # type: ignore[attr-defined]
            self.finish_response()
        except DropConnection as dropped:
            self.aborted = dropped.abort  # the socket closes with no answer at all
        except (ConnectionError, TimeoutError):
            self.aborted = True  # the client went away (e.g. it timed out during a stall)
        except Exception:
            self.handle_error()


class _RequestHandler(WSGIRequestHandler):
    """One connection: one request, answered as JSON even when HTTP itself is malformed."""

    server: _Server
    aborted = False

    def setup(self) -> None:
        """Bound every read, so a client that stops sending cannot hold the thread forever."""
        super().setup()
        self.connection.settimeout(self.server.read_timeout)

    def handle(self) -> None:
        """Read the request line and headers, then run the app (wsgiref's, minus keep-alive)."""
        if not self._parsed():
            return
        handler = _Handler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]  # wsgiref's own handler passes it the same way
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())
        self.aborted = handler.aborted
        self.close_connection = True

    def _parsed(self) -> bool:
        """True when a request line and headers were read; otherwise it was answered or gone."""
        self.requestline, self.request_version, self.command = "", "HTTP/1.0", ""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                return False  # connected, then closed without a word
            if len(self.raw_requestline) > 65536:
                self.send_error(414, "Request line too long")
                return False
            if len(self.raw_requestline.split()) < 3:  # blank, or HTTP/0.9's "GET /path"
                line = self.raw_requestline.decode("latin-1").strip()
                self.send_error(400, f"Bad request line {line!r}: expected METHOD TARGET HTTP/1.x")
                return False
            return bool(self.parse_request())
        except (TimeoutError, ConnectionError):
            self.aborted = True  # stopped sending mid-request, or went away
            return False

    def get_environ(self) -> dict[str, Any]:
        """wsgiref's environ, with every Content-Length sent and absolute targets made paths."""
        environ: dict[str, Any] = super().get_environ()
        environ.update(content_environ(list(self.headers.items())))
        if _ABSOLUTE.match(environ["PATH_INFO"]):  # "GET http://host/v2/... HTTP/1.1"
            environ["PATH_INFO"] = _ABSOLUTE.sub("", environ["PATH_INFO"]) or "/"
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A request HTTP cannot parse gets Gong's ErrorResponse JSON, not an HTML page."""
        if self.request_version == "HTTP/0.9":  # http.server's guess before it read a version:
            self.request_version = "HTTP/1.0"  # it would then leave out status line and headers
        _, headers, body = encode(error(code, message or REASONS.get(code, "Bad request")))
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def finish(self) -> None:
        """Flush the answer, then let the client finish sending before the socket closes."""
        super().finish()
        if not self.aborted:
            _linger(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def _linger(connection: socket.socket) -> None:
    """Half-close and discard what the client still sends (for a short while).

    The app reads no more of a body than it needs. Closing a socket with unread bytes makes
    the kernel reset the connection, and the client may then lose the answer already sent;
    so, as web servers do ("lingering close"), the rest is read and thrown away first.
    """
    deadline = time.monotonic() + LINGER_SECONDS
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)
        while (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            if not connection.recv(CHUNK):
                return


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    read_timeout = READ_TIMEOUT


class _Server6(_Server):
    address_family = socket.AF_INET6


@dataclass
class RunningSandbox:
    """A sandbox server: its URL, app (with ``calls``) and store."""

    url: str
    app: SandboxApp
    server: WSGIServer

    @property
    def store(self) -> SandboxStore:
        """The state the server keeps."""
        return self.app.store


def make_server(
    app: SandboxApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    read_timeout: float = READ_TIMEOUT,
) -> RunningSandbox:
    """Bind the app to a loopback address (port 0 = any free port); not yet serving."""
    if not is_loopback(host):
        raise UsageProblem(
            f"The sandbox serves only on this machine; {host!r} is not a loopback address.",
            hint="Use --host 127.0.0.1 (the default) or ::1.",
        )
    server_class = _Server6 if ":" in host else _Server
    try:
        server = server_class((host, port), _RequestHandler)
    except OSError as exc:
        raise UsageProblem(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    server.set_app(app)
    server.read_timeout = read_timeout
    bound_port = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    return RunningSandbox(f"http://{shown}:{bound_port}", app, server)


@contextlib.contextmanager
def serving(
    state_dir: str | Path,
    knobs: Knobs | None = None,
    *,
    require_auth: str | None = None,
    read_timeout: float = READ_TIMEOUT,
    **app_options: Any,
) -> Iterator[RunningSandbox]:
    """Run a sandbox on 127.0.0.1 and a free port in a thread, for tests and embedding."""
    app = SandboxApp(SandboxStore(state_dir), knobs, require_auth=require_auth, **app_options)
    running = make_server(app, read_timeout=read_timeout)
    # a short poll interval: shutdown() waits for it, and tests start many servers
    thread = threading.Thread(target=running.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()
        thread.join(timeout=5)


@dataclass(frozen=True)
class ServeSettings:
    """What ``ldjfix sandbox serve`` runs: where the state is, the knobs, the required auth."""

    state_dir: Path
    knobs: Knobs
    require_auth: str | None = None


def settings_from_options(
    *,
    sandbox_dir: str | None,
    knobs: str | None,
    polls: int | None,
    calls_per_second: float | None,
    script: tuple[str, ...],
    seed: int | None,
    require_auth: bool,
) -> ServeSettings:
    """Settings from ``serve``'s options: --knobs JSON first, single flags override it."""
    base = Knobs.from_json(knobs, source="--knobs") if knobs else Knobs()
    changes: dict[str, Any] = {
        "polls": polls,
        "calls_per_second": calls_per_second,
        "seed": seed,
        "script": script or None,
    }
    base = replace(base, **{k: v for k, v in changes.items() if v is not None})
    expected = None
    if require_auth:
        found = credentials_from_env(os.environ)
        if found is None:
            raise UsageProblem("--require-auth needs credentials to require.", hint=CREDENTIAL_HINT)
        expected = found.header()
    state = Path(sandbox_dir) if sandbox_dir else default_sandbox_dir()
    return ServeSettings(state, base, expected)


def banner(url: str, settings: ServeSettings) -> str:
    """What ``serve`` tells a person: the exact ``export`` lines that make ldjfix use it."""
    if settings.require_auth:  # never echo the secret: name the variables it came from
        creds = (
            "  # credentials: the GONG_ACCESS_KEY + GONG_ACCESS_KEY_SECRET (or GONG_BEARER_TOKEN)\n"
            "  # exported in this shell; the sandbox accepts only those"
        )
    else:
        creds = (
            "  export GONG_ACCESS_KEY=sandbox GONG_ACCESS_KEY_SECRET=sandbox"
            "   # any well-formed key pair passes"
        )
    return (
        f"Gong sandbox listening on {url} (state in {settings.state_dir}).\n"
        f"Use it from another shell with:\n"
        f"  export GONG_BASE_URL={url}\n"
        f"{creds}\n"
        "  unset LDJFIX_SANDBOX   # set, it would keep ldjfix on the in-process sandbox\n"
        "Stop with Ctrl-C."
    )


def serve_forever(
    settings: ServeSettings,
    *,
    host: str,
    port: int,
    announce: Callable[[str], None],
    note: Callable[[str], None],
) -> None:
    """Serve until interrupted; ``announce`` gets the URL first, ``note`` the details."""
    app = SandboxApp(
        SandboxStore(settings.state_dir), settings.knobs, require_auth=settings.require_auth
    )
    running = make_server(app, host, port)
    announce(running.url)
    note(banner(running.url, settings))
    try:
        running.server.serve_forever()
    except KeyboardInterrupt:
        note("sandbox stopped")
    finally:
        running.server.server_close()
