"""Tests of the store of fixed records and of fixes.jsonl grown a round at a time."""

from __future__ import annotations

from array import array
from pathlib import Path

import orjson

from ldjfix.fixing.fixer import Fix
from ldjfix.fixing.fixlog import fix_docs
from ldjfix.ldjson.lines import BOM
from ldjfix.loop.fixedstore import FixedRecords, apply_changes, changes
from ldjfix.loop.fixeslog import FixesLog


def _source(tmp_path: Path) -> tuple[Path, array[int]]:
    lines = [
        BOM + b'{"objectId":"a","d":"x.1","n":null}',
        b"",
        b"{broken",
        b'{"objectId":"c","k":[1]}',
    ]
    path = tmp_path / "src.ldjson"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    offsets, at = array("q", [0]), 0
    for raw in path.read_bytes().splitlines(keepends=True):
        offsets.append(at)
        at += len(raw)
    return path, offsets


def test_loop_fixedstore_changes_rebuild_the_record_exactly() -> None:
    """Set, add, remove and null survive the round trip; key order follows the fixed record."""
    before = {"objectId": "a", "d": "x.1", "n": None, "gone": 1}
    after = {"objectId": "a", "d": "x", "n": None, "new": None}
    rebuilt = apply_changes(dict(before), orjson.loads(orjson.dumps(changes(before, after))))
    assert rebuilt == after and list(rebuilt) == list(after)
    assert changes(None, after) == {"record": after}


def test_loop_fixedstore_reads_fixed_records_from_source_and_store(tmp_path: Path) -> None:
    """A fixed record reads back from its source line (BOM and CRLF aside) or whole."""
    source, offsets = _source(tmp_path)
    store = FixedRecords(source, tmp_path / "fixed.jsonl", offsets)
    first = store.put(1, {"objectId": "a", "d": "x", "n": None})
    third = store.put(3, {"objectId": "b"})  # the broken line, repaired: kept whole
    fourth = store.put(4, {"objectId": "c", "k": [1, 2]})
    store.sync()
    for line, at in ((1, first), (3, third), (4, fourth)):
        store.adopt(line, at)
    assert store[1] == {"objectId": "a", "d": "x", "n": None}
    assert store[3] == {"objectId": "b"} and store[4] == {"objectId": "c", "k": [1, 2]}
    assert 2 not in store and len(store) == 3 and list(store) == [1, 3, 4]
    assert (
        store.content(1, BOM + b'{"objectId":"a","d":"x.1","n":null}')
        == b'{"objectId":"a","d":"x","n":null}'
    )
    again = FixedRecords(source, tmp_path / "fixed.jsonl", offsets)
    again.adopt(4, fourth)  # a resumed job: entries count once a settlement names them
    assert again[4] == {"objectId": "c", "k": [1, 2]} and 1 not in again
    store.close()
    again.close()


def test_loop_fixedstore_sizes_and_finds_what_it_stored(tmp_path: Path) -> None:
    """Sizes known at put equal the rebuilt record's; a round's stretch gives each entry back."""
    source, offsets = _source(tmp_path)
    store = FixedRecords(source, tmp_path / "fixed.jsonl", offsets)
    start = store.end
    ats = [store.put(4, {"objectId": "c", "k": [1, 2]}), store.put(1, {"objectId": "a"})]
    ats.append(store.put(3, {"objectId": "b", "é": "\u2028"}))
    store.sync()
    found = store.entries_at([1, 3, 4], start, store.end)
    assert found is not None and list(found) == [ats[1], ats[2], ats[0]]
    for line, at in zip((1, 3, 4), found, strict=True):
        store.adopt(line, at)
    again = FixedRecords(source, tmp_path / "fixed.jsonl", offsets)  # sizes it by a rebuild
    for line in (1, 3, 4):
        again.adopt(line, store.index[line] - 1)
        assert (
            store.upload_size(line) == again.upload_size(line) == len(orjson.dumps(store[line])) + 1
        )
    assert store.upload_size(2) is None
    every = [4, 2, 1, 3, 99]  # unfixed lines (2, and 99 past the store) keep the given size
    for lines in (every, [4, 1, 3]):  # and every one fixed (the store sized each when put)
        for sized in (store, again):
            sizes = array("I", [7] * len(lines))
            sized.upload_sizes(lines, sizes)
            assert list(sizes) == [sized.upload_size(n) or 7 for n in lines]
    assert store.entries_at([1, 3], start, store.end) is None  # the stretch names line 4 too
    assert store.entries_at([1, 3, 4], start + 1, store.end) is None  # not where entries start
    assert store.entries_at([1, 3, 4], 10**30, 10**30 + 1) is None  # a damaged settlement's span
    store.close()
    again.close()


def test_loop_fixedstore_reads_an_older_store_and_grows_it(tmp_path: Path) -> None:
    """Entries an older ldjfix wrote (``[line, change]``) read as before, beside new ones."""
    source, offsets = _source(tmp_path)
    path = tmp_path / "fixed.jsonl"
    old = [[1, {"set": {"d": "x", "set": 1}, "del": ["n"]}], [3, {"record": {"objectId": "b"}}]]
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in old))
    store = FixedRecords(source, path, offsets)
    store.adopt(1, 0)
    store.adopt(3, len(orjson.dumps(old[0])) + 1)
    store.adopt(4, store.put(4, {"objectId": "c", "set": {"x": 1}}))
    assert store[1] == {"objectId": "a", "d": "x", "set": 1} and store[3] == {"objectId": "b"}
    assert store[4] == {"objectId": "c", "set": {"x": 1}}  # k removed, a field named "set" added
    assert path.read_bytes().splitlines()[2] == b'[4,{"set":{"x":1}},["k"]]'
    store.close()


def test_loop_fixedstore_log_cut_back_to_the_last_settlement(tmp_path: Path) -> None:
    """What a killed run appended after its last settlement is cut off on resume."""
    log = FixesLog(tmp_path / "fixes.jsonl")
    log.cut(0)
    log.write([Fix(1, "a", "d", "x.1", "x", "rule 1 (field 'd'): reformat_datetime")])
    settled = log.sync()
    log.write([Fix(2, "b", "d", "y.1", "y", "unsettled")])
    log.sync()
    log.close()
    resumed = FixesLog(tmp_path / "fixes.jsonl")
    resumed.cut(settled)
    assert [f["line"] for f in fix_docs(tmp_path / "fixes.jsonl")] == [1]


def test_loop_fixedstore_log_resumed_refers_to_the_declarations_it_kept(tmp_path: Path) -> None:
    """A resumed log declares again only the kinds whose declaration was cut off."""
    path = tmp_path / "fixes.jsonl"
    log = FixesLog(path)
    log.cut(0)
    log.write([Fix(1, "a", "d", "x.1", "x", "kept")])
    settled = log.sync()
    log.write([Fix(2, "b", "e", 1, 2, "cut off")])
    log.close()
    resumed = FixesLog(path)
    resumed.cut(settled)
    resumed.write([Fix(3, "c", "d", "z.1", "z", "kept"), Fix(4, "d", "e", 3, 4, "cut off")])
    resumed.close()
    declarations = [x for x in path.read_bytes().splitlines() if x.startswith(b"{")]
    assert [orjson.loads(x)["why"] for x in declarations] == ["kept", "cut off"]
    assert [(f["line"], f["field"], f["why"]) for f in fix_docs(path)] == [
        (1, "d", "kept"),
        (3, "d", "kept"),
        (4, "e", "cut off"),
    ]
