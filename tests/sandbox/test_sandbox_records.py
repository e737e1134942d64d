"""The sandbox's append-only record log: folding, tail reads, tombstones, compaction."""

from __future__ import annotations

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
