"""`ldjfix merge`: edited records back into place, and every bad FIXED file refused cleanly."""

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
    b"\xef\xbb\xbf"
    b'{"objectId":"a1","name":"One"}\n'
    b'{"objectId":"a2", "name": "",  "domain":"b.com"}\r\n'
    b"\n"
    b'{"objectId":"a4","name":"caf\xe9"}\n'
    b'{"objectId":"a5","name":"Five","n":1.0}\n'
    b'{"objectId":"a6","name":"Six","tags":["x","y"]}\n'
    b'{"objectId":"a7","name":"Seven","count":3}'
)
ERRORS = [(1, "Bad [name]"), (2, "Mandatory field [name] is missing or empty")]
ERRORS += [(4, "Unable to parse")]
ERRORS += [(5, "Bad [n]"), (6, "Bad [tags]"), (7, "Bad [count]")]


def source_lines() -> list[bytes]:
    """The source's lines with their endings, BOM left on line 1."""
    return SOURCE.splitlines(keepends=True)  # no lone \r or U+2028 in SOURCE


def run(*args: str, stdin: bytes | None = None) -> Any:
    """Run an ldjfix command in-process."""
    return CliRunner().invoke(cli, list(args), input=stdin)


@pytest.fixture
def extracted(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """The source file and the records `ldjfix extract` wrote for ERRORS."""
    source = tmp_path / "accounts.ldjson"
    source.write_bytes(SOURCE)
    status = tmp_path / "status.json"
    errors = [{"line": n, "description": d} for n, d in ERRORS]
    status.write_bytes(orjson.dumps({"status": "FAILED", "errors": errors}))
    failing = tmp_path / "failing.ldjson"
    result = run("extract", str(source), "--status-file", str(status), "-o", str(failing))
    assert result.exit_code == 0, result.output
    return source, [orjson.loads(line) for line in failing.read_bytes().splitlines()]


def write_fixed(folder: Path, lines: list[bytes]) -> Path:
    """Write an edited FIXED file from raw lines."""
    path = folder / "fixed.ldjson"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def edit_everything(records: list[dict[str, Any]]) -> list[bytes]:
    """Reorder, delete one, reformat one, change values, repair the raw line."""
    by_line = {r["_ldjfix"]["line"]: r for r in records}
    by_line[1]["name"] = "Uno"  # line 1 follows the BOM, which must stay in place
    by_line[2]["name"] = "Two"
    by_line[4]["_raw"] = '{"objectId":"a4","name":"Café"}'
    del by_line[6]  # deleted from FIXED: the source line must survive
    reformatted = dict(reversed(list(by_line[7].items())))  # same values, other key order
    return [
        orjson.dumps(reformatted, option=orjson.OPT_INDENT_2).replace(b"\n", b" "),
        orjson.dumps(by_line[4]),
        orjson.dumps({**by_line[5], "n": 2}),
        orjson.dumps(by_line[2]),
        orjson.dumps(by_line[1]),
        b"",
    ]


def test_merge_round_trip_changes_only_the_edited_lines(extracted: Any, tmp_path: Path) -> None:
    """extract, edit (reorder, delete, reformat, change), merge: only changed lines differ."""
    source, records = extracted
    fixed = write_fixed(tmp_path, edit_everything(records))
    out = tmp_path / "out.ldjson"
    result = run("merge", str(source), str(fixed), "-o", str(out))
    assert result.exit_code == 0
    expected = source_lines()
    expected[0] = b'\xef\xbb\xbf{"objectId":"a1","name":"Uno"}\n'
    expected[1] = b'{"objectId":"a2","name":"Two","domain":"b.com"}\r\n'  # keeps \r\n
    expected[3] = '{"objectId":"a4","name":"Café"}\n'.encode()
    expected[4] = b'{"objectId":"a5","name":"Five","n":2}\n'
    assert out.read_bytes() == b"".join(expected)  # BOM, blank line, lines 6 and 7 untouched
    assert result.stderr == (
        f"wrote {out}: 4 record(s) corrected; 1 record(s) in {fixed} were unchanged; "
        f"2 other line(s) of {source} copied unchanged.\n"
    )


def test_merge_only_corrected_writes_clean_records(extracted: Any, tmp_path: Path) -> None:
    """--only-corrected writes the corrected records only, in source order, without _ldjfix."""
    source, records = extracted
    fixed = write_fixed(tmp_path, edit_everything(records))
    out = tmp_path / "resubmit.ldjson"
    result = run("merge", str(source), str(fixed), "-o", str(out), "--only-corrected")
    assert result.exit_code == 0
    assert out.read_bytes() == (
        b'{"objectId":"a1","name":"Uno"}\n'
        b'{"objectId":"a2","name":"Two","domain":"b.com"}\n'
        + '{"objectId":"a4","name":"Café"}\n'.encode()
        + b'{"objectId":"a5","name":"Five","n":2}\n'
    )
    assert result.stderr == (
        f"wrote 4 corrected record(s) to {out}; 1 record(s) in {fixed} were unchanged "
        "and left out.\n"
    )


def test_merge_keeps_number_types_apart(extracted: Any, tmp_path: Path) -> None:
    """Changing 3 to 3.0 or true counts as a change, not as the same value."""
    source, records = extracted
    seven = next(r for r in records if r["_ldjfix"]["line"] == 7)
    fixed = write_fixed(tmp_path, [orjson.dumps({**seven, "count": True})])
    result = run("merge", str(source), str(fixed), "-o", "-", "--only-corrected")
    assert result.exit_code == 0
    assert result.stdout == '{"objectId":"a7","name":"Seven","count":true}\n'


def test_merge_fixed_from_stdin_subprocess(extracted: Any, tmp_path: Path) -> None:
    """A real process reads FIXED from stdin and writes the whole file."""
    source, records = extracted
    two = next(r for r in records if r["_ldjfix"]["line"] == 2)
    fixed = orjson.dumps({**two, "name": "Two"}) + b"\n"
    out = tmp_path / "out.ldjson"
    args = ["merge", str(source), "-", "-o", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "ldjfix", *args], input=fixed, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    expected = source_lines()
    expected[1] = b'{"objectId":"a2","name":"Two","domain":"b.com"}\r\n'
    assert out.read_bytes() == b"".join(expected)
    assert b"1 record(s) corrected; 0 record(s) in - were unchanged" in done.stderr


def origin(line: int, content: bytes) -> dict[str, Any]:
    """Bookkeeping as extract writes it for a source line."""
    return {"line": line, "sha256": hashlib.sha256(content).hexdigest()}


GOOD = origin(5, b'{"objectId":"a5","name":"Five","n":1.0}')
BAD_FIXED = [
    (
        [b"{", b'  "objectId": "a5"', b"}"],
        "fixed.ldjson line 1 is not a JSON object (invalid JSON: unexpected end of data at "
        "character 2). Keep every record on one line as extract wrote it: LDJSON has no "
        "pretty-printed (multi-line) records.",
    ),
    (
        [b'{"objectId":"a5"}'],
        "fixed.ldjson line 1 has no _ldjfix key, so it cannot be put back. Only records written "
        "by `ldjfix extract` can be merged; keep their _ldjfix key as it is.",
    ),
    (
        [orjson.dumps({"_ldjfix": GOOD, "n": 2}), b"", orjson.dumps({"_ldjfix": GOOD, "n": 3})],
        "fixed.ldjson lines 1 and 3 both claim source line 5. Keep one of the two records and "
        "delete the other.",
    ),
    (
        [orjson.dumps({"_ldjfix": {**GOOD, "line": 70}, "n": 2})],
        "fixed.ldjson line 1 claims line 70 of accounts.ldjson, which has only 7 lines. Merge "
        "into the same file you extracted from.",
    ),
    (
        [orjson.dumps({"_ldjfix": origin(5, b"something else"), "n": 2})],
        "line 5 of accounts.ldjson is not the line extracted to fixed.ldjson line 1 (its content "
        "differs). Merge into the same file you extracted from.",
    ),
    (
        [orjson.dumps({"_ldjfix": {"line": "5"}, "n": 2})],
        "fixed.ldjson line 1: _ldjfix.line is missing or not a line number.",
    ),
    (
        [orjson.dumps({"_ldjfix": {"line": 5, "sha256": "abc"}, "n": 2})],
        "fixed.ldjson line 1: _ldjfix.sha256 is missing or not a SHA-256.",
    ),
    (
        [orjson.dumps({"_ldjfix": GOOD})],
        "fixed.ldjson line 1 holds no fields besides _ldjfix. Delete the whole line to keep the "
        "source line as it is.",
    ),
    (
        [orjson.dumps({"_ldjfix": GOOD, "_raw": "{}", "name": "x"})],
        "fixed.ldjson line 1 mixes _raw with other fields. Either repair the text in _raw, or "
        "replace _raw by the fields.",
    ),
    (
        [orjson.dumps({"_ldjfix": GOOD, "_raw": '{"objectId": "a5",'})],
        "fixed.ldjson line 1: _raw is still not a JSON object. Repair the text in _raw, or "
        "delete the line to keep the source line.",
    ),
]


@pytest.mark.parametrize(("lines", "message"), BAD_FIXED)
@pytest.mark.parametrize("only_corrected", [False, True])
def test_merge_bad_fixed_exits_3_and_leaves_no_output(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[bytes],
    message: str,
    only_corrected: bool,
) -> None:
    """Each bad FIXED file: one 'Error:' line naming the line, exit 3, the output untouched."""
    monkeypatch.chdir(tmp_path)
    Path("accounts.ldjson").write_bytes(SOURCE)
    write_fixed(tmp_path, lines)
    Path("kept.ldjson").write_bytes(b"old\n")
    flags = ["--only-corrected"] if only_corrected else []
    for out in ("new.ldjson", "kept.ldjson"):
        result = run("merge", "accounts.ldjson", "fixed.ldjson", "-o", out, *flags)
        assert result.exit_code == 3
        assert result.stderr == f"Error: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "accounts.ldjson",
        "fixed.ldjson",
        "kept.ldjson",
    ]
    assert Path("kept.ldjson").read_bytes() == b"old\n"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["missing.ldjson", "fixed.ldjson"], 3, "input file missing.ldjson does not exist."),
        (["accounts.ldjson", "nope.ldjson"], 3, "fixed file nope.ldjson does not exist."),
        (["-", "-"], 2, "FILE and FIXED.ldjson cannot both be - (stdin)."),
    ],
)
def test_merge_bad_invocations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], code: int, message: str
) -> None:
    """Missing inputs are exit 3 and both from stdin exit 2, each one line; no output left."""
    monkeypatch.chdir(tmp_path)
    Path("accounts.ldjson").write_bytes(SOURCE)
    write_fixed(tmp_path, [orjson.dumps({"_ldjfix": GOOD, "n": 2})])
    result = run("merge", *args, "-o", "out.ldjson")
    assert result.exit_code == code
    assert result.stderr.startswith(f"Error: {message}") and result.stderr.count("\n") == 1
    assert not Path("out.ldjson").exists()


def test_merge_refuses_to_overwrite_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o naming the source itself is exit 2 and the source stays as it was."""
    monkeypatch.chdir(tmp_path)
    Path("accounts.ldjson").write_bytes(SOURCE)
    write_fixed(tmp_path, [orjson.dumps({"_ldjfix": GOOD, "n": 2})])
    result = run("merge", "accounts.ldjson", "fixed.ldjson", "-o", "./accounts.ldjson")
    assert result.exit_code == 2
    assert "ldjfix never overwrites its input" in result.stderr
    assert Path("accounts.ldjson").read_bytes() == SOURCE


def test_merge_accepts_fixed_saved_with_bom_and_crlf(extracted: Any, tmp_path: Path) -> None:
    """An editor that saves FIXED with a BOM and \\r\\n endings does not confuse merge."""
    source, records = extracted
    five = next(r for r in records if r["_ldjfix"]["line"] == 5)
    fixed = tmp_path / "fixed.ldjson"
    fixed.write_bytes(b"\xef\xbb\xbf" + orjson.dumps({**five, "n": 5}) + b"\r\n\r\n")
    result = run("merge", str(source), str(fixed), "-o", "-", "--only-corrected")
    assert result.exit_code == 0
    assert result.stdout == '{"objectId":"a5","name":"Five","n":5}\n'


def test_merge_empty_record_left_as_extracted(tmp_path: Path) -> None:
    """A source record that is {} comes back unchanged when FIXED leaves it as extracted."""
    source = tmp_path / "s.ldjson"
    source.write_bytes(b'{"objectId":"a1"}\n{ }\n')
    status = tmp_path / "status.json"
    status.write_bytes(b'{"status": "FAILED", "errors": [{"line": 2, "description": "x"}]}')
    failing = tmp_path / "failing.ldjson"
    assert (
        run("extract", str(source), "--status-file", str(status), "-o", str(failing)).exit_code == 0
    )
    assert orjson.loads(failing.read_bytes())["_ldjfix"]["line"] == 2
    out = tmp_path / "out.ldjson"
    result = run("merge", str(source), str(failing), "-o", str(out))
    assert result.exit_code == 0 and out.read_bytes() == source.read_bytes()
    assert "0 record(s) corrected; 1 record(s) in" in result.stderr
