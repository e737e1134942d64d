"""Review tests of the correction loop: budget stops and resumes, and the batch's upload order."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ldjfix import synth
from ldjfix.batch import BudgetExhausted, CallBudget
from ldjfix.client import connect
from ldjfix.connection import Connection
from ldjfix.fixes import QuarantineFixer
from ldjfix.loop import JobSpec, run_job
from ldjfix.report import JobReport
from ldjfix.sandbox_store import SandboxStore

QUICK_ENV = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 1000}'}


def _run_under_budget(
    source: Path, state: Path, job: Path, first: int, then: int
) -> tuple[int, JobReport]:
    """Run the job until it ends: ``first`` calls allowed, then ``then`` per run; (runs, report)."""
    for runs in range(1, 41):
        budget = CallBudget(1000.0, max_calls=first if runs == 1 else then)
        conn = Connection(sandbox=True, sandbox_dir=state, calls_per_second=1000.0)
        with connect(conn, env=QUICK_ENV, limiter=budget) as client:
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
