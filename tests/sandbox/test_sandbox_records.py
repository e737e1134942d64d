"""The sandbox's append-only record log: folding, tail reads, tombstones, compaction."""

from __future__ import annotations

import contextlib
from pathlib import Path

import orjson
import pytest

from ldjfix.sandbox import records as sandbox_records
from ldjfix.sandbox.records import RecordLog


def line(key: str, **fields: object) -> bytes:
    """One raw record line."""
    return orjson.dumps({"objectId": key, **fields})


def test_sandbox_records_last_line_wins_and_tombstones_delete(tmp_path: Path) -> None:
    """Upserts replace earlier lines of the same objectId; deletions remove them."""
    log = RecordLog(tmp_path / "ACCOUNT.ldjson")
    log.append({"a": line("a", v=1), "b": line("b")}, set())
    log.append({"a": line("a", v=2)}, {"b"})
    assert log.live() == {"a": line("a", v=2)}
    assert RecordLog(log.path).live() == {"a": line("a", v=2)}  # a fresh reader agrees


def test_sandbox_records_second_reader_sees_appends_by_tail(tmp_path: Path) -> None:
    """A reader that already folded the log reads only what was appended since."""
    path = tmp_path / "DEAL.ldjson"
    writer, reader = RecordLog(path), RecordLog(path)
    writer.append({"a": line("a")}, set())
    assert set(reader.live()) == {"a"}
    folded_to = path.stat().st_size
    writer.append({"b": line("b")}, set())
    with open(path, "ab") as stream:
        stream.write(b'{"objectId": "half')  # a line still being written is not read yet
    assert set(reader.live()) == {"a", "b"}
    assert reader._folded is not None and reader._folded.size > folded_to


def test_sandbox_records_compaction_keeps_the_live_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log grown past twice its live data is rewritten; readers then start over."""
    monkeypatch.setattr(sandbox_records, "_COMPACT_AFTER", 0)
    path = tmp_path / "LEAD.ldjson"
    log, reader = RecordLog(path), RecordLog(path)
    for n in range(5):
        log.append({"a": line("a", n=n)}, set())
        reader.live()
    assert path.read_bytes().count(b"\n") <= 2
    log.append({"b": line("b")}, {"a"})
    assert reader.live() == {"b": line("b")} == RecordLog(path).live()


def test_sandbox_records_appends_in_batches_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines written a batch at a time land in order, each with its newline, folded alike."""
    monkeypatch.setattr(sandbox_records, "_BATCH", 3)
    path = tmp_path / "ACCOUNT.ldjson"
    reader = RecordLog(path)
    reader.append({"old": line("old")}, set())
    assert set(reader.live()) == {"old"}  # a reader with a fold keeps it in step as it writes
    lines = [line(f"k{n}", n=n) for n in range(8)]  # two full batches and a part one
    with reader.appending() as appender:
        for n, raw in enumerate(lines):
            appender.add(f"k{n}", raw, deleted=False)
        appender.delete("old")
    tombstone = orjson.dumps({"objectId": "old", "isDeleted": True})
    assert path.read_bytes() == b"".join(raw + b"\n" for raw in [line("old"), *lines, tombstone])
    expected = {f"k{n}": raw for n, raw in enumerate(lines)}
    assert reader.live() == expected == RecordLog(path).live()


@pytest.mark.parametrize("how", ["discard", "raise"])
def test_sandbox_records_taken_back_across_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A block discarded or failing after some batches were written leaves the log as it was."""
    monkeypatch.setattr(sandbox_records, "_BATCH", 2)
    path = tmp_path / "ACCOUNT.ldjson"
    log = RecordLog(path)
    log.append({"keep": line("keep")}, set())
    before = path.read_bytes()
    failing = pytest.raises(RuntimeError) if how == "raise" else contextlib.nullcontext()
    with failing, log.appending() as appender:
        for n in range(5):
            appender.add(f"n{n}", line(f"n{n}"), deleted=False)
        if how == "raise":
            raise RuntimeError("the upload failed mid-way")
        appender.discard()
    assert path.read_bytes() == before
    assert log.live() == {"keep": line("keep")}
