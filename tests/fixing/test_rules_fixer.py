"""Tests of the rules file parser and the rules fixer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ldjfix.errors import InputProblem
from ldjfix.fixing.rules import load_rules
from ldjfix.fixing.rules_fixer import RulesFixer
from ldjfix.gong import descriptions
from ldjfix.gong.descriptions import defect_kind
from ldjfix.gong.status import LineError
from ldjfix.validation.validator import Validator
from tests.support.fixing import fix_by_rule

SAMPLE_RULES = Path(__file__).parents[2] / "samples" / "rules.toml"
NOW = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)


def _fixer(object_type: str) -> RulesFixer:
    return RulesFixer(load_rules(SAMPLE_RULES), validator=Validator(object_type), now=lambda: NOW)


def _errors(object_type: str, record: dict[str, Any]) -> list[LineError]:
    found = Validator(object_type).check_record(1, record)
    return [f.as_line_error() for f in found if f.severity == "error"]


def test_rules_fixer_fixes_every_local_deal_defect() -> None:
    """Sample rules fix status, amount, closeDate and a missing modifiedDate ("now")."""
    record = {
        "objectId": "d1",
        "status": "Won",
        "amount": "1,200.00",
        "closeDate": "2025-06-30T00:00:00Z",
    }
    outcome = _fixer("DEAL").fix(1, record, _errors("DEAL", record))
    assert outcome.record == {
        "objectId": "d1",
        "status": "WON",
        "amount": 1200.0,
        "closeDate": "2025-06-30",
        "modifiedDate": "2026-11-29T14:00:00Z",
    }
    assert {f.field for f in outcome.fixes} == {"status", "amount", "closeDate", "modifiedDate"}


def test_rules_fixer_quarantines_what_no_rule_covers(tmp_path: Path) -> None:
    """A defect without a rule quarantines the record and says why."""
    rules = tmp_path / "r.toml"
    rules.write_text('[[rule]]\nfield = "amount"\naction = "coerce"\nto = "number"\n')
    fixer = RulesFixer(load_rules(rules), validator=Validator("DEAL"))
    record = {"objectId": "d1", "modifiedDate": "2024-01-01T00:00:00Z", "status": "Won"}
    outcome = fixer.fix(1, record, _errors("DEAL", record))
    assert outcome.quarantined
    assert outcome.quarantine_reason == "no rule for: Invalid value for field [status]"


def test_rules_fixer_quarantines_a_fix_that_leaves_a_defect(tmp_path: Path) -> None:
    """A rule whose result still fails local validation is not a fix."""
    rules = tmp_path / "r.toml"
    rules.write_text('[[rule]]\nfield = "status"\naction = "set"\nvalue = "maybe"\n')
    fixer = RulesFixer(load_rules(rules), validator=Validator("DEAL"))
    record = {"objectId": "d1", "modifiedDate": "2024-01-01T00:00:00Z", "status": "Won"}
    outcome = fixer.fix(1, record, _errors("DEAL", record))
    assert outcome.quarantined
    assert "left a defect" in (outcome.quarantine_reason or "")


def test_rules_fixer_quarantines_dangling_references_with_the_sample_rules() -> None:
    """The sample rules keep a deal whose account is unknown for a person, link intact."""
    record = {"objectId": "d1", "modifiedDate": "2024-01-01T00:00:00Z", "accountId": "gone"}
    error = LineError(1, descriptions.dangling("accountId", "gone"))
    outcome = _fixer("DEAL").fix(1, record, [error])
    assert outcome.quarantined
    assert (outcome.quarantine_reason or "").endswith("): quarantine")  # the rule, once


def test_rules_fixer_propagates_a_dangling_fix_to_the_same_value(tmp_path: Path) -> None:
    """A dangling reference fixed once is fixed on every record with the same value."""
    rules = tmp_path / "r.toml"
    rules.write_text('[[rule]]\nfield = "accountId"\nkind = "dangling"\naction = "drop"\n')
    fixer = RulesFixer(load_rules(rules), validator=Validator("DEAL"), now=lambda: NOW)
    good = {"objectId": "d1", "modifiedDate": "2024-01-01T00:00:00Z"}
    error = LineError(1, descriptions.dangling("accountId", "gone"))
    assert fixer.fix(1, {**good, "accountId": "gone"}, [error]).record == good
    propagated = fixer.propagate(9, {**good, "objectId": "d9", "accountId": "gone"})
    assert propagated is not None and propagated.record == {**good, "objectId": "d9"}
    assert propagated.fixes[0].source_line == 9
    assert fixer.propagate(10, {**good, "accountId": "present"}) is None


def test_rules_fixer_propagates_a_server_only_normalizer() -> None:
    """A domain-URL fix learned from Gong's error is applied to other URL domains only."""
    fixer = _fixer("ACCOUNT")
    base = {"objectId": "a1", "modifiedDate": "2024-01-01T00:00:00Z"}
    text = descriptions.invalid("domains", "expected bare domain names such as acme.com, not URLs")
    first = fixer.fix(1, {**base, "domains": ["https://www.acme.com/about"]}, [LineError(1, text)])
    assert first.record == {**base, "domains": ["acme.com"]}
    other = fixer.propagate(2, {**base, "domains": ["http://b.io/x"]})
    assert other is not None and other.record == {**base, "domains": ["b.io"]}
    assert fixer.propagate(3, {**base, "domains": ["c.org"]}) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '[[rule]]\nfield = "closeDate"\naction = "frobnicate"\n',
            "rule 1 (field 'closeDate'): unknown action 'frobnicate'",
        ),
        ('[[rule]]\naction = "drop"\n', "rule 1: give 'field' and/or 'pattern'"),
        (
            '[[rule]]\nfield = "a"\nkind = "odd"\naction = "drop"\n',
            "rule 1 (field 'a'): unknown kind 'odd'",
        ),
        (
            '[[rule]]\nfield = "a"\naction = "truncate"\nlength = 0\n',
            "'length' must be a whole number",
        ),
        ('[[rule]]\nfield = "a"\naction = "rename"\n', "action 'rename' needs 'to'"),
        (
            '[[rule]]\npattern = "("\naction = "drop"\n',
            "'pattern' is not a valid regular expression",
        ),
        (
            '[[rule]]\nfield = "a"\naction = "drop"\nvalue = 1\n',
            "unknown option 'value' for action 'drop'",
        ),
        ("[[rule]\n", "is not valid TOML"),
    ],
)
def test_load_rules_names_the_rule_and_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    """Every bad rules file is one InputProblem naming the file, the rule and the problem."""
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(InputProblem) as caught:
        load_rules(path)
    assert problem in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.exit_code == 3


def test_defect_kind_reads_every_description_kind() -> None:
    """Each kind of description maps to its kind name."""
    assert [
        defect_kind(descriptions.mandatory("a")),
        defect_kind(descriptions.invalid("a", "x")),
        defect_kind(descriptions.too_long("a", 3)),
        defect_kind(descriptions.dangling("a", "v")),
        defect_kind(descriptions.duplicate("v", 2)),
        defect_kind(descriptions.unparsable("x")),
        defect_kind("Something new"),
    ] == ["missing", "invalid", "too_long", "dangling", "duplicate", "unparsable", "other"]


STAGE = '{"objectId":"s-%d","name":"Won","isActive":%s,"sortOrder":1}'


BAD_BOOL = "Invalid value for field [isActive]: expected a boolean"


def test_rulefix_coerce_number_to_boolean_is_a_fix(tmp_path: Path) -> None:
    """coerce to boolean turns isActive 1/0 into true/false instead of quarantining the record."""
    lines = [STAGE % (1, "1"), STAGE % (2, "0")]
    rule = 'field = "isActive"\naction = "coerce"\nto = "boolean"\n'
    result, out = fix_by_rule(tmp_path, lines, BAD_BOOL, rule, "STAGE")
    assert result.exit_code == 0, result.output
    assert "2 fixed, 0 quarantined" in result.output
    fixed = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["isActive"] for r in fixed] == [True, False]
