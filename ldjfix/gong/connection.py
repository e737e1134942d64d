"""Where to reach Gong and how to prove who we are: one typed settings object.

Credentials come only from the environment (``GONG_ACCESS_KEY`` + ``GONG_ACCESS_KEY_SECRET``
for Basic, or ``GONG_BEARER_TOKEN``), are never printed or logged (their ``repr`` hides them),
and are never sent over plain http to anything but this machine.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ldjfix.errors import UsageProblem

ENV_BASE_URL = "GONG_BASE_URL"
ENV_ACCESS_KEY = "GONG_ACCESS_KEY"
ENV_ACCESS_KEY_SECRET = "GONG_ACCESS_KEY_SECRET"
ENV_BEARER_TOKEN = "GONG_BEARER_TOKEN"
ENV_SANDBOX_DIR = "LDJFIX_SANDBOX_DIR"
CREDENTIAL_HINT = (
    f"Set {ENV_ACCESS_KEY} and {ENV_ACCESS_KEY_SECRET} (an API key pair from Gong's API page), "
    f"or {ENV_BEARER_TOKEN} (an OAuth token)."
)


@dataclass(frozen=True)
class Connection:
    """Settings for talking to Gong or the sandbox; credentials are read from env by connect."""

    base_url: str | None = None
    sandbox: bool = False
    sandbox_dir: Path | None = None
    calls_per_second: float = 3.0
    timeout: float = 30.0


class SecretAuth(httpx.Auth):
    """An ``Authorization`` header whose value never shows up in a repr, log or message."""

    def __init__(self, header: str, scheme: str) -> None:
        self._header = header
        self.scheme = scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header to every request."""
        request.headers["Authorization"] = self._header
        yield request

    def header(self) -> str:
        """The ``Authorization`` value itself (for the sandbox to compare against)."""
        return self._header

    def __repr__(self) -> str:
        return f"<{self.scheme} credentials, hidden>"


def basic_auth(key: str, secret: str) -> SecretAuth:
    """Basic credentials from an access key and its secret."""
    token = base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")
    return SecretAuth(f"Basic {token}", "Basic")


def credentials_from_env(env: Mapping[str, str]) -> SecretAuth | None:
    """Basic or Bearer credentials from the environment; None when none are set."""
    key, secret = env.get(ENV_ACCESS_KEY, ""), env.get(ENV_ACCESS_KEY_SECRET, "")
    if key and secret:
        return basic_auth(key, secret)
    if key or secret:
        missing = ENV_ACCESS_KEY_SECRET if key else ENV_ACCESS_KEY
        present = ENV_ACCESS_KEY if key else ENV_ACCESS_KEY_SECRET
        raise UsageProblem(f"{present} is set but {missing} is not.", hint=CREDENTIAL_HINT)
    token = env.get(ENV_BEARER_TOKEN, "")
    if token:
        if any(c.isspace() or not c.isprintable() for c in token):
            # it would go into the Authorization header as is: h11 refuses it and its error
            # message quotes the header, token and all
            raise UsageProblem(
                f"{ENV_BEARER_TOKEN} holds a space, line break or control character.",
                hint="Set it to the token alone (check for a trailing newline).",
            )
        if not token.isascii():  # an OAuth token is ASCII: this one was mangled on the way
            raise UsageProblem(
                f"{ENV_BEARER_TOKEN} holds a character that is not ASCII; a Gong token never does.",
                hint="Copy the token again from where it was issued (a pasted quote or dash "
                "is the usual culprit).",
            )
        return SecretAuth(f"Bearer {token}", "Bearer")
    return None


def is_loopback(host: str) -> bool:
    """True for this machine: localhost, 127.0.0.0/8 or ::1."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(url: str | None) -> str:
    """The customer's API base URL without a trailing slash or ``/v2``; checked for safety."""
    if not url:
        raise UsageProblem(
            f"No Gong base URL: pass --base-url or set {ENV_BASE_URL}.",
            hint="Gong shows it on the API page (e.g. https://us-55616.api.gong.io); "
            "or use --sandbox to try ldjfix without an account.",
        )
    parts = urlsplit(url.strip())
    if parts.username or parts.password:
        raise UsageProblem(
            "--base-url must not carry credentials (user:password@).",
            hint=CREDENTIAL_HINT,
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageProblem(
            f"--base-url {url!r} is not an http(s) URL.",
            hint="Use the form https://<your-prefix>.api.gong.io.",
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageProblem(
            f"Refusing to send Gong credentials over plain http to {parts.hostname}.",
            hint="Use https://, or http:// only for a server on this machine (127.0.0.1).",
        )
    path = parts.path.rstrip("/")
    if path.endswith("/v2"):
        path = path[: -len("/v2")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def default_sandbox_dir(env: Mapping[str, str] | None = None) -> Path:
    """The per-user sandbox state folder: $LDJFIX_SANDBOX_DIR or ~/.local/state/ldjfix/sandbox."""
    env = os.environ if env is None else env
    if env.get(ENV_SANDBOX_DIR):
        return Path(env[ENV_SANDBOX_DIR])
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "ldjfix" / "sandbox"
