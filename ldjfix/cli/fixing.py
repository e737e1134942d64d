"""fix and replay: records corrected offline, by rules, at the terminal, or from a log."""

from __future__ import annotations

from typing import Any

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import load_status, output_option, schema_options, status_source, warn


def terminal_ask(prompt: str) -> str:
    """A prompt on stderr; end of input means quit-and-save."""
    try:
        answer: str = click.prompt(
            prompt.rstrip(), default="", show_default=False, err=True, prompt_suffix=" "
        )
    except click.Abort:  # end of input (or Ctrl-D): quit and save, on a line of its own
        click.echo(err=True)
        return "q"
    return answer


@cli.command()
@click.argument("file")
@status_source
@schema_options
@click.option("--rules", default=None, metavar="R", help="Rules file (TOML) saying how to fix.")
@click.option(
    "--interactive", is_flag=True, help="Ask at the terminal (rules, if given, are tried first)."
)
@output_option(metavar="OUT", help="The corrected file.")
@click.option(
    "--fixes",
    "fixes_out",
    default=None,
    metavar="F",
    help="Where to log every change [default: fixes.jsonl beside OUT].",
)
@click.option(
    "--rejected",
    default=None,
    metavar="F",
    help="Quarantined records with their errors [default: OUT-name.rejected.ldjson].",
)
@click.option(
    "--progress",
    default=None,
    metavar="P",
    help="Answers file for --interactive, to resume [default: OUT.answers.jsonl].",
)
def fix(
    file: str,
    object_type: str,
    schema_file: str | None,
    rules: str | None,
    interactive: bool,
    output: str,
    fixes_out: str | None,
    rejected: str | None,
    progress: str | None,
    **source: Any,
) -> None:
    """Fix the records a request status reports in FILE, by rules or at the terminal.

    Writes the whole corrected file to OUT (unchanged lines byte for byte, quarantined records
    left out), fixes.jsonl and the rejected records. A fix is also applied to every other
    record with the same defect. Exit 0 when every reported record was fixed, 1 otherwise.
    """
    from pathlib import Path

    from ldjfix.fixing.fix_file import build_fixer, default_paths, fix_file
    from ldjfix.ldjson.files import refuse_same_files
    from ldjfix.ldjson.sources import open_source
    from ldjfix.validation.validator import Validator, load_entity_schema

    paths = default_paths(output)
    answers = progress or paths["progress"]
    fixes_to = fixes_out or paths["fixes"]
    rejected_to = rejected or paths["rejected"]
    inputs = [file, source.get("status_file"), rules, schema_file]
    refuse_same_files(inputs, [output, fixes_to, rejected_to, answers])
    status = load_status(file, **source)
    schema = load_entity_schema(schema_file) if schema_file else None
    validator = Validator(
        object_type, entity_schema=schema, schema_source=f"schema file {schema_file}"
    )
    fixer = build_fixer(
        rules=rules,
        interactive=interactive,
        validator=validator,
        progress=answers,
        ask=terminal_ask,
        say=lambda text: click.echo(text, err=True),
    )
    with open_source(file) as opened:
        report = fix_file(
            opened, status, fixer, output=output, fixes_out=fixes_to, rejected_out=rejected_to
        )
    warn(tuple(report.warnings))
    click.echo(report.summary(), err=True)
    if report.quit:
        from ldjfix.errors import DefectsRemain

        raise DefectsRemain(report.quit)
    if interactive and answers is not None and progress is None:
        Path(answers).unlink(missing_ok=True)  # finished: the next run asks afresh
    raise click.exceptions.Exit(report.exit_code)


@cli.command()
@click.argument("file")
@click.option("--fixes", required=True, metavar="F", help="A fixes.jsonl written by fix or run.")
@output_option(metavar="OUT", help="The file with the fixes applied.")
def replay(file: str, fixes: str, output: str) -> None:
    """Apply recorded fixes to a new export of the same CRM (by objectId, field and old value).

    A value the CRM has changed since is left alone (stale). Exit 0; 3 when an input is bad.
    """
    from ldjfix.fixing.replay import replay_fixes
    from ldjfix.ldjson.files import refuse_same_files
    from ldjfix.ldjson.sources import open_source

    refuse_same_files([file, fixes], [output])
    with open_source(file) as opened, open_source(fixes, what="fixes file") as log:
        report = replay_fixes(opened, log, output=output)
    click.echo(report.summary(), err=True)
