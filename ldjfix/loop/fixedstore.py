"""Fixed records on disk, not in memory: what a fix changed, and the source to rebuild it from.

A job may fix every record of a 200 MB source. Holding those records (or writing them into each
settlement) cost gigabytes of memory and several copies on disk; instead each fix appends one
line to ``rounds/fixed.jsonl`` — the record's line and what differs from the source line,
``[line, {fields set}, [fields removed]]``, or ``[line, null, record]`` when the source line is
no JSON object — and the ledger keeps, per source line, where its newest entry starts (8 bytes
a line). Reading a fixed record reads its source line and its entry and applies one to the
other; the upload-set size of each record stored by this process is kept beside (planning
sizes it without a rebuild). The store only grows; a round's entries follow one another and
count once a settlement naming their stretch is written, so a run killed mid-round leaves
entries nobody refers to, never a wrong record. ``fixes.jsonl`` grows the same way
(:mod:`ldjfix.loop.fixeslog`).
"""

from __future__ import annotations

import itertools
import os
from array import array
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ldjfix.ldjson.lines import BOM
from ldjfix.ldjson.serial import dump_json
from ldjfix.ldjson.sources import IO_BUFFER, Source, check_unchanged
from ldjfix.loop.runs import stretch

Record = dict[str, Any]


class FixedRecords(Mapping[int, Record]):
    """Source line -> its fixed record, read from the store and the source on demand."""

    def __init__(self, source: str | os.PathLike[str], store: Path, offsets: array[int]) -> None:
        self.source = Path(os.fspath(source))  # an opened Source: its file of record
        self._identity = source if isinstance(source, Source) else None  # checked on reads
        self.store = store
        self.offsets = offsets  # byte offset of each source line (index 0 unused)
        self.index = array("q", bytes(8 * len(offsets)))  # entry offset + 1; 0: not fixed
        # the upload-set size of the record an entry holds, learnt when it was put: planning
        # sizes every fixed record without rebuilding it (``sized_at`` says for which entry)
        self._size = array("I", bytes(4 * len(offsets)))
        self._sized_at = array("q", bytes(8 * len(offsets)))
        self._out: BinaryIO | None = None
        self._end = store.stat().st_size if store.exists() else 0
        self._read_store: BinaryIO | None = None
        self._read_source: BinaryIO | None = None
        self._count = 0
        # the line stored last and its record serialised, as content() will rebuild it
        self.last_set: tuple[int, bytes] = (0, b"")

    # -- writing ------------------------------------------------------------------------------

    def put(
        self,
        line: int,
        record: Record,
        source_record: Record | None = None,
        fields: Sequence[str | None] | None = None,
    ) -> int:
        """Store ``record`` as line ``line``'s fixed content; returns the entry's offset.

        ``source_record`` is the source line parsed, when the caller has it (saves a read);
        ``fields``, when given, are the only ones that can differ from it (see :func:`changes`).
        The entry counts (:meth:`adopt`) once a settlement names it.
        """
        if source_record is None:
            source_record = self._source_record(line)
        change = changes(source_record, record, fields)
        entry = dump_json(_entry(line, change)) + b"\n"
        # serialised as content() will rebuild it (the fixer may have moved a key)
        rebuilt = record if source_record is None else apply_changes(dict(source_record), change)
        content = dump_json(rebuilt)
        self.last_set = (line, content)
        return self._put_entry(line, entry, len(content))

    def put_sets(
        self, lines: Sequence[int], name: str, news: Sequence[Any], contents: Sequence[bytes]
    ) -> array[int]:
        """:meth:`put` for a streak of records, each fixed by setting the one field ``name``
        to its ``news`` value (it had another there, each other field as in the source), and
        serialised as ``contents``: nothing compared or rebuilt, one write. Returns where each
        entry starts."""
        entries, starts = [], array("q")
        at = self._end
        for line, new in zip(lines, news, strict=True):
            try:
                entry = orjson.dumps([line, {name: new}, []], option=orjson.OPT_APPEND_NEWLINE)
            except TypeError:  # nested past orjson's limit
                entry = dump_json([line, {name: new}, []]) + b"\n"
            entries.append(entry)
            starts.append(at)
            at += len(entry)
        self._sized(lines, starts, list(map(len, contents)))
        self._write(b"".join(entries))
        return starts

    def _put_entry(self, line: int, entry: bytes, size: int) -> int:
        at = self._end
        self._sized((line,), (at,), (size,))
        self._write(entry)
        return at

    def _sized(self, lines: Sequence[int], starts: Sequence[int], sizes: Sequence[int]) -> None:
        """Remember that the entry at each of ``starts`` holds its line's record, of its size."""
        if max(lines) >= len(self.index):
            self._grow(max(lines))
        size_of, sized_at = self._size, self._sized_at
        for line, at, size in zip(lines, starts, sizes, strict=True):
            size_of[line] = size + 1 if size < _MAX_SIZE else _MAX_SIZE
            sized_at[line] = at + 1

    def _write(self, entries: bytes) -> None:
        if self._out is None:
            self._out = self.store.open("ab", buffering=IO_BUFFER)
        self._out.write(entries)
        self._end += len(entries)

    @property
    def end(self) -> int:
        """Where the next entry will start (the store's size once written)."""
        return self._end

    def entries_at(self, lines: Sequence[int], start: int, end: int) -> array[int] | None:
        """Where each of ``lines`` has its entry among those between ``start`` and ``end``.

        A round writes one entry per line it fixed, one after the other; a settlement read
        back names the lines and that stretch. None when the entries there do not name
        exactly ``lines`` (the store is not the one the settlement was written with).
        """
        top = max(lines, default=0)
        where = array("q", bytes(8 * (top + 1)))  # line -> its entry's offset + 1
        count = 0
        with self.store.open("rb") as stream:
            try:
                stream.seek(start)
            except (OverflowError, ValueError, OSError):
                return None
            at = start
            while at < end:
                entry = stream.readline()
                try:
                    line = int(entry[1 : entry.index(b",")])
                except ValueError:
                    return None
                if not 0 < line <= top or where[line]:
                    return None
                where[line] = at + 1
                count += 1
                at += len(entry)
        if at != end or count != len(lines):
            return None
        found = array("q", (where[n] - 1 for n in lines))
        return None if min(found, default=0) < 0 else found

    def sync(self) -> None:
        """Make every entry written so far durable (before a settlement names them)."""
        if self._out is not None:
            self._out.flush()
            os.fsync(self._out.fileno())

    def adopt(self, line: int, at: int) -> None:
        """Line ``line``'s fixed content is now the entry at ``at``."""
        if line >= len(self.index):
            self._grow(line)
        if not self.index[line]:
            self._count += 1
        self.index[line] = at + 1

    def adopt_all(self, lines: Sequence[int], ats: Sequence[int]) -> None:
        """:meth:`adopt` for each of ``lines`` and ``ats``; a stretch of consecutive lines in
        order (a round that fixed every record) by one slice."""
        count = len(lines)
        if stretch(lines) and len(ats) == count:
            first, end = lines[0], lines[-1] + 1
            if end > len(self.index):
                self._grow(end - 1)
            self._count += self.index[first:end].count(0)
            self.index[first:end] = array("q", map((1).__add__, ats))
            return
        for line, at in zip(lines, ats, strict=True):
            self.adopt(line, at)

    def _grow(self, line: int) -> None:
        """Room for ``line`` (the survey that fills ``offsets`` may still be running)."""
        size = len(self.index)
        more = max(line + 1, len(self.offsets), size + size // 8 + 1024) - size  # amortised
        self.index.extend(array("q", bytes(8 * more)))
        self._size.extend(array("I", bytes(4 * more)))
        self._sized_at.extend(array("q", bytes(8 * more)))

    def upload_size(self, line: int) -> int | None:
        """Bytes line ``line``'s fixed record takes in an upload set ("\\n" included); None if
        it is not fixed. Known without a rebuild when this process stored it."""
        at = self.index[line] if 0 < line < len(self.index) else 0
        if not at:
            return None
        if self._sized_at[line] == at:
            return self._size[line]
        return min(len(dump_json(self[line])) + 1, _MAX_SIZE)

    def upload_sizes(self, lines: Sequence[int], sizes: array[int]) -> None:
        """:meth:`upload_size` of each fixed one of ``lines`` into ``sizes`` (one loop over the
        packed arrays, not two calls a line: planning sizes every record of a round)."""
        index, sized_at, size, top = self.index, self._sized_at, self._size, len(self.index)
        fixed: Iterator[int]
        if lines and min(lines) > 0 and max(lines) < top:  # only the fixed ones, found in C
            entries = array("q", map(index.__getitem__, lines))
            if all(entries) and entries == array("q", map(sized_at.__getitem__, lines)):
                sizes[:] = array("I", map(size.__getitem__, lines))  # all sized when stored
                return
            fixed = itertools.compress(range(len(lines)), entries)
        else:
            fixed = (at for at, line in enumerate(lines) if 0 < line < top and index[line])
        for at in fixed:
            line = lines[at]
            entry = index[line]
            sizes[at] = size[line] if sized_at[line] == entry else self.upload_size(line) or 0

    def store_or_none(self) -> FixedRecords:
        """This store (a bare ledger's stand-in answers None)."""
        return self

    def close(self) -> None:
        """Close the files this store holds open."""
        for stream in (self._out, self._read_store, self._read_source):
            if stream is not None:
                stream.close()
        self._out = self._read_store = self._read_source = None

    # -- reading ------------------------------------------------------------------------------

    def __getitem__(self, line: int) -> Record:
        if not self.__contains__(line):
            raise KeyError(line)
        change = _change_of(orjson.loads(self._read(self.index[line] - 1)))
        if "record" in change:
            whole: Record = change["record"]
            return whole
        source = self._source_record(line)
        if source is None:  # cannot happen for a store this job wrote: the source is checked
            raise KeyError(line)
        return apply_changes(source, change)

    def content(self, line: int, source: bytes) -> bytes | None:
        """Line ``line``'s fixed record serialised, given its source bytes; None if not fixed."""
        at = self.index[line] if 0 < line < len(self.index) else 0
        if not at:
            return None
        change = _change_of(orjson.loads(self._read(at - 1)))
        if "record" in change:
            return dump_json(change["record"])
        if line == 1 and source.startswith(BOM):
            source = source[len(BOM) :]
        return dump_json(apply_changes(orjson.loads(source), change))

    def __contains__(self, line: object) -> bool:
        return type(line) is int and 0 < line < len(self.index) and bool(self.index[line])

    def __iter__(self) -> Iterator[int]:
        return itertools.compress(range(len(self.index)), self.index)  # index[0] is never set

    def __len__(self) -> int:
        return self._count

    def _read(self, at: int) -> bytes:
        if self._out is not None:
            self._out.flush()
        if self._read_store is None:
            self._read_store = self.store.open("rb")
        self._read_store.seek(at)
        return self._read_store.readline()

    def _source_record(self, line: int) -> Record | None:
        if self._read_source is None:
            self._read_source = self._open_source()
        self._read_source.seek(self.offsets[line])
        raw = self._read_source.readline()
        if line == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self._check_source()  # a line cut short by a rewrite is the change's fault
            return None
        return value if type(value) is dict else None

    def _open_source(self) -> BinaryIO:
        """The source for random reads; gone or replaced since the job opened it: it changed."""
        try:
            stream = self.source.open("rb")
        except OSError:
            self._check_source()
            raise
        if self._identity is not None:
            check_unchanged(self._identity, os.fstat(stream.fileno()))
        return stream

    def _check_source(self) -> None:
        if self._identity is not None:
            check_unchanged(self._identity)


def changes(
    before: Record | None, after: Record, fields: Sequence[str | None] | None = None
) -> dict[str, Any]:
    """What turns ``before`` into ``after``: fields set and removed, or the whole record.

    ``fields``, when given, holds every field that can differ (those a fixer's changes name):
    when that is one field still in ``after`` (the common fix), only it is compared.
    """
    if before is None:
        return {"record": after}
    missing = _MISSING  # a fix copies the record shallowly: most values are the same objects
    if fields is not None and len(fields) == 1 and fields[0] in after:
        name = fields[0]  # set, not removed: nothing else can be set, nothing removed
        old, new = before.get(name, missing), after[name]
        same = old is new or (type(old) is type(new) and old == new)
        return {"set": {} if same else {name: new}}
    changed = {
        k: v
        for k, v in after.items()
        if (old := before.get(k, missing)) is not v and not (type(old) is type(v) and old == v)
    }
    removed = [k for k in before if k not in after]
    return {"set": changed, "del": removed} if removed else {"set": changed}


def apply_changes(record: Record, change: dict[str, Any]) -> Record:
    """``record`` with ``change`` (from :func:`changes`) applied; ``record`` is changed."""
    for name in change.get("del", ()):
        record.pop(name, None)
    record.update(change["set"])
    return record


def _entry(line: int, change: dict[str, Any]) -> list[Any]:
    """A store entry: ``[line, set, removed]``, or ``[line, null, record]`` for a whole record."""
    if "record" in change:
        return [line, None, change["record"]]
    return [line, change["set"], change.get("del", [])]


def _change_of(entry: list[Any]) -> dict[str, Any]:
    """The change an entry holds (an older store's entries are ``[line, change]``)."""
    if len(entry) == 2:
        old: dict[str, Any] = entry[1]
        return old
    if entry[1] is None:
        return {"record": entry[2]}
    return {"set": entry[1], "del": entry[2]}


_MISSING: Any = object()
_MAX_SIZE = 2**32 - 1


def serialised(fixed: Mapping[int, Record], line: int, source: bytes) -> bytes | None:
    """The fixed record of ``line`` as bytes (from a store, or a plain mapping); None if none."""
    if isinstance(fixed, FixedRecords):
        return fixed.content(line, source)
    record = fixed.get(line)
    return None if record is None else dump_json(record)
