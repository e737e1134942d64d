"""Upload sets and their lineage: what each uploaded line was in the source, and back again.

Every upload set ldjfix writes has no blank lines, no BOM and ``\\n`` endings, so Gong's
"line N" is the N-th record whatever Gong does with blank lines (README "Line numbers"). The
lineage lists, for upload line N, the source line it came from; a status is mapped back
through it. A line number past the end of the set is kept as *unmapped*, never guessed at.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
from array import array
from collections.abc import Collection, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from ldjfix.gong.status import LineError, Status
from ldjfix.ldjson.files import atomic_output, link_output, open_input
from ldjfix.ldjson.lines import BOM, CHUNK_SIZE, Line, Shape, has_crlf, make_line, scan
from ldjfix.ldjson.sources import SourcePath
from ldjfix.loop.fixedstore import serialised
from ldjfix.loop.ledger import InvariantBroken


@dataclass(frozen=True, slots=True)
class Verdict:
    """One upload's status mapped onto source lines."""

    name: str
    status: str
    failed: dict[int, tuple[LineError, ...]] = field(default_factory=dict)
    accepted: tuple[int, ...] = ()
    unknown: tuple[int, ...] = ()
    general: tuple[str, ...] = ()
    unmapped: tuple[LineError, ...] = ()
    total_error_count: int | None = None

    @property
    def unseen_failures(self) -> int:
        """Failures Gong counted but did not list (0 when it listed them all)."""
        if self.status != "FAILED" or self.total_error_count is None:
            return 0
        return max(0, self.total_error_count - len(self.failed) - len(self.unmapped))


@dataclass(frozen=True, slots=True)
class SetFacts:
    """What an upload set must be when it is sent: its line count, size and SHA-256."""

    lines: int
    bytes: int
    sha256: str


def write_upload_sets(
    source: SourcePath,
    shards: Mapping[str, Sequence[int]],
    fixed: Mapping[int, dict[str, Any]],
    paths: Mapping[str, Path],
    draft: Draft | None = None,
) -> dict[str, SetFacts]:
    """Write each shard's records, from the source in one pass, fixed records re-serialised.

    With ``draft``, the pass writes the source with the fixed records in place and the
    ``draft.dropped`` lines left out instead (what corrected.ldjson will be if nothing changes),
    and each set is then a copy of its lines of it (or the draft itself, under a second name),
    so a job whose first round settles everything builds each fixed record once.
    Returns each set's facts, so the set can be checked against them before it is sent.
    """
    if draft is not None:  # the draft first, then the sets are copies of its lines
        lines, plain = _write_draft(source, fixed, draft)
        return write_sets_from_draft(draft.path, shards, paths, set(draft.dropped), lines, plain)
    names = list(shards)
    # which shard a line goes to, one small int per source line (0: none), not a dict
    top = max((max(lines) for lines in shards.values() if lines), default=0)
    owner = array("H", bytes(2 * (top + 1)))
    for index, name in enumerate(names, 1):
        for line in shards[name]:
            owner[line] = index
    with contextlib.ExitStack() as stack:
        sets = _SetsWritten(stack, names, paths)
        with open_input(source, what="source file") as stream:
            for number, raw in enumerate(stream, 1):  # binary iteration splits on b"\n" only
                if number > top:
                    break  # the rest of the file is in no set
                at = owner[number]
                if not at:
                    continue
                if number == 1:
                    raw = raw.removeprefix(BOM)  # not line 1's content, but the file's
                content = serialised(fixed, number, raw)
                if content is None and raw[-1:] == b"\n" and raw[-2:-1] != b"\r":
                    sets.put_line(at - 1, raw)  # the common line: as it is, no copy made
                    continue
                item = make_line(number, raw)
                sets.put(at - 1, item.content if content is None else content)
    return sets.facts()


def _write_draft(
    source: SourcePath, fixed: Mapping[int, dict[str, Any]], draft: Draft
) -> tuple[int, SetFacts | None]:
    """Write ``draft``: the source byte for byte, fixed records in place, dropped lines left
    out. Returns its line count, and its facts when it is an upload set as it is."""
    gone = set(draft.dropped)
    special = sorted(gone.union(fixed))  # every other line is copied as it is, a batch at a time
    with atomic_output(draft.path) as stream, open_input(source, what="source file") as file:
        out = DraftOut(stream)
        first = next(file, b"")
        if first.startswith(BOM):
            out.write_bom()  # not line 1's content, but the file's
            first = first[len(BOM) :]
        lines = itertools.chain((first,) if first else (), file)  # binary: split on b"\n" only
        done = 0  # the lines read so far
        for number in itertools.chain(special, (0,)):  # 0: the rest of the file
            while done + 1 < number or not number:  # the plain lines before it
                out.flush()
                count = _WRITE_AT if not number else min(_WRITE_AT, number - done - 1)
                out.held.extend(itertools.islice(lines, count))  # read and held in C
                taken = len(out.held)
                out.flush()
                done += taken
                if taken < count:
                    return out.lines, out.as_upload_set()  # the end of the file
            raw = next(lines, None)
            if raw is None:
                break
            done = number
            if number in gone:
                continue
            content = serialised(fixed, number, raw)
            out.held.append(raw if content is None else content + make_line(number, raw).ending)
            if len(out.held) >= _WRITE_AT:
                out.flush()
        out.flush()
    return out.lines, out.as_upload_set()


_WRITE_AT = 1024  # lines held before they are written in one go


class DraftOut:
    """A draft of corrected.ldjson being written, its lines ``held`` (each item one line, its
    ending included) and written a batch at a time, noting what it holds: its SHA-256, bytes
    and lines, and whatever keeps it from being an upload set as it is (a BOM, a ``\\r\\n``
    ending, a last line without its ``\\n``)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.held: list[bytes] = []
        self.digest = hashlib.sha256()
        self.size = self.lines = 0
        self.plain = True
        self.last = b"\n"

    def flush(self) -> None:
        """Write the lines held."""
        if self.held:
            self.lines += len(self.held)
            self._put(b"".join(self.held))
            self.held.clear()

    def write_bom(self) -> None:
        """Start the draft with a BOM (then it is no upload set as it is)."""
        self.flush()
        self._put(BOM)
        self.plain = False

    def _put(self, data: bytes) -> None:
        self.stream.write(data)
        self.digest.update(data)
        self.size += len(data)
        if has_crlf(data):  # (held lines are whole: no \r\n is split between two writes)
            self.plain = False
        self.last = data[-1:] or self.last

    def as_upload_set(self) -> SetFacts | None:
        """The draft's facts as an upload set of all its lines, when it is one as it is."""
        if not self.plain or self.last != b"\n":
            return None
        return SetFacts(self.lines, self.size, self.digest.hexdigest())


def write_sets_from_draft(
    draft: Path,
    shards: Mapping[str, Sequence[int]],
    paths: Mapping[str, Path],
    dropped: Set[int],
    draft_lines: int,
    plain: SetFacts | None = None,
) -> dict[str, SetFacts]:
    """:func:`write_upload_sets` from a current draft of corrected.ldjson instead of the source.

    The draft (written as round 0 decided each line: :func:`~ldjfix.loop.survey.local_round`)
    holds every source line but the ``dropped`` ones, each as it is to be sent: a fixed record
    re-serialised, any other line byte for byte. So each set is a copy of draft lines, no record
    rebuilt; a source line's number in the draft is its own less the dropped lines before it.
    When one set takes every one of the ``draft_lines`` lines, and they end in ``\\n``, the
    set is the draft itself (no BOM), copied a chunk at a time; with ``plain`` (the facts of a
    draft known to be such a set as it is: no BOM, ``\\n`` endings) it is a second name of it.
    """
    names = list(shards)
    gone = sorted(dropped)
    top = max((max(lines) for lines in shards.values() if lines), default=0)
    if len(names) == 1 and len(shards[names[0]]) == draft_lines:
        if plain is not None and plain.lines == draft_lines and link_output(draft, paths[names[0]]):
            return {names[0]: plain}  # nothing read, copied or hashed again
        whole = _copy_plain(draft, paths[names[0]], draft_lines)  # every draft line goes
        if whole is not None:
            return {names[0]: whole}
    owner = array("H", bytes(2 * (top + 1)))
    for index, name in enumerate(names, 1):
        for line in shards[name]:
            at = bisect.bisect_left(gone, line)
            if at < len(gone) and gone[at] == line:
                raise InvariantBroken(f"line {line} is planned, but the draft left it out")
            owner[line - at] = index
    wanted = (n for n in range(1, top + 1) if owner[n])
    with contextlib.ExitStack() as stack:
        sets = _SetsWritten(stack, names, paths)
        with open(draft, "rb") as stream:
            for item in scan(stream, wanted, Shape(), copy=False):
                if isinstance(item, Line):
                    sets.put(owner[item.number] - 1, item.content)
    return sets.facts()


class _SetsWritten:
    """The upload sets a pass writes: each one's file, and its lines, bytes and SHA-256."""

    def __init__(
        self, stack: contextlib.ExitStack, names: Sequence[str], paths: Mapping[str, Path]
    ) -> None:
        self.names = names
        self.outs = [stack.enter_context(atomic_output(paths[name])) for name in names]
        self.digests = [hashlib.sha256() for _ in names]
        self.sizes = [0] * len(names)
        self.counts = [0] * len(names)

    def put(self, at: int, content: bytes) -> None:
        """Write one record (its content, then ``\\n``) to set number ``at``."""
        self.put_line(at, content + b"\n")

    def put_line(self, at: int, data: bytes) -> None:
        """Write one record's line (its content, then ``\\n``) to set number ``at``."""
        self.outs[at].write(data)
        self.digests[at].update(data)
        self.sizes[at] += len(data)
        self.counts[at] += 1

    def facts(self) -> dict[str, SetFacts]:
        """Each set's facts, by name."""
        return {
            name: SetFacts(self.counts[i], self.sizes[i], self.digests[i].hexdigest())
            for i, name in enumerate(self.names)
        }


class _NotPlain(Exception):
    """A draft with a ``\\r\\n`` ending: its lines are copied one by one."""


def _copy_plain(draft: Path, path: Path, lines: int) -> SetFacts | None:
    """``draft`` as an upload set of its ``lines`` lines; None when a line ends in ``\\r\\n``."""
    digest = hashlib.sha256()
    size = count = 0
    try:
        with open(draft, "rb") as stream, atomic_output(path) as out:
            if stream.read(len(BOM)) != BOM:
                stream.seek(0)
            chunk = b""
            while block := stream.read(CHUNK_SIZE):
                if has_crlf(block) or (block[:1] == b"\n" and chunk.endswith(b"\r")):
                    raise _NotPlain
                chunk = block
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                count += chunk.count(b"\n")
            if chunk and not chunk.endswith(b"\n"):  # a last line without one: a set has it
                out.write(b"\n")
                digest.update(b"\n")
                size += 1
                count += 1
            if count != lines:
                raise InvariantBroken(f"the draft has {count} lines, not the {lines} planned")
    except _NotPlain:
        return None
    return SetFacts(count, size, digest.hexdigest())


@dataclass(frozen=True, slots=True)
class Draft:
    """Where :func:`write_upload_sets` writes the corrected source, and which lines it drops."""

    path: Path
    dropped: Collection[int]


def read_set_facts(path: Path) -> SetFacts | None:
    """The facts of the upload set at ``path`` as it is on disk now (None: it cannot be read)."""
    digest = hashlib.sha256()
    size = lines = 0
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                lines += chunk.count(b"\n")
    except OSError:
        return None
    return SetFacts(lines, size, digest.hexdigest())


def map_status(name: str, status: Status, lineage: Sequence[int]) -> Verdict:
    """Map a terminal status onto source lines through ``lineage``."""
    if status.status == "DONE":
        return Verdict(name, "DONE", accepted=tuple(lineage))
    failed: dict[int, list[LineError]] = {}
    unmapped: list[LineError] = []
    for error in status.line_errors:
        if error.line <= len(lineage):
            failed.setdefault(lineage[error.line - 1], []).append(error)
        else:
            unmapped.append(error)
    general = tuple(e.description for e in status.general_errors)
    others = [n for n in lineage if n not in failed]
    # a FAILED that names no failing line says nothing about which records got in
    settled = status.all_failures_listed and bool(failed) and not general and not unmapped
    return Verdict(
        name,
        status.status,
        failed={line: tuple(errors) for line, errors in failed.items()},
        accepted=tuple(others) if settled else (),
        unknown=() if settled else tuple(others),
        general=general,
        unmapped=tuple(unmapped),
        total_error_count=status.total_error_count,
    )


def hold_back_later_duplicates(
    verdict: Verdict, resent: Collection[int], keys: Sequence[int]
) -> Verdict:
    """Keep pending the accepted records that a resent earlier record would overwrite.

    Gong applies records in order and keeps the last per ``objectId``. When line 10 failed and
    goes out again fixed while line 500 (same objectId, later) was accepted, sending line 10
    alone would put the older version back; so line 500 stays pending and goes out with it.
    """
    first: dict[int, int] = {}
    for line in verdict.failed:
        key = keys[line]
        if key and line in resent and line < first.get(key, line + 1):
            first[key] = line
    if not first:
        return verdict
    held = tuple(n for n in verdict.accepted if keys[n] in first and n > first[keys[n]])
    if not held:
        return verdict
    kept = set(held)
    return replace(
        verdict,
        accepted=tuple(n for n in verdict.accepted if n not in kept),
        unknown=tuple(sorted((*verdict.unknown, *held))),
    )
