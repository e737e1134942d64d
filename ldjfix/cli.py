"""The ``ldjfix`` command line: options in, one library call, a reporter, an exit code.

Kept thin on purpose: library modules are imported inside each command so that
``ldjfix --help`` starts fast, and every :class:`~ldjfix.errors.LdjfixError` becomes
``Error: …`` on stderr with its exit code in exactly one place (:class:`LdjfixGroup`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from . import __version__
from .errors import LdjfixError

if TYPE_CHECKING:
    from .status import Status

F = TypeVar("F", bound=Callable[..., Any])


class LdjfixGroup(click.Group):
    """A click group that turns ldjfix's errors into a message and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LdjfixError as exc:
            click.echo(f"Error: {exc}", err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing half-written was left behind.", err=True)
            raise click.exceptions.Exit(130) from None


@click.group(cls=LdjfixGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ldjfix")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for HTTP traffic).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Get rejected CRM LDJSON files into Gong.

    Maps every error of a Gong request status onto your file, pulls out the failing records,
    fixes them by rules or at the terminal, and resubmits until Gong says DONE.
    Exit codes: 0 success, 1 defects remain, 2 usage, 3 local input problem, 4 remote problem.
    """
    ctx.obj = {"verbose": verbose}


# --- annotate / extract / merge (offline core) -------------------------------------------


def status_source(command: F) -> F:
    """The options saying where a request status comes from; they reach ``_load_status``."""
    return click.option(
        "--status-file",
        metavar="S",
        help="A saved GET /v2/crm/request-status response (JSON); - for stdin.",
    )(command)


def _load_status(file: str, *, status_file: str | None = None) -> Status:
    """The request status a command works on (the one place that knows its sources)."""
    from .errors import UsageProblem
    from .files import STDIO, read_input
    from .status import parse_status

    if status_file is None:
        raise UsageProblem(
            "say which request status to use: --status-file S "
            "(a saved request-status response; - for stdin)."
        )
    if status_file == STDIO and file == STDIO:
        raise UsageProblem("FILE and --status-file cannot both be - (stdin).")
    data = read_input(status_file, what="status file")
    name = "the status on stdin" if status_file == STDIO else f"status file {status_file}"
    return parse_status(data, source=name)


def _warn(warnings: tuple[str, ...]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


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
def annotate(file: str, fmt: str, **source: Any) -> None:
    """Show each error of a request status beside its line, objectId and record.

    FILE is the file that was uploaded (- for stdin). Exit 0 when the status lists no errors,
    1 when it lists some (the data still has defects), 3 when an input cannot be read.
    """
    from .annotate import annotation_json, map_errors, render_text

    annotation = map_errors(file, _load_status(file, **source))
    if fmt == "json":
        import orjson

        document = orjson.dumps(annotation_json(annotation), option=orjson.OPT_INDENT_2)
        click.echo(document.decode())
    else:
        click.echo(render_text(annotation, "stdin" if file == "-" else file), nl=False)
        _warn(annotation.warnings)
    raise click.exceptions.Exit(1 if annotation.has_errors else 0)


@cli.command()
@click.argument("file")
@status_source
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="FAILING.ldjson",
    help="Where to write the failing records (- for stdout); an existing file is replaced.",
)
def extract(file: str, output: str, **source: Any) -> None:
    """Write the records a request status names, ready to edit, each marked with its origin.

    Every record starts with an _ldjfix key (source line, SHA-256, errors) that merge uses to
    put it back; a line that is not a JSON object is written as {"_ldjfix": ..., "_raw": text}.
    """
    from .extract import extract_failing

    result = extract_failing(file, _load_status(file, **source), output)
    _warn(result.annotation.warnings)
    for general in result.annotation.general:
        click.echo(f"file-level error (line 0), not extracted: {general.description}", err=True)
    raw = f" ({result.raw} not JSON objects, as _raw text)" if result.raw else ""
    then = f"; edit them, then run ldjfix merge {file} {output} -o OUT.ldjson"
    click.echo(
        f"extracted {result.records} record(s){raw} to {output}{then if output != '-' else ''}",
        err=True,
    )


@cli.command()
@click.argument("file")
@click.argument("fixed", metavar="FIXED.ldjson")
@click.option(
    "-o",
    "--output",
    required=True,
    metavar="OUT.ldjson",
    help="Where to write the result (- for stdout); an existing file is replaced.",
)
@click.option(
    "--only-corrected",
    is_flag=True,
    help="Write only the corrected records (no bookkeeping), e.g. to resubmit them.",
)
def merge(file: str, fixed: str, output: str, only_corrected: bool) -> None:
    """Put the edited records of FIXED.ldjson (from extract) back into FILE.

    Records may be reordered, deleted, reformatted on their line, or changed; a record deleted
    from FIXED keeps its original line. Unchanged lines are copied byte for byte.
    """
    from .errors import UsageProblem
    from .merge import merge_fixed

    if file == "-" and fixed == "-":
        raise UsageProblem("FILE and FIXED.ldjson cannot both be - (stdin).")
    result = merge_fixed(file, fixed, output, only_corrected=only_corrected)
    same = f"{result.unchanged} record(s) in {fixed} were unchanged"
    if only_corrected:
        click.echo(
            f"wrote {result.corrected} corrected record(s) to {output}; {same} and left out.",
            err=True,
        )
    else:
        click.echo(
            f"wrote {output}: {result.corrected} record(s) corrected; {same}; "
            f"{result.copied} other line(s) of {file} copied unchanged.",
            err=True,
        )


# --- run: the correction loop ---------------------------------------------------------------


def _run_remote_options(command: F) -> F:
    """Where ``run`` sends its uploads (stand-in until the shared remote options land)."""
    command = click.option(
        "--sandbox-dir", default=None, metavar="D", envvar="LDJFIX_SANDBOX_DIR",
        help="State folder of the built-in sandbox.",
    )(command)
    command = click.option(
        "--sandbox", is_flag=True, help="Use the built-in Gong simulator (no account needed)."
    )(command)
    return click.option(
        "--base-url", envvar="GONG_BASE_URL", default=None, metavar="URL",
        help="Your company's Gong API base URL (env GONG_BASE_URL).",
    )(command)


@cli.command()
@click.argument("file")
@click.option("--object-type", "-t", required=True, metavar="T",
              help="ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER or STAGE.")
@click.option("--integration-id", required=True, type=int, metavar="ID",
              help="Gong's integrationId (64-bit, kept exact).")
@click.option("--rules", default=None, metavar="R", help="Rules file (TOML) saying how to fix.")
@click.option("--interactive", is_flag=True, help="Fix reported records at the terminal.")
@click.option("--job-dir", default=None, metavar="D",
              help="Job folder (default: FILE.ldjfix-job beside the file); resumed if present.")
@click.option("--max-rounds", default=10, show_default=True, type=click.IntRange(min=1),
              help="Stop after this many rounds of uploads.")
@click.option("--calls-per-second", default=3.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True), help="Rate limit for API calls.")
@_run_remote_options
def run(
    file: str, object_type: str, integration_id: int, rules: str | None, interactive: bool,
    job_dir: str | None, max_rounds: int, calls_per_second: float, base_url: str | None,
    sandbox: bool, sandbox_dir: str | None,
) -> None:
    """Take FILE to DONE: validate, upload, fix, resubmit in rounds; resumable.

    Writes corrected.ldjson, rejected.ldjson, fixes.jsonl and report.json to the job folder.
    Exit 0 when Gong accepted every record, 1 when records were quarantined or are pending.
    """
    import sys
    from pathlib import Path

    from .client import Connection
    from .errors import UsageProblem
    from .job import FixChoice, run_one
    from .ticker import Ticker, summary

    if rules and interactive:
        raise UsageProblem("Use --rules or --interactive, not both.")
    connection = Connection(
        base_url=base_url, sandbox=sandbox, calls_per_second=calls_per_second,
        sandbox_dir=Path(sandbox_dir) if sandbox_dir else None,
    )
    ticker = Ticker(sys.stderr) if sys.stderr.isatty() else None
    report = run_one(
        Path(file), object_type=object_type, integration_id=integration_id,
        choice=FixChoice(Path(rules) if rules else None, interactive), connection=connection,
        job_dir=Path(job_dir) if job_dir else None, max_rounds=max_rounds, on_event=ticker,
    )
    click.echo(summary(report), err=True)
    raise click.exceptions.Exit(report.exit_code)


# --- validate / fix / replay (local checks and fixing) ---------------------------------------


@cli.command()
@click.argument("file")
@click.option("--object-type", "-t", required=True, metavar="T",
              help="ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER or STAGE.")
@click.option("--schema-file", default=None, metavar="F",
              help="A saved GET /v2/crm/entity-schema response: types the custom fields.")
@click.option("--strict", is_flag=True,
              help="Rules whose strictness at Gong is unknown are errors, not warnings.")
@click.option("--json", "as_json", is_flag=True, help="Print the stable JSON report (README).")
def validate(
    file: str, object_type: str, schema_file: str | None, strict: bool, as_json: bool
) -> None:
    """Check FILE against Gong's documented rules: every defect at once, not 20.

    Exit 0 when no line has an error (warnings allowed), 1 when some do, 3 when FILE or the
    schema file cannot be used.
    """
    from .validate import load_entity_schema, render_text, validate_file

    schema = load_entity_schema(schema_file) if schema_file else None
    source = f"schema file {schema_file}"
    report = validate_file(file, object_type, entity_schema=schema, strict=strict,
                           schema_source=source)
    if as_json:
        import orjson

        click.echo(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(render_text(report, "stdin" if file == "-" else file), nl=False)
    raise click.exceptions.Exit(1 if report.errors else 0)


# --- end of validate / fix / replay ---


def main() -> None:
    """Entry point of the ``ldjfix`` command."""
    cli.main(prog_name="ldjfix")


if __name__ == "__main__":  # pragma: no cover
    main()
