"""The sandbox reads uploads in windows: chunked lines, spool search, taking back, streamed body."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from ldjfix.sandbox import wsgi
from ldjfix.sandbox.judge import iter_chunked_lines, iter_physical_lines
from ldjfix.sandbox.records import RecordLog
from ldjfix.sandbox.store import SandboxStore
from ldjfix.sandbox.transport import environ_for
from ldjfix.sandbox.wsgi import Spool, find_in
from tests.sandbox.test_sandbox_app import app_in, client, status, upload

NOW = "2024-01-01T00:00:00Z"
ALPHABET = b"ab\r\n \xef\xbb\xbf{}"


def chunked(data: bytes, rng: random.Random) -> Iterator[bytes]:
    """``data`` cut at random places (the first piece at least 3 bytes, as Spool reads)."""
    pos = 0
    while pos < len(data):
        size = rng.randint(3 if pos == 0 else 1, 9)
        yield data[pos : pos + size]
        pos += size


def test_sandbox_streaming_chunked_lines_match_whole_file_lines() -> None:
    """Lines found chunk by chunk are the lines found in the whole file (BOM, \\r, no last \\n)."""
    rng = random.Random(12)
    for _ in range(2000):
        data = bytes(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))
        expected = list(iter_physical_lines(data, 0, len(data)))
        assert list(iter_chunked_lines(chunked(data, rng))) == expected, data


def test_sandbox_streaming_spool_finds_and_slices_as_bytes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Spool.find and slices give what bytes do, also across its read windows."""
    monkeypatch.setattr(wsgi, "CHUNK", 4)
    rng = random.Random(5)
    for n in range(300):
        data = bytes(rng.choice(b"-\r\nab") for _ in range(rng.randint(0, 60)))
        path = tmp_path / f"spool{n}"
        path.write_bytes(data)
        fd = os.open(path, os.O_RDONLY)
        try:
            spool = Spool(fd, len(data))
            for sub in (b"\r\n--ab", b"\r\n\r\n", b"--", b"a"):
                start = rng.randint(0, len(data) + 2)
                end = rng.choice([None, rng.randint(0, len(data) + 2)])
                assert spool.find(sub, start, end) == data.find(sub, start, end)
            i, j = sorted(rng.randint(0, len(data) + 3) for _ in range(2))
            assert spool[i:j] == data[i:j]
            assert b"".join(spool.chunks(0, len(data))) == data
        finally:
            os.close(fd)


def test_sandbox_streaming_whole_file_failure_keeps_nothing_of_it(tmp_path: Path) -> None:
    """Lines accepted before a non-UTF-8 line are taken back; earlier uploads stay."""
    app = app_in(tmp_path)
    with client(app) as http:
        upload(http, "first", [{"objectId": "keep", "modifiedDate": NOW}])
        good = b"\n".join(
            orjson.dumps({"objectId": f"n{i}", "modifiedDate": NOW}) for i in range(5)
        )
        assert upload(http, "second", good + b'\n{"objectId":"x\xff"}\n').status_code == 201
        for _ in range(3):
            answer = status(http, "second")
        assert answer["status"] == "FAILED"
        assert answer["errors"] == [
            {"line": 0, "description": "The file is not valid UTF-8 (line 6)"}
        ]
    assert list(SandboxStore(tmp_path).records(42, "ACCOUNT")) == ["keep"]


def test_sandbox_streaming_counts_every_error_lists_twenty(tmp_path: Path) -> None:
    """A file bad on every line is counted whole while only 20 errors are listed."""
    app = app_in(tmp_path)
    with client(app) as http:
        bad = [
            {"objectId": f"a{i}", "modifiedDate": "2024-01-01T00:00:00.123Z"} for i in range(500)
        ]
        upload(http, "all-bad", bad)
        for _ in range(3):
            answer = status(http, "all-bad")
    assert answer["totalErrorCount"] == 500 and len(answer["errors"]) == 20
    assert [e["line"] for e in answer["errors"]] == list(range(1, 21))


def test_sandbox_streaming_own_type_reference_sees_the_store_before_the_file(
    tmp_path: Path,
) -> None:
    """A custom reference to the uploaded type resolves against what was stored before."""
    app = app_in(tmp_path)
    field = {"uniqueName": "parent", "label": "Parent", "type": "REFERENCE"}
    field["referenceTo"] = "ACCOUNT"
    with client(app) as http:
        answer = http.post(
            "/v2/crm/entity-schema",
            params={"integrationId": "42", "objectType": "ACCOUNT"},
            json=[field],
        )
        assert answer.status_code == 201, answer.text
        upload(http, "old", [{"objectId": "old", "modifiedDate": NOW}])
        rows = [
            {"objectId": "p", "modifiedDate": NOW},
            {"objectId": "c1", "modifiedDate": NOW, "parent": "p"},
            {"objectId": "c2", "modifiedDate": NOW, "parent": "old"},
        ]
        upload(http, "new", rows)
        for _ in range(3):
            answer_body = status(http, "new")
    assert [e["line"] for e in answer_body["errors"]] == [2]
    assert sorted(SandboxStore(tmp_path).records(42, "ACCOUNT")) == ["c2", "old", "p"]


def test_sandbox_streaming_in_process_body_is_read_as_produced() -> None:
    """The in-process transport pulls the upload chunk by chunk, not all before the app runs."""
    pulled: list[int] = []

    def body() -> Iterator[bytes]:
        for n in range(50):
            pulled.append(n)
            yield bytes([65 + n % 26]) * 1000

    request = httpx.Request(
        "POST", "http://sb/x", content=body(), headers={"Content-Length": "50000"}
    )
    stream = environ_for(request)["wsgi.input"]
    assert pulled == []
    assert stream.read1(10) == b"A" * 10 and pulled == [0]
    assert stream.read(1500) == b"A" * 990 + b"B" * 510 and pulled == [0, 1]
    assert len(stream.read()) == 50000 - 1510 and len(pulled) == 50
    assert stream.read1(10) == b""


def test_sandbox_streaming_spool_is_left_in_the_state_folder_never(tmp_path: Path) -> None:
    """After an upload the spooled body is gone from the state's scratch folder."""
    app = app_in(tmp_path)
    with client(app) as http:
        upload(http, "one", [{"objectId": "a", "modifiedDate": NOW}])
    assert list((tmp_path / "tmp").iterdir()) == []


def test_sandbox_streaming_uploading_process_holds_no_ids(tmp_path: Path) -> None:
    """Appending builds no in-memory fold; the first read folds it and sees every line."""
    log = RecordLog(tmp_path / "ACCOUNT.ldjson")
    with log.appending() as appender:
        for n in range(100):
            appender.add(f"a{n}", orjson.dumps({"objectId": f"a{n}", "n": n}), False)
        appender.delete("a0")
    assert log._folded is None
    assert len(log.ids()) == 99 and log.get("a7") == orjson.dumps({"objectId": "a7", "n": 7})
    with log.appending() as appender:  # a fold already held is kept in step, not re-read
        appender.add("b", orjson.dumps({"objectId": "b"}), False)
    assert log._folded is not None and "b" in log._folded.live
    assert log.live() == RecordLog(log.path).live()


def test_find_in_finds_what_bytes_find_finds() -> None:
    """The delimiter search gives bytes.find's answer: random bodies of few bytes (many false
    starts), a needle cut from the body, none at all, and a body that is all first bytes."""
    rng = random.Random(3)
    for _ in range(5000):
        alphabet = rng.choice([b"ab\r\n-", b"\r", b"abc", b"\r\n--xy"])
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        sub = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        if rng.random() < 0.3 and data:
            at = rng.randint(0, len(data))
            sub = data[at : at + rng.randint(0, 12)]
        assert find_in(data, sub) == data.find(sub), (data, sub)
    flood = b"\r" * 100_000 + b"\r\n--boundary"
    assert find_in(flood, b"\r\n--boundary") == flood.find(b"\r\n--boundary")
