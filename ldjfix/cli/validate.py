"""validate: every defect Gong documents, found locally."""

from __future__ import annotations

import sys
from typing import Any

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import (
    command_settings,
    integration_id_option,
    open_remote,
    remote_options,
    schema_options,
    warn,
)


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
@click.option(
    "--json", "as_json", is_flag=True, help="Print the stable JSON report (README), streamed."
)
@click.option(
    "--jsonl", "as_jsonl", is_flag=True, help="Print one JSON finding per line, then the counts."
)
@click.option(
    "--summary",
    "summary_only",
    is_flag=True,
    help="Print only the defects grouped by field and kind, and the counts.",
)
@remote_options
def validate(
    file: str,
    object_type: str,
    schema_file: str | None,
    integration_id: int | None,
    strict: bool,
    as_json: bool,
    as_jsonl: bool,
    summary_only: bool,
    **remote: Any,
) -> None:
    """Check FILE against Gong's documented rules: every defect at once, not 20.

    Findings are printed as they are found, then the defects grouped by field and kind.
    Exit 0 when no line has an error (warnings allowed), 1 when some do, 3 when FILE or the
    schema file cannot be used, 4 when Gong cannot be asked for the schema.
    """
    from ldjfix.errors import UsageProblem
    from ldjfix.ldjson.sources import open_source
    from ldjfix.validation.validator import Validator
    from ldjfix.validation.wholefile import validate_to

    if as_json and as_jsonl:
        raise UsageProblem("Use --json or --jsonl, not both.")
    sandbox_dir = remote.pop("sandbox_dir", None)
    settings = command_settings(strict=True if strict else None, **remote)
    saved = schema_file  # as given (messages name it so); else schema_file from the settings
    if saved is None and integration_id is None and settings.schema_file is not None:
        saved = str(settings.schema_file)
    schema, source = _entity_schema(object_type, saved, integration_id, settings, sandbox_dir)
    validator = Validator(
        object_type, entity_schema=schema, strict=settings.strict, schema_source=source
    )
    form = "json" if as_json else "jsonl" if as_jsonl else "text"
    name = "stdin" if file == "-" else file
    with open_source(file) as opened:
        result = validate_to(
            sys.stdout.buffer, opened, validator, form=form, summary_only=summary_only, name=name
        )
    raise click.exceptions.Exit(result.exit_code)


def _entity_schema(
    object_type: str,
    schema_file: str | None,
    integration_id: int | None,
    settings: Any,
    sandbox_dir: str | None,
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
    with open_remote(settings=settings, sandbox_dir=sandbox_dir) as client:
        schema = client.entity_schema(integration_id=integration_id, object_type=object_type)
    return schema, "Gong's entity schema"
