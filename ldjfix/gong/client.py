"""The Gong CRM API client: upload, request status (with polling), entity schema, read-back.

Every call goes through one path (:meth:`GongClient._call`): wait for the shared
:class:`~ldjfix.gong.ratelimit.RateLimiter`, send, and on a transport error, 429 or 5xx wait per
the :class:`~ldjfix.gong.retry.RetryPolicy` and try again; any other 4xx fails at once. Failures
become :class:`ApiError` (a :class:`~ldjfix.errors.RemoteProblem`, exit 4) carrying Gong's
``requestId`` and ``errors[]``. JSON is parsed with orjson, which keeps 64-bit integers such
as ``integrationId`` exact. Polling ("still IN_PROGRESS") is a separate plain loop with a
deadline: :meth:`GongClient.wait_for_status`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from ldjfix import __version__
from ldjfix.errors import InputProblem, RemoteProblem, UsageProblem
from ldjfix.gong.cancel import CancelToken
from ldjfix.gong.connection import (
    Connection,
)
from ldjfix.gong.identifiers import (
    check_client_request_id,
    check_integration_id,
    check_object_type,
    new_client_request_id,
)
from ldjfix.gong.limits import MAX_READBACK_IDS, MAX_UPLOAD_BYTES
from ldjfix.gong.ratelimit import RateLimiter
from ldjfix.gong.responses import (
    AccessDenied,
    ApiError,
    Conflict,
    RequestIdUsed,
    api_error,
    conflict_hint,
    describe_transport,
    json_object,
    str_or_none,
)
from ldjfix.gong.retry import RetryPolicy, is_retryable_status, parse_retry_after
from ldjfix.gong.status import Status, status_from_dict
from ldjfix.ldjson.sources import Source, SourceChanged, changed, check_unchanged

__all__ = [
    "AccessDenied",
    "ApiError",
    "Connection",
    "GongClient",
    "Receipt",
    "RequestIdUsed",
    "check_client_request_id",
    "check_integration_id",
    "check_object_type",
    "new_client_request_id",
]

log = logging.getLogger("ldjfix.gong.client")
USER_AGENT = f"ldjfix/{__version__}"


@dataclass(frozen=True)
class Receipt:
    """Gong's answer to an upload: its reference id and the clientRequestId to poll."""

    request_id: str | None
    client_request_id: str


class GongClient:
    """Calls to Gong's CRM API over a given ``httpx.Client`` (real, mock or sandbox)."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        first_poll: float = 2.0,
        cancel: CancelToken | None = None,
        processing_rate: float | None = None,
    ) -> None:
        self._http = http
        self.first_poll = first_poll  # the first wait of wait_for_status, unless given
        # bytes a second the remote is assumed to process (None: no wait before a first poll)
        self.processing_rate = processing_rate
        self._limiter = limiter or RateLimiter(clock=clock, sleep=sleep)
        self._policy = policy or RetryPolicy()
        self.token = CancelToken(parent=cancel)  # the run's token, or none: this client's own
        self._sleep = self.token.sleeper(sleep)
        self._clock = clock
        self._count_lock = threading.Lock()
        self._calls = 0

    @property
    def calls(self) -> int:
        """API calls made so far, retries included."""
        with self._count_lock:
            return self._calls

    def cancel(self) -> None:
        """Start no further call and end every wait of this client (its wave failed)."""
        self.token.cancel()

    def now(self) -> float:
        """The client's clock (monotonic seconds; a test clock in tests)."""
        return self._clock()

    def pause(self, seconds: float) -> None:
        """Wait on the client's sleep, so a poller shares its clock (nothing sleeps in tests)."""
        self._sleep(seconds)

    def close(self) -> None:
        """Close the underlying HTTP client."""
        self._http.close()

    def __enter__(self) -> GongClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def upload(
        self,
        path: Path | Source,
        *,
        object_type: str,
        integration_id: int,
        client_request_id: str,
    ) -> Receipt:
        """Upload an LDJSON file (``POST /v2/crm/entities``, part ``dataFile``).

        A 409 raises :class:`RequestIdUsed`; its ``on_retry`` says whether it answered a retry.
        A :class:`~ldjfix.ldjson.sources.Source` (what ``ldjfix upload`` opened) is checked
        before every attempt and after it: a file that changed is never sent again, and one
        that changed while on the wire is reported (Gong may have a mix of both versions).
        """
        check_object_type(object_type)
        check_client_request_id(client_request_id)
        params = _params(integrationId=integration_id, objectType=object_type)
        params["clientRequestId"] = client_request_id
        source = path if isinstance(path, Source) else None
        path = Path(path)
        _check_size(path)

        def attempt() -> httpx.Response:
            try:
                stream = open(path, "rb")  # noqa: SIM115 - reopened per attempt: a retry resends all
            except OSError as exc:
                raise InputProblem(f"cannot read {path}: {exc.strerror}.") from None
            with stream:
                if source is not None:
                    check_unchanged(source)
                files = {"dataFile": (path.name, stream, "application/octet-stream")}
                response = self._http.post("/v2/crm/entities", params=params, files=files)
                if source is not None:
                    _sent_unchanged(source, client_request_id)
                return response

        try:
            response = self._call(f"Upload of {path.name}", attempt, conflicts=True)
        except Conflict as conflict:
            raise RequestIdUsed(
                f"{conflict.error.message.rstrip('.')}: clientRequestId "
                f"{client_request_id!r} was already used for integration {integration_id}.",
                hint=conflict_hint(conflict.on_retry, integration_id, client_request_id),
                client_request_id=client_request_id,
                on_retry=conflict.on_retry,
                status_code=409,
                request_id=conflict.error.request_id,
                errors=conflict.error.errors,
            ) from None
        body = json_object(response, "upload")
        echoed = body.get("clientRequestId")
        return Receipt(
            request_id=str_or_none(body.get("requestId")),
            client_request_id=echoed if isinstance(echoed, str) and echoed else client_request_id,
        )

    def request_status(self, *, integration_id: int, client_request_id: str) -> Status:
        """One ``GET /v2/crm/request-status`` call."""
        params = _params(integrationId=integration_id)
        params["clientRequestId"] = client_request_id
        response = self._call(
            f"Request status of {client_request_id}",
            lambda: self._http.get("/v2/crm/request-status", params=params),
        )
        try:
            return status_from_dict(json_object(response, "request status"), source="Gong")
        except InputProblem as exc:
            raise RemoteProblem(f"Gong's request-status answer is not usable: {exc}") from None

    def wait_for_status(
        self,
        *,
        integration_id: int,
        client_request_id: str,
        timeout: float = 3600.0,
        on_poll: Callable[[Status], None] | None = None,
        first_interval: float | None = None,
        max_interval: float = 30.0,
    ) -> Status:
        """Poll request status with growing intervals until DONE/FAILED or ``timeout`` seconds."""
        deadline = self._clock() + timeout
        interval = self.first_poll if first_interval is None else first_interval
        while True:
            status = self.request_status(
                integration_id=integration_id, client_request_id=client_request_id
            )
            if on_poll is not None:
                on_poll(status)
            if status.is_terminal:
                return status
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise RemoteProblem(
                    f"Gong still says {status.status} for clientRequestId "
                    f"{client_request_id!r} after {timeout:g} s.",
                    hint="Check again later with `ldjfix status`, or wait longer (--timeout).",
                )
            self._sleep(min(interval, remaining))
            interval = min(interval * 1.5, max_interval)

    def entity_schema(self, *, integration_id: int, object_type: str) -> dict[str, Any]:
        """``GET /v2/crm/entity-schema``: Gong's answer as parsed JSON."""
        params = _params(integrationId=integration_id, objectType=object_type)
        response = self._call(
            f"Entity schema of {object_type}",
            lambda: self._http.get("/v2/crm/entity-schema", params=params),
        )
        return json_object(response, "entity schema")

    def put_entity_schema(
        self, *, integration_id: int, object_type: str, fields: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """``POST /v2/crm/entity-schema`` with the full field list of one object type."""
        params = _params(integrationId=integration_id, objectType=object_type)
        content = orjson.dumps(list(fields))
        response = self._call(
            f"Entity schema update of {object_type}",
            lambda: self._http.post(
                "/v2/crm/entity-schema", params=params, content=content, headers=_JSON
            ),
        )
        return json_object(response, "entity schema update")

    def get_entities(
        self, *, integration_id: int, object_type: str, ids: Sequence[str]
    ) -> dict[str, Any]:
        """``GET /v2/crm/entities`` with the ids (at most 100) as a JSON array in the body."""
        if len(ids) > MAX_READBACK_IDS:
            raise UsageProblem(f"Gong reads back at most {MAX_READBACK_IDS} ids per call.")
        params = _params(integrationId=integration_id, objectType=object_type)
        content = orjson.dumps(list(ids))
        response = self._call(
            f"Read-back of {object_type} records",
            lambda: self._http.request(
                "GET", "/v2/crm/entities", params=params, content=content, headers=_JSON
            ),
        )
        return json_object(response, "read-back")

    def register_integration(self, *, name: str, owner_email: str) -> int:
        """``PUT /v2/crm/integrations``: register the generic integration; its exact int64 id."""
        content = orjson.dumps({"name": name, "ownerEmail": owner_email})
        response = self._call(
            "Integration registration",
            lambda: self._http.put("/v2/crm/integrations", content=content, headers=_JSON),
        )
        found = json_object(response, "registration").get("integrationId")
        if isinstance(found, bool) or not isinstance(found, int):
            raise RemoteProblem("Gong's registration answer carries no integer integrationId.")
        return found

    def list_integrations(self) -> list[dict[str, Any]]:
        """``GET /v2/crm/integrations``: the registered integration(s), ids exact."""
        response = self._call("Integration list", lambda: self._http.get("/v2/crm/integrations"))
        found = json_object(response, "integration list").get("integrations")
        return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []

    def delete_integration(self, *, integration_id: int, client_request_id: str) -> Receipt:
        """``DELETE /v2/crm/integrations``: delete it and all its objects; poll the receipt."""
        check_client_request_id(client_request_id)
        params = _params(integrationId=integration_id)
        params["clientRequestId"] = client_request_id
        response = self._call(
            f"Deletion of integration {integration_id}",
            lambda: self._http.delete("/v2/crm/integrations", params=params),
        )
        body = json_object(response, "deletion")
        return Receipt(str_or_none(body.get("requestId")), client_request_id)

    def _call(
        self, what: str, attempt: Callable[[], httpx.Response], *, conflicts: bool = False
    ) -> httpx.Response:
        """Send with rate limiting and retries; return a 2xx response or raise ApiError."""
        uncertain = False  # an earlier attempt may have reached Gong (drop, timeout, 5xx)
        for number in range(1, self._policy.attempts + 1):
            self.token.check()  # stopped: no new call (one on the wire is let finish)
            # a call granted its slot is made even if the run stops meanwhile: a batch budget
            # counted it, so it must reach Gong for the counts to stay equal
            self._limiter.acquire()
            with self._count_lock:
                self._calls += 1
            try:
                response = attempt()
            except httpx.TransportError as exc:
                failure, retry_after = f"{what}: {describe_transport(exc)}", None
                uncertain = True
            except httpx.HTTPError as exc:  # e.g. an undecodable answer: no point retrying
                raise RemoteProblem(f"{what}: {type(exc).__name__}: {exc}") from None
            else:
                if response.is_success:
                    return response
                failure, retry_after = self._retryable(response, what, uncertain, conflicts)
                uncertain = uncertain or response.status_code != 429
            if number == self._policy.attempts:
                raise RemoteProblem(
                    f"{failure.rstrip('.')}; gave up after {number} attempts.",
                    hint="Gong may be down or overloaded; try again later.",
                )
            self._wait(number, retry_after, failure)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retryable(
        self, response: httpx.Response, what: str, uncertain: bool, conflicts: bool = False
    ) -> tuple[str, float | None]:
        """For a 429/5xx: what failed and Gong's Retry-After; any other error is raised."""
        error = api_error(response, what)
        if response.status_code == 409 and conflicts:  # only upload says what a 409 means
            raise Conflict(error, uncertain)
        if not is_retryable_status(response.status_code):
            raise error
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None and retry_after > self._policy.max_retry_after:
            raise RemoteProblem(
                f"{error.message.rstrip('.')}; Gong asks to wait {retry_after:g} s, "
                "longer than ldjfix waits.",
                hint="The daily limit (10,000 calls per company) may be used up; try again later.",
            )
        return error.message, retry_after

    def _wait(self, number: int, retry_after: float | None, failure: str) -> None:
        delay = self._policy.delay(number, retry_after)
        log.info("%s; retrying in %.1f s", failure.rstrip("."), delay)
        if retry_after is not None:
            self._limiter.hold_off(delay)  # the limit is per company: every caller waits
        else:
            self._sleep(delay)


_JSON = {"Content-Type": "application/json"}


def _params(**values: int | str) -> dict[str, str]:
    """Query parameters as strings; integration ids are checked ints, never floats."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if name == "integrationId":
            out[name] = str(check_integration_id(int(value) if isinstance(value, str) else value))
        else:
            out[name] = str(value)
    return out


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputProblem(f"input file {path} does not exist.", hint="Check the path.") from None
    if size > MAX_UPLOAD_BYTES:
        raise InputProblem(
            f"{path} is {size:,} bytes; Gong accepts at most {MAX_UPLOAD_BYTES:,} per upload.",
            hint="Split it into several files (records sharing an objectId stay together).",
        )


def _sent_unchanged(source: Source, client_request_id: str) -> None:
    """Raise when ``source`` changed while its upload was on the wire (Gong has some of it)."""
    how = changed(source)
    if how is not None:
        raise SourceChanged(
            f"{source.given} changed while it was being sent ({how}); Gong may have a mix of "
            f"the old and new content under clientRequestId {client_request_id}.",
            hint="Let the export finish, then upload the file again with a new id (leave "
            "--client-request-id out); `ldjfix status` shows what Gong made of the first one.",
        )
