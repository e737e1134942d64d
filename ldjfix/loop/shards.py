"""Splitting a round's records into shards, to get past Gong's 20-error cap.

Gong lists at most 20 failing lines per upload, whatever its size, and ``totalErrorCount`` says
how many failed in all. When an upload failed more records than it listed, its unreported
records are *unknown*; the next round sends them as several disjoint uploads, each expected to
hold at most :data:`TARGET_FAILURES` failures, so one round reveals up to 20 errors per shard
instead of 20 in all. The expectation is taken per previous upload (failures are not spread
evenly), and records sharing an ``objectId`` stay in one shard, in source order, because Gong
applies them one after the other.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ldjfix.loop.runs import ascending, stretch

GONG_LISTED = 20
# Expect 8 failures per shard, not 20: failures land by chance, and a shard holding more
# than 20 needs one more round. With 8 expected, more than 20 happens about once in 10,000.
TARGET_FAILURES = 8
# At most this many uploads in one round: each is an upload plus its polls (against a quota of
# 10,000 calls a day) and an open file while the round is written. With more failures than
# that, shards expect more than TARGET_FAILURES each and the overflowing ones split next round.
MAX_SHARDS = 100


class ByLine:
    """A small number per source line (0: none) in a packed array, read like a dict."""

    __slots__ = ("values",)

    def __init__(self, top: int) -> None:
        self.values = array("I", bytes(4 * (top + 1)))

    def get(self, line: int, default: int = 0) -> int:
        """The number for ``line``, or ``default`` when it has none."""
        value = self.values[line] if 0 <= line < len(self.values) else 0
        return value or default


PerLine = Mapping[int, int] | ByLine  # objectId key or upload size, by source line


@dataclass(frozen=True, slots=True)
class Partition:
    """Pending records that went out in one upload, and how many of them are expected to fail."""

    lines: Sequence[int]
    expected: int


def shard_count(records: int, expected: int, *, target: int = TARGET_FAILURES) -> int:
    """How many shards ``records`` records with ``expected`` unseen failures need."""
    if records == 0:
        return 0
    return max(1, min(records, math.ceil(expected / target)))


def plan_shards(
    partitions: Sequence[Partition],
    keys: Sequence[int],
    *,
    target: int = TARGET_FAILURES,
    sizes: Sequence[int] | None = None,
    max_bytes: int | None = None,
    max_shards: int = MAX_SHARDS,
) -> list[Sequence[int]]:
    """Cut the partitions into shards: every line in exactly one shard, groups kept together.

    ``keys[i]`` is the objectId key of ``partitions``' lines in the order they are walked
    (partition by partition); key 0 means "no objectId" and is never grouped. ``sizes[i]`` is
    the bytes that line takes in an upload set (its ending included). Partitions with no
    failures expected are sent together as one shard. A shard over ``max_bytes`` (Gong's
    200 MB upload cap) is cut further by bytes, so no shard is ever over the cap whatever the
    mix of record sizes. When that would make more than ``max_shards`` shards, each shard is
    made to expect more failures instead.
    """
    top = max((max(part.lines) for part in partitions if part.lines), default=0)
    key_of, size_of = ByLine(top), ByLine(top)  # 4 bytes a line each, not a dict entry
    at = 0
    for part in partitions:
        end = at + len(part.lines)
        _scatter(key_of.values, part.lines, keys[at:end])
        if sizes is not None:
            _scatter(size_of.values, part.lines, sizes[at:end])
        at = end
    while True:
        shards = _cut(partitions, key_of, target)
        if max_bytes is not None:
            shards = [p for s in shards for p in split_by_bytes(s, size_of, key_of, max_bytes)]
        if len(shards) <= max_shards or _fewest(partitions, target):
            return shards
        target = math.ceil(target * len(shards) / max_shards)


def _scatter(values: array[int], lines: Sequence[int], taken: Sequence[int]) -> None:
    """``values[lines[i]] = taken[i]`` for each i: a slice when the lines are consecutive."""
    if stretch(lines):
        values[lines[0] : lines[-1] + 1] = array("I", taken)  # every line of a file, in order
        return
    for line, value in zip(lines, taken, strict=True):
        values[line] = value


def _fewest(partitions: Sequence[Partition], target: int) -> bool:
    """True when no partition would be cut into more than one shard at ``target``."""
    return all(shard_count(len(p.lines), p.expected, target=target) <= 1 for p in partitions)


def _cut(
    partitions: Sequence[Partition],
    key_of: PerLine,
    target: int,
) -> list[Sequence[int]]:
    """One cut of the partitions at ``target`` expected failures per shard."""
    clean_parts = [part.lines for part in partitions if part.expected <= 0]
    clean: Sequence[int]
    if len(clean_parts) == 1 and ascending(clean_parts[0]):
        clean = clean_parts[0]  # the usual round 1: every line, in order (no copy)
    else:
        clean = sorted(line for lines in clean_parts for line in lines)
    shards: list[Sequence[int]] = [clean] if clean else []
    for part in partitions:
        if part.expected > 0:
            count = shard_count(len(part.lines), part.expected, target=target)
            shards.extend(split_keeping_groups(sorted(part.lines), count, key_of))
    return [shard for shard in shards if shard]


def split_keeping_groups(lines: Sequence[int], count: int, key_of: PerLine) -> list[list[int]]:
    """Split sorted ``lines`` into about ``count`` equal shards; equal keys share a shard."""
    if count <= 1:
        return [list(lines)]
    size = math.ceil(len(lines) / count)
    shards: list[list[int]] = [[]]
    home: dict[int, int] = {}
    for line in lines:
        key = key_of.get(line, 0)
        if key and key in home:
            shards[home[key]].append(line)  # appended in source order: order kept
            continue
        if len(shards[-1]) >= size and len(shards) < count:
            shards.append([])
        shards[-1].append(line)
        if key:
            home[key] = len(shards) - 1
    return shards


class GroupTooBig(ValueError):
    """Records that must go out together (one objectId) are over the upload cap by themselves."""

    def __init__(self, line: int, size: int) -> None:
        super().__init__(f"line {line}: {size:,} bytes")
        self.line = line
        self.size = size


def split_by_bytes(
    lines: Sequence[int], size_of: PerLine, key_of: PerLine, max_bytes: int
) -> list[Sequence[int]]:
    """Pack sorted ``lines`` into as few pieces of at most ``max_bytes`` as the groups allow.

    Records sharing an objectId form one group, kept whole and in order; groups are packed in
    the order of their first line. A group over ``max_bytes`` on its own raises
    :class:`GroupTooBig` (no upload can carry it).
    """
    sized: Callable[[int], int] = (
        size_of.values.__getitem__ if isinstance(size_of, ByLine) else lambda n: size_of.get(n, 0)
    )
    if sum(map(sized, lines)) <= max_bytes:
        return [lines]
    group_of: dict[int, int] = {}  # objectId key -> group index
    groups: list[list[int]] = []
    for line in lines:
        key = key_of.get(line, 0)
        if key and key in group_of:
            groups[group_of[key]].append(line)
            continue
        if key:
            group_of[key] = len(groups)
        groups.append([line])
    pieces: list[list[int]] = [[]]
    used = 0
    for group in groups:
        size = sum(size_of.get(n, 0) for n in group)
        if size > max_bytes:
            raise GroupTooBig(group[0], size)
        if used + size > max_bytes and pieces[-1]:
            pieces.append([])
            used = 0
        pieces[-1].extend(group)
        used += size
    return [sorted(piece) for piece in pieces]
