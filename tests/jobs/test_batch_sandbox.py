"""Six files of six object types through one batch against the sandbox on a loopback socket."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest

from ldjfix.gong.connection import Connection
from ldjfix.gong.retry import RetryPolicy
from ldjfix.jobs.runner import UploadTarget, run_files
from ldjfix.jobs.schedule import CallBudget
from ldjfix.jobs.session import report
from ldjfix.jobs.settings import Settings
from ldjfix.reporting.events import JsonEventLog, ignore
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving
from ldjfix.sandbox.store import SandboxStore
from tests.support.batch import (
    CREDENTIALS,
    RATE,
    Arrivals,
    assert_documented_order,
    assert_summary_matches_reports,
    make_files,
    outcomes,
)

KNOBS = Knobs(polls=0, calls_per_second=RATE)


def run_batch_on(
    sandbox: RunningSandbox, tmp_path: Path, *, max_calls: int | None = None
) -> tuple[int, dict[str, object], str]:
    """Run the six jobs against ``sandbox``; the exit code, JSON summary and event log."""
    jobs = make_files(tmp_path / "data")
    remote = UploadTarget(Connection(base_url=sandbox.url), 1, 10, CREDENTIALS)
    budget = CallBudget(RATE, max_calls=max_calls)
    events = io.StringIO()
    result = run_files(jobs, Settings(), remote=remote, budget=budget, emit=JsonEventLog(events))
    out = io.StringIO()
    report(result, stdout=out, summary_md=None)
    summary = orjson.loads(out.getvalue())
    assert summary["apiCallsThisRun"] == budget.used
    return result.exit_code, summary, events.getvalue()


def test_batch_six_types_rate_order_and_reports(tmp_path: Path) -> None:
    """The limit holds, Gong's order is kept, and the summary matches every report.json."""
    with serving(tmp_path / "state", KNOBS) as sandbox:
        arrivals = Arrivals(sandbox)
        code, summary, events = run_batch_on(sandbox, tmp_path)
        calls = list(sandbox.app.calls)
        uploads = sandbox.store.uploads()
    assert code == 1  # some records were quarantined
    assert [c.code for c in calls if c.code not in (200, 201)] == []  # not one 429
    assert len(calls) > RATE  # enough calls for the limit to matter
    assert len(arrivals.times) == len(calls)
    assert arrivals.max_in_a_second() <= RATE
    assert_documented_order(uploads)
    assert_summary_matches_reports(summary)  # type: ignore[arg-type]
    assert summary["totals"]["apiCalls"] == summary["apiCallsThisRun"] == len(calls)
    assert outcomes(summary)["ACCOUNT"] == ("QUARANTINED", 1, 170, 30, 0)  # type: ignore[arg-type]
    assert outcomes(summary)["LEAD"] == ("DONE", 0, 30, 0, 0)  # type: ignore[arg-type]
    lines = [orjson.loads(line) for line in events.splitlines()]
    assert {"file_start", "round_end", "file_end", "level_start"} <= {e["event"] for e in lines}
    assert all({"ts", "event"} <= set(e) for e in lines)


def test_batch_budget_stop_resumes_to_same_outcome(tmp_path: Path) -> None:
    """A batch stopped by --max-api-calls resumes (same folders) to the uninterrupted outcome."""
    with serving(tmp_path / "whole-state", KNOBS) as sandbox:
        _, whole, _ = run_batch_on(sandbox, tmp_path / "whole")
    with serving(tmp_path / "state", KNOBS) as sandbox:
        code, first, events = run_batch_on(sandbox, tmp_path / "split", max_calls=5)
        assert code == 1
        stopped = [e for e in first["files"] if e["resumable"]]  # type: ignore[attr-defined]
        assert stopped and {e["outcome"] for e in stopped} <= {"BUDGET_EXHAUSTED", "NOT_STARTED"}
        assert first["totals"]["apiCalls"] <= first["apiCallsThisRun"] <= 5  # type: ignore[operator]
        assert '"event":"budget_exhausted"' in events
        _, second, _ = run_batch_on(sandbox, tmp_path / "split")
        uploads = sandbox.store.uploads()
    assert outcomes(second) == outcomes(whole)  # type: ignore[arg-type]
    assert_summary_matches_reports(second)  # type: ignore[arg-type]
    request_ids = [u["clientRequestId"] for u in uploads]
    assert len(request_ids) == len(set(request_ids))  # no upload sent twice
    assert_documented_order(uploads)


def job_reports(summary: dict[str, object]) -> list[dict[str, object]]:
    """The report.json of every job of a summary that has one."""
    folders = [Path(str(e["jobDir"])) for e in summary["files"]]  # type: ignore[attr-defined]
    return [orjson.loads((f / "report.json").read_bytes()) for f in folders]


def test_batch_budget_stop_reports_count_every_call(tmp_path: Path) -> None:
    """Stopped by the budget, then resumed: the reports' apiCalls add up to the calls Gong saw."""
    with serving(tmp_path / "state", KNOBS) as sandbox:
        _, first, _ = run_batch_on(sandbox, tmp_path, max_calls=7)
        budget_stopped = [e for e in first["files"] if e["outcome"] == "BUDGET_EXHAUSTED"]  # type: ignore[attr-defined]
        assert budget_stopped
        assert_summary_matches_reports({"files": budget_stopped})
        _, second, _ = run_batch_on(sandbox, tmp_path)
    seen = len(SandboxStore(tmp_path / "state").calls())
    assert seen == first["apiCallsThisRun"] + second["apiCallsThisRun"]  # type: ignore[operator]
    assert sum(int(r["apiCalls"]) for r in job_reports(second)) == seen  # type: ignore[call-overload]
    assert_summary_matches_reports(second)  # type: ignore[arg-type]


@pytest.mark.parametrize("budget", [1, 9])
def test_batch_budget_never_exceeded(tmp_path: Path, budget: int) -> None:
    """The sandbox never sees more calls than --max-api-calls allows."""
    with serving(tmp_path / "state", KNOBS) as sandbox:
        code, summary, _ = run_batch_on(sandbox, tmp_path, max_calls=budget)
        seen = len(sandbox.app.calls)
    assert seen <= budget and code == 1
    assert summary["totals"]["apiCalls"] <= budget  # type: ignore[index]


def test_batch_remote_failure_blocks_dependants_then_resumes(tmp_path: Path) -> None:
    """Gong failing the accounts upload: ERROR (exit 4), contacts not started; rerun finishes."""
    jobs = make_files(tmp_path / "data")
    pair = [jobs[0], jobs[1]]  # ACCOUNT, CONTACT
    policy = RetryPolicy(attempts=2, initial=0.0, jitter=0.0)
    knobs = Knobs(polls=0, calls_per_second=RATE, script=("500", "500"))
    with serving(tmp_path / "state", knobs) as sandbox:
        remote = UploadTarget(Connection(base_url=sandbox.url), 1, 10, CREDENTIALS, policy)
        first = run_files(pair, Settings(), remote=remote, budget=CallBudget(RATE), emit=ignore)
        folder = jobs[0].job_dir
        assert orjson.loads((folder / "journal.json").read_bytes())["apiCalls"] == 2
        assert orjson.loads((folder / "report.json").read_bytes())["outcome"] == "ERROR"
        second = run_files(pair, Settings(), remote=remote, budget=CallBudget(RATE), emit=ignore)
    account, contact = first.results
    assert first.exit_code == 4
    assert account.outcome == "ERROR" and account.resumable and account.api_calls == 2
    assert "HTTP 500" in (account.message or "") and "after 2 attempts" in (account.message or "")
    assert account.job_dir == str(jobs[0].job_dir)
    assert contact.outcome == "NOT_STARTED" and contact.api_calls == 0
    assert [r.outcome for r in second.results] == ["QUARANTINED", "DONE"]
