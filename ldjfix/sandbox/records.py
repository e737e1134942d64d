"""The sandbox's accepted records of one integration and object type: an append-only log.

Each upload appends its accepted lines (a record with ``"isDeleted": true`` is its own
tombstone); reading folds the log, last line per ``objectId`` wins. A reader remembers how far
it has read, so after an append it parses only the new tail — small uploads against a store of
hundreds of thousands of records stay cheap. When the log holds more than twice the live data
it is rewritten (atomically, so the new inode tells every reader to start over).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import orjson

_COMPACT_AFTER = 1 << 20  # never bother compacting logs smaller than this


@dataclass
class _Folded:
    """What one reader has folded so far: up to which byte, and the live lines by objectId."""

    inode: int
    size: int
    live: dict[str, bytes] = field(default_factory=dict)
    live_bytes: int = 0


class RecordLog:
    """Accepted records in one ``.ldjson`` log file (callers hold the state lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._folded: _Folded | None = None

    def live(self) -> dict[str, bytes]:
        """The current raw line of every live record, by objectId (do not modify)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._folded = None
            return {}
        folded = self._folded
        if folded is None or folded.inode != stat.st_ino or folded.size > stat.st_size:
            folded = _Folded(stat.st_ino, 0)
        if stat.st_size > folded.size:
            self._fold_tail(folded)
        self._folded = folded
        return folded.live

    def append(self, upserts: dict[str, bytes], deletes: set[str]) -> None:
        """Add accepted lines and deletions; compact when the log has grown stale."""
        tombstones = [orjson.dumps({"objectId": key, "isDeleted": True}) for key in deletes]
        lines = [*upserts.values(), *tombstones]
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as stream:
            stream.write(b"".join(line + b"\n" for line in lines))
        live = self.live()
        folded = self._folded
        if folded is not None and folded.size > max(_COMPACT_AFTER, 2 * folded.live_bytes):
            self._rewrite(live)

    def _fold_tail(self, folded: _Folded) -> None:
        with open(self.path, "rb") as stream:
            stream.seek(folded.size)
            data = stream.read()
        complete = data.rfind(b"\n") + 1  # a line still being written is read next time
        for line in data[:complete].split(b"\n"):
            if not line:
                continue
            record = orjson.loads(line)
            key = str(record["objectId"])
            old = folded.live.pop(key, None)
            folded.live_bytes -= len(old) + 1 if old is not None else 0
            if record.get("isDeleted") is not True:
                folded.live[key] = line
                folded.live_bytes += len(line) + 1
        folded.size += complete

    def _rewrite(self, live: dict[str, bytes]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(b"".join(line + b"\n" for line in live.values()))
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._folded = None
