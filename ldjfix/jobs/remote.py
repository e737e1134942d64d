"""The one place a connection is built: settings (flags > environment > file) to a client.

Every command that talks to Gong or the sandbox comes through here, so the rules about where
to connect hold everywhere alike:

- ``--sandbox`` on the command line (or ``LDJFIX_SANDBOX``) wins over a base URL that is only
  in the environment or a config file: an exported ``GONG_BASE_URL`` never blocks a one-off
  ``--sandbox``. Both on the command line is a usage error (exit 2).
- Credentials follow only a base URL the person gave (flag or environment), or one from a
  config file that names a Gong host (``*.gong.io``) or loopback; any other host from a file
  is refused before connecting (exit 3), since a stray ``ldjfix.toml`` could point anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.gong.client import GongClient
from ldjfix.gong.connect import check_connection, connect
from ldjfix.gong.connection import Connection, default_sandbox_dir, is_loopback
from ldjfix.jobs.settings import COMMAND_LINE, CONFIG_FILE, ENVIRONMENT, Settings

_RANK = {None: 0, CONFIG_FILE: 1, ENVIRONMENT: 2, COMMAND_LINE: 3}


def connection_for(settings: Settings, *, sandbox_dir: str | Path | None = None) -> Connection:
    """The client's :class:`Connection` from the settings in force."""
    sandbox, base_url = settings.sandbox, settings.base_url
    if sandbox and base_url:
        sandbox_from, url_from = settings.origin("sandbox"), settings.origin("base_url")
        if sandbox_from == url_from == COMMAND_LINE:
            raise UsageProblem("Use either --sandbox or --base-url, not both.")
        if sandbox_from == url_from == CONFIG_FILE:
            raise InputProblem(
                f"{settings.source}: sets both base_url and sandbox = true. Keep one of them."
            )
        if _RANK[url_from] > _RANK[sandbox_from]:
            sandbox = False
        else:
            base_url = None
    if base_url and settings.origin("base_url") == CONFIG_FILE:
        _check_configured_host(base_url, settings.source)
    return Connection(
        base_url=base_url,
        sandbox=sandbox,
        sandbox_dir=Path(sandbox_dir) if sandbox_dir else None,
        calls_per_second=settings.calls_per_second,
    )


def _check_configured_host(base_url: str, source: Path | None) -> None:
    """A base URL from a file must name Gong or loopback before credentials go there."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "gong.io" or host.endswith(".gong.io") or is_loopback(host):
        return
    raise InputProblem(
        f"{source}: key 'base_url': {host or base_url!r} is not a Gong host (*.gong.io) or "
        "loopback, so ldjfix will not send your credentials there. Pass it with --base-url "
        "or GONG_BASE_URL if you mean it."
    )


def check_remote(conn: Connection, *, env: Mapping[str, str] | None = None) -> None:
    """What :func:`open_client` refuses, checked without building a client: the URL and
    credentials, and for the sandbox in this process the folder it keeps its state in."""
    env = os.environ if env is None else env
    check_connection(conn, env=env)
    if conn.sandbox:
        from ldjfix.sandbox.app import check_sandbox_dir

        check_sandbox_dir(_sandbox_state(conn, env))


def open_client(
    conn: Connection,
    *,
    env: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
    **options: Any,
) -> GongClient:
    """A client for ``conn``: Gong itself, or the sandbox in this process (``conn.sandbox``)."""
    env = os.environ if env is None else env
    if sleep is not None:
        options["sleep"] = sleep
    if conn.sandbox and options.get("transport") is None:
        from ldjfix.sandbox.app import in_process_transport

        options["transport"] = in_process_transport(_sandbox_state(conn, env), env=env)
    return connect(conn, env=env, **options)


def _sandbox_state(conn: Connection, env: Mapping[str, str]) -> Path:
    """The folder the in-process sandbox keeps its state in."""
    return conn.sandbox_dir or default_sandbox_dir(env)
