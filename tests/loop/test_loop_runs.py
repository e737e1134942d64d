"""Line lists as runs: packed, unpacked to the same lines, checked on read."""

from __future__ import annotations

import pytest

from ldjfix.loop.runs import is_runs, is_span, pack, unpack


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [7],
        [1, 2],
        [1, 2, 3],
        list(range(1, 10_001)),
        [1, 2, 3, 5, 6, 9, 10, 11, 12, 20],
        [5, 6, 7, 1, 2, 3],  # not ascending (a shard's own order): kept as given
        [3, 3, 3, 4],
        [10, 9, 8, 7],
    ],
)
def test_runs_unpack_gives_back_the_packed_lines(lines: list[int]) -> None:
    """pack then unpack is the identity, in the order given, and passes the shape check."""
    packed = pack(lines)
    assert list(unpack(packed)) == lines
    assert is_runs(packed)


def test_runs_pack_consecutive_lines_as_one_pair() -> None:
    """Every line of a file is one pair; short stretches stay plain numbers."""
    assert pack(list(range(1, 366_001))) == [[1, 366_000]]
    assert pack([1, 2, 4, 5, 6, 9]) == [1, 2, [4, 6], 9]


def test_runs_a_plain_list_of_an_older_folder_reads_as_it_is() -> None:
    """Older job folders list one number per line: the same reader takes them."""
    assert list(unpack([4, 5, 6, 9])) == [4, 5, 6, 9]


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        [0],
        [-1],
        [1.5],
        ["1"],
        [[1]],
        [[3, 2]],
        [[1, 2, 3]],
        [[0, 4]],
        [True],
        [[1, None]],
    ],
)
def test_runs_shape_check_refuses_what_ldjfix_never_wrote(value: object) -> None:
    """Line 0, negative numbers, reversed pairs, floats and strings are damage, not lines."""
    assert not is_runs(value)


def test_runs_span_is_two_ordered_offsets() -> None:
    """A byte span is [start, end] with start <= end, nothing else."""
    assert is_span([0, 0]) and is_span([10, 56])
    assert not any(is_span(v) for v in ([5, 1], [1], [1, 2, 3], [-1, 2], "0,1", [0.0, 1]))
