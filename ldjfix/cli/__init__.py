"""The ``ldjfix`` command line: options in, one library call, a reporter, an exit code.

Kept thin on purpose: library modules are imported inside each command so that
``ldjfix --help`` starts fast, and every :class:`~ldjfix.errors.LdjfixError` becomes
``Error: …`` on stderr with its exit code in exactly one place (:class:`LdjfixGroup`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ldjfix import __version__
from ldjfix.errors import LdjfixError

if TYPE_CHECKING:
    from ldjfix.gong.connection import Connection
    from ldjfix.gong.status import Status

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


# --- remote options (shared by every command that talks to Gong) ---------------------------

# Gong's integrationId is an int64; click's int keeps it exact (never a float)
INTEGRATION_ID = click.IntRange(1, 2**63 - 1)


def remote_options(command: F) -> F:
    """--base-url, --sandbox, --sandbox-dir; turn them into a Connection with ``_connection``."""
    command = click.option(
        "--sandbox-dir",
        envvar="LDJFIX_SANDBOX_DIR",
        metavar="D",
        help="State folder of the sandbox (env LDJFIX_SANDBOX_DIR; "
        "default ~/.local/state/ldjfix/sandbox).",
    )(command)
    command = click.option(
        "--sandbox", is_flag=True, help="Talk to the built-in Gong simulator (no account needed)."
    )(command)
    return click.option(
        "--base-url",
        envvar="GONG_BASE_URL",
        metavar="URL",
        help="Your company's Gong API base URL (env GONG_BASE_URL). Credentials come from "
        "env GONG_ACCESS_KEY + GONG_ACCESS_KEY_SECRET, or GONG_BEARER_TOKEN.",
    )(command)


def _connection(
    *,
    base_url: str | None = None,
    sandbox: bool = False,
    sandbox_dir: str | None = None,
    calls_per_second: float = 3.0,
) -> Connection:
    """The one settings object for the client, from the remote options."""
    from pathlib import Path

    from ldjfix.gong.client import Connection

    _show_remote_detail()
    if sandbox and base_url and _from_environment("base_url"):
        base_url = None  # an exported GONG_BASE_URL must not block a one-off --sandbox
    return Connection(
        base_url=base_url,
        sandbox=sandbox,
        sandbox_dir=Path(sandbox_dir) if sandbox_dir else None,
        calls_per_second=calls_per_second,
    )


def _from_environment(name: str) -> bool:
    """True when the current command's option ``name`` came from an environment variable."""
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT


def _show_remote_detail() -> None:
    """-v shows retries and waits on stderr; -vv also each HTTP request (never credentials)."""
    import logging

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    verbose = root.obj.get("verbose", 0) if root is not None and isinstance(root.obj, dict) else 0
    if verbose:
        logging.basicConfig(format="%(name)s: %(message)s")  # stderr
        logging.getLogger("ldjfix").setLevel(logging.INFO)
    if verbose > 1:
        logging.getLogger("httpx").setLevel(logging.INFO)


# --- annotate / extract / merge (offline core) -------------------------------------------


def status_source(command: F) -> F:
    """The options saying where a request status comes from; they reach ``_load_status``."""
    command = remote_options(command)
    command = click.option(
        "--client-request-id",
        metavar="CRID",
        help="With --integration-id: ask Gong (or --sandbox) for this upload's status.",
    )(command)
    command = click.option(
        "--integration-id", type=INTEGRATION_ID, metavar="ID", help="Gong's integrationId."
    )(command)
    return click.option(
        "--status-file",
        metavar="S",
        help="A saved GET /v2/crm/request-status response (JSON); - for stdin.",
    )(command)


def _load_status(
    file: str,
    *,
    status_file: str | None = None,
    integration_id: int | None = None,
    client_request_id: str | None = None,
    **remote: Any,
) -> Status:
    """The request status a command works on (the one place that knows its sources)."""
    from ldjfix.errors import UsageProblem
    from ldjfix.gong.status import parse_status
    from ldjfix.ldjson.files import STDIO, read_input

    asked = integration_id is not None or client_request_id is not None
    if status_file is not None and asked:
        raise UsageProblem("Use --status-file or --integration-id/--client-request-id, not both.")
    if asked:
        if integration_id is None or client_request_id is None:
            raise UsageProblem("--integration-id and --client-request-id go together.")
        from ldjfix.gong.client import connect

        with connect(_connection(**remote)) as client:
            return client.request_status(
                integration_id=integration_id, client_request_id=client_request_id
            )
    if status_file is None:
        raise UsageProblem(
            "say which request status to use: --status-file S "
            "(a saved request-status response; - for stdin), or "
            "--integration-id ID --client-request-id CRID to ask Gong."
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
    from ldjfix.mapping.annotate import annotation_json, map_errors, render_text

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
    from ldjfix.mapping.extract import extract_failing

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
    from ldjfix.errors import UsageProblem
    from ldjfix.mapping.merge import merge_fixed

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


# --- status / upload / sandbox: talking to Gong ---------------------------------------------


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
        return click.option(
            "--integration-id",
            required=True,
            type=INTEGRATION_ID,
            metavar="ID",
            help="Gong's integrationId (64-bit, kept exact).",
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
    integration_id: int,
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
    from ldjfix.gong.client import connect
    from ldjfix.gong.upload import exit_code_of

    with connect(_connection(**remote)) as client:
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
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--object-type",
    "-t",
    required=True,
    metavar="T",
    help="ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER or STAGE (case-sensitive).",
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
    integration_id: int,
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
    from pathlib import Path

    from ldjfix.gong.client import Receipt, connect
    from ldjfix.gong.upload import exit_code_of, submit

    def uploaded(receipt: Receipt) -> None:
        ref = f" (Gong requestId {receipt.request_id})" if receipt.request_id else ""
        click.echo(f"uploaded {file} as clientRequestId {receipt.client_request_id}{ref}", err=True)

    with connect(_connection(**remote)) as client:
        done = submit(
            client,
            Path(file),
            object_type=object_type,
            integration_id=integration_id,
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


@cli.group()
def sandbox() -> None:
    """The built-in Gong simulator (use --sandbox on any command, or serve it on a socket)."""


@sandbox.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address to listen on (never another interface).",
)
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one (the URL is printed).",
)
@click.option(
    "--sandbox-dir",
    envvar="LDJFIX_SANDBOX_DIR",
    metavar="D",
    help="State folder (env LDJFIX_SANDBOX_DIR; default ~/.local/state/ldjfix/sandbox).",
)
@click.option(
    "--knobs",
    envvar="LDJFIX_SANDBOX_KNOBS",
    metavar="JSON",
    help='Fault knobs as JSON, e.g. \'{"polls": 0, "shares": {"500": 0.1}}\'.',
)
@click.option("--polls", type=click.IntRange(min=0), help="Polls before an upload is finished.")
@click.option(
    "--calls-per-second",
    type=click.FloatRange(min=0),
    help="Answer 429 above this many calls a second (0 = no limit).",
)
@click.option(
    "--fault",
    "script",
    multiple=True,
    metavar="F",
    help="Fault for the next call, in order "
    "(429, 500, 503, drop, lost, stall, cut, truncate, flap, ok).",
)
@click.option("--seed", type=int, help="Seed for the random faults of --knobs shares.")
@click.option(
    "--require-auth",
    is_flag=True,
    help="Accept only the credentials in this process's GONG_* variables.",
)
def serve(host: str, port: int, **options: Any) -> None:
    """Serve the sandbox on a loopback socket until Ctrl-C; prints its URL on stdout."""
    from ldjfix.sandbox.server import serve_forever, settings_from_options

    app_settings = settings_from_options(**options)  # the state, knobs and auth options
    serve_forever(
        app_settings,
        host=host,
        port=port,
        announce=click.echo,
        note=lambda line: click.echo(line, err=True),
    )


# --- run: the correction loop ---------------------------------------------------------------


@cli.command()
@click.argument("files", nargs=-1, metavar="FILE...")
@click.option(
    "--object-type",
    "-t",
    "object_types",
    multiple=True,
    metavar="T",
    help="ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER or STAGE "
    "(one for every FILE, or one per FILE in order).",
)
@click.option(
    "--integration-id",
    type=INTEGRATION_ID,
    metavar="ID",
    help="Gong's integrationId (64-bit, kept exact); or integration_id in ldjfix.toml.",
)
@click.option("--rules", default=None, metavar="R", help="Rules file (TOML) saying how to fix.")
@click.option("--interactive", is_flag=True, help="Fix reported records at the terminal.")
@click.option(
    "--job-dir",
    default=None,
    metavar="D",
    help="Job folder (default: FILE.ldjfix-job beside the file); resumed if present. "
    "With several files: the folder holding one job folder per file.",
)
@click.option(
    "--max-rounds",
    default=None,
    type=click.IntRange(min=1),
    help="Stop after this many rounds of uploads.  [default: 10]",
)
@click.option(
    "--calls-per-second",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Rate limit for API calls, shared by all files.  [default: 3]",
)
@remote_options
@click.option(
    "--file",
    "file_specs",
    multiple=True,
    metavar="FILE:T",
    help="A file and its object type, e.g. deals.ldjson:DEAL (repeatable).",
)
@click.option(
    "--manifest",
    metavar="M",
    help="Job manifest (TOML): [[job]] tables with file, object_type, rules, job_dir.",
)
@click.option(
    "--config",
    metavar="C",
    help="Settings file (default: ldjfix.toml in the working folder, if any).",
)
@click.option(
    "--max-api-calls",
    type=click.IntRange(min=1),
    metavar="N",
    help="Make at most N API calls in this run, then stop cleanly (resumable).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    help="json: one JSON event per line on stderr, for log collectors.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the JSON summary on stdout (always done with several files).",
)
@click.option(
    "--summary-md",
    metavar="PATH",
    help="Also write the batch's Markdown table (e.g. $GITHUB_STEP_SUMMARY).",
)
def run(
    files: tuple[str, ...],
    object_types: tuple[str, ...],
    integration_id: int | None,
    rules: str | None,
    interactive: bool,
    job_dir: str | None,
    max_rounds: int | None,
    calls_per_second: float | None,
    base_url: str | None,
    sandbox: bool,
    sandbox_dir: str | None,
    **batch: Any,
) -> None:
    """Take FILE to DONE: validate, upload, fix, resubmit in rounds; resumable.

    Writes corrected.ldjson, rejected.ldjson, fixes.jsonl and report.json to the job folder.
    Several files (or --manifest) run as one batch: Gong's upload order, one rate limit, a
    JSON summary on stdout. Exit 0 when Gong accepted every record, 1 when records were
    quarantined or are pending; with several files, the worst code of all.
    """
    import sys

    from ldjfix.errors import UsageProblem
    from ldjfix.jobs.session import RunOptions, resolve_run, run_session, run_single
    from ldjfix.reporting.ticker import Ticker, summary

    if rules and interactive:
        raise UsageProblem("Use --rules or --interactive, not both.")
    resolved = resolve_run(
        RunOptions(
            files,
            object_types,
            integration_id=integration_id,
            rules=rules,
            job_dir=job_dir,
            max_rounds=max_rounds,
            calls_per_second=calls_per_second,
            base_url=base_url,
            sandbox=sandbox,
            sandbox_dir=sandbox_dir,
            **batch,
        )
    )
    if resolved.batch:
        if interactive:
            raise UsageProblem(
                "--interactive takes one FILE and no batch option "
                "(--file, --manifest, --json, --max-api-calls, ...)."
            )
        raise click.exceptions.Exit(
            run_session(resolved, sandbox_dir=sandbox_dir, summary_md=batch["summary_md"])
        )
    ticker = Ticker(sys.stderr) if sys.stderr.isatty() else None
    report = run_single(resolved, interactive=interactive, sandbox_dir=sandbox_dir, on_event=ticker)
    click.echo(summary(report), err=True)
    raise click.exceptions.Exit(report.exit_code)


# --- validate / fix / replay (local checks and fixing) ---------------------------------------


def schema_options(command: F) -> F:
    """--object-type and --schema-file: which rules a record is checked against."""
    command = click.option(
        "--schema-file",
        default=None,
        metavar="F",
        help="A saved GET /v2/crm/entity-schema response: types the custom fields.",
    )(command)
    return click.option(
        "--object-type",
        "-t",
        required=True,
        metavar="T",
        help="ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER or STAGE.",
    )(command)


@cli.command()
@click.argument("file")
@schema_options
@click.option(
    "--integration-id",
    type=INTEGRATION_ID,
    metavar="ID",
    help="Ask Gong (or --sandbox) for the entity schema instead of --schema-file.",
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
    from ldjfix.validation.validator import render_text, validate_file

    schema, source = _entity_schema(object_type, schema_file, integration_id, remote)
    report = validate_file(
        file, object_type, entity_schema=schema, strict=strict, schema_source=source
    )
    if as_json:
        import orjson

        click.echo(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(render_text(report, "stdin" if file == "-" else file), nl=False)
    raise click.exceptions.Exit(1 if report.errors else 0)


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
        _warn((f"Gong keeps no custom fields for {object_type}; no schema to ask for.",))
        return None, "the entity schema"
    from ldjfix.gong.client import connect

    with connect(_connection(**remote)) as client:
        schema = client.entity_schema(integration_id=integration_id, object_type=object_type)
    return schema, "Gong's entity schema"


def _terminal_ask(prompt: str) -> str:
    """A prompt on stderr; end of input means quit-and-save."""
    try:
        answer: str = click.prompt(
            prompt.rstrip(), default="", show_default=False, err=True, prompt_suffix=" "
        )
    except click.Abort:
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
@click.option("-o", "--output", required=True, metavar="OUT", help="The corrected file.")
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
    from ldjfix.validation.validator import Validator, load_entity_schema

    status = _load_status(file, **source)
    schema = load_entity_schema(schema_file) if schema_file else None
    validator = Validator(
        object_type, entity_schema=schema, schema_source=f"schema file {schema_file}"
    )
    paths = default_paths(output)
    answers = progress or paths["progress"]
    fixer = build_fixer(
        rules=rules,
        interactive=interactive,
        validator=validator,
        progress=answers,
        ask=_terminal_ask,
        say=lambda text: click.echo(text, err=True),
    )
    report = fix_file(
        file,
        status,
        fixer,
        output=output,
        fixes_out=fixes_out or paths["fixes"],
        rejected_out=rejected or paths["rejected"],
    )
    _warn(tuple(report.warnings))
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
@click.option(
    "-o", "--output", required=True, metavar="OUT", help="The file with the fixes applied."
)
def replay(file: str, fixes: str, output: str) -> None:
    """Apply recorded fixes to a new export of the same CRM (by objectId, field and old value).

    A value the CRM has changed since is left alone (stale). Exit 0; 3 when an input is bad.
    """
    from ldjfix.fixing.replay import replay_fixes

    report = replay_fixes(file, fixes, output=output)
    click.echo(report.summary(), err=True)


# --- end of validate / fix / replay ---


def main() -> None:
    """Entry point of the ``ldjfix`` command."""
    cli.main(prog_name="ldjfix")


if __name__ == "__main__":  # pragma: no cover
    main()
