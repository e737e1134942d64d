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
from typing import Any

from ldjfix.fixing.fixer import Fixer
from ldjfix.gong.client import GongClient
from ldjfix.gong.limits import MAX_UPLOAD_BYTES
from ldjfix.gong.status import Status, parse_status
from ldjfix.ldjson.sources import Source, check_readable, check_source_name, open_source
from ldjfix.loop import outputs as reports
from ldjfix.loop.journal import (
    JobFolder,
    Journal,
    SourceFacts,
    check_journal,
    check_resumable,
    client_request_id,
    default_job_dir,
    job_identity,
    new_journal,
    upload_name,
)
from ldjfix.loop.ledger import PENDING, Ledger, Settlement
from ldjfix.loop.lineage import Verdict, map_status, write_upload_sets
from ldjfix.loop.outputs import JobReport
from ldjfix.loop.settling import Decisions, fix_reported, settle_round
from ldjfix.loop.shards import Partition, plan_shards
from ldjfix.loop.survey import Checker, local_settlement, survey
from ldjfix.loop.wave import Remote, send_wave

OnEvent = Callable[..., None]


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
    on_event: OnEvent | None = None,
    crash_hook: Callable[[str], None] | None = None,
) -> JobReport:
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
        on_event: OnEvent | None,
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
        self.journal = Journal(self.folder, {})
        self.maybe_sent: set[str] = set()
        self.source: Source  # opened by run(): the file of record, checked on every read
        self._last: tuple[str, dict[str, Any]] = ("", {})  # the last settlement read, by name

    # -- driving --------------------------------------------------------------------------

    def run(self) -> JobReport:
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
            return reports.job_report(self.folder)

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

    def _calls(self) -> int:
        """Every API call of the job: earlier runs' and this run's."""
        before: int = self.journal.doc.get("apiCallsBefore", 0)
        return before + self.client.calls - self.calls_at_start

    def _save(self, **changes: Any) -> None:
        self.journal.save(apiCalls=self._calls(), **changes)
        self.hook("journal")

    def _emit(self, event: str, **fields: Any) -> None:
        if self.on_event is None:
            return
        counts = self.ledger.counts()
        self.on_event(
            event,
            file=str(self.spec.source),
            round=self.journal.doc.get("round", 0),
            **counts.as_json(),
            apiCalls=self._calls(),
            **fields,
        )

    # -- opening: new job or resume ---------------------------------------------------------

    def _open(self, facts: SourceFacts) -> None:
        """Resume the job in the folder, or start a new one (validating the source)."""
        identity = job_identity(facts, self.spec.object_type, self.spec.integration_id)
        if self.folder.journal.exists():
            doc = self.folder.read_json(self.folder.journal)
            check_journal(doc, self.folder.root)
            check_resumable(doc, identity, self.folder.root)
            self.source = self.source.keep_as(self.folder.spool)
            self._resume(doc)
            return
        self.source = self.source.keep_as(self.folder.spool)
        doc = new_journal(self.spec.source, facts, identity)
        self.journal = Journal(self.folder, doc)
        self._save()
        self._emit("job_start")
        self._timed("validate", lambda: self._survey(validate=True))

    def _resume(self, doc: dict[str, Any]) -> None:
        doc["apiCallsBefore"] = doc.get("apiCalls", 0)
        self.journal = Journal(self.folder, doc)
        if doc["phase"] == "finished" and not self._reopen(doc):
            return
        self.maybe_sent = {n for n, e in doc["uploads"].items() if e["state"] == "planned"}
        if doc["phase"] == "new":  # killed while validating: nothing was settled yet
            self._timed("validate", lambda: self._survey(validate=True))
            return
        self._survey(validate=False)
        for name in doc["settled"]:
            settled = self.folder.read_json(self.folder.rounds / name)
            self.ledger.apply(Settlement.from_json(settled))
        self._emit("job_resume")

    def _reopen(self, doc: dict[str, Any]) -> bool:
        """Continue a job that ended at --max-rounds when this command allows more rounds."""
        end = doc.get("end") or {}
        if end.get("outcome") != "PENDING" or doc["round"] >= self.spec.max_rounds:
            return False
        doc["phase"] = "settled"
        doc.pop("end", None)
        return True

    def _survey(self, *, validate: bool) -> None:
        """Count the source's records; on a new job also validate them and settle round 0."""
        found = survey(self.source, self.validator, validate=validate)
        self.ledger = found.ledger
        if not validate:
            return
        decisions = Decisions()
        fixed = fix_reported(self.fixer, found.reported, found.records, decisions, found.texts)
        self._commit(local_settlement(len(found.reported), fixed, decisions), "survey")
        self._emit("validated", findings=len(found.reported))

    def _commit(self, settlement: Settlement, step: str) -> None:
        """Write a settlement, then apply it and record it in the journal."""
        path = self.folder.settlement(settlement.round)
        self.folder.write_json(path, settlement.as_json())
        self.hook(step)
        self.ledger.apply(settlement)
        settled = [*self.journal.doc["settled"], path.name]
        self._save(settled=settled, phase="settled", round=settlement.round)

    # -- rounds -----------------------------------------------------------------------------

    def _stop_reason(self) -> str | None:
        counts = self.ledger.check()
        doc = self.journal.doc
        if counts.pending == 0:
            return "nothing left to upload"
        if doc.get("stop"):
            return "Gong reported a file-level error (line 0)"
        last = self._last_settled().get("notes", {})
        if doc["round"] >= 1 and not last.get("progress", True):
            return "the last round made no progress"
        if doc["round"] >= self.spec.max_rounds:
            return f"--max-rounds {self.spec.max_rounds} reached"
        return None

    def _last_settled(self) -> dict[str, Any]:
        """The newest settlement, read once: it can hold every fixed record of a round."""
        settled = self.journal.doc["settled"]
        if not settled:
            return {}
        if self._last[0] != settled[-1]:
            self._last = (settled[-1], self.folder.read_json(self.folder.rounds / settled[-1]))
        return self._last[1]

    def _plan(self) -> None:
        doc = self.journal.doc
        round_no = doc["round"] + 1
        partitions = self._partitions(doc["round"])
        keys = [self.ledger.keys[n] for part in partitions for n in part.lines]
        shards = plan_shards(partitions, keys, max_records=self._records_per_upload())
        names = {upload_name(round_no, i): lines for i, lines in enumerate(shards, 1)}
        write_upload_sets(
            self.source,
            names,
            self.ledger.fixed,
            {name: self.folder.upload_set(name) for name in names},
        )
        for name, lines in names.items():
            self.folder.write_json(self.folder.lineage(name), lines)
        self.hook("plan")
        uploads = dict(doc["uploads"])
        for name, lines in names.items():
            uploads[name] = {
                "round": round_no,
                "clientRequestId": client_request_id(doc["jobId"], name),
                "records": len(lines),
                "state": "planned",
            }
        self._save(uploads=uploads, round=round_no, phase="planned")
        self._emit("round_start", uploads=len(names), sent=sum(map(len, shards)))

    def _records_per_upload(self) -> int:
        """How many records fit in one upload: Gong takes at most 200 MB per file."""
        size = self.journal.doc["sourceSize"] / max(self.ledger.records, 1)
        # 80 %: lines differ in length, and fixed records may grow
        return max(1, int(self.spec.max_upload_bytes * 0.8 / max(size, 1.0)))

    def _partitions(self, previous: int) -> list[Partition]:
        """Pending records grouped by the upload that last carried them."""
        placed = bytearray(len(self.ledger.state))  # one byte per line, not a set of ints
        parts = []
        expected = self._last_settled().get("expected", {})
        for name in self.journal.uploads_of(previous):
            lineage = self.folder.read_json(self.folder.lineage(name))
            lines = tuple(n for n in lineage if self.ledger.is_pending(n))
            for n in lines:
                placed[n] = 1
            parts.append(Partition(lines, int(expected.get(name, 0))))
        rest = tuple(n for n in self.ledger.lines_in(PENDING) if not placed[n])
        parts.append(Partition(rest, 0))
        return [p for p in parts if p.lines]

    def _send(self) -> None:
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
        settlement = settle_round(round_no, verdicts, self.fixer, self.source, self.ledger)
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
        path = self.folder.status(name)
        status = parse_status(path.read_bytes(), source=str(path))
        return map_status(name, status, self.folder.read_json(self.folder.lineage(name)))

    def _finish(self, reason: str) -> None:
        counts = self.ledger.check()
        started = self.clock()
        reports.write_outputs(self.source, self.folder, self.ledger)
        self.hook("outputs")
        self._add_time("outputs", started)
        outcome = reports.outcome_of(counts, bool(self.journal.doc.get("stop")))
        self.journal.doc["end"] = {"outcome": outcome, "reason": reason}
        reports.write_report(self.folder, self.journal.doc, self.ledger)
        self.hook("report")
        self._save(phase="finished")
        self._emit("job_end", outcome=outcome, reason=reason)
