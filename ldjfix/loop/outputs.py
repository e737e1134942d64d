"""What a ``run`` job leaves behind: corrected.ldjson, rejected.ldjson, fixes.jsonl, report.json.

``corrected.ldjson`` is the source with every fix applied and quarantined records left out;
every other line (blank lines, the BOM, ``\\r\\n`` endings) is copied byte for byte, and only
fixed records are re-serialised. ``rejected.ldjson`` holds one line per quarantined record:
``{"line", "objectId", "errors", "record"}`` (``record`` null and ``text`` set when the line was
not a JSON object). ``report.json`` is the job's contract with pipelines (README).
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ldjfix.errors import ExitCode
from ldjfix.ldjson.files import atomic_output, open_input
from ldjfix.ldjson.lines import Line, Shape, scan
from ldjfix.ldjson.rewrite import DROP, KEEP, Replacement, write_replaced
from ldjfix.ldjson.serial import dump_json
from ldjfix.ldjson.sources import Source, SourcePath, check_unchanged
from ldjfix.loop.fixedstore import serialised
from ldjfix.loop.folder import CORRECTED, FIXES, REJECTED, REPORT, JobFolder
from ldjfix.loop.ledger import QUARANTINED, Counts, InvariantBroken, Ledger
from ldjfix.loop.shapes import JournalDoc, ReportDoc, check_report, load
from ldjfix.validation.groups import DefectGroups

EXIT_CODES = {
    "DONE": ExitCode.OK,
    "QUARANTINED": ExitCode.DEFECTS,
    "PENDING": ExitCode.DEFECTS,
    "STOPPED": ExitCode.DEFECTS,
}
OUTPUTS = (CORRECTED, REJECTED, FIXES, REPORT)
REWRITE_HINT = "Delete it and run the same command again: ldjfix writes the job's outputs afresh."


@dataclass(frozen=True, slots=True)
class JobReport:
    """How a job ended: the exit code and the main numbers of ``report.json`` (``doc``)."""

    outcome: str
    exit_code: ExitCode
    counts: Counts
    rounds: int
    uploads: int
    api_calls: int
    job_dir: Path
    message: str
    doc: ReportDoc
    already_finished: bool = False  # this run found the job finished and only read its report


def outcome_of(counts: Counts, stopped: bool) -> str:
    """DONE, STOPPED (file-level error), QUARANTINED (nothing pending) or PENDING."""
    if counts.pending == 0 and counts.quarantined == 0:
        return "DONE"
    if stopped:
        return "STOPPED"
    return "QUARANTINED" if counts.pending == 0 else "PENDING"


def write_outputs(source: SourcePath, folder: JobFolder, ledger: Ledger) -> None:
    """Write corrected.ldjson and rejected.ldjson from the ledger (fixes.jsonl grew by rounds).

    When planning drafted corrected.ldjson and no settlement changed a record since, the draft
    is it: only rejected.ldjson is written (nothing is rebuilt a second time).
    """
    quarantined = set(ledger.lines_in(QUARANTINED))
    rejected: list[bytes] = []
    draft, corrected = folder.corrected_draft, folder.output(CORRECTED)
    taken = False
    current = ledger.drafted_at == ledger.version and folder.written_unchanged(draft)
    if current and _plain(corrected):  # (a draft edited since, even through a set, is not)
        if isinstance(source, Source):
            check_unchanged(source)  # as the rewrite's read would: nothing from a changed file
        with contextlib.suppress(OSError):  # e.g. rounds/ on another file system: rewrite
            os.replace(draft, corrected)
            taken = True
        if taken:
            folder.unshare(corrected)  # a set that was the draft under a second name
    if not taken:
        draft.unlink(missing_ok=True)
        _write_corrected(source, folder, ledger, quarantined, rejected)
    elif quarantined:  # the draft was taken: only the quarantined lines are read
        with open_input(source, what="source file") as stream:
            items = scan(stream, quarantined, Shape(), copy=False)
            rejected += [_rejected_line(i, ledger) for i in items if isinstance(i, Line)]
    skipped = len(rejected)
    if skipped != len(quarantined):
        raise InvariantBroken(f"{len(quarantined)} quarantined but {skipped} left out")
    with atomic_output(folder.output(REJECTED)) as out:
        out.writelines(rejected)
    fixes = folder.output(FIXES)
    if not fixes.exists():
        with atomic_output(fixes):
            pass
    if ledger.check().pending == 0:
        folder.prune_settled_sets()  # earlier rounds' sets: settled, rebuildable, not kept


def _plain(path: Path) -> bool:
    """True when ``path`` is a plain file or absent: a link, FIFO or device is written through."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return True


def _write_corrected(
    source: SourcePath,
    folder: JobFolder,
    ledger: Ledger,
    quarantined: set[int],
    rejected: list[bytes],
) -> None:
    """corrected.ldjson from the source and the store; quarantined lines go to ``rejected``."""
    fixed, state = ledger.fixed, ledger.state
    # in line order, without a set of every fixed line (that can be every line of the source)
    wanted = (n for n in range(1, len(state)) if state[n] == QUARANTINED or n in fixed)

    def change(line: Line) -> Replacement:
        if line.number in quarantined:
            rejected.append(_rejected_line(line, ledger))
            return DROP
        content = serialised(ledger.fixed, line.number, line.content)
        return KEEP if content is None else content

    with (
        open_input(source, what="source file") as stream,
        atomic_output(folder.output(CORRECTED)) as out,
    ):
        write_replaced(stream, out, change, wanted=wanted)


def _rejected_line(line: Line, ledger: Ledger) -> bytes:
    record = ledger.fixed.get(line.number)
    text = None
    if record is None:
        try:
            value = orjson.loads(line.content)
            record = value if isinstance(value, dict) else None
        except orjson.JSONDecodeError:
            pass
        if record is None:
            text = line.content.decode("utf-8", errors="replace")
    object_id = record.get("objectId") if record is not None else None
    doc: dict[str, Any] = {
        "line": line.number,
        "objectId": object_id if isinstance(object_id, str) else None,
        "errors": list(ledger.errors.get(line.number, ())),
        "record": record,
    }
    if text is not None:
        doc["text"] = text
    return dump_json(doc) + b"\n"


def write_report(folder: JobFolder, doc: JournalDoc, ledger: Ledger) -> ReportDoc:
    """Write report.json from the journal and the settlements; returns it."""
    counts = ledger.check()
    notes: list[tuple[int, dict[str, Any]]] = []  # each round's notes, not its lines
    for name in doc["settled"]:
        entry = folder.read_settlement(name)
        notes.append((entry["round"], entry["notes"]))
    per_round = [n for round_no, n in notes if round_no >= 1]
    defects = DefectGroups()
    for _, entry_notes in notes:
        defects.merge_json(entry_notes.get("defects", ()))
    end = doc["end"]
    verify = doc.get("verify")
    mismatched = bool(verify and verify["mismatched"])
    report: ReportDoc = {
        "source": doc["source"],
        "jobId": doc["jobId"],
        "jobDir": str(folder.root),
        "objectType": doc["objectType"],
        "integrationId": doc["integrationId"],
        "outcome": end["outcome"],
        "exitCode": max(EXIT_CODES[end["outcome"]], 1 if mismatched else 0),
        "reason": end["reason"],
        "message": _message(end["outcome"], counts, doc),
        "records": counts.records,
        "accepted": counts.accepted,
        "quarantined": counts.quarantined,
        "pending": counts.pending,
        "invariant": "accepted + quarantined + pending = records",
        "invariantHolds": counts.accepted + counts.quarantined + counts.pending == counts.records,
        "rounds": len(per_round),
        "uploads": len(doc["uploads"]),
        "apiCalls": doc.get("apiCalls", 0),
        "fixes": ledger.fix_count,
        "defects": defects.as_json(),
        "local": notes[0][1] if notes else {},
        "perRound": per_round,
        "generalErrors": _general(doc),
        "timings": doc.get("timings", {}),
        "outputs": {"corrected": CORRECTED, "rejected": REJECTED, "fixes": FIXES},
        "previousJob": doc.get("previousJob"),
    }
    failure_rate = _failure_rate(doc)
    if failure_rate is not None:
        report["failureRate"] = failure_rate
    if verify is not None:
        report["verify"] = verify
    folder.write_report(report)
    return report


def _failure_rate(doc: JournalDoc) -> dict[str, Any] | None:
    stop = doc.get("stop")
    return stop.get("failureRate") if stop else None


def _general(doc: JournalDoc) -> list[str]:
    stop = doc.get("stop")
    return stop["general"] if stop else []


def _records(count: int) -> str:
    return f"{count:,} record" if count == 1 else f"{count:,} records"


def _message(outcome: str, counts: Counts, doc: JournalDoc) -> str:
    text = _outcome_message(outcome, counts, doc)
    if doc.get("verify") is not None:
        from ldjfix.loop.verify import describe

        text += f"; {describe(doc['verify'])}"
    return text


def _outcome_message(outcome: str, counts: Counts, doc: JournalDoc) -> str:
    if outcome == "DONE":
        if counts.records == 0:
            return "the source holds no records: nothing to upload"
        return f"all {counts.records:,} records accepted by Gong"
    failure_rate = _failure_rate(doc)
    if outcome == "STOPPED" and failure_rate is not None:
        from ldjfix.loop.failrate import describe as describe_stop

        return describe_stop(failure_rate)
    if outcome == "STOPPED":
        general = "; ".join(_general(doc))
        return f"Gong rejected the whole file: {general}"
    parts = []
    if counts.quarantined and not counts.pending:
        parts.append(f"{_records(counts.accepted)} accepted by Gong")
    if counts.quarantined:
        parts.append(f"{_records(counts.quarantined)} quarantined (see {REJECTED})")
    if counts.pending:
        reason = doc["end"]["reason"] if "end" in doc else "stopped"
        parts.append(f"{_records(counts.pending)} still pending ({reason})")
    return "; ".join(parts)


def job_report(folder: JobFolder, *, already_finished: bool = False) -> JobReport:
    """Read a finished job's report.json back as a :class:`JobReport`."""
    path = folder.output(REPORT)
    doc = check_report(load(path, hint=REWRITE_HINT), path, hint=REWRITE_HINT)
    return JobReport(
        outcome=doc["outcome"],
        exit_code=ExitCode(doc["exitCode"]),
        counts=Counts(doc["records"], doc["accepted"], doc["quarantined"], doc["pending"]),
        rounds=doc["rounds"],
        uploads=doc["uploads"],
        api_calls=doc["apiCalls"],
        job_dir=folder.root,
        message=doc["message"],
        doc=doc,
        already_finished=already_finished,
    )
