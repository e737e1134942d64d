"""fix and replay: records corrected offline, by rules, at the terminal, or from a log."""

from __future__ import annotations

from typing import Any

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import (
    command_settings,
    json_beside,
    json_option,
    load_status,
    output_option,
    print_json,
    schema_options,
    status_source,
    warn,
)


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
    help="Where to log every change [default: OUT-name.fixes.jsonl beside OUT].",
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
@json_option()
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
    as_json: bool,
    **source: Any,
) -> None:
    """Fix the records a request status reports in FILE, by rules or at the terminal.

    FILE may also be a job's rejected.ldjson (its errors are inside: no status needed); OUT
    then holds the plain records, ready for `ldjfix run OUT` or `ldjfix upload OUT`.

    Writes the whole corrected file to OUT (unchanged lines byte for byte, quarantined records
    left out), fixes.jsonl and the rejected records. A fix is also applied to every other
    record with the same defect. Exit 0 when every reported record was fixed, 1 otherwise.
    """
    import contextlib
    from pathlib import Path

    from ldjfix.fixing.fix_file import build_fixer, default_paths, fix_file
    from ldjfix.fixing.quarantined import is_rejected_file, unwrapped
    from ldjfix.ldjson.files import refuse_same_files
    from ldjfix.ldjson.sources import open_source
    from ldjfix.validation.validator import Validator, load_entity_schema

    json_beside(as_json, output)
    settings = command_settings(
        config=source.get("config"),
        base_url=source.get("base_url"),
        sandbox=bool(source.get("sandbox")),
        rules=rules if not interactive else None,
    )
    rules_file = rules if interactive else (str(settings.rules) if settings.rules else None)
    saved = schema_file or (str(settings.schema_file) if settings.schema_file else None)
    paths = default_paths(output)
    answers = progress or paths["progress"]
    fixes_to = fixes_out or paths["fixes"]
    rejected_to = rejected or paths["rejected"]
    inputs = [file, source.get("status_file"), rules_file, saved]
    refuse_same_files(inputs, [output, fixes_to, rejected_to, answers])
    schema = load_entity_schema(saved) if saved else None
    validator = Validator(object_type, entity_schema=schema, schema_source=f"schema file {saved}")
    fixer = build_fixer(
        rules=rules_file,
        interactive=interactive,
        validator=validator,
        progress=answers,
        ask=terminal_ask,
        say=lambda text: click.echo(text, err=True),
    )
    with contextlib.ExitStack() as stack:
        asked = any(source.get(k) is not None for k in _STATUS_KEYS)
        if not asked and is_rejected_file(file):  # a job's rejected.ldjson: errors inside
            records, status = stack.enter_context(unwrapped(file, beside=output))
        else:
            records, status = Path(file), load_status(file, **source)
        opened = stack.enter_context(open_source(str(records)))
        report = fix_file(
            opened, status, fixer, output=output, fixes_out=fixes_to, rejected_out=rejected_to
        )
    warn(tuple(report.warnings))
    click.echo(report.summary(), err=True)
    if as_json:
        print_json(fix_json(report))
    if report.quit:
        from ldjfix.errors import DefectsRemain

        raise DefectsRemain(report.quit)
    if interactive and answers is not None and progress is None:
        Path(answers).unlink(missing_ok=True)  # finished: the next run asks afresh
    raise click.exceptions.Exit(report.exit_code)


def fix_json(report: Any) -> dict[str, Any]:
    """fix --json: the counts of the summary, the files written, why it stopped early."""
    keys = ("reported", "fixed", "quarantined", "skipped", "propagated", "fixes", "unmapped")
    doc = {key: getattr(report, key) for key in keys}
    return {**doc, "general": report.general, "written": report.written, "quit": report.quit,
            "exitCode": 1 if report.quit else report.exit_code}  # fmt: skip


_STATUS_KEYS = ("status_file", "integration_id", "client_request_id")


@cli.command()
@click.argument("file")
@click.option("--fixes", required=True, metavar="F", help="A fixes.jsonl written by fix or run.")
@output_option(metavar="OUT", help="The file with the fixes applied.")
@json_option()
def replay(file: str, fixes: str, output: str, as_json: bool) -> None:
    """Apply recorded fixes to a new export of the same CRM (by objectId, field and old value).

    A value the CRM has changed since is left alone (stale). Exit 0; 3 when an input is bad.
    """
    from ldjfix.fixing.replay import replay_fixes
    from ldjfix.ldjson.files import refuse_same_files
    from ldjfix.ldjson.sources import open_source

    json_beside(as_json, output)
    refuse_same_files([file, fixes], [output])
    with open_source(file) as opened, open_source(fixes, what="fixes file") as log:
        report = replay_fixes(opened, log, output=output)
    click.echo(report.summary(), err=True)
    if as_json:
        keys = ("applied", "records", "already", "stale", "not_found", "unkeyed")
        names = {"not_found": "notFound"}
        print_json({"output": output, **{names.get(k, k): getattr(report, k) for k in keys}})
