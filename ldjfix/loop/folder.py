"""The job folder's layout: every file a ``run`` job keeps, its name, and how it is written.

One place names them all, so no module spells a job-folder path by hand:

========================= ===============================================================
``journal.json``          the job's state machine, rewritten atomically after every step
``.lock``                 held (``flock``) by the one run working in the folder
``source.ldjson``         the copy of a stream source (stdin, a pipe, a FIFO): its source
``rounds/<upload>.ldjson`` an upload set; ``.lineage.json`` its source lines, ``.status.json``
                          Gong's terminal status for it (a finished job keeps the sets of
                          its last round only: earlier ones are rebuildable from lineage)
``rounds/rNN-settled.json`` what round NN settled (round 0 is local validation): line numbers
``rounds/fixed.jsonl``    what each fix changed, per source line (the fixed records' store)
``corrected.ldjson``      the source with every fix applied, quarantined records left out
``rejected.ldjson``       the quarantined records with their errors
``fixes.jsonl``           one line per change, replayable on the next export; grows by rounds
``report.json``           the job's contract with pipelines (README)
``rejected.csv``          the quarantined records for a spreadsheet
``summary.md``            the job in Markdown (CI step summaries)
``interactive-answers.jsonl`` the answers a person gave, replayed on resume
========================= ===============================================================

Every write goes through :mod:`ldjfix.ldjson.files` (atomic, never over an input).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.gong.status import Status, parse_status
from ldjfix.ldjson.files import (
    copy_output,
    refuse_same_files,
    remove_stale_temps,
    write_bytes_atomic,
    write_failure,
)
from ldjfix.ldjson.serial import dump_json
from ldjfix.loop import shapes
from ldjfix.loop.lineage import SetFacts
from ldjfix.loop.shapes import SettlementDoc

JOURNAL = "journal.json"
LOCK = ".lock"
SPOOL = "source.ldjson"
ROUNDS = "rounds"
CORRECTED = "corrected.ldjson"
REJECTED = "rejected.ldjson"
FIXES = "fixes.jsonl"
REPORT = "report.json"
REJECTED_CSV = "rejected.csv"
SUMMARY_MD = "summary.md"
ANSWERS = "interactive-answers.jsonl"
FIXED_STORE = "fixed.jsonl"  # in rounds/
_UPLOAD_SET = re.compile(r"r(\d+)-s\d+\.ldjson")  # rounds/r02-s07.ldjson: round 2's 7th set
CORRECTED_DRAFT = "corrected.draft.ldjson"  # in rounds/: corrected.ldjson written ahead
# every file a job writes at the top of its folder (rounds/ holds the rest)
OWN_FILES = (JOURNAL, LOCK, CORRECTED, REJECTED, FIXES, REPORT, REJECTED_CSV, SUMMARY_MD, ANSWERS)


def default_job_dir(source: Path) -> Path:
    """``<source>.ldjfix-job/`` beside the source."""
    return source.with_name(source.name + ".ldjfix-job")


class JobFolder:
    """Paths inside a job folder, and atomic reads and writes of its JSON files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.rounds = root / ROUNDS
        # files this run wrote: their stat then, and what they hold as an upload set
        self._written: dict[Path, tuple[tuple[int, ...], SetFacts | None]] = {}

    def remember_written(self, path: Path, facts: SetFacts | None = None) -> None:
        """Note ``path`` as this run just wrote it: what it holds is known without a read
        (``facts``: it is an upload set of that many lines, bytes and that SHA-256)."""
        self._written[path] = (_stat_identity(path), facts)

    def written_unchanged(self, path: Path) -> bool:
        """True when ``path`` is still the file this run wrote (same inode, size and times)."""
        known = self._written.get(path)
        return known is not None and known[0] == _stat_identity(path)

    def written_facts(self, path: Path) -> SetFacts | None:
        """The facts remembered with ``path`` while it is still the file this run wrote."""
        return self._written[path][1] if self.written_unchanged(path) else None

    def create(self) -> None:
        """Make the folder (and its ``rounds/``) if missing."""
        try:
            self.rounds.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputProblem(
                f"cannot create job folder {self.root}: {exc.strerror}.",
                hint="Pass a --job-dir you can write to.",
            ) from None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder for one run: a second ``run`` of the job is refused, not mixed in."""
        try:
            handle = open(self.root / LOCK, "a+b")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise write_failure(self.root / LOCK, exc) from None
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputProblem(
                    f"job folder {self.root} is in use by another ldjfix run.",
                    hint="Wait for it to finish, or pass another --job-dir.",
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def remove_stale_temps(self) -> list[Path]:
        """Remove temporary files a killed run left mid-write (only while holding the folder)."""
        stale = [*remove_stale_temps(self.root), *remove_stale_temps(self.rounds)]
        if self.corrected_draft.exists():  # valid only in the run that wrote it
            self.corrected_draft.unlink()
            stale.append(self.corrected_draft)
        return stale

    @property
    def journal(self) -> Path:
        """The journal file."""
        return self.root / JOURNAL

    @property
    def spool(self) -> Path:
        """The copy of a stream source (stdin, a pipe, a FIFO): the job's source of record."""
        return self.root / SPOOL

    @property
    def answers(self) -> Path:
        """The interactive answers given so far (replayed on resume)."""
        return self.root / ANSWERS

    def refuse_source(self, source: os.PathLike[str]) -> None:
        """Refuse (exit 2) a source that is one of this folder's own files, by any path or link."""
        with contextlib.suppress(OSError):
            if os.path.samefile(source, self.spool):
                return  # the job's own copy of a stream, named again as FILE to resume
        names = [self.root / name for name in OWN_FILES]
        with contextlib.suppress(OSError):
            names += [self.rounds / entry for entry in os.listdir(self.rounds)]
        try:
            refuse_same_files([source], names)
        except UsageProblem:
            raise UsageProblem(
                f"the source {source} is a file the job writes in its folder {self.root}; "
                "the job would overwrite it.",
                hint="Move the source out of the job folder, or pass another --job-dir.",
            ) from None

    def upload_set(self, name: str) -> Path:
        """The LDJSON file uploaded as ``name``."""
        return self.rounds / f"{name}.ldjson"

    def lineage(self, name: str) -> Path:
        """Source line numbers of the upload set ``name``, one per uploaded line."""
        return self.rounds / f"{name}.lineage.json"

    def status(self, name: str) -> Path:
        """The terminal request status saved for ``name``."""
        return self.rounds / f"{name}.status.json"

    @property
    def fixed_store(self) -> Path:
        """What every fix changed, per source line (:mod:`ldjfix.loop.fixedstore`)."""
        return self.rounds / FIXED_STORE

    @property
    def corrected_draft(self) -> Path:
        """corrected.ldjson as round 0 (or planning) wrote it ahead: round 1's sets are copied
        from it, and it is taken as it is if no round changes a record after."""
        return self.rounds / CORRECTED_DRAFT

    def prune_settled_sets(self) -> list[Path]:
        """Remove the upload sets of every round before the last one, each settled; the removed.

        For a job with nothing pending: Gong has settled those rounds, and each set can be
        rebuilt from the source, its lineage and the fixed store (its SHA-256 stays in the
        journal), so the folder keeps one round's sets as sent, not a copy of the source per
        round. The last round's sets stay, as they were sent.
        """
        sets = [
            (int(found.group(1)), path)
            for path in self.rounds.iterdir()
            if (found := _UPLOAD_SET.fullmatch(path.name))
        ]
        last = max((round_no for round_no, _ in sets), default=0)
        removed = [p for r, p in sets if r < last and self.settlement(r).exists()]
        for path in removed:
            path.unlink(missing_ok=True)
        return removed

    def unshare(self, path: Path) -> None:
        """Give each upload set that is ``path`` under a second name (round 1's set is the
        draft that became corrected.ldjson) a copy of its own: an edit of one in place (an
        editor's save, ``>>``) never changes the other, as when they were written apart."""
        if os.stat(path).st_nlink < 2:
            return
        inode = os.stat(path).st_ino
        for entry in self.rounds.iterdir():
            if _UPLOAD_SET.fullmatch(entry.name) and entry.stat().st_ino == inode:
                copy_output(path, entry)

    def settlement(self, round_no: int) -> Path:
        """What round ``round_no`` settled (round 0 is local validation)."""
        return self.rounds / f"r{round_no:02d}-settled.json"

    def output(self, name: str) -> Path:
        """An output file of the job (corrected.ldjson, report.json, ...)."""
        return self.root / name

    def write_json(self, path: Path, doc: Any) -> str:
        """Write a JSON document atomically; returns the SHA-256 of what was written."""
        data = dump_json(doc, indent=True) + b"\n"
        write_bytes_atomic(path, data)
        return hashlib.sha256(data).hexdigest()

    def write_report(self, doc: Any) -> None:
        """Write report.json: the one writer, for a finished job and for one stopped midway."""
        self.write_json(self.output(REPORT), doc)

    def read_lineage(self, name: str, sha256: str | None = None) -> array[int]:
        """The lineage of upload ``name``, checked (against ``sha256`` when the journal has it)."""
        return shapes.read_lineage(self.lineage(name), sha256)

    def read_settlement(self, file_name: str, sha256: str | None = None) -> SettlementDoc:
        """A settlement the journal lists (by file name), checked (against ``sha256`` if given)."""
        return shapes.read_settlement(self.rounds / file_name, sha256)

    def read_status(self, name: str) -> Status:
        """The terminal status saved for upload ``name``, checked like one read from Gong."""
        path = self.status(name)
        try:
            return parse_status(path.read_bytes(), source=str(path))
        except FileNotFoundError:
            raise shapes.damaged(path, "it is missing") from None
        except OSError as exc:
            raise shapes.damaged(path, f"cannot read it: {exc.strerror}") from None
        except InputProblem as exc:
            raise shapes.damaged(path, f"not a request status: {exc.message}") from None


def _stat_identity(path: Path) -> tuple[int, ...]:
    """What changes when a file is replaced or written: () when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
