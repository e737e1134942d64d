"""What ``ldjfix run`` does with its options: settings resolved, jobs listed, batch run, reported.

The command hands its raw options to :func:`resolve_run`; the config file, the environment and
the flags become one :class:`~ldjfix.jobs.settings.Settings` and a list of jobs. One file with no
batch option goes down the single-file path (the loop's own progress line and summary); several
files, a manifest or any batch option go to :func:`run_session`, which prints the JSON summary
on stdout, a table (and a live display on a terminal) on stderr, and returns the exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from ldjfix.errors import ExitCode, JobStopped, UsageProblem
from ldjfix.gong.cancel import CancelToken
from ldjfix.jobs.interrupts import stop_on_signals
from ldjfix.jobs.manifest import BatchJob, jobs_from_flags, load_manifest
from ldjfix.jobs.remote import connection_for
from ldjfix.jobs.schedule import BatchResult, CallBudget
from ldjfix.jobs.settings import Settings, require_integration_id, resolve_settings
from ldjfix.loop.failrate import DEFAULT_MAX_FAILURE_RATE
from ldjfix.loop.outputs import JobReport
from ldjfix.reporting.board import ProgressBoard
from ldjfix.reporting.events import EventSink, JsonEventLog, TextEventLog, ignore
from ldjfix.reporting.summaries import batch_markdown, format_table, summary_json

if TYPE_CHECKING:
    from ldjfix.jobs.runner import UploadTarget

DEFAULT_MAX_ROUNDS = 10


@dataclass(frozen=True, slots=True)
class RunOptions:
    """The ``run`` command's options as given (None = not given)."""

    files: tuple[str, ...] = ()
    object_types: tuple[str, ...] = ()
    file_specs: tuple[str, ...] = ()
    manifest: str | None = None
    config: str | None = None
    integration_id: int | None = None
    rules: str | None = None
    job_dir: str | None = None
    max_rounds: int | None = None
    calls_per_second: float | None = None
    base_url: str | None = None
    sandbox: bool = False
    sandbox_dir: str | None = None
    max_api_calls: int | None = None
    log_format: str | None = None
    as_json: bool = False
    summary_md: str | None = None
    verify: int | None = None
    max_failure_rate: float | None = None
    keep_history: int | None = None
    schema_file: str | None = None
    strict: bool = False


@dataclass(frozen=True, slots=True)
class ResolvedRun:
    """Settings in force and the jobs to run; ``batch`` says which path takes them."""

    settings: Settings
    jobs: tuple[BatchJob, ...]
    batch: bool
    verify: int = 0  # records per job to read back after the end (--verify)
    max_failure_rate: float = 50.0  # --max-failure-rate

    @property
    def integration_id(self) -> int:
        """The integration id, required by every run."""
        return require_integration_id(self.settings)


def resolve_run(
    options: RunOptions, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ResolvedRun:
    """Turn the options, config file and environment into settings and jobs."""
    cwd = Path.cwd() if cwd is None else cwd
    flags = {
        "base_url": options.base_url,
        "integration_id": options.integration_id,
        "rules": options.rules,
        "calls_per_second": options.calls_per_second,
        "max_api_calls": options.max_api_calls,
        "max_rounds": options.max_rounds,
        "sandbox": True if options.sandbox else None,
        "job_dir": options.job_dir,
        "log_format": options.log_format,
        "keep_history": options.keep_history,
        "schema_file": options.schema_file,
        "strict": True if options.strict else None,
        "verify": options.verify,
        "max_failure_rate": options.max_failure_rate,
    }
    config = Path(options.config) if options.config else None
    settings = resolve_settings(config=config, flags=flags, env=env, cwd=cwd)
    if options.schema_file:  # as given, so messages name it as the person typed it
        settings = replace(settings, schema_file=Path(options.schema_file))
    jobs = jobs_from_flags(options.files, options.object_types, options.file_specs)
    if options.manifest:
        jobs += load_manifest(Path(options.manifest))
    if not jobs:
        raise UsageProblem(
            "Nothing to run: give FILE --object-type T, --file FILE:T or --manifest."
        )
    if options.job_dir and len(jobs) == 1 and not options.manifest:
        # one file on the command line: --job-dir is its job folder, whichever path runs it
        jobs = (replace(jobs[0], job_dir=Path(options.job_dir)),)
    batch = (
        len(jobs) > 1
        or bool(options.manifest or options.file_specs or options.as_json or options.summary_md)
        or settings.max_api_calls is not None
        or settings.log_format == "json"
    )
    verify = settings.verify or 0
    rate = (
        DEFAULT_MAX_FAILURE_RATE if settings.max_failure_rate is None else settings.max_failure_rate
    )
    return ResolvedRun(settings, jobs, batch, verify, rate)


def run_single(
    resolved: ResolvedRun,
    *,
    interactive: bool,
    sandbox_dir: str | None,
    on_event: EventSink | None,
) -> JobReport:
    """Run the one job of ``resolved`` as a batch of one, reported by its own progress line.

    A job that cannot reach its end (Gong unreachable, the folder in use) raises
    :class:`JobStopped` with the exit code of what stopped it; its journal stays resumable.
    """
    from ldjfix.jobs.runner import run_files

    token = CancelToken()
    remote, budget = _remote_and_budget(resolved, sandbox_dir, os.environ, token)
    emit = on_event if on_event is not None else ignore
    with stop_on_signals(token, interrupt_main=True, on_stop=budget.close):
        result = run_files(
            resolved.jobs, resolved.settings, remote=remote, budget=budget, emit=emit,
            interactive=interactive,
        )  # fmt: skip
    report = result.reports.get(resolved.jobs[0])
    if report is None:
        ended = result.results[0]
        raise JobStopped(ended.message or ended.outcome, exit_code=ended.exit_code)
    return report


def _remote_and_budget(
    resolved: ResolvedRun, sandbox_dir: str | None, env: Mapping[str, str], cancel: CancelToken
) -> tuple[UploadTarget, CallBudget]:
    """Where the jobs send their uploads, and the one budget (rate, --max-api-calls) they share."""
    from ldjfix.jobs.runner import UploadTarget

    settings = resolved.settings
    remote = UploadTarget(
        connection_for(settings, sandbox_dir=sandbox_dir),
        resolved.integration_id,
        settings.max_rounds or DEFAULT_MAX_ROUNDS,
        env,
        cancel=cancel,
        verify=resolved.verify,
        max_failure_rate=resolved.max_failure_rate,
    )
    return remote, CallBudget(settings.calls_per_second, max_calls=settings.max_api_calls)


def _sinks(
    settings: Settings, jobs: tuple[BatchJob, ...], stderr: TextIO, tty: bool
) -> tuple[EventSink, ProgressBoard | None]:
    """The event sink: JSON lines, the live board on a terminal, or text milestones."""
    if settings.log_format == "json":
        return JsonEventLog(stderr), None
    if tty:
        board = ProgressBoard(stderr, [(str(j.file), j.object_type) for j in jobs])
        board.watch()
        return board, board
    return TextEventLog(stderr), None


def run_session(
    resolved: ResolvedRun,
    *,
    sandbox_dir: str | None = None,
    summary_md: str | None = None,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the batch and report it; returns the exit code (the worst of all files)."""
    from ldjfix.jobs.runner import run_files

    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    settings = resolved.settings
    token = CancelToken()
    environ = os.environ if env is None else env
    remote, budget = _remote_and_budget(resolved, sandbox_dir, environ, token)
    emit, board = _sinks(settings, resolved.jobs, stderr, stderr.isatty())
    try:
        with stop_on_signals(token, interrupt_main=False, on_stop=budget.close):
            result = run_files(resolved.jobs, settings, remote=remote, budget=budget, emit=emit)
    finally:
        if board is not None:
            board.close()
    doc = report(result, stdout=stdout, summary_md=summary_md)
    if settings.log_format == "json":  # stderr stays one JSON object per line
        emit("batch_end", exitCode=doc["exitCode"], apiCallsThisRun=result.api_calls,
             totals=doc["totals"])  # fmt: skip
    else:
        stderr.write(format_table(result.results))
    if token.cancelled:  # stopped between two files: nothing running said so itself
        return max(result.exit_code, ExitCode.INTERRUPTED)
    return result.exit_code


def report(result: BatchResult, *, stdout: TextIO, summary_md: str | None) -> dict[str, Any]:
    """Print the JSON summary on stdout (and write the batch Markdown if asked for); return it."""
    doc = summary_json(result.results, api_calls_this_run=result.api_calls)
    stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n")
    stdout.flush()
    if summary_md:
        from ldjfix.ldjson.files import write_bytes_atomic

        write_bytes_atomic(summary_md, batch_markdown(result.results).encode("utf-8"))
    return doc
