"""Shard planning: disjoint, complete, sized from the unseen failures, objectId groups kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ldjfix.loop.shards import (
    GONG_LISTED,
    MAX_SHARDS,
    TARGET_FAILURES,
    GroupTooBig,
    Partition,
    plan_shards,
    shard_count,
)


def _keys(partitions: list[Partition], key_of: dict[int, int]) -> list[int]:
    return [key_of.get(n, 0) for p in partitions for n in p.lines]


def test_shards_count_expects_at_most_target_failures_each() -> None:
    """480 unseen failures in 99,000 records need 60 shards of about 8 failures each."""
    assert shard_count(99_000, 480) == 60
    assert 480 / shard_count(99_000, 480) <= TARGET_FAILURES < GONG_LISTED
    assert shard_count(10, 0) == 1
    assert shard_count(0, 50) == 0
    assert shard_count(5, 500) == 5  # never more shards than records


def test_shards_clean_partitions_go_out_as_one_upload() -> None:
    """Partitions where nothing more is expected to fail are merged into a single shard."""
    parts = [Partition((1, 5, 9), 0), Partition((2, 3), 0), Partition(tuple(range(10, 50)), 16)]
    shards = plan_shards(parts, _keys(parts, {}))
    assert shards[0] == [1, 2, 3, 5, 9]
    assert len(shards) == 1 + 2
    assert sorted(n for s in shards for n in s) == [1, 2, 3, 5, 9, *range(10, 50)]


def test_shards_keep_records_sharing_an_object_id_together_in_order() -> None:
    """Lines 1, 50 and 99 share an objectId: they land in one shard, in source order."""
    lines = tuple(range(1, 100))
    key_of = {1: 7, 50: 7, 99: 7, 2: 9, 98: 9}
    parts = [Partition(lines, 40)]
    shards = plan_shards(parts, _keys(parts, key_of))
    assert len(shards) == 5
    home = next(s for s in shards if 1 in s)
    assert [n for n in home if n in (1, 50, 99)] == [1, 50, 99]
    assert 2 in home and 98 in home
    assert all(list(s) == sorted(s) for s in shards)


@given(
    st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=300),
    st.integers(min_value=0, max_value=200),
)
def test_shards_cover_every_line_exactly_once(keys: list[int], expected: int) -> None:
    """Whatever the keys and expectation: every line in exactly one shard, groups unsplit."""
    lines = tuple(range(1, len(keys) + 1))
    parts = [Partition(lines, expected)]
    shards = plan_shards(parts, keys)
    flat = [n for s in shards for n in s]
    assert sorted(flat) == list(lines)
    where: dict[int, int] = {}
    for index, shard in enumerate(shards):
        assert list(shard) == sorted(shard)
        for n in shard:
            key = keys[n - 1]
            if key:
                assert where.setdefault(key, index) == index


def test_shards_expected_failures_per_upload_discount_propagated_fixes() -> None:
    """Unseen failures per upload, minus its unknown records propagation changed, floor 0."""
    from ldjfix.gong.status import LineError
    from ldjfix.loop.lineage import Verdict
    from ldjfix.loop.settling import Decisions, round_settlement

    failed = {n: (LineError(n, "x"),) for n in range(1, 21)}
    big = Verdict(
        "r01-s01", "FAILED", failed=failed, unknown=tuple(range(21, 1021)), total_error_count=120
    )
    small = Verdict(
        "r01-s02",
        "FAILED",
        failed={2000: (LineError(1, "y"),)},
        unknown=(2001, 2002),
        total_error_count=3,
    )
    done = Verdict("r01-s03", "DONE", accepted=(3000, 3001))
    decisions = Decisions()
    decisions.keep(21, {"objectId": "p"}, ())
    spread = {21, 22, 23, 2001, 2002}
    settlement = round_settlement(1, [big, small, done], decisions, spread)
    assert settlement.expected == {"r01-s01": 97, "r01-s02": 0}
    assert settlement.accepted == (3000, 3001)
    assert settlement.notes["progress"] is True
    assert settlement.notes["uploads"][0] == {
        "upload": "r01-s01",
        "status": "FAILED",
        "records": 1020,
        "listed": 20,
        "totalErrorCount": 120,
    }


def test_shards_per_round_are_capped_with_more_failures_each() -> None:
    """50,000 unseen failures would need 6,250 shards: the round sends at most MAX_SHARDS."""
    parts = [Partition(tuple(range(1, 100_001)), 50_000)]
    shards = plan_shards(parts, _keys(parts, {}))
    assert len(shards) <= MAX_SHARDS
    assert len(shards) >= MAX_SHARDS // 2  # still as many as the cap allows, not one big upload
    assert sorted(n for s in shards for n in s) == list(range(1, 100_001))


def test_shards_cap_gives_way_to_the_upload_size_limit() -> None:
    """When only the 200 MB cut makes many shards, planning ends with those, not a loop."""
    parts = [Partition(tuple(range(1, 1_001)), 0)]
    sizes = [100] * 1_000
    shards = plan_shards(parts, _keys(parts, {}), sizes=sizes, max_bytes=500, max_shards=10)
    assert len(shards) == 200
    assert sorted(n for s in shards for n in s) == list(range(1, 1_001))


def test_shards_are_sized_by_bytes_when_large_records_bunch_together() -> None:
    """990 small records then 10 huge ones: no shard is over the cap, though the average fits."""
    parts = [Partition(tuple(range(1, 1_001)), 0)]
    sizes = [100] * 990 + [40_000] * 10
    shards = plan_shards(parts, _keys(parts, {}), sizes=sizes, max_bytes=100_000)
    size_of = dict(zip(range(1, 1_001), sizes, strict=True))
    assert all(sum(size_of[n] for n in s) <= 100_000 for s in shards)
    assert sorted(n for s in shards for n in s) == list(range(1, 1_001))
    assert len(shards) <= 6  # packed, not one record per upload


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(1, 300)), min_size=1, max_size=200),
    st.integers(min_value=0, max_value=60),
)
def test_shards_never_exceed_the_byte_cap_and_keep_groups(
    lines: list[tuple[int, int]], expected: int
) -> None:
    """Any mix of keys and sizes: each shard fits in 1,000 bytes, groups whole and in order."""
    keys = [k for k, _ in lines]
    count = {k: keys.count(k) for k in keys}
    sizes = [min(size, 1_000 // count[k] if k else 1_000) for k, size in lines]  # groups fit
    numbers = tuple(range(1, len(lines) + 1))
    parts = [Partition(numbers, expected)]
    shards = plan_shards(parts, keys, sizes=sizes, max_bytes=1_000)
    size_of = dict(zip(numbers, sizes, strict=True))
    assert sorted(n for s in shards for n in s) == list(numbers)
    for shard in shards:
        assert sum(size_of[n] for n in shard) <= 1_000
        assert list(shard) == sorted(shard)
    home = {}
    for index, shard in enumerate(shards):
        for n in shard:
            key = keys[n - 1]
            if key:
                assert home.setdefault(key, index) == index


def test_shards_refuse_a_group_bigger_than_the_cap() -> None:
    """Two records sharing an objectId that together exceed the cap cannot be uploaded."""
    parts = [Partition((1, 2, 3), 0)]
    with pytest.raises(GroupTooBig) as caught:
        plan_shards(parts, [7, 0, 7], sizes=[600, 10, 600], max_bytes=1_000)
    assert caught.value.line == 1
