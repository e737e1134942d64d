"""validate: every defect Gong documents, found locally."""

from __future__ import annotations

from typing import Any

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import (
    integration_id_option,
    open_remote,
    remote_options,
    schema_options,
    warn,
)
from ldjfix.errors import ExitCode


@cli.command()
@click.argument("file")
@schema_options
@integration_id_option(
    help="Ask Gong (or --sandbox) for the entity schema instead of --schema-file."
)
@click.option(
    "--strict",
    is_flag=True,
    help="Rules whose strictness at Gong is unknown are errors, not warnings.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON report (README).")
@remote_options
def validate(
    file: str,
    object_type: str,
    schema_file: str | None,
    integration_id: int | None,
    strict: bool,
    as_json: bool,
    **remote: Any,
) -> None:
    """Check FILE against Gong's documented rules: every defect at once, not 20.

    Exit 0 when no line has an error (warnings allowed), 1 when some do, 3 when FILE or the
    schema file cannot be used, 4 when Gong cannot be asked for the schema.
    """
    from ldjfix.ldjson.sources import open_source
    from ldjfix.validation.validator import render_text, validate_file

    schema, source = _entity_schema(object_type, schema_file, integration_id, remote)
    with open_source(file) as opened:
        report = validate_file(
            opened, object_type, entity_schema=schema, strict=strict, schema_source=source
        )
    if as_json:
        import orjson

        click.echo(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(render_text(report, "stdin" if file == "-" else file), nl=False)
    raise click.exceptions.Exit(ExitCode.DEFECTS if report.errors else ExitCode.OK)


def _entity_schema(
    object_type: str, schema_file: str | None, integration_id: int | None, remote: Any
) -> tuple[dict[str, Any] | None, str]:
    """The entity schema for custom fields: a saved file, Gong's live answer, or none."""
    from ldjfix.errors import UsageProblem

    if schema_file is not None and integration_id is not None:
        raise UsageProblem("Use --schema-file or --integration-id, not both.")
    if schema_file is not None:
        from ldjfix.validation.validator import load_entity_schema

        return load_entity_schema(schema_file), f"schema file {schema_file}"
    if integration_id is None:
        return None, "the entity schema"
    if object_type not in ("ACCOUNT", "CONTACT", "DEAL", "LEAD"):
        warn((f"Gong keeps no custom fields for {object_type}; no schema to ask for.",))
        return None, "the entity schema"
    with open_remote(**remote) as client:
        schema = client.entity_schema(integration_id=integration_id, object_type=object_type)
    return schema, "Gong's entity schema"
