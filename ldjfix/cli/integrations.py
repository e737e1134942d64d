"""integrations list|register|delete: find, create or remove the integration every command names."""

from __future__ import annotations

import sys
from typing import Any

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import integration_id_option, open_remote, print_json, remote_options


def safe(text: str) -> str:
    """Text from Gong as a terminal may show it: control and line-break characters escaped."""
    from ldjfix.ldjson.excerpt import excerpt

    return excerpt(text.encode("utf-8"), None)


@cli.group()
def integrations() -> None:
    """Gong's generic CRM integration: its integrationId is what every other command needs."""


@integrations.command("list")
@click.option("--json", "as_json", is_flag=True, help='Print {"integrations": [...]} (ids exact).')
@remote_options
def list_command(as_json: bool, **remote: Any) -> None:
    """List the registered integration(s) (GET /v2/crm/integrations).

    Exit 0 (also when there is none: register one with `ldjfix integrations register`).
    """
    from ldjfix.gong.integrations import list_integrations

    with open_remote(**remote) as client:
        found = list_integrations(client)
    if as_json:
        print_json({"integrations": [i.as_json() for i in found]})
        return
    if not found:
        click.echo(
            "no integration registered; create one with "
            "`ldjfix integrations register --name N --owner-email E`",
            err=True,
        )
        return
    click.echo("integrationId\tname\townerEmail")
    for item in found:
        click.echo(
            f"{item.integration_id}\t{safe(item.name or '')}\t{safe(item.owner_email or '')}"
        )


@integrations.command()
@click.option("--name", required=True, metavar="N", help="The integration's name in Gong.")
@click.option(
    "--owner-email", required=True, metavar="E", help="Email of the Gong user who owns it."
)
@click.option("--json", "as_json", is_flag=True, help='Print {"integrationId": ...}.')
@remote_options
def register(name: str, owner_email: str, as_json: bool, **remote: Any) -> None:
    """Register Gong's one generic CRM integration (PUT /v2/crm/integrations).

    Prints the new integrationId (a 64-bit number, exact). Gong allows one generic
    integration: a second is refused (exit 4) with the id of the one that exists.
    """
    from ldjfix.gong.integrations import register_integration

    with open_remote(**remote) as client:
        new_id = register_integration(client, name=name, owner_email=owner_email)
    if as_json:
        print_json({"integrationId": new_id})
    else:
        click.echo(new_id)
        click.echo(
            f"registered; pass --integration-id {new_id} (or integration_id = {new_id} in "
            "ldjfix.toml) to the other commands",
            err=True,
        )


@integrations.command()
@integration_id_option(required=True, help="The integration to delete (with all its objects).")
@click.option("--yes", is_flag=True, help="Delete without asking (needed when not on a terminal).")
@click.option(
    "--timeout",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(min=0),
    metavar="S",
    help="Stop waiting for Gong to finish after S seconds (the deletion goes on; exit 4).",
)
@remote_options
def delete(integration_id: int, yes: bool, timeout: float, **remote: Any) -> None:
    """Delete the integration and ALL its CRM objects (DELETE /v2/crm/integrations).

    Asks first on a terminal; elsewhere refuses (exit 2) unless --yes. Gong deletes
    asynchronously: the deletion's request status is polled until DONE (exit 0) or FAILED
    (exit 1).
    """
    from ldjfix.errors import UsageProblem
    from ldjfix.gong.integrations import delete_integration, find_integration
    from ldjfix.gong.upload import describe_status, exit_code_of

    with open_remote(**remote) as client:
        found = find_integration(client, integration_id)
        what = f"integration {integration_id}" + (f" ({found.name})" if found.name else "")
        if not yes:
            if not sys.stdin.isatty():
                raise UsageProblem(
                    f"deleting {what} removes it and all its CRM objects in Gong; "
                    "not asking without a terminal.",
                    hint="Pass --yes to delete.",
                )
            click.confirm(
                f"Delete {safe(what)} and all its accounts, contacts, deals, leads and users "
                "in Gong?",
                abort=True,
                err=True,
            )
        crid, status = delete_integration(
            client,
            integration_id,
            timeout=timeout,
            on_poll=lambda s: click.echo(f"... {s.status}", err=True),
        )
    assert status is not None
    click.echo(f"deletion of {what} (clientRequestId {crid}): {describe_status(status)}", err=True)
    raise click.exceptions.Exit(exit_code_of(status))
