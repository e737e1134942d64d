"""A batch of ``run`` jobs from settings: every part built and checked first, then run.

Everything that can be wrong locally (a missing source, a bad rules file, two jobs sharing a
folder) is found before the first API call, so a bad batch fails at once with exit 3 instead
of after half the files went to Gong. Each job gets its own client (so its report counts its
own calls) on the batch's :class:`~ldjfix.jobs.schedule.CallBudget`. After a job, its folder also
gets ``rejected.csv`` and ``summary.md``; a job the budget stopped gets a result from what its
last event said, and resumes from its journal on the next run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ldjfix.errors import ExitCode, LdjfixError, UsageProblem
from ldjfix.fixing.fixer import Fixer
from ldjfix.gong.cancel import Cancelled, CancelToken
from ldjfix.gong.connection import Connection
from ldjfix.gong.retry import RetryPolicy
from ldjfix.gong.status import field_named_in
from ldjfix.jobs.manifest import BatchJob
from ldjfix.jobs.schedule import (
    BUDGET_EXHAUSTED,
    ERROR,
    INTERRUPTED,
    NOT_STARTED,
    BatchResult,
    BudgetExhausted,
    CallBudget,
    run_batch,
)
from ldjfix.jobs.settings import Settings
from ldjfix.ldjson.sources import check_readable, check_source_name, is_stream_name
from ldjfix.loop.folder import REJECTED, REJECTED_CSV, SUMMARY_MD
from ldjfix.loop.journal import JobFolder, default_job_dir
from ldjfix.loop.outputs import REWRITE_HINT, JobReport
from ldjfix.loop.shapes import check_rejected
from ldjfix.reporting.events import EventSink
from ldjfix.reporting.summaries import (
    FileResult,
    RejectedRow,
    is_field_name,
    summary_markdown,
    write_rejected_csv,
)
from ldjfix.validation.validator import Validator


@dataclass(frozen=True, slots=True)
class Prepared:
    """One job with its parts built: the folder, validator and fixer."""

    job: BatchJob
    folder: Path
    validator: Validator
    fixer: Fixer


def job_folder(job: BatchJob, job_root: Path | None) -> Path:
    """The job's folder: its own job_dir, else ``<root>/<file>.ldjfix-job``, else beside it."""
    if job.job_dir is not None:
        return job.job_dir
    if job_root is not None:
        return job_root / default_job_dir(job.file).name
    check_source_name(job.file, job_dir=None)  # a stream has no "beside the file"
    return default_job_dir(job.file)


def prepare(
    jobs: Sequence[BatchJob], settings: Settings, *, interactive: bool = False
) -> list[Prepared]:
    """Check every source and rules file and build each job's parts, before any API call.

    ``interactive`` (one job only) puts a person at the terminal behind the rules.
    """
    if interactive and len(jobs) != 1:
        raise UsageProblem(
            "--interactive takes one FILE and no batch option "
            "(--file, --manifest, --json, --max-api-calls, ...)."
        )
    from ldjfix.jobs.parts import Checks, FixChoice, make_fixer, make_validator

    checks = Checks.from_settings(settings)
    prepared: list[Prepared] = []
    folders: dict[str, Path] = {}
    streams: list[Path] = []
    for job in jobs:
        check_readable(job.file)
        if is_stream_name(job.file) and streams:
            raise UsageProblem(
                f"{streams[0]} and {job.file} are both streams; a batch can read one at most.",
                hint="Save the data to files first and name the files.",
            )
        if is_stream_name(job.file):
            streams.append(job.file)
        folder = job_folder(job, settings.job_dir)
        key = os.path.abspath(folder)
        if key in folders:
            raise UsageProblem(
                f"{folders[key]} and {job.file} would share the job folder {folder}.",
                hint="Give each its own job_dir in the manifest.",
            )
        folders[key] = job.file
        validator = make_validator(job.object_type, checks.schema_file, strict=checks.strict)
        fixer = make_fixer(FixChoice(job.rules or settings.rules, interactive), validator, folder)
        prepared.append(Prepared(job, folder, validator, fixer))
    return prepared


def result_from_report(job: BatchJob, doc: Mapping[str, Any]) -> FileResult:
    """The JSON summary's entry for a job, taken from its report.json."""
    return FileResult(
        file=str(job.file),
        object_type=job.object_type,
        outcome=str(doc["outcome"]),
        exit_code=ExitCode(doc["exitCode"]),
        rounds=int(doc["rounds"]),
        uploads=int(doc["uploads"]),
        api_calls=int(doc["apiCalls"]),
        accepted=int(doc["accepted"]),
        quarantined=int(doc["quarantined"]),
        pending=int(doc["pending"]),
        job_dir=str(doc["jobDir"]),
        resumable=doc["outcome"] == "PENDING",
        message=doc.get("message"),
    )


def rejected_rows(path: Path) -> list[RejectedRow]:
    """Rows for rejected.csv from the loop's rejected.ldjson (one per quarantined record)."""
    if not path.exists():
        return []
    rows = []
    with open(path, "rb") as stream:
        for number, raw in enumerate(stream, 1):
            doc = check_rejected(raw, path, number, hint=REWRITE_HINT)
            errors = doc["errors"]
            named = (field_named_in(e) for e in errors)
            fields = list(dict.fromkeys(f for f in named if f is not None and is_field_name(f)))
            record = doc.get("record")
            rows.append(
                RejectedRow(
                    line=int(doc["line"]),
                    object_id=doc.get("objectId"),
                    field="; ".join(fields) or None,
                    error="; ".join(errors) or "rejected",
                    value=_value(record, fields, doc.get("text")),
                    errors=tuple(errors),
                )
            )
    return rows


def _value(record: Any, fields: list[str], text: Any) -> Any:
    """The offending value: the one named field's value, several as an object, or the text."""
    if not isinstance(record, dict):
        return text
    if len(fields) == 1:
        return record.get(fields[0])
    return {name: record.get(name) for name in fields} if fields else None


def write_job_reports(folder: Path, result: FileResult) -> None:
    """Add rejected.csv and summary.md to a job folder."""
    rows = rejected_rows(JobFolder(folder).output(REJECTED))
    write_rejected_csv(folder / REJECTED_CSV, rows)
    text = summary_markdown(result, rows).encode("utf-8")
    from ldjfix.ldjson.files import write_bytes_atomic

    write_bytes_atomic(folder / SUMMARY_MD, text)


class _LastEvent:
    """Passes events on and remembers the last fields seen, for a job stopped midway."""

    def __init__(self, emit: EventSink) -> None:
        self._emit = emit
        self.fields: dict[str, Any] = {}

    def __call__(self, event: str, /, **fields: Any) -> None:
        self.fields.update(fields)
        self._emit(event, **fields)


def stopped_result(
    job: BatchJob,
    folder: Path,
    reason: str,
    seen: Mapping[str, Any],
    *,
    outcome: str | None = None,
    exit_code: ExitCode = ExitCode.DEFECTS,
) -> FileResult:
    """The result of a job that did not reach its end: counts as its last event said."""

    def count(key: str) -> int:
        value = seen.get(key, 0)
        return value if isinstance(value, int) else 0

    return FileResult(
        file=str(job.file),
        object_type=job.object_type,
        outcome=outcome or (BUDGET_EXHAUSTED if seen else NOT_STARTED),
        exit_code=exit_code,
        rounds=count("round"),
        api_calls=count("apiCalls"),
        accepted=count("accepted"),
        quarantined=count("quarantined"),
        pending=count("pending"),
        job_dir=str(folder),
        # budget, Ctrl-C, Gong unreachable: the same command again resumes
        resumable=exit_code in (ExitCode.DEFECTS, ExitCode.REMOTE, ExitCode.INTERRUPTED),
        message=reason,
    )


def write_stopped_report(folder: Path, result: FileResult, seen: Mapping[str, Any]) -> None:
    """Write report.json for a job stopped midway: what its summary entry says, and records.

    The job's next run, on reaching its end, replaces it with the loop's full report.
    """
    records = seen.get("records", 0)
    doc = {**result.as_json(), "records": records if isinstance(records, int) else 0}
    JobFolder(folder).write_report(doc)


def _calls_so_far(folder: Path) -> int:
    """API calls the job's journal counted in earlier runs (0 for a new job)."""
    try:
        doc = orjson.loads(JobFolder(folder).journal.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return 0
    calls = doc.get("apiCalls", 0) if isinstance(doc, dict) else 0
    return calls if isinstance(calls, int) else 0


@dataclass(frozen=True, slots=True)
class UploadTarget:
    """Where the batch's jobs send their uploads."""

    connection: Connection
    integration_id: int
    max_rounds: int = 10
    env: Mapping[str, str] | None = None
    policy: RetryPolicy | None = None  # None: the client's default
    cancel: CancelToken | None = None  # the run's: Ctrl-C stops every job at its next call
    verify: int = 0  # records to read back after the end (--verify)
    max_failure_rate: float = 50.0  # --max-failure-rate


def run_files(
    jobs: Sequence[BatchJob],
    settings: Settings,
    *,
    remote: UploadTarget,
    budget: CallBudget,
    emit: EventSink,
    interactive: bool = False,
) -> BatchResult:
    """Run a batch: prepare every job, then run them in Gong's order under one budget.

    This is the one way into the loop: a single file is a batch of one (its caller picks the
    reporter), so both get the same checks, crash hook, budget and error handling.
    """
    from dataclasses import replace

    from ldjfix.jobs.parts import Checks
    from ldjfix.jobs.remote import check_remote, open_client
    from ldjfix.loop.journal import crash_hook_from_env
    from ldjfix.loop.rounds import JobSpec, run_job

    keep = Checks.from_settings(settings).keep_history
    prepared = {p.job: p for p in prepare(jobs, settings, interactive=interactive)}
    reports: dict[BatchJob, JobReport] = {}
    env = os.environ if remote.env is None else remote.env
    crash_hook = crash_hook_from_env(env)
    check_remote(remote.connection, env=remote.env)  # URL, credentials, sandbox folder: now

    def runner(job: BatchJob, shared: CallBudget, sink: EventSink) -> FileResult:
        part = prepared[job]
        spec = JobSpec(
            job.file,
            job.object_type,
            remote.integration_id,
            part.folder,
            remote.max_rounds,
            verify=remote.verify,
            max_failure_rate=remote.max_failure_rate,
            keep_history=keep,
        )
        seen = _LastEvent(sink)
        with open_client(
            remote.connection,
            limiter=shared,
            env=remote.env,
            policy=remote.policy,
            cancel=remote.cancel,
        ) as client:
            try:
                report = run_job(
                    spec,
                    client=client,
                    fixer=part.fixer,
                    validator=part.validator,
                    on_event=seen,
                    crash_hook=crash_hook,
                )
            except BudgetExhausted as exc:
                sink("budget_exhausted", file=str(job.file), apiCalls=shared.used)
                # the journal now counts this run's calls too (a new night's job: only its own)
                fields = {"round": 0, **seen.fields, "apiCalls": _calls_so_far(part.folder)}
                ended = stopped_result(job, part.folder, str(exc), fields)
                write_stopped_report(part.folder, ended, fields)
                return ended
            except LdjfixError as exc:  # e.g. Gong down after retries: the journal is intact
                fields = {**seen.fields, "apiCalls": _calls_so_far(part.folder)}
                outcome = INTERRUPTED if isinstance(exc, Cancelled) else ERROR
                ended = stopped_result(
                    job, part.folder, str(exc), fields, outcome=outcome, exit_code=exc.exit_code
                )
                if client.calls:  # it held the folder (not, say, refused as in use elsewhere)
                    write_stopped_report(part.folder, ended, fields)
                return ended
        reports[job] = report
        if report.already_finished:  # the batch's log says so, as the single-file summary does
            sink("job_already_finished", file=str(job.file), outcome=report.outcome)
        result = result_from_report(job, report.doc)
        write_job_reports(part.folder, result)
        return result

    def stopped(job: BatchJob, reason: str) -> FileResult:
        return stopped_result(job, prepared[job].folder, reason, {})

    done = run_batch(jobs, runner=runner, stopped=stopped, budget=budget, emit=emit)
    return replace(done, reports=reports)
