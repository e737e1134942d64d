"""``fixes.jsonl`` of a job: the change log users read and replay, grown a round at a time.

:class:`FixesLog` appends each round's changes, and each settlement records how long the log
was when it was written, so a resumed job cuts off what a killed run appended after its last
settlement (and a log shorter than that is a damaged job file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from ldjfix.fixing.fixer import Fix
from ldjfix.fixing.fixlog import Kind, LogWriter, declared_kinds
from ldjfix.ldjson.sources import IO_BUFFER
from ldjfix.loop.shapes import damaged


class FixesLog:
    """``fixes.jsonl`` of a job, written a round at a time: one line per change.

    Each kind of change (field and why) is declared once (:mod:`ldjfix.fixing.fixlog`); a
    resumed job reads the declarations of what it keeps, so its changes refer to them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out: BinaryIO | None = None
        self._writer: LogWriter | None = None
        self.size = path.stat().st_size if path.exists() else 0

    def cut(self, size: int) -> None:
        """Drop what was appended after ``size`` bytes (a killed run's unsettled changes).

        A log shorter than that (deleted or cut by hand) has lost settled changes: growing it
        back would write NUL bytes where they were, so it is a damaged job file instead.
        """
        if not self.path.exists():
            self.path.touch()
        have = self.path.stat().st_size
        if have < size:
            raise damaged(
                self.path,
                f"{have:,} bytes, but {size:,} bytes of settled changes were written to it",
                hint="Restore it from a backup, or run again with another --job-dir to start "
                "afresh (this folder's uploads stay at Gong).",
            )
        if have != size:
            with self.path.open("r+b") as stream:
                stream.truncate(size)
        self.size = size
        self._writer = None  # declarations cut off with the changes are declared again

    def write(self, fixes: Iterable[Fix]) -> None:
        """Append ``fixes``, one JSON line each (and a declaration before a new kind)."""
        self._append(self._log_writer().encode(fixes))

    def write_changes(
        self,
        lines: Sequence[int],
        object_ids: Sequence[Any],
        field: str,
        why: str,
        olds: Sequence[Any],
        news: Sequence[Any],
    ) -> None:
        """Append a streak of changes of one kind (no :class:`Fix` built); an objectId that
        is no string is logged as none."""
        ids = [oid if type(oid) is str else None for oid in object_ids]
        self._append(self._log_writer().changes(lines, ids, field, why, olds, news))

    def _log_writer(self) -> LogWriter:
        if self._writer is None:
            declared: dict[int, Kind] = {}
            if self.size:
                with self.path.open("rb") as stream:
                    declared = declared_kinds(stream)
            self._writer = LogWriter(declared)
        return self._writer

    def _append(self, data: bytes) -> None:
        if self._out is None:
            self._out = self.path.open("ab", buffering=IO_BUFFER)
        self._out.write(data)
        self.size += len(data)

    def sync(self) -> int:
        """Make the log durable; returns its size, for the settlement to record."""
        if self._out is None:
            if not self.path.exists():
                self.path.touch()
            return self.size
        self._out.flush()
        os.fsync(self._out.fileno())
        return self.size

    def close(self) -> None:
        """Close the log."""
        if self._out is not None:
            self._out.close()
            self._out = None
