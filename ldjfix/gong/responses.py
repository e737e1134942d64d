"""Gong's answers, read: error bodies become exceptions, JSON bodies stay exact.

Every non-2xx answer becomes an :class:`ApiError` (a :class:`~ldjfix.errors.RemoteProblem`,
exit 4) carrying Gong's ``requestId`` and ``errors[]``, with a hint per status code. JSON is
parsed with orjson, which keeps 64-bit integers such as ``integrationId`` exact.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from ldjfix.errors import RemoteProblem
from ldjfix.gong.connection import CREDENTIAL_HINT


class ApiError(RemoteProblem):
    """Gong answered with an error status; ``errors`` and ``request_id`` are from its body."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status_code: int,
        request_id: str | None = None,
        errors: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.request_id = request_id
        self.errors = errors


class AccessDenied(ApiError):
    """401/403: the credentials were refused."""


class RequestIdUsed(ApiError):
    """409 on upload: the clientRequestId was already used.

    ``on_retry`` is True when the 409 answered a *retry* of this same upload after an attempt
    whose fate is unknown (dropped connection, timeout, 5xx): that first attempt most likely
    arrived, so the caller should poll ``client_request_id`` rather than upload again.
    When False, the id was used by some earlier, separate request.
    """

    def __init__(self, message: str, *, client_request_id: str, on_retry: bool, **kw: Any):
        super().__init__(message, **kw)
        self.client_request_id = client_request_id
        self.on_retry = on_retry


class Conflict(Exception):
    """A 409, carried out of the retry loop so the caller can say what it means there."""

    def __init__(self, error: ApiError, on_retry: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.on_retry = on_retry


def conflict_hint(on_retry: bool, integration_id: int, crid: str) -> str:
    check = f"ldjfix status --integration-id {integration_id} --client-request-id {crid}"
    if on_retry:
        return f"An earlier attempt of this upload most likely arrived; check it with `{check}`."
    return f"Every upload needs a new id: leave --client-request-id out, or check `{check}`."


def api_error(response: httpx.Response, what: str) -> ApiError:
    request_id, errors = _error_body(response)
    code = response.status_code
    said = "; ".join(errors) if errors else response.reason_phrase or "no details"
    ref = f" (Gong requestId {request_id})" if request_id else ""
    message = f"{what}: Gong answered HTTP {code}: {said}{ref}."
    hint = _HINTS.get(code)
    kind = AccessDenied if code in (401, 403) else ApiError
    return kind(message, hint=hint, status_code=code, request_id=request_id, errors=errors)


_HINTS = {
    400: "Gong found the request malformed; check the integration id, object type "
    "and clientRequestId.",
    401: "Access denied: check the credentials (" + CREDENTIAL_HINT + ") and --base-url.",
    403: "Access denied: the key or token lacks the scope this call needs.",
    404: "Nothing answers at that path: check --base-url (it ends at the host name).",
}


def _error_body(response: httpx.Response) -> tuple[str | None, tuple[str, ...]]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None, ()
    if not isinstance(body, dict):
        return None, ()
    raw = body.get("errors")
    errors = tuple(str(e) for e in raw) if isinstance(raw, list) else ()
    return str_or_none(body.get("requestId")), errors


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content)  # int64 stays exact (no float detour)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise RemoteProblem(
            f"Gong's {what} answer is not a JSON object.",
            hint="Check that --base-url points at the Gong API.",
        )
    return body


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def describe_transport(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time (timeout)"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection was dropped without an answer"
    if isinstance(exc, httpx.LocalProtocolError):  # its text may quote a header: credentials
        return "the request could not be sent (an invalid header)"
    return f"network error ({type(exc).__name__}: {exc})"
