"""Tests of the batch scheduler: Gong's upload order, concurrency, the shared call budget."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from ldjfix.errors import RemoteProblem
from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.gong.client import GongClient
from ldjfix.gong.connection import Connection
from ldjfix.jobs.manifest import BatchJob
from ldjfix.jobs.remote import open_client
from ldjfix.jobs.runner import result_from_report
from ldjfix.jobs.schedule import NOT_STARTED, BudgetExhausted, CallBudget, run_batch, upload_levels
from ldjfix.loop.outputs import JobReport
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.reporting.events import EventSink, ignore
from ldjfix.reporting.summaries import FileResult
from ldjfix.sandbox.store import SandboxStore
from ldjfix.synth import generator as synth
from tests.support.loop import QUICK_ENV, gong_answering

SIX = ("LEAD", "DEAL", "CONTACT", "STAGE", "BUSINESS_USER", "ACCOUNT")


def jobs_of(*kinds: str) -> list[BatchJob]:
    """One job per object type, named after it."""
    return [BatchJob(Path(f"{kind.lower()}.ldjson"), kind) for kind in kinds]


class FakeClock:
    """A clock that moves only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        """Advance time instead of waiting."""
        with self.lock:
            self.now += seconds


def stopped(job: BatchJob, reason: str) -> FileResult:
    """The result of a job that did not run to its end."""
    return FileResult(
        str(job.file), job.object_type, NOT_STARTED, 1, resumable=True, message=reason
    )


def test_batch_levels_follow_gong_order() -> None:
    """Users, stages, accounts first; then contacts and deals; leads last."""
    levels = upload_levels(jobs_of(*SIX))
    assert [[job.object_type for job in level] for level in levels] == [
        ["STAGE", "BUSINESS_USER", "ACCOUNT"],
        ["DEAL", "CONTACT"],
        ["LEAD"],
    ]


def test_batch_levels_only_count_present_types() -> None:
    """Without contacts and deals, leads follow accounts directly; lone types share level 0."""
    assert [[j.object_type for j in lvl] for lvl in upload_levels(jobs_of("LEAD", "ACCOUNT"))] == [
        ["ACCOUNT"],
        ["LEAD"],
    ]
    assert len(upload_levels(jobs_of("STAGE", "LEAD"))) == 1
    assert upload_levels([]) == []


def test_batch_budget_refuses_call_past_max() -> None:
    """The budget grants max_calls calls, then raises BudgetExhausted naming the limit."""
    clock = FakeClock()
    budget = CallBudget(20.0, max_calls=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        budget.acquire()
    with pytest.raises(BudgetExhausted, match="before API call 4: --max-api-calls is 3") as info:
        budget.acquire()
    assert "run the same command again to resume" in str(info.value)
    assert budget.used == 3 and budget.exhausted
    assert clock.now == pytest.approx(2 * 1.1 / 20.0)  # spaced by the limit, with margin


def test_batch_runs_levels_in_order_and_files_concurrently() -> None:
    """Every level-0 job runs at once (a barrier proves it) and ends before level 1 starts."""
    barrier = threading.Barrier(3, timeout=5)
    log: list[tuple[str, str]] = []
    lock = threading.Lock()

    def runner(job: BatchJob, budget: CallBudget, emit: EventSink) -> FileResult:
        with lock:
            log.append(("start", job.object_type))
        if job.object_type in ("ACCOUNT", "STAGE", "BUSINESS_USER"):
            barrier.wait()  # deadlocks (times out) unless all three run concurrently
        budget.acquire()
        with lock:
            log.append(("end", job.object_type))
        return FileResult(str(job.file), job.object_type, "done", 0, api_calls=1)

    events: list[str] = []
    result = run_batch(
        jobs_of(*SIX),
        runner=runner,
        stopped=stopped,
        budget=CallBudget(1000.0),
        emit=lambda event, **fields: events.append(event),
    )
    assert result.exit_code == 0 and result.api_calls == 6
    assert [r.object_type for r in result.results] == list(SIX)  # given order kept
    order = [kind for what, kind in log if what == "end"]
    assert set(order[:3]) == {"ACCOUNT", "STAGE", "BUSINESS_USER"}
    assert set(order[3:5]) == {"CONTACT", "DEAL"} and order[5] == "LEAD"
    first_level1_start = log.index(("start", "DEAL"))
    assert all(log.index(("end", k)) < first_level1_start for k in ("ACCOUNT", "STAGE"))
    assert events.count("level_start") == 3 and events.count("file_end") == 6


def test_batch_failed_parent_blocks_dependants_only() -> None:
    """A failed ACCOUNT file keeps CONTACT, DEAL and LEAD from starting; STAGE still runs."""
    ran: list[str] = []

    def runner(job: BatchJob, budget: CallBudget, emit: EventSink) -> FileResult:
        ran.append(job.object_type)
        if job.object_type == "ACCOUNT":
            raise RemoteProblem("Upload of accounts failed after 6 attempts")
        return FileResult(str(job.file), job.object_type, "done", 0)

    result = run_batch(
        jobs_of("ACCOUNT", "STAGE", "CONTACT", "DEAL"),
        runner=runner,
        stopped=stopped,
        budget=CallBudget(1000.0),
        emit=lambda event, **fields: None,
    )
    assert sorted(ran) == ["ACCOUNT", "STAGE"]
    by_type = {r.object_type: r for r in result.results}
    assert by_type["ACCOUNT"].outcome == "ERROR" and by_type["ACCOUNT"].exit_code == 4
    assert "failed after 6 attempts" in (by_type["ACCOUNT"].message or "")
    assert by_type["DEAL"].outcome == NOT_STARTED and by_type["DEAL"].resumable
    assert "account.ldjson did not finish" in (by_type["DEAL"].message or "")
    assert result.exit_code == 4


def test_batch_budget_stop_leaves_later_levels_unstarted() -> None:
    """Once the budget is used up, the running job stops resumable and no later job starts."""
    ran: list[str] = []

    def runner(job: BatchJob, budget: CallBudget, emit: EventSink) -> FileResult:
        ran.append(job.object_type)
        for _ in range(3):
            budget.acquire()
        return FileResult(str(job.file), job.object_type, "done", 0, api_calls=3)

    events: list[tuple[str, dict[str, object]]] = []
    result = run_batch(
        jobs_of("ACCOUNT", "CONTACT"),
        runner=runner,
        stopped=stopped,
        budget=CallBudget(1000.0, max_calls=4),
        emit=lambda event, **fields: events.append((event, fields)),
    )
    assert ran == ["ACCOUNT", "CONTACT"]
    account, contact = result.results
    assert account.outcome == "done"
    assert contact.outcome == NOT_STARTED and "before API call 5" in (contact.message or "")
    assert ("budget_exhausted", {"file": "contact.ldjson", "apiCalls": 4}) in events
    third = run_batch(
        jobs_of("ACCOUNT", "CONTACT"),
        runner=runner,
        stopped=stopped,
        budget=CallBudget(1000.0, max_calls=2),
        emit=lambda event, **fields: None,
    )
    assert [r.outcome for r in third.results] == [NOT_STARTED, NOT_STARTED]
    assert "--max-api-calls (2) used up" in (third.results[1].message or "")


def test_batch_budget_close_stops_every_caller() -> None:
    """After close() (Ctrl-C) no call is granted, whatever the budget left."""
    budget = CallBudget(1000.0)
    budget.acquire()
    budget.close()
    with pytest.raises(BudgetExhausted, match="interrupted"):
        budget.acquire()
    assert budget.used == 1


def test_batch_interrupt_closes_budget() -> None:
    """Ctrl-C while a level runs closes the budget, so the other running job stops too."""
    budget = CallBudget(1000.0)
    outcome: list[str] = []

    def runner(job: BatchJob, shared: CallBudget, emit: EventSink) -> FileResult:
        if job.object_type == "ACCOUNT":
            raise KeyboardInterrupt  # reaches the main thread through the job's future
        try:
            while True:
                shared.acquire()
        except BudgetExhausted:
            outcome.append("stopped")
            raise

    with pytest.raises(KeyboardInterrupt):
        run_batch(
            jobs_of("ACCOUNT", "STAGE"), runner=runner, stopped=stopped, budget=budget, emit=ignore
        )
    assert outcome == ["stopped"]


def test_batch_pending_parent_does_not_block() -> None:
    """A parent left PENDING (--max-rounds) still lets its dependants run; a stopped one not."""
    ran: list[str] = []

    def runner(job: BatchJob, budget: CallBudget, emit: EventSink) -> FileResult:
        ran.append(job.object_type)
        outcome = {"ACCOUNT": "PENDING", "STAGE": "BUDGET_EXHAUSTED"}.get(job.object_type, "DONE")
        return FileResult(str(job.file), job.object_type, outcome, 1 if outcome != "DONE" else 0)

    result = run_batch(
        jobs_of("ACCOUNT", "STAGE", "CONTACT", "DEAL"),
        runner=runner,
        stopped=stopped,
        budget=CallBudget(1000.0),
        emit=ignore,
    )
    assert ran == ["ACCOUNT", "STAGE", "CONTACT"]
    assert [r.outcome for r in result.results] == [
        "PENDING",
        "BUDGET_EXHAUSTED",
        "DONE",
        NOT_STARTED,
    ]


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
    return gong_answering(
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
