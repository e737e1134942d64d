"""Rules-file patterns run in linear time (RE2); what cannot is refused when the file loads."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ldjfix.fixing.patterns import PatternError, compile_pattern

RECORD = {"objectId": "a1", "modifiedDate": "2024-01-01T00:00:00Z", "name": "a" * 5_000 + "!"}
DESCRIPTION = "Invalid value for field [name]: not allowed"


def _fix(tmp_path: Path, rule: str) -> subprocess.CompletedProcess[str]:
    """``ldjfix fix`` in a real process with one rule for the name field."""
    source = tmp_path / "src.ldjson"
    source.write_text(json.dumps(RECORD) + "\n")
    status = tmp_path / "status.json"
    errors = [{"line": 1, "description": DESCRIPTION}]
    status.write_text(json.dumps({"status": "FAILED", "errors": errors, "totalErrorCount": 1}))
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nfield = "name"\n' + rule)
    command = [
        sys.executable, "-m", "ldjfix", "fix", str(source), "--status-file", str(status),
        "--rules", str(rules), "-o", str(tmp_path / "out.ldjson"), "-t", "ACCOUNT",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_rules_catastrophic_pattern_runs_in_bounded_time(tmp_path: Path) -> None:
    """``(a+)+b|!`` on 5,000 a's backtracks for ages in ``re``; RE2 finds the ``!`` at once."""
    done = _fix(tmp_path, "action = \"replace\"\nregex = '(a+)+b|!'\nwith = ''\n")
    assert done.returncode == 0, done.stderr
    fixed = json.loads((tmp_path / "out.ldjson").read_text())
    assert fixed["name"] == "a" * 5_000


def test_rules_lookaround_pattern_is_refused_at_load(tmp_path: Path) -> None:
    """A lookahead has no linear-time match: exit 3 at load, the rule and the reason named."""
    done = _fix(tmp_path, "action = \"replace\"\nregex = '(?=a)a'\nwith = 'b'\n")
    assert done.returncode == 3
    assert done.stderr.startswith("Error: ")
    assert "rule 1" in done.stderr and "lookaround" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.ldjson").exists()


def test_rules_replacement_naming_a_missing_group_is_refused_at_load(tmp_path: Path) -> None:
    """``with = '\\9'`` for a pattern with one group: exit 3 when loading, not a crash later."""
    done = _fix(tmp_path, "action = \"replace\"\nregex = '(a)'\nwith = '\\9'\n")
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("Error: ")
    assert "group 9" in done.stderr and "1 group" in done.stderr


@pytest.mark.parametrize(
    ("pattern", "template", "text"),
    [
        (r"(\w+)@(\w+)", r"\2 at \1", "me@home, you@work"),
        (r"(?P<user>\w+)@", r"\g<user>!", "me@home"),
        (r"(a)|(b)", r"[\1\2]", "abc"),
        (r"x", r"\\n\t", "axb"),
        (r"", "-", "ab"),
        (r"é+", "e", "cafééé, crème"),
        (r"(\d)", r"\g<1>0", "a1b2"),
    ],
)
def test_rules_replacement_matches_python_re_sub(pattern: str, template: str, text: str) -> None:
    """The RE2 replacer gives what ``re.sub`` gives for the same pattern and template."""
    replace = compile_pattern(pattern).replacer(template)
    assert replace(text) == re.sub(pattern, template, text)


@pytest.mark.parametrize("template", [r"\q", "\\", r"\g<nope>", r"\2"])
def test_rules_replacement_errors_are_refused(template: str) -> None:
    """Bad escapes, a lone backslash and unknown groups are refused before any text is seen."""
    with pytest.raises(PatternError):
        compile_pattern("(a)").replacer(template)
