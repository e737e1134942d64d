"""The Gong sandbox: a faithful simulator of Gong's CRM API as a WSGI application.

The same app runs in-process behind ``--sandbox`` (through :class:`SandboxTransport`) and on a
loopback socket for ``ldjfix sandbox serve`` (``sandbox_server.py``). State lives in a folder
(:class:`~ldjfix.sandbox.store.SandboxStore`) so separate processes see the same Gong.

Behaviour (README "The sandbox"; decisions where Gong's is unknown are marked *sandbox*):

* any well-formed Basic or Bearer credentials pass, unless the app was given the one
  ``Authorization`` value to require; no or malformed credentials get 401;
* more than ``calls_per_second`` admitted calls within one second get 429 + ``Retry-After``;
* every integration id is usable for uploads without registering it (*sandbox*);
* an upload is judged at once by ``sandbox_rules`` and its accepted records are kept at once;
  its status then answers PENDING, IN_PROGRESS…, and the outcome over ``polls`` polls;
* at most 20 errors are listed (the first by line) with the true totals; a reused
  ``clientRequestId`` (per integration) gets 409; an unknown one gets 400 (*sandbox*: Gong
  documents no 404).

Fault knobs (:class:`Knobs`) inject 429s, 5xx, dropped connections and stalls for tests.
"""

from __future__ import annotations

import contextlib
import logging
import random
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import httpx
import orjson

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.sandbox.auth import auth_problem
from ldjfix.sandbox.endpoints import SandboxApi
from ldjfix.sandbox.store import SandboxStore
from ldjfix.sandbox.transport import ServerlikeWSGITransport
from ldjfix.sandbox.wsgi import Answer, BadRequest, Request, encode, error

ENV_KNOBS = "LDJFIX_SANDBOX_KNOBS"
log = logging.getLogger("ldjfix.sandbox.app")
FAULTS = ("ok", "429", "500", "503", "drop", "lost", "stall", "cut", "truncate", "flap")


class DropConnection(Exception):
    """Close the connection without answering (a fault, or a reply lost after processing).

    ``abort``: close at once, unread body and all (the client sees a reset mid-upload);
    otherwise the server first lets the client finish sending, then closes.
    """

    def __init__(self, *, abort: bool = False) -> None:
        super().__init__("connection dropped")
        self.abort = abort


class Truncated(Exception):
    """In-process stand-in for an answer cut off mid-body (the call itself was handled)."""


class Stalled(Exception):
    """In-process stand-in for a server that answers too late: the client times out."""


@dataclass(frozen=True)
class Knobs:
    """How the sandbox behaves beyond Gong's defaults; tests and ``serve`` flags set these.

    ``script`` lists faults for the first calls in order (e.g. ``("429", "429", "500")``);
    after it, each call draws from ``shares`` (e.g. ``{"500": 0.1}``) with a seeded RNG.
    Faults: ``429``; ``500``/``503``; ``drop`` (close without answering, before handling);
    ``lost`` (handle the call, then close without answering: the reply is lost); ``stall``
    (answer only after ``stall_seconds``; in-process the client times out at once); ``cut``
    (read half the request body, then close: a connection dropped mid-upload); ``truncate``
    (handle the call, then send only half the answer body: the reply arrives cut short);
    ``flap`` (a request-status answer says PENDING or IN_PROGRESS, whatever the true state).
    """

    polls: int = 2
    calls_per_second: float = 3.0
    retry_after: int = 1
    script: tuple[str, ...] = ()
    shares: Mapping[str, float] = field(default_factory=dict)
    stall_seconds: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        bad = [f for f in (*self.script, *self.shares) if f not in FAULTS]
        if bad:
            raise UsageProblem(f"Unknown sandbox fault {bad[0]!r}; known: {', '.join(FAULTS)}.")
        if not all(isinstance(v, int | float) and 0 <= v <= 1 for v in self.shares.values()):
            raise UsageProblem("Sandbox fault shares must be numbers from 0 to 1.")
        if self.polls < 0 or self.calls_per_second < 0 or self.retry_after < 0:
            raise UsageProblem("Sandbox knobs polls, calls_per_second, retry_after must be >= 0.")

    @classmethod
    def from_json(cls, text: str, *, source: str = ENV_KNOBS) -> Knobs:
        """Knobs from a JSON object such as ``{"polls": 0, "calls_per_second": 50}``."""
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise UsageProblem(f"{source} is not JSON: {exc.msg}.") from None
        known = {f.name for f in fields(cls)}
        if not isinstance(doc, dict) or not set(doc) <= known:
            raise UsageProblem(f"{source} must be a JSON object with keys from {sorted(known)}.")
        if "script" in doc:
            doc["script"] = tuple(doc["script"])
        try:
            return cls(**doc)
        except TypeError as exc:
            raise UsageProblem(f"{source}: {exc}.") from None


@dataclass(frozen=True)
class Call:
    """One call the sandbox saw: when it answered (its clock), what, how, and when it arrived."""

    time: float
    method: str
    path: str
    code: int | None  # None: the connection was dropped
    fault: str
    arrived: float  # the rate limit is about arrivals; ``time`` is after the work


class SandboxApp:
    """The WSGI application. Thread-safe; ``calls`` lists every call it saw."""

    def __init__(
        self,
        store: SandboxStore,
        knobs: Knobs | None = None,
        *,
        require_auth: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        in_process: bool = False,
    ) -> None:
        self.store = store
        self.knobs = knobs or Knobs()
        self.api = SandboxApi(store, polls=self.knobs.polls)
        self._require_auth = require_auth
        self._clock = clock
        self._sleep = sleep
        self._in_process = in_process
        self._lock = threading.Lock()
        self._rng = random.Random(self.knobs.seed)
        self._script = deque(self.knobs.script)
        self._window: deque[float] = deque()
        self.calls: list[Call] = []

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        arrived = self._clock()
        request = Request.from_environ(environ)
        fault = self._next_fault()
        try:
            answer = self._answer(request, fault)
        except (DropConnection, Stalled):
            self._record(request, None, fault, arrived)
            raise
        except Exception as exc:  # e.g. a damaged state folder: say so, never a traceback
            log.debug("sandbox failed on %s %s", request.method, request.path, exc_info=True)
            problem = f"{type(exc).__name__}: {exc}"
            if self._in_process:  # straight to the user: retrying cannot repair the folder
                raise InputProblem(
                    f"The sandbox state in {self.store.root} is unusable ({problem}).",
                    hint="Delete that folder to start afresh, or use another --sandbox-dir.",
                ) from None
            answer = error(500, f"Sandbox internal error: {problem}")
        self._record(request, answer.code, fault, arrived)
        status, headers, body = encode(answer)
        if fault == "truncate" and self._in_process:
            raise Truncated
        start_response(status, headers)
        if fault == "truncate":  # Content-Length promises all of it; half arrives
            return _cut_short(body)
        return [b""] if request.method == "HEAD" else [body]

    def _answer(self, request: Request, fault: str) -> Answer:
        if fault in ("drop", "429", "500", "503"):
            if fault == "drop":
                raise DropConnection
            if fault == "429":
                return self._too_many()
            return error(int(fault), "An error has occurred")
        if fault == "cut":
            with contextlib.suppress(BadRequest):
                request.input.read(request.length // 2)
            raise DropConnection(abort=True)
        if fault == "stall":
            if self._in_process:
                raise Stalled
            self._sleep(self.knobs.stall_seconds)
        answer = self._checked(request)
        if fault == "lost":
            raise DropConnection
        if fault == "flap" and answer.code == 200 and "status" in answer.body:
            shown = self._rng.choice(("PENDING", "IN_PROGRESS"))
            answer = Answer(200, {**answer.body, "status": shown, "errors": []})
            for key in ("totalErrorCount", "totalSuccessCount"):
                answer.body.pop(key, None)
        return answer

    def _checked(self, request: Request) -> Answer:
        # a body is never read just to be thrown away: the socket server discards what is left
        # after answering, so a client that announced more than it sends is not waited for
        if request.framing:
            return error(400, request.framing)
        denied = auth_problem(request.headers.get("authorization", ""), self._require_auth)
        if denied:
            return error(401, denied)
        if not self._admit():
            return self._too_many()
        try:
            return self.api.handle(request)
        except BadRequest as exc:
            return error(400, str(exc))

    def _admit(self) -> bool:
        limit = self.knobs.calls_per_second
        if not limit:
            return True
        with self._lock:
            now = self._clock()
            # a call exactly one second old has left the window (with float slack)
            while self._window and self._window[0] <= now - 1.0 + 1e-9:
                self._window.popleft()
            if len(self._window) >= limit:
                return False
            self._window.append(now)
            return True

    def _too_many(self) -> Answer:
        answer = error(429, "API request limit exceeded")
        return Answer(429, answer.body, (("Retry-After", str(self.knobs.retry_after)),))

    def _next_fault(self) -> str:
        with self._lock:
            if self._script:
                return self._script.popleft()
            for fault, share in self.knobs.shares.items():
                if self._rng.random() < share:
                    return fault
            return "ok"

    def _record(self, request: Request, code: int | None, fault: str, arrived: float) -> None:
        call = Call(self._clock(), request.method, request.path, code, fault, arrived)
        with self._lock:
            self.calls.append(call)
        # also in the folder, so calls of separate processes can be counted afterwards
        self.store.log_call({"wall": time.time(), **asdict(call)})


class SandboxTransport(ServerlikeWSGITransport):
    """The app in-process: a dropped connection or a stall surfaces as httpx would show it."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Serve the request through the app, mapping simulated network faults."""
        try:
            return super().handle_request(request)
        except DropConnection:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except Stalled:
            raise httpx.ReadTimeout("The read operation timed out", request=request) from None
        except Truncated:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body", request=request
            ) from None


def _cut_short(body: bytes) -> Iterable[bytes]:
    yield body[: len(body) // 2]
    raise DropConnection  # the server's handler closes the socket with the answer unfinished


def knobs_from_env(env: Mapping[str, str]) -> Knobs:
    """Knobs from ``$LDJFIX_SANDBOX_KNOBS`` (a JSON object), or the defaults."""
    text = env.get(ENV_KNOBS, "").strip()
    return Knobs.from_json(text) if text else Knobs()


def check_sandbox_dir(state_dir: Path) -> None:
    """Make ``state_dir`` if missing; a usage error (exit 2) when the sandbox cannot keep its
    state there."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=state_dir):
            pass
    except OSError as exc:
        raise UsageProblem(
            f"Cannot use {state_dir} as the sandbox folder: {exc.strerror}.",
            hint="Pick a writable folder with --sandbox-dir or LDJFIX_SANDBOX_DIR.",
        ) from None


def in_process_transport(state_dir: Path, *, env: Mapping[str, str]) -> SandboxTransport:
    """An httpx transport that answers from a sandbox app kept in ``state_dir``."""
    check_sandbox_dir(state_dir)
    app = SandboxApp(SandboxStore(state_dir), knobs_from_env(env), in_process=True)
    return SandboxTransport(app=app)
