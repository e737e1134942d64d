"""Several files in one run: Gong's upload order, one shared rate limit, one API budget.

Object types go to Gong in the order its docs give (reference 3.7 and 3.9): users, stages and
accounts before the deals and contacts that point at them, and leads (which may point at all of
those) last. Types of one dependency level run concurrently, each file in its own thread, all
drawing calls from one :class:`CallBudget` wrapped around one rate limiter, so the company-wide
limit (3 calls a second) holds for the whole batch. A file whose parents did not finish is not
started (its references would dangle), and the budget refuses the call that would pass
``--max-api-calls``: that job stops where it is, its journal intact, and resumes next run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ldjfix.errors import ExitCode, LdjfixError
from ldjfix.gong.ratelimit import RateLimiter
from ldjfix.jobs.manifest import BatchJob
from ldjfix.loop.outputs import JobReport
from ldjfix.reporting.events import EventSink
from ldjfix.reporting.summaries import FileResult, worst_exit_code

# What each type points at (reference 3.9); only types present in a batch count.
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "CONTACT": ("ACCOUNT",),
    "DEAL": ("ACCOUNT", "BUSINESS_USER", "STAGE"),
    "LEAD": ("ACCOUNT", "CONTACT", "DEAL"),
}


NOT_STARTED = "NOT_STARTED"  # budget used up, Ctrl-C, or a parent file did not finish
BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"  # stopped midway by --max-api-calls (or Ctrl-C)
ERROR = "ERROR"  # the job raised an ldjfix error (its message says which)
INTERRUPTED = "INTERRUPTED"  # Ctrl-C or SIGTERM stopped it midway: resumable
STOPPED = "STOPPED"  # Gong rejected a whole upload (line 0): the file is not in Gong yet
JITTER_MARGIN = 0.1  # seconds of arrival jitter the spacing absorbs per one-second window


class BudgetExhausted(LdjfixError):
    """The run used the API calls ``--max-api-calls`` allows; stop here, resumable."""

    exit_code = ExitCode.DEFECTS


class CallBudget(RateLimiter):
    """The batch's one rate limiter, which also counts calls and refuses the one past the budget.

    A :class:`RateLimiter` itself, so every client of the batch can share it; the client calls
    :meth:`acquire` before every attempt (retries included), which is what Gong's quota counts.
    Calls are spaced ``(1 + margin) / calls_per_second`` apart: evenly spaced calls fill a
    one-second window exactly, so any network jitter would let the server see one call too
    many in some window; the margin absorbs that much jitter.
    """

    def __init__(
        self,
        calls_per_second: float = 3.0,
        *,
        max_calls: int | None = None,
        margin: float = JITTER_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(calls_per_second, clock=clock, sleep=sleep)
        self.interval = (1.0 + margin) / calls_per_second
        self.max_calls = max_calls
        self._used = 0
        self._closed = False
        self._budget_lock = threading.Lock()

    @property
    def used(self) -> int:
        """Calls granted so far."""
        return self._used

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (Ctrl-C)."""
        return self._closed

    @property
    def exhausted(self) -> bool:
        """True once no further call will be granted."""
        return self.max_calls is not None and self._used >= self.max_calls

    def close(self) -> None:
        """Grant no further call (Ctrl-C): every job stops at its next call, resumable."""
        with self._budget_lock:
            self._closed = True

    def acquire(self) -> None:
        """Grant one call (waiting for the rate limit), or raise :class:`BudgetExhausted`."""
        with self._budget_lock:
            if self._closed:
                raise BudgetExhausted("stopped: the run was interrupted.")
            if self.exhausted:
                raise BudgetExhausted(
                    f"stopped before API call {self._used + 1}: --max-api-calls is "
                    f"{self.max_calls}.",
                    hint="The job folders are saved; run the same command again to resume.",
                )
            self._used += 1
        super().acquire()


def upload_levels(jobs: Sequence[BatchJob]) -> list[list[BatchJob]]:
    """Jobs grouped by dependency level (level 0 first), keeping the given order inside one."""
    present = {job.object_type for job in jobs}
    depth: dict[str, int] = {}

    def level(kind: str) -> int:
        if kind not in depth:
            parents = [p for p in DEPENDS_ON.get(kind, ()) if p in present]
            depth[kind] = 1 + max(map(level, parents)) if parents else 0
        return depth[kind]

    levels: list[list[BatchJob]] = [[] for _ in range(max(map(level, present), default=-1) + 1)]
    for job in jobs:
        levels[level(job.object_type)].append(job)
    return levels


def ancestors(kind: str) -> set[str]:
    """Every type ``kind`` points at, directly or through others."""
    found: set[str] = set()
    for parent in DEPENDS_ON.get(kind, ()):
        found |= {parent} | ancestors(parent)
    return found


def finished(result: FileResult) -> bool:
    """True when a file reached an end state its dependants can build on."""
    # PENDING (--max-rounds, no progress) counts: its settled records are in Gong, like those
    # of a file with quarantined records, and blocking on it could block dependants forever.
    return result.exit_code <= 1 and result.outcome not in (NOT_STARTED, BUDGET_EXHAUSTED, STOPPED)


Runner = Callable[[BatchJob, CallBudget, EventSink], FileResult]
# Makes the result of a job that was stopped (budget) or not started, from what is on disk.
Stopped = Callable[[BatchJob, str], FileResult]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """How a batch ended: one result per file, in the order the files were given."""

    results: tuple[FileResult, ...]
    api_calls: int
    # the loop's full report of each job that reached its end (for the single-file summary)
    reports: Mapping[BatchJob, JobReport] = field(default_factory=dict)

    @property
    def exit_code(self) -> ExitCode:
        """The worst exit code of all files."""
        return worst_exit_code(self.results)


def _run_guarded(
    job: BatchJob, runner: Runner, budget: CallBudget, emit: EventSink, stopped: Stopped
) -> FileResult:
    """Run one job; an error that stops it becomes its result instead of ending the batch."""
    name = str(job.file)
    emit("file_start", file=name, objectType=job.object_type)
    try:
        result = runner(job, budget, emit)
    except BudgetExhausted as exc:
        emit("budget_exhausted", file=name, apiCalls=budget.used)
        result = stopped(job, str(exc))
    except LdjfixError as exc:
        result = FileResult(name, job.object_type, ERROR, exc.exit_code, message=str(exc))
    emit("file_end", file=name, outcome=result.outcome, exitCode=result.exit_code)
    return result


def run_batch(
    jobs: Sequence[BatchJob],
    *,
    runner: Runner,
    stopped: Stopped,
    budget: CallBudget,
    emit: EventSink,
) -> BatchResult:
    """Run every job level by level, a level's files concurrently; never raise for one file."""
    done: dict[BatchJob, FileResult] = {}
    for number, level in enumerate(upload_levels(jobs)):
        emit("level_start", level=number, objectTypes=sorted({j.object_type for j in level}))
        runnable = []
        for job in level:
            reason = _blocked(job, jobs, done, budget)
            if reason:
                emit("file_skipped", file=str(job.file), reason=reason)
                done[job] = stopped(job, reason)
            else:
                runnable.append(job)
        done.update(_run_level(runnable, runner, budget, emit, stopped))
    results = tuple(done[job] for job in jobs)
    return BatchResult(results, budget.used)


def _run_level(
    runnable: Sequence[BatchJob],
    runner: Runner,
    budget: CallBudget,
    emit: EventSink,
    stopped: Stopped,
) -> dict[BatchJob, FileResult]:
    """Run one level's jobs concurrently and wait for all of them.

    A level of one job runs in the caller's thread, so a person at the terminal (interactive
    fixing) and Ctrl-C meet the job directly, as they would without a batch around it.
    """
    if len(runnable) == 1:
        try:
            return {runnable[0]: _run_guarded(runnable[0], runner, budget, emit, stopped)}
        except BaseException:
            budget.close()
            raise
    pool = ThreadPoolExecutor(max_workers=max(1, len(runnable)))
    try:
        futures = {
            job: pool.submit(_run_guarded, job, runner, budget, emit, stopped) for job in runnable
        }
        return {job: future.result() for job, future in futures.items()}
    except BaseException:  # Ctrl-C: the running jobs stop at their next call, resumable
        budget.close()
        raise
    finally:
        pool.shutdown(wait=True)


def _blocked(
    job: BatchJob, jobs: Sequence[BatchJob], done: dict[BatchJob, FileResult], budget: CallBudget
) -> str | None:
    """Why ``job`` must not start now, or None."""
    if budget.closed:
        return "not started: the run was interrupted; run the same command again to resume."
    if budget.exhausted:
        return f"not started: --max-api-calls ({budget.max_calls}) used up; run again to resume."
    parents = ancestors(job.object_type)
    unfinished = [
        str(other.file)
        for other in jobs
        if other.object_type in parents and other in done and not finished(done[other])
    ]
    if unfinished:
        return f"not started: {', '.join(unfinished)} did not finish, so references would dangle."
    return None
