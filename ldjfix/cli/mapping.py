"""annotate, extract, merge: a request status mapped onto a file, records out and back in."""

from __future__ import annotations

from typing import Any

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import (
    json_beside,
    json_option,
    load_status,
    output_option,
    print_json,
    status_source,
    warn,
)
from ldjfix.errors import ExitCode
from ldjfix.ldjson.printable import safe


@cli.command()
@click.argument("file")
@status_source
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json for programs (a stable contract, see README).",
)
@json_option("The same as --format json.")
def annotate(file: str, fmt: str, as_json: bool, **source: Any) -> None:
    """Show each error of a request status beside its line, objectId and record.

    FILE is the file that was uploaded (- for stdin). Exit 0 when the status lists no errors,
    1 when it lists some (the data still has defects), 3 when an input cannot be read.
    """
    from ldjfix.ldjson.sources import open_source
    from ldjfix.mapping.annotate import annotation_json, map_errors, render_text

    status = load_status(file, **source)
    with open_source(file) as opened:
        annotation = map_errors(opened, status)
    if fmt == "json" or as_json:
        print_json(annotation_json(annotation))
    else:
        click.echo(render_text(annotation, "stdin" if file == "-" else file), nl=False)
        warn(annotation.warnings)
    raise click.exceptions.Exit(ExitCode.DEFECTS if annotation.has_errors else ExitCode.OK)


@cli.command()
@click.argument("file")
@status_source
@output_option(
    metavar="FAILING.ldjson",
    help="Where to write the failing records (- for stdout); an existing file is replaced.",
)
@json_option()
def extract(file: str, output: str, as_json: bool, **source: Any) -> None:
    """Write the records a request status names, ready to edit, each marked with its origin.

    Every record starts with an _ldjfix key (source line, SHA-256, errors) that merge uses to
    put it back; a line that is not a JSON object is written as {"_ldjfix": ..., "_raw": text}.
    """
    from ldjfix.ldjson.files import refuse_same_files
    from ldjfix.ldjson.sources import open_source
    from ldjfix.mapping.extract import extract_failing

    json_beside(as_json, output)
    refuse_same_files([file, source.get("status_file")], [output])
    status = load_status(file, **source)
    with open_source(file) as opened:
        result = extract_failing(opened, status, output)
    if as_json:
        errors = [g.description for g in result.annotation.general]
        print_json({"output": output, "records": result.records, "raw": result.raw,
                    "general": errors, "warnings": list(result.annotation.warnings)})  # fmt: skip
    warn(result.annotation.warnings)
    for general in result.annotation.general:
        said = safe(general.description)
        click.echo(f"file-level error (line 0), not extracted: {said}", err=True)
    raw = f" ({result.raw} not JSON objects, as _raw text)" if result.raw else ""
    then = f"; edit them, then run ldjfix merge {file} {output} -o OUT.ldjson"
    click.echo(
        f"extracted {result.records:,} record(s){raw} to {output}{then if output != '-' else ''}",
        err=True,
    )


@cli.command()
@click.argument("file")
@click.argument("fixed", metavar="FIXED.ldjson")
@output_option(
    metavar="OUT.ldjson",
    help="Where to write the result (- for stdout); an existing file is replaced.",
)
@click.option(
    "--only-corrected",
    is_flag=True,
    help="Write only the corrected records (no bookkeeping), e.g. to resubmit them.",
)
@json_option()
def merge(file: str, fixed: str, output: str, only_corrected: bool, as_json: bool) -> None:
    """Put the edited records of FIXED.ldjson (from extract) back into FILE.

    Records may be reordered, deleted, reformatted on their line, or changed; a record deleted
    from FIXED keeps its original line. Unchanged lines are copied byte for byte.
    """
    from ldjfix.errors import UsageProblem
    from ldjfix.mapping.merge import merge_fixed

    if file == "-" and fixed == "-":
        raise UsageProblem("FILE and FIXED.ldjson cannot both be - (stdin).")
    from ldjfix.ldjson.files import refuse_same_files
    from ldjfix.ldjson.sources import open_source

    json_beside(as_json, output)
    refuse_same_files([file, fixed], [output])
    with open_source(file) as opened, open_source(fixed, what="fixed file") as edited:
        result = merge_fixed(opened, edited, output, only_corrected=only_corrected)
    if as_json:
        print_json({"output": output, "corrected": result.corrected,
                    "unchanged": result.unchanged, "copied": result.copied,
                    "lines": result.lines, "onlyCorrected": only_corrected})  # fmt: skip
    same = f"{result.unchanged:,} record(s) in {fixed} were unchanged"
    if only_corrected:
        click.echo(
            f"wrote {result.corrected:,} corrected record(s) to {output}; {same} and left out.",
            err=True,
        )
    else:
        click.echo(
            f"wrote {output}: {result.corrected:,} record(s) corrected; {same}; "
            f"{result.copied:,} other line(s) of {file} copied unchanged.",
            err=True,
        )
