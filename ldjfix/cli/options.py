"""Options shared by several commands, each declared once, and what they turn into."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ldjfix.ldjson.printable import safe

if TYPE_CHECKING:
    from ldjfix.gong.client import GongClient
    from ldjfix.gong.status import Status

F = TypeVar("F", bound=Callable[..., Any])

# Gong's integrationId is an int64; click's int keeps it exact (never a float)
INTEGRATION_ID = click.IntRange(1, 2**63 - 1)


def integration_id_option(
    *, required: bool = False, help: str = "Gong's integrationId (64-bit, kept exact)."
) -> Callable[[F], F]:
    """--integration-id: Gong's integrationId, a 64-bit number kept exact."""
    return click.option(
        "--integration-id", required=required, type=INTEGRATION_ID, metavar="ID", help=help
    )


def output_option(
    *, metavar: str = "OUT", help: str = "Where to write the result."
) -> Callable[[F], F]:
    """-o/--output: the file a command writes (- for stdout where the command allows it)."""
    return click.option("-o", "--output", required=True, metavar=metavar, help=help)


def remote_options(command: F) -> F:
    """--base-url, --sandbox, --sandbox-dir; they reach :func:`open_remote` as ``**remote``."""
    command = click.option(
        "--sandbox-dir",
        envvar="LDJFIX_SANDBOX_DIR",
        metavar="D",
        help="State folder of the sandbox (env LDJFIX_SANDBOX_DIR; "
        "default ~/.local/state/ldjfix/sandbox).",
    )(command)
    command = click.option(
        "--sandbox", is_flag=True, help="Talk to the built-in Gong simulator (no account needed)."
    )(command)
    # no envvar here: GONG_BASE_URL is read with the other settings, which know its origin
    return click.option(
        "--base-url",
        metavar="URL",
        help="Your company's Gong API base URL (env GONG_BASE_URL). Credentials come from "
        "env GONG_ACCESS_KEY + GONG_ACCESS_KEY_SECRET, or GONG_BEARER_TOKEN.",
    )(command)


def open_remote(
    *, base_url: str | None = None, sandbox: bool = False, sandbox_dir: str | None = None
) -> GongClient:
    """A client from the remote options, through the one connection builder."""
    from ldjfix.jobs.remote import connection_for, open_client
    from ldjfix.jobs.settings import resolve_settings

    flags = {"base_url": base_url, "sandbox": True if sandbox else None}
    settings = resolve_settings(config=None, flags=flags)
    return open_client(connection_for(settings, sandbox_dir=sandbox_dir))


def status_source(command: F) -> F:
    """The options saying where a request status comes from; they reach :func:`load_status`."""
    command = remote_options(command)
    command = click.option(
        "--client-request-id",
        metavar="CRID",
        help="With --integration-id: ask Gong (or --sandbox) for this upload's status.",
    )(command)
    command = integration_id_option()(command)
    return click.option(
        "--status-file",
        metavar="S",
        help="A saved GET /v2/crm/request-status response (JSON); - for stdin.",
    )(command)


def load_status(
    file: str,
    *,
    status_file: str | None = None,
    integration_id: int | None = None,
    client_request_id: str | None = None,
    **remote: Any,
) -> Status:
    """The request status a command works on (the one place that knows its sources)."""
    from ldjfix.errors import UsageProblem
    from ldjfix.gong.status import parse_status
    from ldjfix.ldjson.files import STDIO, read_input

    asked = integration_id is not None or client_request_id is not None
    if status_file is not None and asked:
        raise UsageProblem("Use --status-file or --integration-id/--client-request-id, not both.")
    if asked:
        if integration_id is None or client_request_id is None:
            raise UsageProblem("--integration-id and --client-request-id go together.")
        with open_remote(**remote) as client:
            return client.request_status(
                integration_id=integration_id, client_request_id=client_request_id
            )
    if status_file is None:
        raise UsageProblem(
            "say which request status to use: --status-file S "
            "(a saved request-status response; - for stdin), or "
            "--integration-id ID --client-request-id CRID to ask Gong."
        )
    if status_file == STDIO and file == STDIO:
        raise UsageProblem("FILE and --status-file cannot both be - (stdin).")
    data = read_input(status_file, what="status file")
    name = "the status on stdin" if status_file == STDIO else f"status file {status_file}"
    return parse_status(data, source=name)


def schema_options(command: F) -> F:
    """--object-type and --schema-file: which rules a record is checked against."""
    command = click.option(
        "--schema-file",
        default=None,
        metavar="F",
        help="A saved GET /v2/crm/entity-schema response: types the custom fields.",
    )(command)
    return click.option(
        "--object-type",
        "-t",
        required=True,
        metavar="T",
        help="ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER or STAGE.",
    )(command)


def warn(warnings: tuple[str, ...]) -> None:
    """Print each warning on stderr."""
    for warning in warnings:
        click.echo(f"warning: {safe(warning)}", err=True)


def print_json(document: Any) -> None:
    """Print a JSON document on stdout, indented."""
    import orjson

    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
