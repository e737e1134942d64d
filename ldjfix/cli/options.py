"""Options shared by several commands, each declared once, and what they turn into."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ldjfix.ldjson.printable import safe

if TYPE_CHECKING:
    from ldjfix.gong.client import GongClient
    from ldjfix.gong.status import Status
    from ldjfix.jobs.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

# Gong's integrationId is an int64; click's int keeps it exact (never a float)
INTEGRATION_ID = click.IntRange(1, 2**63 - 1)


OBJECT_TYPE_NAMES = ("ACCOUNT", "CONTACT", "DEAL", "LEAD", "BUSINESS_USER", "STAGE")


if TYPE_CHECKING:  # generic in click's type stubs from 8.2; plain at run time on 8.1
    _StrParam = click.ParamType[str, Any]
else:
    _StrParam = click.ParamType


class ObjectType(_StrParam):
    """An object type in any case (``account``, ``Account``), turned into Gong's spelling."""

    name = "object_type"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """``account`` -> ``ACCOUNT``; anything else is a usage error naming the six."""
        name = str(value).strip().upper()
        if name not in OBJECT_TYPE_NAMES:  # one Error: line (exit 2), as every bad input gets
            from ldjfix.errors import UsageProblem

            names = ", ".join(OBJECT_TYPE_NAMES)
            raise UsageProblem(f"objectType {value!r} is not one of {names} (any case).")
        return name

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        """The six names, for shell completion."""
        from click.shell_completion import CompletionItem

        wanted = incomplete.upper()
        return [CompletionItem(n) for n in OBJECT_TYPE_NAMES if n.startswith(wanted)]


OBJECT_TYPE = ObjectType()


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
    """--base-url, --sandbox, --sandbox-dir, --config; they reach :func:`open_remote`."""
    command = click.option(
        "--config",
        metavar="C",
        help="Settings file (default: ldjfix.toml in the working folder, if any).",
    )(command)
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


def command_settings(
    *,
    config: str | None = None,
    base_url: str | None = None,
    sandbox: bool = False,
    **flags: Any,
) -> Settings:
    """The settings in force for a command: flags > LDJFIX_*/GONG_* environment > ldjfix.toml.

    Every command resolves its settings here, the way ``run`` does, so ``integration_id`` or
    ``base_url`` in ldjfix.toml works for ``upload`` and ``status`` as for ``run``.
    """
    from pathlib import Path

    from ldjfix.jobs.settings import resolve_settings

    given = {"base_url": base_url, "sandbox": True if sandbox else None, **flags}
    return resolve_settings(config=Path(config) if config else None, flags=given)


def open_remote(
    *,
    settings: Settings | None = None,
    sandbox_dir: str | None = None,
    **remote: Any,
) -> GongClient:
    """A client from the settings (or the remote options), through the one connection builder."""
    from ldjfix.jobs.remote import connection_for, open_client

    settings = command_settings(**remote) if settings is None else settings
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
        from ldjfix.jobs.settings import require_integration_id  # a saved status needs none

        if client_request_id is None:
            raise UsageProblem("--integration-id and --client-request-id go together.")
        sandbox_dir = remote.pop("sandbox_dir", None)
        settings = command_settings(integration_id=integration_id, **remote)
        with open_remote(settings=settings, sandbox_dir=sandbox_dir) as client:
            return client.request_status(
                integration_id=require_integration_id(settings),
                client_request_id=client_request_id,
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
        type=OBJECT_TYPE,
        metavar="T",
        help="ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER or STAGE (any case).",
    )(command)


def json_option(
    help: str = "Print the result as one JSON document on stdout (README).",
) -> Callable[[F], F]:
    """--json: the command's machine output on stdout (people's lines stay on stderr)."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def json_beside(as_json: bool, output: str) -> None:
    """--json and ``-o -`` would both write to stdout: refuse the pair (exit 2)."""
    if as_json and output == "-":
        from ldjfix.errors import UsageProblem

        raise UsageProblem("--json prints to stdout, so -o must name a file, not -.")


def warn(warnings: tuple[str, ...]) -> None:
    """Print each warning on stderr."""
    for warning in warnings:
        click.echo(f"warning: {safe(warning)}", err=True)


def print_json(document: Any) -> None:
    """Print a JSON document on stdout, indented (however deeply it nests)."""
    from ldjfix.ldjson.serial import dump_json

    click.echo(dump_json(document, indent=True).decode())
