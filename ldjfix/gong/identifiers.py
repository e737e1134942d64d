"""The identifiers Gong takes, checked before they are sent.

``integrationId`` is a positive int64 (never a float); ``clientRequestId`` holds letters,
digits, ``-`` and ``_``; ``objectType`` is one of Gong's case-sensitive names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from ldjfix.errors import UsageProblem
from ldjfix.gong.limits import MAX_INTEGRATION_ID, UPLOAD_TYPES

_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]+")


def new_client_request_id(prefix: str = "ldjfix") -> str:
    """A fresh clientRequestId of letters, digits, ``-`` and ``_`` (e.g. ``ldjfix-20261129-…``)."""
    import secrets  # only an upload needs it: validate and extract start without it

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{prefix}-{stamp}-{secrets.token_hex(4)}"


def check_client_request_id(value: str) -> str:
    """Return ``value`` if Gong allows it as a clientRequestId, else raise UsageProblem."""
    if not _CLIENT_REQUEST_ID.fullmatch(value):
        raise UsageProblem(
            f"clientRequestId {value!r} has characters Gong does not allow.",
            hint="Use only letters, digits, '-' and '_', or leave it out to get a fresh one.",
        )
    return value


def check_integration_id(value: int) -> int:
    """Return ``value`` if it is a positive int64 (never a float), else raise UsageProblem."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_INTEGRATION_ID:
        raise UsageProblem(
            f"integrationId {value!r} is not a positive 64-bit integer.",
            hint="Use the integrationId Gong returned when the integration was registered.",
        )
    return value


def check_object_type(value: str, allowed: Sequence[str] = UPLOAD_TYPES) -> str:
    """Return ``value`` if it is one of Gong's (case-sensitive) object types."""
    if value not in allowed:
        raise UsageProblem(
            f"objectType {value!r} is not one of {', '.join(allowed)} (case-sensitive)."
        )
    return value
