"""Tests of ``ldjfix fix`` with a rules file: reported records, propagation, outputs, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.fixing.fixlog import fix_docs

OK = '{"objectId":"d-%d","modifiedDate":"2024-01-01T00:00:00Z","status":"%s"}'
RULES = '[[rule]]\nfield = "status"\nkind = "invalid"\naction = "map"\nvalues = { Won = "WON" }\n'
BAD = "Invalid value for field [status]: expected one of WON, LOST, OPEN"


def _setup(tmp_path: Path, rules: str = RULES) -> tuple[Path, Path, Path]:
    lines = [OK % (1, "Won"), OK % (2, "OPEN") + "  ", OK % (3, "Won"), "", OK % (5, "Won")]
    source = tmp_path / "deals.ldjson"
    source.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    status = tmp_path / "status.json"
    errors = [{"line": 1, "description": BAD}, {"line": 3, "description": BAD}]
    status.write_text(json.dumps({"status": "FAILED", "errors": errors, "totalErrorCount": 2}))
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(rules)
    return source, status, rules_file


def _args(source: Path, status: Path, rules: Path, out: Path) -> list[str]:
    return [
        "fix",
        str(source),
        "--status-file",
        str(status),
        "-t",
        "DEAL",
        "--rules",
        str(rules),
        "-o",
        str(out),
    ]


def test_fix_rules_fixes_reported_records_and_propagates(tmp_path: Path) -> None:
    """Reported lines and an unreported one with their defect are fixed; the rest byte for byte."""
    source, status, rules = _setup(tmp_path)
    out = tmp_path / "out.ldjson"
    result = CliRunner().invoke(cli, _args(source, status, rules, out))
    assert result.exit_code == 0, result.output
    assert "2 reported records: 2 fixed, 0 quarantined" in result.output
    assert "1 more records fixed the same way" in result.output
    fixed = '{"objectId":"d-%d","modifiedDate":"2024-01-01T00:00:00Z","status":"WON"}'
    expected = [fixed % 1, OK % (2, "OPEN") + "  ", fixed % 3, "", fixed % 5]
    assert out.read_bytes() == ("\r\n".join(expected) + "\r\n").encode()
    logged = list(fix_docs(tmp_path / "out.fixes.jsonl"))
    assert [(f["line"], f["objectId"], f["old"], f["new"]) for f in logged] == [
        (1, "d-1", "Won", "WON"),
        (3, "d-3", "Won", "WON"),
        (5, "d-5", "Won", "WON"),
    ]


def test_fix_rules_quarantine_goes_to_the_rejected_file(tmp_path: Path) -> None:
    """A quarantined record leaves the output, lands in the rejected file, and the exit is 1."""
    source, status, rules = _setup(tmp_path, '[[rule]]\nfield = "status"\naction = "quarantine"\n')
    out = tmp_path / "out.ldjson"
    result = CliRunner().invoke(cli, _args(source, status, rules, out))
    assert result.exit_code == 1
    assert "2 reported records: 0 fixed, 2 quarantined" in result.output
    assert out.read_bytes().count(b"\r\n") == 3
    rejected = [json.loads(x) for x in (tmp_path / "out.rejected.ldjson").read_text().splitlines()]
    assert [(r["line"], r["objectId"], r["errors"]) for r in rejected] == [
        (1, "d-1", [BAD]),
        (3, "d-3", [BAD]),
    ]
    assert (
        rejected[0]["reason"] == "rule 1 (field 'status'): quarantine"
    )  # the error once, in errors


def test_fix_without_rules_or_interactive_is_a_usage_error(tmp_path: Path) -> None:
    """fix needs to be told how to fix: exit 2 and what to pass."""
    source, status, _ = _setup(tmp_path)
    args = [
        "fix",
        str(source),
        "--status-file",
        str(status),
        "-t",
        "DEAL",
        "-o",
        str(tmp_path / "o"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "say how to fix: --rules R (a rules file) or --interactive" in result.output
    assert not (tmp_path / "o").exists()


def test_fix_bad_rules_file_exits_3_naming_the_rule(tmp_path: Path) -> None:
    """A bad rules file stops before anything is written, naming the rule and the problem."""
    source, status, rules = _setup(
        tmp_path, '[[rule]]\nfield = "closeDate"\naction = "frobnicate"\n'
    )
    out = tmp_path / "out.ldjson"
    result = CliRunner().invoke(cli, _args(source, status, rules, out))
    assert result.exit_code == 3
    assert (
        f"Error: {rules} rule 1 (field 'closeDate'): unknown action 'frobnicate'." in result.output
    )
    assert not out.exists()


def test_fix_subprocess_on_the_samples(tmp_path: Path) -> None:
    """The real command on samples/: fixed output validates clean, with logs beside it."""
    samples = Path(__file__).parents[2] / "samples"
    out = tmp_path / "accounts.fixed.ldjson"
    args = [sys.executable, "-m", "ldjfix", "fix", str(samples / "accounts.ldjson"),
            "--status-file", str(samples / "accounts-status.json"), "-t", "ACCOUNT",
            "--rules", str(samples / "rules.toml"), "-o", str(out)]  # fmt: skip
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    assert proc.returncode == 1  # the samples plant objectId defects, which the rules quarantine
    assert "quarantined" in proc.stderr and (tmp_path / "accounts.fixed.fixes.jsonl").exists()
    check = subprocess.run(
        [sys.executable, "-m", "ldjfix", "validate", str(out), "-t", "ACCOUNT", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout


def test_fix_reports_a_file_level_error_and_exits_1(tmp_path: Path) -> None:
    """A line-0 error cannot be fixed per record: it is shown and the exit is 1."""
    source, _, rules = _setup(tmp_path)
    status = tmp_path / "general.json"
    general = [{"line": 0, "description": "File is not valid UTF-8"}]
    status.write_text(json.dumps({"status": "FAILED", "errors": general}))
    result = CliRunner().invoke(cli, _args(source, status, rules, tmp_path / "out.ldjson"))
    assert result.exit_code == 1
    assert "file-level error (line 0), not fixable record by record: File is not valid UTF-8" in (
        result.output
    )


def test_fix_rules_two_fixes_in_one_folder_keep_two_logs(tmp_path: Path) -> None:
    """Each OUT gets its own OUT-name.fixes.jsonl: the second fix does not overwrite the first."""
    samples = Path(__file__).parents[2] / "samples"
    for name in ("first", "second"):
        out = str(tmp_path / f"{name}.ldjson")
        args = [sys.executable, "-m", "ldjfix", "fix", str(samples / "accounts.ldjson"),
                "--status-file", str(samples / "accounts-status.json"), "-t", "account",
                "--rules", str(samples / "rules.toml"), "-o", out]  # fmt: skip
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        assert proc.returncode == 1, proc.stderr
        assert f"wrote {tmp_path / name}.fixes.jsonl" in proc.stderr
    first, second = (tmp_path / f"{n}.fixes.jsonl" for n in ("first", "second"))

    def changes(log: Path) -> list[tuple[object, ...]]:  # "now" values differ by the second
        return [(c["line"], c["field"]) for c in fix_docs(log)]

    assert changes(first) == changes(second) != []
    assert not (tmp_path / "fixes.jsonl").exists()
