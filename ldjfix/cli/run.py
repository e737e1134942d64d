"""run: the correction loop, one file or a batch."""

from __future__ import annotations

from typing import Any

import click

from ldjfix.cli.app import cli
from ldjfix.cli.options import OBJECT_TYPE, integration_id_option, remote_options


@cli.command()
@click.argument("files", nargs=-1, metavar="FILE...")
@click.option(
    "--object-type",
    "-t",
    "object_types",
    multiple=True,
    type=OBJECT_TYPE,
    metavar="T",
    help="ACCOUNT, CONTACT, DEAL, LEAD, BUSINESS_USER or STAGE, any case "
    "(one for every FILE, or one per FILE in order).",
)
@integration_id_option(
    help="Gong's integrationId (64-bit, kept exact); or integration_id in ldjfix.toml."
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
@click.option(
    "--verify",
    default=None,
    type=click.IntRange(min=0),
    metavar="N",
    help="After the end, read back N accepted records per file from Gong and compare "
    "them with corrected.ldjson (ACCOUNT, CONTACT, DEAL, LEAD); or verify in ldjfix.toml.",
)
@click.option(
    "--max-failure-rate",
    default=None,
    type=click.FloatRange(0, 100),
    metavar="P",
    help="Stop after round 1 if more than P %% of an upload failed at Gong (100: never); "
    "or max_failure_rate in ldjfix.toml.  [default: 50]",
)
@click.option(
    "--schema-file",
    default=None,
    metavar="F",
    help="A saved GET /v2/crm/entity-schema response: types the custom fields.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Rules whose strictness at Gong is unknown are errors, not warnings.",
)
@click.option(
    "--keep-history",
    type=click.IntRange(min=0),
    metavar="N",
    help="When the source changed since the job finished (tomorrow's export), keep the "
    "newest N finished jobs under JOB/history/.  [default: 10]",
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
    verify: int | None,
    max_failure_rate: float | None,
    **batch: Any,
) -> None:
    """Take FILE to DONE: validate, upload, fix, resubmit in rounds; resumable.

    Writes corrected.ldjson, rejected.ldjson, fixes.jsonl and report.json to the job folder.
    Several files (or --manifest) run as one batch: Gong's upload order, one rate limit, a
    JSON summary on stdout. Exit 0 when Gong accepted every record, 1 when records were
    quarantined or are pending; with several files, the worst code of all.
    """
    import contextlib
    import sys

    from ldjfix.errors import UsageProblem
    from ldjfix.jobs.session import RunOptions, resolve_run, run_session, run_single
    from ldjfix.reporting.nextsteps import HowRun
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
            verify=verify,
            max_failure_rate=max_failure_rate,
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
    with ticker or contextlib.nullcontext():  # tracks the terminal's size while it runs
        report = run_single(
            resolved, interactive=interactive, sandbox_dir=sandbox_dir, on_event=ticker
        )
    width = ticker.viewport.columns() if ticker is not None else None
    settings = resolved.settings
    how = HowRun(
        rules=settings.rules,
        interactive=interactive,
        max_rounds=settings.max_rounds or 10,
        remote="--sandbox" if settings.sandbox else "",
    )
    click.echo(summary(report, width, how), err=True)
    raise click.exceptions.Exit(report.exit_code)
