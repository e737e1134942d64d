"""Data never drives the terminal: escapes, carriage returns and bidi overrides are shown escaped.

Each command runs as a real process writing to a real pty (validate, annotate) or to pipes a
person's terminal would get (interactive fix, run's summary); whatever the records and Gong's
descriptions hold, no ESC, BEL, CR, C1 control or bidi override reaches the output raw.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from ldjfix.ldjson.printable import safe, safe_lines

PWNED = "\x1b]0;PWNED\x07\x1b[2J"
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\u2028")


def _on_pty(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``ldjfix ARGS`` with stdout and stderr on a pty; its exit code and all it printed."""
    leader, follower = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1"}  # ldjfix's own colour codes are not the data's
    process = subprocess.Popen(
        [sys.executable, "-m", "ldjfix", *args], stdout=follower, stderr=follower, cwd=cwd, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    # the pty turns "\n" into "\r\n" on output: those CRs are the terminal's, not the data's
    return process.wait(timeout=30), b"".join(chunks).decode().replace("\r\n", "\n")


def _assert_clean(text: str) -> None:
    for ch in RAW:
        assert ch not in text, (ch, text)


def test_terminal_validate_escapes_an_object_id_that_retitles_the_window(tmp_path: Path) -> None:
    """The objectId ``ESC ] 0;PWNED BEL ESC [2J`` is printed escaped, not obeyed."""
    source = tmp_path / "src.ldjson"
    source.write_text(json.dumps({"objectId": PWNED + "\u202e", "name": "x"}) + "\n")
    code, text = _on_pty(["validate", str(source), "-t", "ACCOUNT"], tmp_path)
    assert code == 1
    _assert_clean(text)
    assert "\\e]0;PWNED\\u0007\\e[2J\\u202e" in text


def test_terminal_annotate_escapes_a_carriage_return_in_gong_description(tmp_path: Path) -> None:
    """A CR (and a C1 CSI) in a description would overwrite the line: shown as \\r and \\u009b."""
    source = tmp_path / "src.ldjson"
    source.write_text(json.dumps({"objectId": "a\u2028b", "name": "x"}) + "\n")
    status = tmp_path / "status.json"
    errors = [{"line": 1, "description": "bad\rGOOD \x9b2J"}, {"line": 0, "description": "\r!"}]
    status.write_text(json.dumps({"status": "FAILED", "errors": errors}))
    code, text = _on_pty(["annotate", str(source), "--status-file", str(status)], tmp_path)
    assert code == 1
    _assert_clean(text)
    assert "bad\\rGOOD \\u009b2J" in text and "objectId a\\u2028b" in text


def test_terminal_interactive_fix_escapes_records_and_descriptions(tmp_path: Path) -> None:
    """The interactive fixer shows the record and Gong's error with every control escaped."""
    source = tmp_path / "src.ldjson"
    record = {"objectId": "d1", "modifiedDate": "2024-01-01T00:00:00Z", "status": PWNED}
    source.write_text(json.dumps(record) + "\n")
    status = tmp_path / "status.json"
    errors = [{"line": 1, "description": "Invalid value for field [status]\r" + PWNED}]
    status.write_text(json.dumps({"status": "FAILED", "errors": errors}))
    command = [
        sys.executable, "-m", "ldjfix", "fix", str(source), "--status-file", str(status),
        "-t", "DEAL", "--interactive", "-o", str(tmp_path / "out.ldjson"),
    ]  # fmt: skip
    done = subprocess.run(command, input="k\n", capture_output=True, text=True, timeout=30)
    assert done.returncode == 1, done.stderr
    _assert_clean(done.stderr)
    assert "\\e]0;PWNED" in done.stderr


def test_terminal_error_line_escapes_what_it_quotes(tmp_path: Path) -> None:
    """An Error: line quoting a file name holding ESC shows it escaped, on one line."""
    missing = tmp_path / ("x" + PWNED + ".ldjson")
    code, text = _on_pty(["validate", str(missing), "-t", "ACCOUNT"], tmp_path)
    assert code == 3
    _assert_clean(text)
    assert text.startswith("Error: ") and text.count("\n") == 1


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("a\x1b[31mred", "a\\e[31mred"),
        ("tab\there", "tab\\there"),
        ("\x85\u2029\u200f\ufeff\x7f", "\\u0085\\u2029\\u200f\\ufeff\\u007f"),
        ("café ☕ 日本", "café ☕ 日本"),
    ],
)
def test_terminal_safe_escapes_only_what_moves_the_cursor(raw: str, shown: str) -> None:
    """Controls, separators and format characters are escaped; other text is left alone."""
    assert safe(raw) == shown
    assert safe_lines(f"{raw}\n{raw}") == f"{shown}\n{shown}"
