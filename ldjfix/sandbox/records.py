"""The sandbox's accepted records of one integration and object type: an append-only log.

Each upload appends its accepted lines as it judges them (a record with ``"isDeleted": true``
is its own tombstone); reading folds the log, last line per ``objectId`` wins. What is kept in
memory is where each live line lies in the file (its offset and length), never the lines, and
only once something reads (a reference check, a read-back): a process that only uploads holds
no ids at all. A reader remembers how far it has read, so after an append by another process
it parses only the new tail; a reader that appends updates its fold as it writes. When a read
finds the log holding more than twice the live data it is rewritten (atomically, so the new
inode tells every other reader to start over).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, KeysView
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

_COMPACT_AFTER = 1 << 20  # never bother compacting logs smaller than this
_CHUNK = 1 << 20
_BATCH = 1024  # lines an Appender joins into one write
_SHIFT = 40  # a live line is (offset << _SHIFT) | length: one int per record


@dataclass
class _Folded:
    """What one reader has folded so far: up to which byte, and where each live line lies."""

    inode: int
    size: int
    live: dict[str, int] = field(default_factory=dict)
    live_bytes: int = 0

    def put(self, key: str, offset: int, length: int, deleted: bool) -> None:
        """Fold one line found at ``offset`` (``length`` bytes, without its newline)."""
        old = self.live.pop(key, None)
        if old is not None:
            self.live_bytes -= (old & _MASK) + 1
        if not deleted:
            self.live[key] = (offset << _SHIFT) | length
            self.live_bytes += length + 1


_MASK = (1 << _SHIFT) - 1


class RecordLog:
    """Accepted records in one ``.ldjson`` log file (callers hold the state lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._folded: _Folded | None = None
        self._appending = False

    def ids(self) -> KeysView[str]:
        """The objectIds of the live records (a view: do not keep it across an append)."""
        return self._fold().live.keys()

    def get(self, key: str) -> bytes | None:
        """The current raw line of one record, or None."""
        where = self._fold().live.get(key)
        if where is None:
            return None
        with open(self.path, "rb") as stream:
            return _pread(stream, where >> _SHIFT, where & _MASK)

    def items(self) -> Iterator[tuple[str, bytes]]:
        """(objectId, raw line) of every live record, in the order they were folded."""
        live = dict(self._fold().live)
        if not live:
            return
        with open(self.path, "rb") as stream:
            for key, where in live.items():
                yield key, _pread(stream, where >> _SHIFT, where & _MASK)

    def live(self) -> dict[str, bytes]:
        """Every live record's raw line by objectId, all in memory (for small logs and tests)."""
        return dict(self.items())

    def _fold(self) -> _Folded:
        if self._appending and self._folded is not None:
            return self._folded  # the file is being written: this reader's fold is current
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._folded = None
            return _Folded(0, 0)
        folded = self._folded
        if folded is None or folded.inode != stat.st_ino or folded.size > stat.st_size:
            folded = _Folded(stat.st_ino, 0)
        if stat.st_size > folded.size:
            self._fold_tail(folded)
        self._folded = folded
        if folded.size > max(_COMPACT_AFTER, 2 * folded.live_bytes):
            self._rewrite(folded)
            assert self._folded is not None
            return self._folded
        return folded

    @contextlib.contextmanager
    def appending(self) -> Iterator[Appender]:
        """Append lines one by one; all of them are taken back if the block fails or discards.

        A fold this reader already holds is kept in step with what is written; none is built
        for the purpose (a process that only uploads never holds the ids), so compaction waits
        for the next read.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as stream:
            start = stream.tell()
            folded = self._folded
            if folded is not None and (folded.size != start or not self._current(folded)):
                folded = self._folded = None  # another process wrote: fold afresh when read
            appender = Appender(stream, folded)
            self._appending = folded is not None
            try:
                yield appender
                if not appender.discarded:
                    appender.flush()
            except BaseException:
                appender.discarded = True
                raise
            finally:
                self._appending = False
                if appender.discarded:
                    stream.truncate(start)
                    self._folded = None
        if not appender.discarded and self._folded is not None:
            self._fold()  # compacts when the log has grown stale

    def _current(self, folded: _Folded) -> bool:
        return os.stat(self.path).st_ino == folded.inode

    def append(self, upserts: dict[str, bytes], deletes: set[str]) -> None:
        """Add accepted lines and deletions; compact when the log has grown stale."""
        with self.appending() as appender:
            for key, line in upserts.items():
                appender.add(key, line, deleted=False)
            for key in deletes:
                appender.delete(key)

    def _fold_tail(self, folded: _Folded) -> None:
        with open(self.path, "rb") as stream:
            stream.seek(folded.size)
            offset, carry = folded.size, b""
            while chunk := stream.read(_CHUNK):
                data = carry + chunk if carry else chunk
                pos = 0
                while (stop := data.find(b"\n", pos)) != -1:
                    if stop > pos:
                        record = orjson.loads(data[pos:stop])
                        deleted = record.get("isDeleted") is True
                        folded.put(str(record["objectId"]), offset + pos, stop - pos, deleted)
                    pos = stop + 1
                offset += pos
                carry = data[pos:]  # a line still being written is read next time
        folded.size = offset

    def _rewrite(self, folded: _Folded) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        fresh = _Folded(0, 0)
        try:
            with os.fdopen(fd, "wb") as out, open(self.path, "rb") as old:
                for key, where in folded.live.items():
                    length = where & _MASK
                    out.write(_pread(old, where >> _SHIFT, length) + b"\n")
                    fresh.put(key, fresh.size, length, deleted=False)
                    fresh.size += length + 1
                fresh.inode = os.fstat(out.fileno()).st_ino
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            self._folded = None
            raise
        self._folded = fresh


class Appender:
    """Writes accepted lines to the log and keeps the writer's fold in step with them.

    Lines are written a batch at a time (one join and one write per :data:`_BATCH` lines, not
    two copies and a call per line); what is still pending is written when the block ends.
    """

    def __init__(self, stream: BinaryIO, folded: _Folded | None) -> None:
        self._stream = stream
        self._folded = folded
        self._pending: list[bytes] = []
        self.discarded = False

    def add(self, key: str, line: bytes, deleted: bool) -> None:
        """Append one accepted record line (``deleted``: it is a tombstone)."""
        pending = self._pending
        pending.append(line)
        if len(pending) >= _BATCH:
            self.flush()
        if self._folded is not None:
            self._folded.put(key, self._folded.size, len(line), deleted)
            self._folded.size += len(line) + 1

    def flush(self) -> None:
        """Write the pending lines, each with its newline."""
        if self._pending:
            self._pending.append(b"")
            self._stream.write(b"\n".join(self._pending))
            self._pending.clear()

    def delete(self, key: str) -> None:
        """Append a tombstone for ``key``."""
        self.add(key, orjson.dumps({"objectId": key, "isDeleted": True}), deleted=True)

    def discard(self) -> None:
        """Take back everything appended in this block."""
        self.discarded = True


def _pread(stream: BinaryIO, offset: int, length: int) -> bytes:
    stream.seek(offset)
    return stream.read(length)
