"""schema pull|push|diff: the custom fields Gong knows, to a file and back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import (
    integration_id_option,
    open_remote,
    output_option,
    print_json,
    remote_options,
    warn,
)

F = TypeVar("F", bound=Callable[..., Any])


def _target(command: F) -> F:
    """--integration-id and -t: whose schema, which object type."""
    command = click.option(
        "--object-type", "-t", required=True, metavar="T", help="ACCOUNT, CONTACT, DEAL or LEAD."
    )(command)
    return integration_id_option(required=True)(command)


@cli.group()
def schema() -> None:
    """Gong's custom ("additional") fields per object type (/v2/crm/entity-schema)."""


@schema.command()
@_target
@output_option(
    metavar="FILE", help="Where to save it (- for stdout); validate --schema-file reads it."
)
@remote_options
def pull(integration_id: int, object_type: str, output: str, **remote: Any) -> None:
    """Save Gong's custom fields of one object type to FILE (GET /v2/crm/entity-schema)."""
    from ldjfix.validation.schemasync import pull as pull_schema

    with open_remote(**remote) as client:
        count = pull_schema(client, integration_id, object_type, output)
    click.echo(f"{count} {object_type} field(s) saved to {output}", err=True)


@schema.command()
@click.argument("file")
@_target
@click.option(
    "--allow-remove",
    is_flag=True,
    help="Allow removing fields Gong has (and their values): left out, isDeleted or retyped.",
)
@remote_options
def push(
    file: str, integration_id: int, object_type: str, allow_remove: bool, **remote: Any
) -> None:
    """Send FILE's field list to Gong (POST /v2/crm/entity-schema).

    FILE is a JSON array of field definitions or a file `schema pull` wrote. It is checked
    against Gong's field model first (exit 3), and a list that would remove fields Gong has is
    refused (exit 2, the fields named) unless --allow-remove.
    """
    from ldjfix.validation.schemasync import push as push_schema

    with open_remote(**remote) as client:
        done = push_schema(client, integration_id, object_type, file, allow_remove=allow_remove)
    warn(done.notes)
    for line in done.diff.lines():
        click.echo(line)
    if not done.sent:
        click.echo(f"Gong's {object_type} schema already matches {file}; nothing sent", err=True)
        return
    ref = f" (Gong requestId {done.request_id})" if done.request_id else ""
    click.echo(f"{object_type} schema updated{ref}", err=True)


@schema.command()
@click.argument("file")
@_target
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@remote_options
def diff(file: str, integration_id: int, object_type: str, as_json: bool, **remote: Any) -> None:
    """Show what `schema push FILE` would change in Gong. Exit 0: nothing; 1: changes."""
    from ldjfix.validation.schemasync import plan_push

    with open_remote(**remote) as client:
        _, _, changes, notes = plan_push(client, integration_id, object_type, file)
    warn(notes)
    if as_json:
        print_json(changes.as_json())
    else:
        for line in changes.lines():
            click.echo(line)
        kept = f"{changes.unchanged} field(s) unchanged"
        click.echo(f"no changes; {kept}" if changes.empty else kept, err=True)
    raise click.exceptions.Exit(0 if changes.empty else 1)
