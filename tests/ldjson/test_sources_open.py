"""The one source opener: what it opened, its identity, spools for streams, changes noticed."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.ldjson.sources import (
    Kind,
    SourceChanged,
    changed,
    check_unchanged,
    is_open_source,
    open_input,
    open_source,
)

DATA = b'{"objectId":"a"}\n{"objectId":"b"}\n'


def test_sources_regular_file_is_read_in_place(tmp_path: Path) -> None:
    """A regular file is not copied; its identity is its stat; the SHA-256 is of its bytes."""
    path = tmp_path / "src.ldjson"
    path.write_bytes(DATA)
    with open_source(path) as source:
        assert (source.kind, source.spooled, source.path) == (Kind.FILE, False, path)
        assert source.identity.size == len(DATA)
        assert source.sha256 == hashlib.sha256(DATA).hexdigest()
        with open_input(source) as stream:
            assert stream.read() == DATA


def test_sources_fifo_is_spooled_once_and_removed_after(tmp_path: Path) -> None:
    """A FIFO is copied to a spool that reads back whole, any number of times; then removed."""
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(DATA))
    writer.start()
    with open_source(fifo, spool_dir=tmp_path) as source:
        writer.join()
        assert (source.kind, source.spooled) == (Kind.FIFO, True)
        for _ in range(2):
            with open_input(source) as stream:
                assert stream.read() == DATA
        spool = source.path
    assert not spool.exists()


def test_sources_spool_kept_as_survives_the_block(tmp_path: Path) -> None:
    """keep_as moves the spool into place (a job folder's source.ldjson) and it stays."""
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    threading.Thread(target=lambda: fifo.write_bytes(DATA)).start()
    with open_source(fifo, spool_dir=tmp_path) as source:
        kept = source.keep_as(tmp_path / "source.ldjson")
        assert kept.sha256 == source.sha256
    assert (tmp_path / "source.ldjson").read_bytes() == DATA


@pytest.mark.parametrize(
    ("act", "words"),
    [
        (lambda p: p.write_bytes(DATA + b"{}\n"), "grew"),
        (lambda p: p.write_bytes(DATA[:5]), "truncated"),
        (lambda p: p.unlink(), "deleted"),
        (
            lambda p: (p.with_name("x").write_bytes(DATA), os.replace(p.with_name("x"), p)),
            "replaced",
        ),
    ],
    ids=["grew", "truncated", "deleted", "replaced"],
)
def test_sources_change_is_noticed_on_the_next_read(
    tmp_path: Path, act: object, words: str
) -> None:
    """Any change after opening makes the next read raise SourceChanged (exit 3), saying how."""
    path = tmp_path / "src.ldjson"
    path.write_bytes(DATA)
    with open_source(path) as source:
        assert changed(source) is None
        act(path)  # type: ignore[operator]
        with pytest.raises(SourceChanged, match=words) as caught, open_input(source):
            pass
        assert caught.value.exit_code == 3
        with pytest.raises(SourceChanged):
            check_unchanged(source)


def test_sources_registry_forgets_a_deleted_source(tmp_path: Path) -> None:
    """An output is refused only while it is an open source, never a file reusing its inode."""
    path = tmp_path / "src.ldjson"
    path.write_bytes(DATA)
    with open_source(path):
        assert is_open_source(os.stat(path))
        path.unlink()
        other = tmp_path / "new.json"
        other.write_bytes(b"{}")
        assert not is_open_source(os.stat(other))
    path.write_bytes(DATA)
    assert not is_open_source(os.stat(path))


def test_sources_refusals(tmp_path: Path) -> None:
    """Missing and folder: exit 3; a device: exit 2 with a hint."""
    with pytest.raises(InputProblem, match="does not exist"), open_source(tmp_path / "no"):
        pass
    with pytest.raises(InputProblem, match="is a folder"), open_source(tmp_path):
        pass
    with pytest.raises(UsageProblem, match="is a device") as caught, open_source("/dev/zero"):
        pass
    assert caught.value.exit_code == 2
