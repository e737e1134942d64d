"""rules suggest: a starting rules file from the defects a file has."""

from __future__ import annotations

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import output_option, schema_options


@cli.group()
def rules() -> None:
    """Rules files (TOML): how `fix` and `run` repair each kind of defect."""


@rules.command()
@click.argument("file")
@schema_options
@click.option(
    "--status-file",
    metavar="S",
    help="A saved request status of an upload of FILE: adds the defects only Gong finds.",
)
@output_option(metavar="RULES", help="The rules file to write (- for stdout).")
def suggest(
    file: str, object_type: str, schema_file: str | None, status_file: str | None, output: str
) -> None:
    """Write a rules file with one commented rule per kind of defect FILE has.

    Mechanical fixes where one is safe (datetimes, dates, numbers, booleans, enum case,
    comma lists, URLs in domains); quarantine where a person must decide (objectId, broken
    lines, references to objects Gong lacks). Exit 0 when written; 2/3 for bad options/input.
    """
    from ldjfix.cli.options import load_status
    from ldjfix.fixing.rulewriter import render
    from ldjfix.fixing.suggest import suggest as suggest_rules
    from ldjfix.ldjson.files import refuse_same_files, write_bytes_atomic
    from ldjfix.validation.validator import load_entity_schema

    refuse_same_files([file, status_file, schema_file], [output])
    status = load_status(file, status_file=status_file) if status_file else None
    schema = load_entity_schema(schema_file) if schema_file else None
    found = suggest_rules(
        file, object_type, status=status, entity_schema=schema, status_source=status_file or ""
    )
    text = render(found, source="stdin" if file == "-" else file, object_type=object_type)
    write_bytes_atomic(output, text.encode("utf-8"))
    fixed = sum(1 for s in found.suggestions if s.fixes)
    click.echo(
        f"{len(found.suggestions)} kind(s) of defect: {fixed} with a mechanical fix, "
        f"{len(found.suggestions) - fixed} quarantined; rules written to {output}",
        err=True,
    )
