"""`ldjfix extract`: failing records out, each marked with the line and content it came from."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from ldjfix.cli import cli

SOURCE = (
    b'{"objectId":"a1","name":"One"}\n'
    b'{"objectId":"a2", "name": "",  "domain":"b.com"}\r\n'
    b"\n"
    b'{"objectId":"a4","name":"caf\xe9"}\n'
    b'{"objectId":"a5","name":"Five"}\n'
    b'{"objectId":"a6","name":"Six"}'
)


def lines_of(data: bytes) -> list[bytes]:
    """Line contents of ``data`` (split on \\n, \\r\\n ending removed)."""
    return [line.removesuffix(b"\r") for line in data.split(b"\n")]


def write_status(folder: Path, *errors: tuple[int, str]) -> Path:
    """Save a FAILED request status listing ``errors`` and return its path."""
    doc = {"status": "FAILED", "errors": [{"line": n, "description": d} for n, d in errors]}
    path = folder / "status.json"
    path.write_bytes(orjson.dumps(doc))
    return path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A small source file with a \\r\\n line, a blank line, bad UTF-8 and no final newline."""
    path = tmp_path / "accounts.ldjson"
    path.write_bytes(SOURCE)
    return path


def extract(*args: str) -> Any:
    """Run `ldjfix extract` in-process."""
    return CliRunner().invoke(cli, ["extract", *args])


def test_extract_writes_marked_records_in_source_order(source: Path, tmp_path: Path) -> None:
    """One line per failing source line, bookkeeping first, the record's bytes as they were."""
    status = write_status(
        tmp_path, (6, "Bad [name]"), (2, "Mandatory field [name] is missing or empty"), (2, "x")
    )
    out = tmp_path / "failing.ldjson"
    result = extract(str(source), "--status-file", str(status), "-o", str(out))
    assert result.exit_code == 0
    warning, summary = result.stderr.splitlines()
    assert warning.startswith(f"warning: {source} has blank lines and \\r\\n line endings;")
    assert summary == (
        f"extracted 2 record(s) to {out}; edit them, then run "
        f"ldjfix merge {source} {out} -o OUT.ldjson"
    )
    written = out.read_bytes().splitlines()
    line2 = lines_of(SOURCE)[1]
    assert written[0] == (
        b'{"_ldjfix":{"line":2,"sha256":"'
        + hashlib.sha256(line2).hexdigest().encode()
        + b'","errors":["Mandatory field [name] is missing or empty","x"]},'
        + b'"objectId":"a2", "name": "",  "domain":"b.com"}'
    )
    assert list(orjson.loads(written[1])) == ["_ldjfix", "objectId", "name"]
    assert orjson.loads(written[1])["_ldjfix"]["line"] == 6


def test_extract_lines_without_a_record_become_raw_text(source: Path, tmp_path: Path) -> None:
    """Blank and invalid-UTF-8 lines are written as _raw text so they can be repaired."""
    status = write_status(tmp_path, (4, "Unable to parse"), (3, "blank"))
    out = tmp_path / "failing.ldjson"
    result = extract(str(source), "--status-file", str(status), "-o", str(out))
    assert result.exit_code == 0
    assert "extracted 2 record(s) (2 not JSON objects, as _raw text)" in result.stderr
    blank, bad = (orjson.loads(line) for line in out.read_bytes().splitlines())
    assert blank["_raw"] == "" and blank["_ldjfix"]["line"] == 3
    assert bad["_raw"] == '{"objectId":"a4","name":"caf\ufffd"}'
    assert bad["_ldjfix"]["sha256"] == hashlib.sha256(lines_of(SOURCE)[3]).hexdigest()


def test_extract_past_the_end_refuses_and_leaves_no_file(source: Path, tmp_path: Path) -> None:
    """A status naming a line past the end is exit 3, and the output is not written."""
    status = write_status(tmp_path, (2, "x"), (40, "y"))
    out = tmp_path / "failing.ldjson"
    result = extract(str(source), "--status-file", str(status), "-o", str(out))
    assert result.exit_code == 3
    assert result.stderr.endswith(
        f"Error: the status names line 40 but {source} has only 6 lines: "
        "is this the file that was uploaded? Extract from the exact file the status belongs to.\n"
    )
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "accounts.ldjson",
        "status.json",
    ]


def test_extract_failure_keeps_an_existing_output(source: Path, tmp_path: Path) -> None:
    """When extract fails, an existing output file keeps its old content."""
    status = write_status(tmp_path, (99, "y"))
    out = tmp_path / "failing.ldjson"
    out.write_bytes(b"old\n")
    result = extract(str(source), "--status-file", str(status), "-o", str(out))
    assert result.exit_code == 3 and out.read_bytes() == b"old\n"


def test_extract_refuses_an_already_extracted_file(tmp_path: Path) -> None:
    """Extracting from a file whose records carry _ldjfix is exit 3: it is not a source."""
    marked = tmp_path / "failing.ldjson"
    marked.write_bytes(b'{"_ldjfix":{"line":2,"sha256":"00"},"objectId":"a"}\n')
    status = write_status(tmp_path, (1, "x"))
    result = extract(str(marked), "--status-file", str(status), "-o", str(tmp_path / "o"))
    assert result.exit_code == 3
    assert f"line 1 of {marked} already carries _ldjfix bookkeeping" in result.stderr
    assert not (tmp_path / "o").exists()


def test_extract_line_zero_only_writes_an_empty_file(source: Path, tmp_path: Path) -> None:
    """A file-level error names no record: nothing is extracted and stderr says why."""
    status = write_status(tmp_path, (0, "The file could not be read"))
    out = tmp_path / "failing.ldjson"
    result = extract(str(source), "--status-file", str(status), "-o", str(out))
    assert result.exit_code == 0 and out.read_bytes() == b""
    assert "file-level error (line 0), not extracted: The file could not be read" in result.stderr


def test_extract_refuses_to_overwrite_its_input(source: Path, tmp_path: Path) -> None:
    """-o naming the source file itself is a usage error (exit 2); the source is untouched."""
    status = write_status(tmp_path, (1, "x"))
    result = extract(str(source), "--status-file", str(status), "-o", str(source))
    assert result.exit_code == 2
    assert "ldjfix never overwrites its input" in result.stderr
    assert source.read_bytes() == SOURCE


def test_extract_to_stdout_subprocess(source: Path, tmp_path: Path) -> None:
    """A real process with -o - writes the records to stdout and the summary to stderr."""
    status = write_status(tmp_path, (5, "Bad [name]"))
    args = ["extract", str(source), "--status-file", str(status), "-o", "-"]
    done = subprocess.run([sys.executable, "-m", "ldjfix", *args], capture_output=True, check=False)
    assert done.returncode == 0
    assert orjson.loads(done.stdout)["objectId"] == "a5"
    assert done.stderr.decode().splitlines()[-1] == "extracted 1 record(s) to -"
