"""Helpers shared by the fixing tests: ``ldjfix fix`` by one rule over a few lines."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from ldjfix.cli import cli


def fix_by_rule(
    tmp_path: Path, lines: list[str], description: str, rule: str, object_type: str
) -> tuple[Result, Path]:
    """Run ``ldjfix fix`` with one rule over ``lines``, every line reported with ``description``."""
    source = tmp_path / "records.ldjson"
    source.write_text("".join(line + "\n" for line in lines))
    errors = [{"line": n, "description": description} for n in range(1, len(lines) + 1)]
    status = tmp_path / "status.json"
    status.write_text(
        json.dumps({"status": "FAILED", "errors": errors, "totalErrorCount": len(lines)})
    )
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]]\n" + rule)
    out = tmp_path / "out.ldjson"
    args = ["fix", str(source), "--status-file", str(status), "-t", object_type]
    return CliRunner().invoke(cli, [*args, "--rules", str(rules), "-o", str(out)]), out
