"""The sandbox on a real loopback socket: ``ldjfix sandbox serve`` and a thread for tests.

A threading wsgiref server. It binds only to loopback addresses (the sandbox accepts any
credentials, so it must not be reachable from other machines). A ``drop`` fault closes the
socket without a byte of answer, as a crashed proxy would.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .connection import is_loopback
from .errors import UsageProblem
from .sandbox import DropConnection, Knobs, SandboxApp
from .sandbox_store import SandboxStore

log = logging.getLogger("ldjfix.sandbox")


class _Handler(ServerHandler):
    """Runs the app; a DropConnection sends nothing at all instead of a 500."""

    def run(self, application: Any) -> None:
        """Serve one request (wsgiref's run, plus the two ways a connection can just end)."""
        try:
            self.setup_environ()
            self.result = application(self.environ, self.start_response)  # type: ignore[attr-defined]
            self.finish_response()
        except DropConnection:
            return  # the socket closes with no answer at all
        except (ConnectionError, TimeoutError):
            return  # the client went away (e.g. it timed out during a stall)
        except Exception:
            self.handle_error()


class _RequestHandler(WSGIRequestHandler):
    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.parse_request():
            return
        handler = _Handler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]  # wsgiref's own handler passes it the same way
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


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


def make_server(app: SandboxApp, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
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
    bound_port = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    return RunningSandbox(f"http://{shown}:{bound_port}", app, server)


@contextlib.contextmanager
def serving(
    state_dir: str | Path,
    knobs: Knobs | None = None,
    *,
    require_auth: str | None = None,
    **app_options: Any,
) -> Iterator[RunningSandbox]:
    """Run a sandbox on 127.0.0.1 and a free port in a thread, for tests and embedding."""
    app = SandboxApp(SandboxStore(state_dir), knobs, require_auth=require_auth, **app_options)
    running = make_server(app)
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()
        thread.join(timeout=5)
