"""status and upload: one upload to Gong and its request status."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import (
    OBJECT_TYPE,
    command_settings,
    integration_id_option,
    open_remote,
    remote_options,
)

if TYPE_CHECKING:
    from ldjfix.gong.status import Status

F = TypeVar("F", bound=Callable[..., Any])


def request_options(
    *, crid_required: bool, crid_help: str, wait_help: str, json_help: str
) -> Callable[[F], F]:
    """The options of a command about one upload: its ids, --wait/--timeout, --json, remote."""

    def decorate(command: F) -> F:
        command = remote_options(command)
        command = click.option("--json", "as_json", is_flag=True, help=json_help)(command)
        command = click.option(
            "--timeout",
            default=3600.0,
            show_default=True,
            type=click.FloatRange(min=0),
            metavar="S",
            help="With --wait: give up after S seconds (exit 4).",
        )(command)
        command = click.option("--wait", is_flag=True, help=wait_help)(command)
        command = click.option(
            "--client-request-id", required=crid_required, metavar="CRID", help=crid_help
        )(command)
        return integration_id_option(
            help="Gong's integrationId (64-bit, kept exact); or integration_id in ldjfix.toml "
            "or LDJFIX_INTEGRATION_ID."
        )(command)

    return decorate


def _print_status(status: Status, as_json: bool) -> None:
    """Print a request status: Gong's own fields unchanged (--json), or for people."""
    if as_json:
        import orjson

        click.echo(orjson.dumps(status.raw, option=orjson.OPT_INDENT_2).decode())
    else:
        from ldjfix.gong.upload import describe_status

        click.echo(describe_status(status))


def _show_poll(status: Status) -> None:
    click.echo(f"... {status.status}", err=True)


@cli.command()
@request_options(
    crid_required=True,
    crid_help="The clientRequestId the upload was sent with.",
    wait_help="Poll (growing intervals) until DONE or FAILED.",
    json_help="Print Gong's response fields unchanged (JSON).",
)
def status(
    integration_id: int | None,
    client_request_id: str,
    wait: bool,
    timeout: float,
    as_json: bool,
    **remote: Any,
) -> None:
    """Ask Gong for the status of an upload (GET /v2/crm/request-status).

    Exit 0 for DONE, PENDING or IN_PROGRESS; 1 for FAILED (the data has defects); 4 when Gong
    cannot be reached or --wait times out.
    """
    from ldjfix.gong.upload import exit_code_of
    from ldjfix.jobs.settings import require_integration_id

    sandbox_dir = remote.pop("sandbox_dir", None)
    settings = command_settings(integration_id=integration_id, **remote)
    integration_id = require_integration_id(settings)
    with open_remote(settings=settings, sandbox_dir=sandbox_dir) as client:
        if wait:
            found = client.wait_for_status(
                integration_id=integration_id,
                client_request_id=client_request_id,
                timeout=timeout,
                on_poll=None if as_json else _show_poll,
            )
        else:
            found = client.request_status(
                integration_id=integration_id, client_request_id=client_request_id
            )
    _print_status(found, as_json)
    raise click.exceptions.Exit(exit_code_of(found))


@cli.command()
@click.argument("file")
@click.option(
    "--object-type",
    "-t",
    required=True,
    type=OBJECT_TYPE,
    metavar="T",
    help="ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER or STAGE (any case).",
)
@request_options(
    crid_required=False,
    crid_help="Letters, digits, - and _; a fresh one is made when left out.",
    wait_help="Then poll until DONE or FAILED and show the result.",
    json_help="Print {clientRequestId, requestId, status} as JSON.",
)
def upload(
    file: str,
    object_type: str,
    integration_id: int | None,
    client_request_id: str | None,
    wait: bool,
    timeout: float,
    as_json: bool,
    **remote: Any,
) -> None:
    """Upload one LDJSON FILE to Gong (POST /v2/crm/entities).

    Prints the clientRequestId on stdout (keep it: `ldjfix status` needs it). Refuses, before
    sending, files over 200 MB or still carrying extract bookkeeping. Exit 0 when sent (and
    DONE with --wait), 1 when FAILED, 2 bad options, 3 unusable file, 4 Gong problem.
    """
    from ldjfix.gong.client import Receipt
    from ldjfix.gong.upload import exit_code_of, submit
    from ldjfix.jobs.settings import require_integration_id
    from ldjfix.ldjson.sources import open_source

    def uploaded(receipt: Receipt) -> None:
        ref = f" (Gong requestId {receipt.request_id})" if receipt.request_id else ""
        click.echo(f"uploaded {file} as clientRequestId {receipt.client_request_id}{ref}", err=True)

    sandbox_dir = remote.pop("sandbox_dir", None)
    settings = command_settings(integration_id=integration_id, **remote)
    with (
        open_source(file) as opened,
        open_remote(settings=settings, sandbox_dir=sandbox_dir) as client,
    ):
        done = submit(
            client,
            opened,
            object_type=object_type,
            integration_id=require_integration_id(settings),
            client_request_id=client_request_id,
            wait=wait,
            timeout=timeout,
            on_uploaded=uploaded,
            on_poll=None if as_json else _show_poll,
        )
    if as_json:
        import orjson

        doc = {
            "clientRequestId": done.receipt.client_request_id,
            "requestId": done.receipt.request_id,
            "status": done.status.raw if done.status else None,
        }
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(done.receipt.client_request_id)
        if done.status is not None:
            from ldjfix.gong.upload import describe_status

            click.echo(describe_status(done.status), err=True)
    raise click.exceptions.Exit(exit_code_of(done.status) if done.status else 0)
