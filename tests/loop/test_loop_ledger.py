"""The ledger: legal transitions only, the invariant, settlements that survive a round trip."""

from __future__ import annotations

from dataclasses import replace

import orjson
import pytest

from ldjfix.loop.ledger import InvariantBroken, Ledger, Settlement, object_key


def _ledger() -> Ledger:
    ledger = Ledger(6)
    for line, oid in ((1, "a"), (2, "b"), (4, "c"), (5, None), (6, "a")):
        ledger.add_record(line, oid)
    return ledger


def test_loop_ledger_keeps_the_invariant_through_settlements() -> None:
    """accepted + quarantined + pending = records after every settlement."""
    ledger = _ledger()
    ledger.apply(Settlement(1, accepted=(1, 4), quarantined=((5, ("bad",)),)))
    counts = ledger.check()
    assert (counts.records, counts.accepted, counts.quarantined, counts.pending) == (5, 2, 1, 2)
    assert ledger.pending_lines() == [2, 6]
    assert ledger.errors[5] == ("bad",)


def test_loop_ledger_refuses_settling_a_record_twice() -> None:
    """Accepting an accepted record, or fixing a quarantined one, is a bug and raises."""
    ledger = _ledger()
    ledger.apply(Settlement(1, accepted=(1,), quarantined=((2, ("x",)),)))
    with pytest.raises(InvariantBroken):
        ledger.apply(Settlement(2, accepted=(1,)))
    with pytest.raises(InvariantBroken):
        ledger.apply(Settlement(2, fixed=(2,), fixed_at=(0,)))
    with pytest.raises(InvariantBroken):
        ledger.apply(Settlement(2, accepted=(3,)))  # line 3 is blank: not a record


def test_loop_ledger_counts_each_line_once() -> None:
    """Adding the same source line twice is a bug."""
    ledger = _ledger()
    with pytest.raises(InvariantBroken):
        ledger.add_record(1, "a")


def test_loop_ledger_settlement_round_trips_through_json() -> None:
    """What the job folder stores reads back as the same settlement, offsets left to the store."""
    settlement = Settlement(
        3,
        (1, 4, 5, 6, 7),
        ((9, ("bad", "worse")),),
        (2,),
        (120,),
        (120, 180),
        1,
        4096,
        {"r03-s01": 4},
        {"progress": True},
    )
    doc = orjson.loads(orjson.dumps(settlement.as_json()))
    assert doc["accepted"] == [1, [4, 7]] and "fixedAt" not in doc
    back = Settlement.from_json(doc)
    assert (list(back.accepted), list(back.fixed), back.fixed_at) == ([1, 4, 5, 6, 7], [2], ())
    assert replace(back, accepted=(1, 4, 5, 6, 7), fixed=(2,), fixed_at=(120,)) == settlement


def test_loop_ledger_settlement_of_an_older_folder_reads_its_offsets() -> None:
    """A settlement an older ldjfix wrote (plain line lists, ``fixedAt``) reads as it was."""
    doc = {
        "round": 1, "accepted": [1, 2, 3], "quarantined": [], "fixed": [4], "fixedAt": [56],
        "fixCount": 1, "fixesEnd": 10, "expected": {}, "notes": {},
    }  # fmt: skip
    back = Settlement.from_json(doc)  # type: ignore[arg-type]
    assert (list(back.accepted), list(back.fixed), list(back.fixed_at)) == ([1, 2, 3], [4], [56])


def test_loop_ledger_object_keys_equal_for_equal_ids() -> None:
    """Equal objectIds share a key; no objectId is key 0 (never grouped)."""
    assert object_key("a") == object_key("a") != 0
    assert object_key(None) == 0
    assert _ledger().keys[1] == _ledger().keys[6]


@pytest.mark.parametrize("fixed", [(2, 3, 4, 5), (2, 4, 5), (5, 4, 3, 2)])
def test_ledger_fixed_lines_adopted_as_a_stretch_or_line_by_line_alike(
    fixed: tuple[int, ...],
) -> None:
    """A round that fixed a stretch of lines in order is applied by slices; any other order
    line by line: the same lines fixed, their entries, and the passed marks cleared."""
    ledger = Ledger(6)
    ledger.add_records([1, 2, 3, 4, 5, 6], [0] * 6)
    ledger.passed = bytearray([0, 1, 1, 1, 1, 1, 1])
    ats = [10 * n for n in fixed]
    ledger.apply(Settlement(1, fixed=fixed, fixed_at=ats))
    assert sorted(ledger.fixed) == sorted(fixed)
    assert [ledger.passed[n] for n in range(1, 7)] == [0 if n in fixed else 1 for n in range(1, 7)]


def test_ledger_fixed_stretch_with_a_line_not_pending_names_it() -> None:
    """One line of a stretch already settled: the error names it, nothing is adopted."""
    ledger = Ledger(5)
    ledger.add_records([1, 2, 3, 4, 5], [0] * 5)
    ledger.apply(Settlement(1, accepted=(3,)))
    with pytest.raises(InvariantBroken, match="line 3 fixed while not pending"):
        ledger.apply(Settlement(2, fixed=(2, 3, 4), fixed_at=(0, 1, 2)))
    assert list(ledger.fixed) == []
    with pytest.raises(InvariantBroken, match="do not pair up"):
        ledger.apply(Settlement(2, fixed=(4, 5), fixed_at=(0,)))
