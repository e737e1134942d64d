"""Night after night: a finished job whose source changed is kept under ``history/``.

The nightly recipe runs the same command every night while the exporter writes each night's
export to the same path. The job folder then holds a *finished* job for a source that has since
changed; that job is moved, whole, to ``history/<started>/`` inside the job folder and a new job
starts, so night two needs no manual step. Only the newest ``keep`` finished jobs are kept.

Moving is crash-safe: the files go first into ``history/.moving-<jobId>/`` (the journal last),
and that folder is renamed to its final name only when it holds the journal. A run killed
half-way finishes the move on its next start (:func:`settle_moves`) and nothing is lost.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypedDict

from ldjfix.errors import InputProblem
from ldjfix.loop.folder import JobFolder
from ldjfix.loop.shapes import JOURNAL, JOURNAL_VERSION


class PreviousJob(TypedDict):
    """The finished job a new one replaced when the source changed (kept under history/)."""

    jobId: str | None
    started: str | None
    outcome: str | None
    history: str | None  # its folder, relative to the job folder; None when not kept


HISTORY = "history"
DEFAULT_KEEP = 10
_MOVING = ".moving-"
_STAYS = {HISTORY, ".lock"}  # the lock is held by this run; history holds the archive


def history_root(folder: JobFolder) -> Path:
    """``<job folder>/history``."""
    return folder.root / HISTORY


def archive_name(journal: Mapping[str, Any]) -> str:
    """The folder name of an archived job: its start time, e.g. ``2026-12-01T023000Z``."""
    started = str(journal.get("started", ""))[:19]
    digits = started.replace(":", "").replace("-", "")
    if len(digits) != 15:  # not an ISO time (hand-edited journal): fall back to the job id
        return str(journal.get("jobId", "job"))
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}T{digits[9:15]}Z"


def finished_with_other_source(journal: Mapping[str, Any], identity: Mapping[str, Any]) -> bool:
    """True for a finished job whose source has since changed (tomorrow's export, same path).

    Only a journal of this version, checked whole: any other is refused as it was, not moved.
    """
    if journal.get("version") != JOURNAL_VERSION or not JOURNAL(journal):
        return False
    sha = journal.get("sourceSha256")
    return (
        journal.get("phase") == "finished"
        and isinstance(sha, str)
        and sha != identity["sourceSha256"]
    )


def put_aside(
    folder: JobFolder,
    journal: Mapping[str, Any],
    *,
    keep: int,
    stays: tuple[Path, ...] = (),
    on_event: Callable[..., None] | None = None,
    file: str = "",
) -> PreviousJob:
    """Archive the finished job, say so (``job_archived``); returns what the new journal keeps."""
    kept = archive_finished(folder, journal, keep=keep, stays=stays)
    folder.create()
    end = journal.get("end") or {}
    previous: PreviousJob = {
        "jobId": journal.get("jobId"),
        "started": journal.get("started"),
        "outcome": end.get("outcome"),
        "history": str(kept.relative_to(folder.root)) if kept is not None else None,
    }
    if on_event is not None:
        on_event("job_archived", file=file, **previous_fields(previous, folder.root))
    return previous


def previous_fields(previous: PreviousJob, root: Path) -> dict[str, Any]:
    """The ``job_archived`` event's fields (flat, for log lines); ``root``: the job folder."""
    kept = previous.get("history")
    return {
        "history": str(root / kept) if kept is not None else "nowhere (--keep-history 0)",
        "previousJobId": previous.get("jobId"),
        "previousOutcome": previous.get("outcome"),
    }


def archive_finished(
    folder: JobFolder, journal: Mapping[str, Any], *, keep: int, stays: tuple[Path, ...] = ()
) -> Path | None:
    """Move the finished job in ``folder`` to ``history/``; returns where (None: not kept).

    Everything but ``history/``, the lock and ``stays`` (tonight's stream spool, not yet kept
    as the new job's source) moves, the journal last; then the oldest archived jobs beyond the
    newest ``keep`` are removed.
    """
    staging = history_root(folder) / f"{_MOVING}{journal.get('jobId', 'job')}"
    try:
        staging.mkdir(parents=True, exist_ok=True)
        root = folder.root.resolve()
        staying = _STAYS | {p.name for p in stays if p.resolve().parent == root}
        entries = sorted(p for p in folder.root.iterdir() if p.name not in staying)
        for entry in sorted(entries, key=lambda p: p == folder.journal):  # journal last
            os.replace(entry, staging / entry.name)
        final = _settle(staging, archive_name(journal))
        _rotate(history_root(folder), keep)
    except OSError as exc:
        raise InputProblem(
            f"cannot move the finished job in {folder.root} to {HISTORY}/: {exc.strerror}.",
            hint="Check the folder's permissions and free space, then run the same command again.",
        ) from None
    return final if final.exists() else None


def settle_moves(folder: JobFolder) -> None:
    """Finish a move a killed run left half-done (one whose journal already moved)."""
    root = history_root(folder)
    if not root.is_dir():
        return
    for staging in sorted(root.glob(f"{_MOVING}*")):
        if (staging / folder.journal.name).exists():
            import orjson

            try:
                journal = orjson.loads((staging / folder.journal.name).read_bytes())
            except (OSError, orjson.JSONDecodeError):
                journal = {}
            _settle(staging, archive_name(journal if isinstance(journal, dict) else {}))


def _settle(staging: Path, name: str) -> Path:
    """Rename the staging folder to ``name`` (``name-2``, ... when taken)."""
    final, n = staging.parent / name, 1
    while final.exists():
        n += 1
        final = staging.parent / f"{name}-{n}"
    os.replace(staging, final)
    return final


def _rotate(root: Path, keep: int) -> None:
    """Remove the oldest archived jobs beyond the newest ``keep`` (names sort by start time)."""
    done = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in done[: max(len(done) - keep, 0)]:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(old)


def existing(
    folder: JobFolder, identity: Any, spec: Any, source: Any, on_event: Any
) -> tuple[Any, PreviousJob | None]:
    """The journal to resume, checked (None: start a new job), and the job put aside if any.

    A half-done move is finished first; a finished job whose source changed is archived (and
    ``source``, tonight's spool of a stream, stays); any other journal must match this command.
    """
    from ldjfix.loop.journal import check_resumable, read_journal

    settle_moves(folder)
    if not folder.journal.exists():
        return None, None
    doc = read_journal(folder)
    if not finished_with_other_source(doc, identity):
        check_resumable(doc, identity, folder.root)
        return doc, None
    stays = (Path(source.path),)
    kept = put_aside(folder, doc, keep=spec.keep_history, stays=stays, on_event=on_event,
                     file=str(spec.source))  # fmt: skip
    return None, kept
