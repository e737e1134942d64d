"""What a person reads around a job's summary: how this run relates to the job, and what next.

A summary that only reports numbers leaves the person asking "now what?". These lines say
whether this run did anything (an already finished job is only reported again), whether a
finished job of yesterday's export was put aside, why a round "accepted 0" when Gong took
most of it, and the next command to run — with the job's own paths and options filled in.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldjfix.ldjson.printable import safe
from ldjfix.loop.failrate import note_count
from ldjfix.loop.folder import REJECTED
from ldjfix.loop.outputs import JobReport


@dataclass(frozen=True, slots=True)
class HowRun:
    """The choices of the command that ran the job, so a hint can repeat them."""

    rules: Path | None = None
    interactive: bool = False
    max_rounds: int = 10
    remote: str = ""  # how it reached Gong, repeated in hints: "--sandbox" or ""


def preface(report: JobReport) -> list[str]:
    """Lines before the numbers: already finished, or yesterday's job put aside."""
    doc = report.doc
    if report.already_finished:
        return [
            f"ldjfix: already finished: this job ended {report.outcome}; nothing was sent. "
            "(A new export at the same path starts a new job.)"
        ]
    previous = doc.get("previousJob")
    if not previous:
        return []
    kept = previous.get("history")
    where = f"kept in {safe(str(report.job_dir / kept))}" if kept else "not kept (--keep-history 0)"
    return [
        f"ldjfix: the source changed since the job finished ({previous.get('outcome')}, "
        f"started {previous.get('started')}): that job is {where}; this is a new job."
    ]


def round_note(entry: dict[str, Any]) -> str:
    """Why a round settled fewer records as accepted than Gong took (it did not say which)."""
    unknown = int(entry.get("unknown", 0))
    uploads = entry.get("uploads") or []
    if not unknown:
        return ""
    sent = sum(note_count(u.get("records")) for u in uploads)
    failed = sum(note_count(u.get("totalErrorCount")) for u in uploads)  # null: Gong left it out
    listed = sum(note_count(u.get("listed")) for u in uploads)
    return (
        f"\n      Gong accepted {max(sent - failed, 0):,} of {sent:,} but listed only {listed:,} "
        f"of {failed:,} failing lines, so {unknown:,} records whose fate it did not say "
        "went again"
    )


def next_steps(report: JobReport, how: HowRun) -> list[str]:
    """The next command(s) for a person, given how the job ended."""
    doc, c = report.doc, report.counts
    job = report.job_dir
    kind = str(doc.get("objectType", "T"))
    lines: list[str] = []
    if report.outcome == "PENDING":
        reason = str(doc.get("reason", ""))
        if "--max-rounds" in reason:
            more = how.max_rounds + 5
            lines.append(
                f"{c.pending:,} records still pending: raise --max-rounds to continue (the same "
                f"command with --max-rounds {more} resumes where this one stopped)."
            )
        else:
            lines.append(
                f"{c.pending:,} records still pending ({reason}): their last statuses are in "
                f"{safe(str(job / 'rounds'))}; run the same command again later to retry them."
            )
    if report.outcome == "STOPPED":
        lines.append(
            "Gong refused the whole file (line 0): fix what it says in the source, then run the "
            "same command (a changed source starts a new job)."
        )
    if c.quarantined:
        local = doc.get("local")
        fixed_locally = local.get("fixed", 0) if isinstance(local, dict) else 0
        if how.rules is None and not how.interactive and fixed_locally == 0:
            lines.append(
                "every defect was quarantined because no --rules or --interactive was given "
                '(a rules file fixes them next time: see "Rules files" in the README).'
            )
        rejected = shlex.quote(safe(str(job / REJECTED)))  # a terminal shows it: escaped
        fixed = shlex.quote(safe(str(job / "fixed.ldjson")))
        remote = f" {how.remote}" if how.remote else ""
        lines += [
            f"to fix the {c.quarantined:,} quarantined records:",
            f"{COMMAND}fix {rejected} -t {kind} --interactive -o {fixed}",
            "then send them:",
            f"{COMMAND}run {fixed} -t {kind} --integration-id {doc.get('integrationId')}{remote}",
        ]
    if not lines:
        return []
    return ["  next:", *(f"    {line}" for line in lines)]


COMMAND = "  ldjfix "  # a command line of the hints: on a line of its own, never wrapped


def is_command(line: str) -> bool:
    """True for a hint line that is a command to copy (a wrapped one would not paste)."""
    return line.startswith("    " + COMMAND)
