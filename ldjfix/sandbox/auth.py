"""Who may call the sandbox: well-formed Basic or Bearer credentials, or exactly the required ones.

Header values arrive as WSGI strings (each character one byte of the wire, PEP 3333), so they
are compared as the bytes the client sent: a non-ASCII token is refused with 401, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re

# RFC 6750 b64token: what a Bearer credential may hold
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def auth_problem(header: str, required: str | None = None) -> str | None:
    """Why the ``Authorization`` value is refused, or None when it may pass."""
    if not header:
        return "Access denied: no credentials (Authorization header missing)"
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip(" ")  # RFC 9110: any case, one or more spaces
    if scheme == "basic":
        if not _basic_is_well_formed(value):
            return "Access denied: malformed Basic credentials"
    elif scheme != "bearer" or not value:
        return "Access denied: use Basic or Bearer credentials"
    elif not _TOKEN68.fullmatch(value):
        return "Access denied: malformed Bearer token"
    if required is not None and not hmac.compare_digest(_wire(header), required.encode()):
        return "Access denied: invalid credentials"
    return None


def _basic_is_well_formed(value: str) -> bool:
    """base64 of ``key:secret`` in UTF-8, both parts present."""
    try:
        decoded = base64.b64decode(_wire(value), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # ValueError covers UnicodeDecodeError
        return False
    key, sep, secret = decoded.partition(":")
    return bool(key and sep and secret)


def _wire(text: str) -> bytes:
    """The bytes a PEP 3333 header string stands for."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:  # not from a real server; compare what there is
        return text.encode("utf-8", "surrogateescape")
