"""The job folder of ``ldjfix run``: its journal, round files, ids, and the crash test hook.

Everything a run learns goes to disk before the run acts on it, so a run killed at any point
resumes with the same command. The journal (``journal.json``) is small and rewritten atomically
after every step; the bulky facts live in files written once each: upload sets with their
lineage, saved statuses, and one *settlement* per round (what became accepted, quarantined or
fixed). State is rebuilt by replaying the settlements the journal lists, in order.

``clientRequestId``s are derived from the job id and the upload's name (``<job>-r02-s07``), so a
run that crashed between an upload and the journal write finds the same id again and asks Gong
about it instead of uploading twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import orjson

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.ldjson.files import open_input
from ldjfix.ldjson.sources import is_stream_name
from ldjfix.loop import shapes
from ldjfix.loop.folder import JOURNAL, JobFolder, default_job_dir
from ldjfix.loop.shapes import JobIdentity, JournalDoc, UploadEntry

__all__ = ["JobFolder", "default_job_dir"]  # the folder's layout lives in ldjfix.loop.folder

JOURNAL_VERSION = shapes.JOURNAL_VERSION
CRASH_ENV = "LDJFIX_CRASH_AT"
_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What identifies a source file's content: its size and SHA-256."""

    size: int
    sha256: str


def source_facts(path: Path) -> SourceFacts:
    """Hash the source in chunks (never read whole)."""
    digest = hashlib.sha256()
    size = 0
    with open_input(path, what="source file") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return SourceFacts(size, digest.hexdigest())


def source_name(source: Path) -> str:
    """The source as the journal names it: its absolute path, or a stream's name as given."""
    return str(source) if is_stream_name(source) else str(source.resolve())


def make_job_id(source: Path, facts: SourceFacts, started: str) -> str:
    """A job id from the source path, its content and the start time: letters and digits only."""
    seed = f"{source_name(source)}\n{facts.sha256}\n{started}".encode()
    return "ldj" + hashlib.sha256(seed).hexdigest()[:12]


def upload_name(round_no: int, shard: int) -> str:
    """The name of one upload of a round, e.g. ``r02-s07``."""
    return f"r{round_no:02d}-s{shard:02d}"


def client_request_id(job_id: str, name: str) -> str:
    """The ``clientRequestId`` of an upload: letters, digits, ``-`` and ``_`` only."""
    return _ID_SAFE.sub("_", f"{job_id}-{name}")


def job_identity(facts: SourceFacts, object_type: str, integration_id: int) -> JobIdentity:
    """What a job folder must match to be resumed by a command: source content and options."""
    return {
        "sourceSha256": facts.sha256,
        "objectType": object_type,
        "integrationId": integration_id,
    }


def new_journal(source: Path, facts: SourceFacts, identity: JobIdentity) -> JournalDoc:
    """The journal of a job that starts now."""
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {
        "version": JOURNAL_VERSION,
        "jobId": make_job_id(source, facts, started),
        "source": source_name(source),
        "sourceSize": facts.size,
        "sourceSha256": identity["sourceSha256"],
        "objectType": identity["objectType"],
        "integrationId": identity["integrationId"],
        "started": started,
        "phase": "new",
        "round": 0,
        "settled": [],
        "uploads": {},
        "apiCalls": 0,
        "timings": {},
    }


def check_resumable(journal: JournalDoc, expected: JobIdentity, root: Path) -> None:
    """Refuse to resume a job whose source or options differ from this command's."""
    if journal.get("version") != JOURNAL_VERSION:
        raise InputProblem(
            f"{root} holds a job journal of another version.",
            hint="Remove the job folder or pass another --job-dir.",
        )
    if journal.get("sourceSha256") != expected["sourceSha256"]:
        raise InputProblem(
            f"the source file changed since the job in {root} started, and that job has not "
            f"finished (round {journal.get('round', 0)}, phase {journal.get('phase')}).",
            hint="Restore the original file and run the same command to finish it; or pass "
            "another --job-dir (or remove the folder) to start a new job for the new file.",
        )
    pairs = (
        ("objectType", journal.get("objectType"), expected["objectType"]),
        ("integrationId", journal.get("integrationId"), expected["integrationId"]),
    )
    for key, was, now in pairs:
        if was != now:
            raise UsageProblem(
                f"the job in {root} was started with {key} {was}, not {now}.",
                hint="Repeat the original command, or pass another --job-dir.",
            )


_JOURNAL_HINT = "Remove the job folder or pass another --job-dir."


def read_journal(folder: JobFolder) -> JournalDoc:
    """The journal of ``folder``, checked: a damaged one is exit 3 naming it."""
    doc = shapes.load(folder.journal, hint=_JOURNAL_HINT)
    check_journal(doc, folder.root)
    return cast(JournalDoc, doc)


def check_journal(journal: object, root: Path) -> None:
    """Refuse a journal.json the loop cannot read (hand-edited, damaged, or not ldjfix's)."""
    if not _looks_like_journal(journal):
        raise InputProblem(
            f"{root / JOURNAL} is not a job journal ldjfix can resume (damaged, or not "
            "written by ldjfix).",
            hint=_JOURNAL_HINT,
        )


def _looks_like_journal(journal: object) -> bool:
    """Every key the loop reads is there (or optional) with a value of the right kind."""
    if not isinstance(journal, Mapping):
        return False
    if journal.get("version") != JOURNAL_VERSION:
        return True  # another version: check_resumable says so in its own words
    finished = journal.get("phase") != "finished" or "end" in journal
    return shapes.JOURNAL(journal) and finished


def crash_hook_from_env(env: Mapping[str, str] | None = None) -> Callable[[str], None]:
    """The test hook: ``LDJFIX_CRASH_AT=<step>:<n>`` kills the process at the n-th ``step``.

    Used only by the crash-and-resume tests: the loop calls the returned function at every step
    boundary, and when the named step is reached for the n-th time the process sends itself
    SIGKILL, exactly as a power cut or ``kill -9`` would stop it. Without the variable the hook
    does nothing.
    """
    spec = (env if env is not None else os.environ).get(CRASH_ENV, "")
    if not spec:
        return _no_crash
    step, _, count = spec.partition(":")
    target = int(count) if count.isdigit() else 1
    seen: dict[str, int] = {}
    lock = threading.Lock()  # shards reach their steps from several threads

    def hook(name: str) -> None:
        with lock:
            seen[name] = seen.get(name, 0) + 1
            hit = name == step and seen[name] == target
        if hit:
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


def _no_crash(name: str) -> None:
    return None


class Journal:
    """The journal document of one job, saved atomically; safe to update from shard threads."""

    def __init__(self, folder: JobFolder, doc: JournalDoc) -> None:
        self.folder = folder
        self.doc = doc
        self._lock = threading.Lock()

    def save(self, **changes: Any) -> None:
        """Apply top-level ``changes`` and write the journal."""
        with self._lock:
            self.doc.update(cast(JournalDoc, changes))
            self.folder.write_json(self.folder.journal, self.doc)

    def save_calls(self, calls: int) -> None:
        """Put ``calls`` into the journal last saved, leaving the rest of it as it was written.

        For a run stopped by an error: the document in memory may be half-way through a step,
        but the calls made are real, so only the count goes to disk.
        """
        path = self.folder.journal
        with self._lock:
            try:
                saved = orjson.loads(path.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                return  # nothing saved yet (or unreadable): the next run says so
            if not isinstance(saved, dict) or saved.get("apiCalls") == calls:
                return
            saved["apiCalls"] = calls
            with contextlib.suppress(OSError, InputProblem):  # keep the error that stopped us
                self.folder.write_json(path, saved)

    def upload(self, name: str) -> UploadEntry:
        """A copy of the journal entry of upload ``name``."""
        with self._lock:
            return self.doc["uploads"][name].copy()

    def set_upload(self, name: str, **fields: Any) -> None:
        """Update upload ``name``'s entry and write the journal."""
        with self._lock:
            self.doc["uploads"][name].update(cast(UploadEntry, fields))
            self.folder.write_json(self.folder.journal, self.doc)

    def uploads_of(self, round_no: int) -> list[str]:
        """Names of the uploads of round ``round_no``, in order."""
        with self._lock:
            return sorted(n for n, e in self.doc["uploads"].items() if e["round"] == round_no)
