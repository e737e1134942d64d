"""Line lists in job files as runs: ``[1, [3, 366000], 366002]`` is 1, 3 to 366000, 366002.

A settlement or lineage can list every line of the source; written one number a line it was
a tenth of the source's size on disk and a Python int per line when read back. Consecutive
lines are written as one ``[first, last]`` pair instead and read into a packed array. A list
of plain numbers (what older job folders hold) reads the same way.
"""

from __future__ import annotations

import itertools
import operator
from array import array
from collections.abc import Iterable, Sequence

Runs = list[int | list[int]]


def pack(lines: Sequence[int]) -> Runs:
    """``lines`` (ascending or not) with each stretch of 3 or more consecutive lines as a pair."""
    count = len(lines)
    if count > 2 and stretch(lines):
        return [[lines[0], lines[-1]]]  # the common case: every line of a file or a set
    packed: Runs = []
    start = 0
    for at in range(1, count + 1):
        if at < count and lines[at] == lines[at - 1] + 1:
            continue
        if at - start > 2:
            packed.append([lines[start], lines[at - 1]])
        else:
            packed.extend(lines[start:at])
        start = at
    return packed


def unpack(runs: Runs) -> array[int]:
    """The lines ``runs`` lists, in its order (as :func:`pack` was given them)."""
    lines = array("l")
    for item in runs:
        if type(item) is list:
            lines.extend(range(item[0], item[1] + 1))
        else:
            lines.append(item)  # type: ignore[arg-type]
    return lines


def is_runs(value: object) -> bool:
    """True for a list of line numbers (1 up) and ``[first, last]`` pairs (first <= last)."""
    if not isinstance(value, list):
        return False
    for item in value:
        if type(item) is list:
            if len(item) != 2 or not all(type(n) is int and n >= 1 for n in item):
                return False
            if item[0] > item[1]:
                return False
        elif type(item) is not int or item < 1:
            return False
    return True


def is_span(value: object) -> bool:
    """True for ``[start, end]``: two byte offsets, start <= end."""
    if not isinstance(value, list) or len(value) != 2:
        return False
    return all(type(n) is int and n >= 0 for n in value) and value[0] <= value[1]


def marks(lines: Iterable[int]) -> bytearray:
    """One byte per line up to the last of ``lines``: 1 for each of them (a lookup in C)."""
    listed = list(lines)
    found = bytearray(max(listed, default=0) + 1)
    for line in listed:
        found[line] = 1
    return found


def stretch(lines: Sequence[int]) -> bool:
    """True when ``lines`` is every line from its first to its last, in order (none empty)."""
    return bool(lines) and lines[-1] - lines[0] == len(lines) - 1 and ascending(lines)


def ascending(lines: Sequence[int]) -> bool:
    """True when each line is greater than the one before (compared in C, not a Python loop)."""
    return all(map(operator.lt, lines, itertools.islice(lines, 1, None)))
