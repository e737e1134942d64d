"""Tests of the batch scheduler: Gong's upload order, concurrency, the shared call budget."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ldjfix.errors import RemoteProblem
from ldjfix.jobs.manifest import BatchJob
from ldjfix.jobs.schedule import NOT_STARTED, BudgetExhausted, CallBudget, run_batch, upload_levels
from ldjfix.reporting.events import EventSink, ignore
from ldjfix.reporting.summaries import FileResult

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
