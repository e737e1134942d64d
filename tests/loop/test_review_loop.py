"""Review tests of the correction loop: budget stops and resumes, and the batch's upload order."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.gong.client import GongClient
from ldjfix.gong.connection import Connection
from ldjfix.gong.ratelimit import RateLimiter
from ldjfix.jobs.manifest import BatchJob
from ldjfix.jobs.remote import open_client
from ldjfix.jobs.runner import result_from_report
from ldjfix.jobs.schedule import NOT_STARTED, BudgetExhausted, CallBudget, run_batch
from ldjfix.loop.outputs import JobReport
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.reporting.events import EventSink, ignore
from ldjfix.reporting.summaries import FileResult
from ldjfix.sandbox.store import SandboxStore
from ldjfix.synth import generator as synth

QUICK_ENV = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 1000}'}


def _run_under_budget(
    source: Path, state: Path, job: Path, first: int, then: int
) -> tuple[int, JobReport]:
    """Run the job until it ends: ``first`` calls allowed, then ``then`` per run; (runs, report)."""
    for runs in range(1, 41):
        budget = CallBudget(1000.0, max_calls=first if runs == 1 else then)
        conn = Connection(sandbox=True, sandbox_dir=state, calls_per_second=1000.0)
        with open_client(conn, env=QUICK_ENV, limiter=budget) as client:
            try:
                spec = JobSpec(source, "ACCOUNT", 1, job, first_poll=0.0)
                return runs, run_job(spec, client=client, fixer=QuarantineFixer())
            except BudgetExhausted:
                continue
    raise AssertionError("the job made no progress in 40 budget-limited runs")


def test_loop_small_budget_resumes_make_progress(tmp_path: Path) -> None:
    """8 shards planned, then runs of --max-api-calls 1: each resume moves on, no id asked twice."""
    source = tmp_path / "accounts.ldjson"
    synth.write_file(source, "ACCOUNT", 600, seed=5, defects={"name_too_long": 80})
    state = tmp_path / "sandbox"
    runs, result = _run_under_budget(source, state, tmp_path / "job", 2, 1)
    assert (result.outcome, result.counts.quarantined) == ("QUARANTINED", 80)
    store = SandboxStore(state)
    uploads = [u["clientRequestId"] for u in store.uploads()]
    assert len(uploads) == len(set(uploads)) == result.uploads == 9  # 1 + 8 shards, each once
    not_found = Counter(c["code"] for c in store.calls())[400]
    assert not_found <= 8  # at most one "was it sent?" question per shard, over all resumes
    assert result.api_calls == len(store.calls())
    assert runs <= 1 + 8 + 8 + 8  # round 1; then a probe, an upload and a poll per shard


def _line_zero_client() -> GongClient:
    """A Gong that takes every upload and then rejects the whole file (line 0)."""
    general = {"line": 0, "description": "File could not be processed"}
    return _gong_answering(
        {"status": "FAILED", "totalErrorCount": 1, "totalSuccessCount": 0, "errors": [general]}
    )


def test_batch_stopped_parent_blocks_dependants(tmp_path: Path) -> None:
    """Gong rejected the whole ACCOUNT file (line 0): the CONTACT file is not started."""
    accounts, contacts = tmp_path / "accounts.ldjson", tmp_path / "contacts.ldjson"
    accounts.write_bytes(b'{"objectId":"A1","modifiedDate":"2025-01-01T00:00:00Z"}\n')
    contacts.write_bytes(b'{"objectId":"C1","accountId":"A1"}\n')
    jobs = [BatchJob(accounts, "ACCOUNT"), BatchJob(contacts, "CONTACT")]
    ran: list[str] = []

    def runner(job: BatchJob, budget: CallBudget, emit: EventSink) -> FileResult:
        ran.append(job.object_type)
        with _line_zero_client() as client:
            spec = JobSpec(job.file, job.object_type, 1, first_poll=0.0)
            report = run_job(spec, client=client, fixer=QuarantineFixer())
        return result_from_report(job, report.doc)

    def stopped(job: BatchJob, reason: str) -> FileResult:
        return FileResult(str(job.file), job.object_type, NOT_STARTED, 1, message=reason)

    result = run_batch(jobs, runner=runner, stopped=stopped, budget=CallBudget(1000.0), emit=ignore)
    assert ran == ["ACCOUNT"]
    assert [r.outcome for r in result.results] == ["STOPPED", NOT_STARTED]
    assert f"{accounts} did not finish" in (result.results[1].message or "")
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("how", "code", "named"),
    [
        (["--integration-id", "0"], 2, "--integration-id"),
        (["--integration-id", "-3"], 2, "--integration-id"),
        ([], 3, "LDJFIX_INTEGRATION_ID"),
    ],
)
def test_run_integration_id_zero_refused_before_the_job_folder(
    tmp_path: Path, how: list[str], code: int, named: str
) -> None:
    """A mistyped integration id stops at once; no job folder is bound to it for later runs."""
    source = tmp_path / "one.ldjson"
    source.write_bytes(b'{"objectId":"A1","modifiedDate":"2025-01-01T00:00:00Z"}\n')
    args = ["run", str(source), "--object-type", "ACCOUNT", *how, "--sandbox"]
    env = {**QUICK_ENV, "LDJFIX_SANDBOX_DIR": str(tmp_path / "sb"), "LDJFIX_INTEGRATION_ID": "0"}
    result = CliRunner().invoke(cli, [*args, "--sandbox-dir", str(tmp_path / "sb")], env=env)
    assert result.exit_code == code, result.output
    assert named in result.output
    assert not (tmp_path / "one.ldjson.ldjfix-job").exists()


def test_run_one_file_with_json_resumes_the_job_dir_given(tmp_path: Path) -> None:
    """One FILE, --job-dir D: adding --json (the batch path) resumes D, not a new job inside it."""
    source = tmp_path / "accounts.ldjson"
    synth.write_file(source, "ACCOUNT", 300, seed=1, defects={"name_too_long": 40})
    job, state = tmp_path / "jobs" / "a", tmp_path / "sb"
    args = ["run", str(source), "--object-type", "ACCOUNT", "--integration-id", "1"]
    args += ["--sandbox", "--sandbox-dir", str(state), "--job-dir", str(job)]
    first = CliRunner().invoke(cli, [*args, "--max-rounds", "1"], env=QUICK_ENV)
    assert first.exit_code == 1, first.output
    sent_before = len(SandboxStore(state).uploads())
    second = CliRunner().invoke(cli, [*args, "--json"], env=QUICK_ENV)
    assert second.exit_code == 1, second.output
    entry = orjson.loads(second.stdout)["files"][0]
    assert entry["jobDir"] == str(job)
    assert (entry["outcome"], entry["quarantined"]) == ("QUARANTINED", 40)
    assert not (job / "accounts.ldjson.ldjfix-job").exists()
    assert len(SandboxStore(state).uploads()) == sent_before + entry["uploads"] - 1  # r01 once


def _gong_answering(status: dict[str, object]) -> GongClient:
    """A Gong that takes every upload and then answers ``status`` to every status call."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            crid = request.url.params["clientRequestId"]
            return httpx.Response(201, json={"requestId": "r1", "clientRequestId": crid})
        return httpx.Response(200, json={"requestId": "r2", **status})

    http = httpx.Client(base_url="https://gong.test", transport=httpx.MockTransport(answer))
    return GongClient(http, limiter=RateLimiter(1000.0))


def test_loop_failed_status_naming_no_line_accepts_nothing(tmp_path: Path) -> None:
    """FAILED with no error listed and totalErrorCount 0: records stay pending, never DONE."""
    source = tmp_path / "accounts.ldjson"
    source.write_bytes(b'{"objectId":"A1","modifiedDate":"2025-01-01T00:00:00Z"}\n')
    status = {"status": "FAILED", "totalErrorCount": 0, "totalSuccessCount": 0, "errors": []}
    with _gong_answering(status) as client:
        spec = JobSpec(source, "ACCOUNT", 1, first_poll=0.0)
        result = run_job(spec, client=client, fixer=QuarantineFixer())
    assert (result.outcome, result.exit_code) == ("PENDING", 1)
    assert (result.counts.accepted, result.counts.pending) == (0, 1)
    assert "all 1 records accepted" not in result.message
