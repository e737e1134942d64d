"""Reviewer's tests: conformance of the remote-facing and rules modules with Gong's reference."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from ldjfix.cli import cli
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import serving

STAGE = '{"objectId":"s-%d","name":"Won","isActive":%s,"sortOrder":1}'
BAD_BOOL = "Invalid value for field [isActive]: expected a boolean"
BAD_DATETIME = "Invalid value for field [modifiedDate]: expected an ISO-8601 date-time"


def _fix_by_rule(
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


def test_rulefix_coerce_number_to_boolean_is_a_fix(tmp_path: Path) -> None:
    """coerce to boolean turns isActive 1/0 into true/false instead of quarantining the record."""
    lines = [STAGE % (1, "1"), STAGE % (2, "0")]
    rule = 'field = "isActive"\naction = "coerce"\nto = "boolean"\n'
    result, out = _fix_by_rule(tmp_path, lines, BAD_BOOL, rule, "STAGE")
    assert result.exit_code == 0, result.output
    assert "2 fixed, 0 quarantined" in result.output
    fixed = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["isActive"] for r in fixed] == [True, False]


def test_connection_token_with_line_break_is_refused_unprinted(tmp_path: Path) -> None:
    """A bearer token with a trailing line break is refused up front, never echoed in a message."""
    env = {"GONG_BEARER_TOKEN": "sekrit-token\n"}
    with serving(tmp_path / "state", Knobs(calls_per_second=0)) as sandbox:
        args = ["status", "--integration-id", "1", "--client-request-id", "x"]
        result = CliRunner().invoke(cli, [*args, "--base-url", sandbox.url], env=env)
    assert "sekrit" not in result.output
    assert result.exit_code == 2, result.output
    assert "GONG_BEARER_TOKEN" in result.output


def test_convert_coerce_number_refuses_a_decimal_comma(tmp_path: Path) -> None:
    """coerce to number quarantines "1,5" and "1.200,50" instead of writing 15.0 and 1.2005."""
    deal = '{"objectId":"d-%d","modifiedDate":"2024-01-01T00:00:00Z","amount":"%s"}'
    bad = "Invalid value for field [amount]: expected a number"
    rule = 'field = "amount"\naction = "coerce"\nto = "number"\n'
    result, out = _fix_by_rule(
        tmp_path, [deal % (1, "1,5"), deal % (2, "1.200,50")], bad, rule, "DEAL"
    )
    assert "0 fixed, 2 quarantined" in result.output
    assert out.read_text() == ""


def test_convert_reformat_date_refuses_a_yyyymmdd_number(tmp_path: Path) -> None:
    """reformat_datetime quarantines closeDate 20250304 (a number) instead of writing 1970-08-23."""
    deal = '{"objectId":"d-1","modifiedDate":"2024-01-01T00:00:00Z","closeDate":20250304}'
    bad = "Invalid value for field [closeDate]: expected a date YYYY-MM-DD without a time"
    rule = 'field = "closeDate"\naction = "reformat_datetime"\nto = "date"\n'
    result, out = _fix_by_rule(tmp_path, [deal], bad, rule, "DEAL")
    assert "0 fixed, 1 quarantined" in result.output
    assert "1970" not in out.read_text()


def test_convert_reformat_datetime_huge_number_is_quarantined(tmp_path: Path) -> None:
    """reformat_datetime on modifiedDate 1e16 quarantines the record instead of a traceback."""
    user = '{"objectId":"u-1","modifiedDate":1e16,"emailAddress":"a@b.com"}'
    rule = 'field = "modifiedDate"\naction = "reformat_datetime"\n'
    result, _ = _fix_by_rule(tmp_path, [user], BAD_DATETIME, rule, "BUSINESS_USER")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "0 fixed, 1 quarantined" in result.output


def test_convert_reformat_datetime_year_9999_is_quarantined(tmp_path: Path) -> None:
    """reformat_datetime on the 9999-12-31 sentinel with an offset quarantines, no traceback."""
    user = (
        '{"objectId":"u-1","modifiedDate":"9999-12-31T23:59:59.000-05:00","emailAddress":"a@b.com"}'
    )
    rule = 'field = "modifiedDate"\naction = "reformat_datetime"\n'
    result, _ = _fix_by_rule(tmp_path, [user], BAD_DATETIME, rule, "BUSINESS_USER")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "0 fixed, 1 quarantined" in result.output


def test_interactive_record_with_a_colon_in_a_key_is_shown(tmp_path: Path) -> None:
    """fix --interactive shows a record whose custom field name holds ':' instead of crashing."""
    source = tmp_path / "deals.ldjson"
    rec = '{"objectId":"d-1","modifiedDate":"2024-01-01T00:00:00Z","x:y":1,"status":"Won"}'
    source.write_text(rec + "\n")
    status = tmp_path / "status.json"
    bad = "Invalid value for field [status]: expected one of WON, LOST, OPEN"
    status.write_text(json.dumps({"status": "FAILED", "errors": [{"line": 1, "description": bad}]}))
    out = tmp_path / "out.ldjson"
    args = ["fix", str(source), "--status-file", str(status), "-t", "DEAL", "--interactive"]
    result = CliRunner().invoke(cli, [*args, "-o", str(out)], input='s\n\n"WON"\n')
    assert result.exit_code == 0, result.exception
    assert '>>   "status": "Won"' in result.output
    assert json.loads(out.read_text())["status"] == "WON"


def test_validate_numeric_object_id_says_it_must_be_a_string(tmp_path: Path) -> None:
    """objectId 12345 (a number) is reported as not a string, not as holding bad characters."""
    source = tmp_path / "accounts.ldjson"
    source.write_text('{"objectId":12345,"modifiedDate":"2025-03-04T10:15:00Z"}\n')
    result = CliRunner().invoke(cli, ["validate", str(source), "-t", "ACCOUNT"])
    assert result.exit_code == 1
    assert "Invalid value for field [objectId]: must be a string" in result.output
    assert "only letters" not in result.output


def test_ratelimit_hold_off_also_delays_a_caller_already_waiting() -> None:
    """A Retry-After hold-off reaches a thread already waiting for its slot: it waits it out too."""
    import threading
    import time

    from ldjfix.gong.ratelimit import RateLimiter

    limiter = RateLimiter(3.0)
    start = time.monotonic()
    limiter.acquire()  # the call that gets the 429
    returned: list[float] = []
    waiting = threading.Thread(
        target=lambda: (limiter.acquire(), returned.append(time.monotonic()))
    )
    waiting.start()  # reserves the slot at +0.33 s and sleeps
    time.sleep(0.1)
    limiter.hold_off(1.0)  # the 429 said Retry-After: 1
    waiting.join(timeout=5)
    assert returned and returned[0] - start >= 1.0
