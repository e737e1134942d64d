"""The correction loop of ``ldjfix run``: rounds until DONE, resumable (README: the loop).

One file's job is :func:`run_job`: a plain, reentrant function (no globals) that takes its
client, fixer and validator as arguments and reports through an ``on_event`` callback, so a
batch can run several jobs at once under one rate limiter. The job is a small state machine
kept in the journal (``phase``): *settled* (plan the next round or finish), *planned* (send
the round's uploads), *sent* (settle what Gong said). Every step writes what it learned to the
job folder before the journal moves on, so running the same command again after a crash
continues exactly where the last one stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Unpack, cast

from ldjfix.fixing.fixer import Fixer
from ldjfix.gong.client import GongClient
from ldjfix.gong.limits import MAX_UPLOAD_BYTES
from ldjfix.gong.status import Status
from ldjfix.ldjson.sources import Source, check_readable, check_source_name, open_source
from ldjfix.loop import history
from ldjfix.loop import outputs as reports
from ldjfix.loop.failrate import DEFAULT_MAX_FAILURE_RATE, check_failure_rate, rate_allows
from ldjfix.loop.fixedstore import FixedRecords
from ldjfix.loop.fixeslog import FixesLog
from ldjfix.loop.folder import CORRECTED, FIXES
from ldjfix.loop.journal import (
    JobFolder,
    Journal,
    SourceFacts,
    default_job_dir,
    job_identity,
    new_journal,
)
from ldjfix.loop.ledger import InvariantBroken, Ledger, Settlement
from ldjfix.loop.lineage import Verdict, map_status
from ldjfix.loop.planning import Planner
from ldjfix.loop.settling import Decisions, settle_round
from ldjfix.loop.shapes import (
    JobEvent,
    JobEventName,
    JobEventSink,
    JournalDoc,
    SettlementDoc,
    damaged,
)
from ldjfix.loop.survey import Checker, Survey, local_round, survey
from ldjfix.loop.verify import verify_records
from ldjfix.loop.wave import Remote, already_sent, send_wave


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What one ``run`` job is: the source, where it goes in Gong, and its limits."""

    source: Path
    object_type: str
    integration_id: int
    job_dir: Path | None = None
    max_rounds: int = 10
    poll_timeout: float = 3600.0
    first_poll: float = 1.0
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    verify: int = 0  # accepted records per job to read back from Gong after the end
    max_failure_rate: float = DEFAULT_MAX_FAILURE_RATE
    keep_history: int = history.DEFAULT_KEEP

    @property
    def folder(self) -> Path:
        """The job folder: ``--job-dir``, or ``<source>.ldjfix-job/`` beside the source."""
        return self.job_dir if self.job_dir is not None else default_job_dir(self.source)


def run_job(
    spec: JobSpec,
    *,
    client: GongClient,
    fixer: Fixer,
    validator: Checker | None = None,
    clock: Callable[[], float] = time.monotonic,
    on_event: JobEventSink | None = None,
    crash_hook: Callable[[str], None] | None = None,
) -> reports.JobReport:
    """Take ``spec.source`` to its end state in rounds; resume the job if its folder has one."""
    job = _Job(spec, client, fixer, validator, clock, on_event, crash_hook)
    return job.run()


class _Job:
    """The state of one running job; only :func:`run_job` creates it."""

    def __init__(
        self,
        spec: JobSpec,
        client: GongClient,
        fixer: Fixer,
        validator: Checker | None,
        clock: Callable[[], float],
        on_event: JobEventSink | None,
        crash_hook: Callable[[str], None] | None,
    ) -> None:
        self.spec = spec
        self.folder = JobFolder(spec.folder)
        self.client = client
        self.fixer = fixer
        self.validator = validator
        self.clock = clock
        self.on_event = on_event
        self.hook = crash_hook or (lambda step: None)
        self.remote = Remote(
            client, spec.object_type, spec.integration_id, spec.poll_timeout, spec.first_poll
        )
        self.calls_at_start = client.calls
        self.ledger = Ledger(0)
        self.journal = Journal(self.folder, cast(JournalDoc, {}))  # replaced by _open
        self.log = FixesLog(self.folder.output(FIXES))
        self.maybe_sent: set[str] = set()
        self.source: Source  # opened by run(): the file of record, checked on every read
        self._last: tuple[str, SettlementDoc] | None = None  # the last settlement read, by name
        self.already_finished = False  # the folder held this job, finished, before this run

    # -- driving --------------------------------------------------------------------------

    def run(self) -> reports.JobReport:
        """Run phases until the journal says finished (holding the job folder meanwhile)."""
        check_source_name(self.spec.source, job_dir=self.spec.job_dir)
        check_readable(self.spec.source, what="source file")  # before making its folder
        self.folder.create()
        with (
            self.folder.locked(),
            open_source(self.spec.source, spool_dir=self.folder.root, what="source file") as src,
        ):
            self.source = src
            self.folder.refuse_source(src)
            self.folder.remove_stale_temps()  # a run killed mid-write left them; none is ours
            try:
                self._open(SourceFacts(src.identity.size, src.sha256))
                self._drive()
            except BaseException:  # budget, Gong down, Ctrl-C: keep the calls made so far
                if self.client.calls != self.calls_at_start:
                    self.journal.save_calls(self._calls())
                raise
            finally:
                self.log.close()
                self.ledger.fixed.close()
            return reports.job_report(self.folder, already_finished=self.already_finished)

    def _drive(self) -> None:
        while (phase := self.journal.doc["phase"]) != "finished":
            if phase == "settled":
                reason = self._stop_reason()
                if reason is None:
                    self._timed("plan", self._plan)
                else:
                    self._finish(reason)
            elif phase == "planned":
                self._timed("remote", self._send)
            elif phase == "sent":
                self._timed("fix", self._settle)

    def _timed(self, phase: str, step: Callable[[], None]) -> None:
        started = self.clock()
        step()
        self._add_time(phase, started)
        self._save()

    def _add_time(self, phase: str, started: float) -> None:
        timings = self.journal.doc.setdefault("timings", {})
        timings[phase] = round(timings.get(phase, 0.0) + self.clock() - started, 3)

    @property
    def planner(self) -> Planner:
        """Plans and checks this job's upload sets (the journal is replaced on open)."""
        return Planner(self.folder, self.journal, self.source, self.spec.max_upload_bytes)

    def _calls(self) -> int:
        """Every API call of the job: earlier runs' and this run's."""
        before: int = self.journal.doc.get("apiCallsBefore", 0)
        return before + self.client.calls - self.calls_at_start

    def _save(self, **changes: Any) -> None:
        self.journal.save(apiCalls=self._calls(), **changes)
        self.hook("journal")

    def _emit(self, event: JobEventName, **fields: Unpack[JobEvent]) -> None:
        if self.on_event is None:
            return
        counts = self.ledger.counts()
        common: JobEvent = {
            "file": str(self.spec.source),
            "round": self.journal.doc.get("round", 0),
            "records": counts.records,
            "accepted": counts.accepted,
            "quarantined": counts.quarantined,
            "pending": counts.pending,
            "apiCalls": self._calls(),
        }
        common.update(fields)
        self.on_event(event, **common)

    # -- opening: new job or resume ---------------------------------------------------------

    def _open(self, facts: SourceFacts) -> None:
        """Resume the job in the folder, or start a new one (validating the source)."""
        identity = job_identity(facts, self.spec.object_type, self.spec.integration_id)
        doc, prev = history.existing(self.folder, identity, self.spec, self.source, self.on_event)
        if doc is not None:  # resumable (checked): same source and options
            self.source = self.source.keep_as(self.folder.spool)
            self._resume(doc)
            return
        self.source = self.source.keep_as(self.folder.spool)
        doc = new_journal(self.spec.source, facts, identity)
        doc.update({"previousJob": prev} if prev else {})
        self.journal = Journal(self.folder, doc)
        self._save()
        self._emit("job_start")
        self._timed("validate", lambda: self._survey(validate=True))

    def _resume(self, doc: JournalDoc) -> None:
        doc["apiCallsBefore"] = doc.get("apiCalls", 0)
        self.journal = Journal(self.folder, doc)
        if doc["phase"] == "finished" and not self._reopen(doc):
            self.already_finished = True
            if not all(self.folder.output(name).exists() for name in reports.OUTPUTS):
                self._rebuild_ledger(doc)  # an output was deleted: write them all afresh
                self._finish(doc["end"]["reason"])
            return
        self.maybe_sent = {n for n, e in doc["uploads"].items() if e["state"] == "planned"}
        if doc["phase"] == "new":  # killed while validating: nothing was settled yet
            self._timed("validate", lambda: self._survey(validate=True))
            return
        self._rebuild_ledger(doc)
        self.log.cut(self.ledger.fixes_end)  # what a killed run appended after its last settlement
        self._emit("job_resume")

    def _read_settlement(self, name: str) -> SettlementDoc:
        return self.folder.read_settlement(name, self.journal.doc.get("digests", {}).get(name))

    def _rebuild_ledger(self, doc: JournalDoc) -> None:
        self._survey(validate=False)
        for name in doc["settled"]:
            try:
                self.ledger.apply(Settlement.from_json(self._read_settlement(name)))
            except InvariantBroken as exc:  # well formed, but not what this job settled
                raise damaged(self.folder.rounds / name, str(exc)) from None

    def _reopen(self, doc: JournalDoc) -> bool:
        """Continue a job this command lets go further: more --max-rounds, a higher rate."""
        end = doc.get("end")
        if rate_allows(doc.get("stop"), self.spec.max_failure_rate):
            doc.pop("stop")  # a higher --max-failure-rate this time: go on
        elif end is None or end["outcome"] != "PENDING" or doc["round"] >= self.spec.max_rounds:
            return False
        doc["phase"] = "settled"
        doc.pop("end", None)
        return True

    def _survey(self, *, validate: bool) -> None:
        """Count the source's records; on a new job also validate them and settle round 0."""
        if not validate:
            return self._attach(survey(self.source, self.validator, validate=False))
        args = (self.source, self.validator, self.fixer, self.folder.fixed_store, self.log)
        found, store, settlement = local_round(*args, draft=self.folder.corrected_draft)
        self.folder.remember_written(self.folder.corrected_draft, found.drafted)
        self._attach(found, store)
        self._commit(settlement, "survey")
        self.ledger.drafted_at = self.ledger.version  # round 0 wrote the draft as it settled
        self._emit("validated", findings=found.reported)

    def _attach(self, found: Survey, store: FixedRecords | None = None) -> None:
        """Take the survey's ledger, with the store of fixed records attached."""
        self.ledger, path, at = found.ledger, self.folder.fixed_store, found.offsets
        self.ledger.fixed = FixedRecords(self.source, path, at) if store is None else store

    def _commit(self, settlement: Settlement, step: str) -> None:
        """Write a settlement, then apply it and record it in the journal."""
        path = self.folder.settlement(settlement.round)
        digest = self.folder.write_json(path, settlement.as_json())
        self.hook(step)
        self.ledger.apply(settlement)
        settled = [*self.journal.doc["settled"], path.name]
        digests = {**self.journal.doc.get("digests", {}), path.name: digest}
        self._save(settled=settled, digests=digests, phase="settled", round=settlement.round)

    # -- rounds -----------------------------------------------------------------------------

    def _stop_reason(self) -> str | None:
        counts = self.ledger.check()
        doc = self.journal.doc
        if counts.pending == 0:
            return "nothing left to upload"
        if doc.get("stop"):
            return "Gong reported a file-level error (line 0)"
        rate = check_failure_rate(self._last_settled(), self.spec.max_failure_rate, self._status)
        if rate is not None:
            doc["stop"] = {"general": [], "failureRate": rate}
            return f"more than {self.spec.max_failure_rate:g} % of an upload failed at Gong"
        last = self._last_settled()
        if doc["round"] >= 1 and last is not None and not last["notes"].get("progress", True):
            return "the last round made no progress"
        if doc["round"] >= self.spec.max_rounds:
            return f"--max-rounds {self.spec.max_rounds} reached"
        return None

    def _last_settled(self) -> SettlementDoc | None:
        """The newest settlement, read once: it can hold every fixed record of a round."""
        settled = self.journal.doc["settled"]
        if not settled:
            return None
        if self._last is None or self._last[0] != settled[-1]:
            self._last = (settled[-1], self._read_settlement(settled[-1]))
        return self._last[1]

    def _plan(self) -> None:
        doc = self.journal.doc
        round_no = doc["round"] + 1
        last = self._last_settled()
        expected = last["expected"] if last is not None else {}
        names = self.planner.plan(self.ledger, expected)
        entries = self.planner.write(self.ledger, names, round_no)
        self.hook("plan")
        self._save(uploads={**doc["uploads"], **entries}, round=round_no, phase="planned")
        self._emit("round_start", uploads=len(names), sent=sum(map(len, names.values())))

    def _send(self) -> None:
        self.planner.check(
            self.ledger, self.maybe_sent, lambda crid: already_sent(self.remote, crid)
        )
        names = self.journal.uploads_of(self.journal.doc["round"])
        done: list[str] = []

        def on_done(name: str, status: Status) -> None:
            done.append(name)
            self._emit(
                "upload_done",
                upload=name,
                status=status.status,
                uploadsDone=len(done),
                uploads=len(names),
            )

        send_wave(
            names,
            remote=self.remote,
            journal=self.journal,
            maybe_sent=self.maybe_sent,
            hook=self.hook,
            on_done=on_done,
            on_poll=lambda name, status: self._emit(
                "upload_status", upload=name, status=status.status
            ),
        )
        self.journal.doc["phase"] = "sent"

    def _settle(self) -> None:
        round_no = self.journal.doc["round"]
        verdicts = [self._verdict(name) for name in self.journal.uploads_of(round_no)]
        decisions = Decisions(store=self.ledger.fixed.store_or_none(), log=self.log)
        args = (round_no, verdicts, self.fixer, self.source, self.ledger, decisions)
        settlement = settle_round(*args)
        general = [g for v in verdicts for g in v.general]
        if general:
            self.journal.doc["stop"] = {"general": general}
        self._commit(settlement, "settle")
        notes = settlement.notes
        self._emit(
            "round_end",
            failed=notes["failed"],
            fixed=notes["fixed"],
            propagated=notes["propagated"],
        )

    def _verdict(self, name: str) -> Verdict:
        status = self.folder.read_status(name)
        sha = self.journal.upload(name).get("lineageSha256")
        return map_status(name, status, self.folder.read_lineage(name, sha))

    def _status(self, name: str) -> Status:
        return self.folder.read_status(name)

    def _finish(self, reason: str) -> None:
        counts, started = self.ledger.check(), self.clock()
        reports.write_outputs(self.source, self.folder, self.ledger)
        self.hook("outputs")
        self._add_time("outputs", started)
        outcome = reports.outcome_of(counts, bool(self.journal.doc.get("stop")))
        if self.spec.verify and counts.pending == 0 and counts.accepted:
            where = (self.folder.output(CORRECTED), self.spec.object_type, self.spec.integration_id)
            self.journal.doc["verify"] = verify_records(
                self.client, *where, self.spec.verify, counts.accepted
            )
        self.journal.doc["end"] = {"outcome": outcome, "reason": reason}
        reports.write_report(self.folder, self.journal.doc, self.ledger)
        self.hook("report")
        self._save(phase="finished")
        self._emit("job_end", outcome=outcome, reason=reason)
