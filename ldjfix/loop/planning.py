"""Planning a round's upload sets, and checking them before they are sent.

Sets are sized by bytes: each record's size in an upload set is known (its source line, or
its fixed form), so no set is ever over Gong's 200 MB cap whatever the mix of record sizes.
Each set's line count, size and SHA-256 go to the journal when it is written; before a set is
sent it is read back and compared, and its lineage must have as many lines. A damaged set is
written again from the source; a set planned under a larger cap (a job folder of an older
ldjfix, or a run with another cap) is planned again, in pieces that fit, unless Gong already
has it.
"""

from __future__ import annotations

import contextlib
import logging
import operator
from array import array
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress

from ldjfix.errors import InputProblem
from ldjfix.ldjson.sources import Source, SourcePath, check_unchanged
from ldjfix.loop.journal import JobFolder, Journal, client_request_id, upload_name
from ldjfix.loop.ledger import PENDING, QUARANTINED, Ledger
from ldjfix.loop.lineage import (
    Draft,
    SetFacts,
    read_set_facts,
    write_sets_from_draft,
    write_upload_sets,
)
from ldjfix.loop.runs import pack
from ldjfix.loop.shapes import UploadEntry
from ldjfix.loop.shards import GroupTooBig, Partition, plan_shards, split_by_bytes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Planner:
    """Writes and checks the upload sets of one job's rounds."""

    folder: JobFolder
    journal: Journal
    source: SourcePath  # the opened source: every read checks it is unchanged
    max_bytes: int

    def plan(self, ledger: Ledger, expected: dict[str, int]) -> dict[str, Sequence[int]]:
        """Plan round ``round + 1``: write its sets and lineages; returns lines per upload."""
        doc = self.journal.doc
        round_no = doc["round"] + 1
        partitions = self.partitions(ledger, doc["round"], expected)
        walked = array("l", (n for part in partitions for n in part.lines))
        keys = array("I", map(ledger.keys.__getitem__, walked))
        sizes = ledger.upload_sizes(walked)
        try:
            shards = plan_shards(partitions, keys, sizes=sizes, max_bytes=self.max_bytes)
        except GroupTooBig as exc:
            raise _too_big(self.source, exc, self.max_bytes) from None
        return {upload_name(round_no, i): lines for i, lines in enumerate(shards, 1)}

    def write(
        self, ledger: Ledger, names: Mapping[str, Sequence[int]], round_no: int
    ) -> dict[str, UploadEntry]:
        """Write the sets and lineages of ``names``; returns their journal entries."""
        job_id = self.journal.doc["jobId"]
        paths = {name: self.folder.upload_set(name) for name in names}
        dropped = set(ledger.lines_in(QUARANTINED))
        current = self.folder.corrected_draft
        if ledger.drafted_at == ledger.version and self.folder.written_unchanged(current):
            # the draft is current, and as this run wrote it: each set is a copy of its lines
            if isinstance(self.source, Source):
                check_unchanged(self.source)  # as a read of it would: nothing from a changed file
            lines = len(ledger.state) - 1 - len(dropped)  # the draft's: all lines but those
            # round 0 noted when the draft is an upload set as it is: a set of all its lines is
            # then the draft under a second name
            plain = self.folder.written_facts(current)
            facts = write_sets_from_draft(current, names, paths, dropped, lines, plain)
            self.folder.remember_written(current)  # a second name changes its times
        else:
            # nothing accepted yet: every fixed record is in these sets, so the corrected
            # source comes out of the same pass at no extra rebuild (taken if nothing changes)
            draft = (
                None if ledger.counts().accepted else Draft(self.folder.corrected_draft, dropped)
            )
            facts = write_upload_sets(self.source, names, ledger.fixed, paths, draft)
            ledger.drafted_at = ledger.version if draft is not None else None
            if draft is not None:
                self.folder.remember_written(draft.path)
        for path in paths.values():
            self.folder.remember_written(path)
        digests = {
            name: self.folder.write_json(self.folder.lineage(name), pack(lines))
            for name, lines in names.items()
        }
        return {
            name: {
                "round": round_no,
                "clientRequestId": client_request_id(job_id, name),
                "records": len(lines),
                "state": "planned",
                "bytes": facts[name].bytes,
                "sha256": facts[name].sha256,
                "lineageSha256": digests[name],
            }
            for name, lines in names.items()
        }

    def partitions(
        self, ledger: Ledger, previous: int, expected: dict[str, int]
    ) -> list[Partition]:
        """Pending records grouped by the upload that last carried them."""
        placed = bytearray(len(ledger.state))  # one byte per line, not a set of ints
        parts = []
        for name in self.journal.uploads_of(previous):
            lineage = self.folder.read_lineage(name, self.journal.upload(name).get("lineageSha256"))
            lines = ledger.pending_of(lineage)
            for n in lines:
                placed[n] = 1
            parts.append(Partition(lines, int(expected.get(name, 0))))
        pending = list(ledger.lines_in(PENDING))
        rest = array("l", compress(pending, map(operator.not_, map(placed.__getitem__, pending))))
        parts.append(Partition(rest, 0))
        return [p for p in parts if p.lines]

    def check(
        self,
        ledger: Ledger,
        maybe_sent: Collection[str],
        already_sent: Callable[[str], bool],
    ) -> None:
        """Before a round is sent: every set not yet sent matches its lineage and fits the cap."""
        round_no = self.journal.doc["round"]
        for name in self.journal.uploads_of(round_no):
            entry = self.journal.upload(name)
            if entry["state"] != "planned":
                continue
            lineage = self.folder.read_lineage(name, entry.get("lineageSha256"))
            want = SetFacts(len(lineage), entry.get("bytes", -1), entry.get("sha256", ""))
            if max(want.bytes, _size(self.folder, name)) > self.max_bytes:
                if name in maybe_sent and already_sent(entry["clientRequestId"]):
                    continue  # Gong took it under a larger cap: poll it as it is
                self._replan(ledger, name, lineage)
            elif self.folder.written_unchanged(self.folder.upload_set(name)):
                continue  # written by this run as the journal says, untouched since
            elif not _matches(read_set_facts(self.folder.upload_set(name)), want):
                self._rewrite(ledger, name, lineage, want)

    def _rewrite(self, ledger: Ledger, name: str, lineage: Sequence[int], want: SetFacts) -> None:
        """Write a damaged set again from the source; it must come out as it was planned."""
        log.warning("upload set %s does not match its lineage: writing it again", name)
        path = self.folder.upload_set(name)
        facts = write_upload_sets(self.source, {name: lineage}, ledger.fixed, {name: path})[name]
        if not _matches(facts, want):
            raise InputProblem(
                f"upload set {path} does not match its lineage, and the source no longer gives "
                "the records it was planned with.",
                hint="Restore the source file the job started with, or pass another --job-dir.",
            )

    def _replan(self, ledger: Ledger, name: str, lineage: Sequence[int]) -> None:
        """Cut a set planned under a larger cap into sets that fit, under fresh names."""
        log.warning("upload set %s is over %s bytes: planning it again", name, self.max_bytes)
        entry = self.journal.upload(name)
        size_of = {n: ledger.upload_size(n) for n in lineage}
        key_of = {n: ledger.keys[n] for n in lineage}
        try:
            pieces = split_by_bytes(lineage, size_of, key_of, self.max_bytes)
        except GroupTooBig as exc:
            raise _too_big(self.source, exc, self.max_bytes) from None
        round_no = entry["round"]
        taken = max(int(n.rpartition("-s")[2]) for n in self.journal.uploads_of(round_no))
        fresh = {upload_name(round_no, taken + i): piece for i, piece in enumerate(pieces, 1)}
        entries = self.write(ledger, fresh, round_no)
        uploads = {n: e for n, e in self.journal.doc["uploads"].items() if n != name}
        self.journal.save(uploads={**uploads, **entries})
        for path in (self.folder.upload_set(name), self.folder.lineage(name)):
            with contextlib.suppress(OSError):
                path.unlink()


def _size(folder: JobFolder, name: str) -> int:
    try:
        return folder.upload_set(name).stat().st_size
    except OSError:
        return 0


def _matches(found: SetFacts | None, want: SetFacts) -> bool:
    """True when a set on disk is what was planned (a journal of an older ldjfix has no hash)."""
    if found is None or found.lines != want.lines:
        return False
    return not want.sha256 or (found.sha256, found.bytes) == (want.sha256, want.bytes)


def _too_big(source: SourcePath, exc: GroupTooBig, cap: int) -> InputProblem:
    return InputProblem(
        f"{source} line {exc.line}: the records sharing its objectId take {exc.size:,} bytes, "
        f"more than the {cap:,} one upload to Gong may carry.",
        hint="Shorten or split those records (Gong applies them in order, so they go together).",
    )
