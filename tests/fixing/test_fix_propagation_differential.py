"""The propagation shortcut (a plan per known failure) against the general path, byte for byte.

``fix`` propagates a reported record's fix to every record failing the same way by following
the plan it remembered for that failure. The general path works every record out from its
errors (rule matching, action, full revalidation). Both must write the same corrected file,
the same fixes.jsonl and the same rejected file, whatever the records hold.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ldjfix.fixing import fix_file as fix_file_module
from ldjfix.fixing.fix_file import FixReport, fix_file
from ldjfix.fixing.fixlog import fix_docs
from ldjfix.fixing.known import CLEAN, MISS, KnownFix
from ldjfix.fixing.rules import load_rules
from ldjfix.fixing.rules_fixer import RulesFixer
from ldjfix.gong.status import status_from_dict
from ldjfix.validation.validator import Validator
from tests.support.spies import lines_reaching

SAMPLES = Path(__file__).parents[2] / "samples" / "rules.toml"
NOW = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
DATES = [
    "2024-03-14T00:26:35.864Z",  # milliseconds: the plan's own case
    "2025-03-26T14:48:15.223-05:00",  # an offset: the same defect text, another value
    "2024-01-01T00:00:00Z",  # already right
    "2025-02-30T10:00:00.5Z",  # no such day: the action does not fit
    "03/04/2025 10:15",  # a US date
    "not a date",
    17,  # not a string at all
    None,
    "",
]


class GeneralPath(RulesFixer):
    """The same rules with no plan remembered: every record takes the full path."""

    def propagate(self, source_line: int, record: dict[str, Any], passed: object = None) -> Any:
        """Forget every plan first, then propagate as usual."""
        self._plans.clear()
        return super().propagate(source_line, record, passed)


def _record(rng: random.Random, n: int) -> bytes:
    doc: dict[str, Any] = {"objectId": f"001-{n}", "modifiedDate": rng.choice(DATES)}
    doc["domains"] = ["example.com"]  # mandatory: without it every record fails twice
    doc["name"] = f"Account {n}"
    if rng.random() < 0.1:
        doc["isDeleted"] = "yes"  # a second defect
    if rng.random() < 0.1:
        del doc["modifiedDate"]
    raw = orjson.dumps(doc)
    roll = rng.random()
    if roll < 0.05:
        raw = raw.replace(b'"modifiedDate"', b'"modified\\u0044ate"')  # an escaped key
    elif roll < 0.1:
        raw = raw[:-1] + b',"modifiedDate":"2024-05-05T01:02:03.4Z"}'  # a duplicate key: last wins
    elif roll < 0.13:
        raw = b"[1, 2]"
    elif roll < 0.15:
        raw = b'{"objectId": "broken'
    elif roll < 0.18:
        raw = b"   "
    return raw


def _source(tmp_path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    first = {"objectId": "001-0", "modifiedDate": DATES[0], "domains": ["a.com"], "name": "first"}
    lines = [orjson.dumps(first)]
    lines += [_record(rng, n) for n in range(1, 400)]
    ending = b"\r\n" if seed % 2 else b"\n"
    data = (b"\xef\xbb\xbf" if seed % 3 == 0 else b"") + ending.join(lines)
    path = tmp_path / "accounts.ldjson"
    path.write_bytes(data + (ending if seed % 4 else b""))
    return path


def _fix(tmp_path: Path, source: Path, fixer: RulesFixer, name: str) -> tuple[FixReport, Path]:
    bad = "Invalid value for field [modifiedDate]: expected an ISO-8601 date-time"
    status = status_from_dict(
        {"status": "FAILED", "errors": [{"line": 1, "description": bad}]}, source="status"
    )
    out = tmp_path / f"{name}.ldjson"
    report = fix_file(
        source,
        status,
        fixer,
        output=out,
        fixes_out=tmp_path / f"{name}.fixes.jsonl",
        rejected_out=tmp_path / f"{name}.rejected.ldjson",
    )
    return report, out


# a rule that fits some values only: milliseconds go, an offset stays (still a defect)
PARTIAL = """
[[rule]]
field = "modifiedDate"
kind = "invalid"
action = "replace"
regex = '\\.\\d+Z$'
with = "Z"
"""


@pytest.mark.parametrize(("seed", "partial"), [(s, p) for s in range(6) for p in (False, True)])
def test_fix_propagation_plan_writes_what_the_general_path_writes(
    tmp_path: Path, seed: int, partial: bool
) -> None:
    """Corrected file, fixes.jsonl and rejected file are the same bytes on mixed defects."""
    source = _source(tmp_path, seed)
    if partial:
        (tmp_path / "rules.toml").write_text(PARTIAL)
    rules = load_rules(tmp_path / "rules.toml" if partial else SAMPLES)
    validator = Validator("ACCOUNT")
    fast, fast_out = _fix(
        tmp_path, source, RulesFixer(rules, validator=validator, now=lambda: NOW), "fast"
    )
    slow, slow_out = _fix(
        tmp_path,
        source,
        GeneralPath(rules, validator=Validator("ACCOUNT"), now=lambda: NOW),
        "slow",
    )
    assert fast_out.read_bytes() == slow_out.read_bytes()
    for suffix in (".fixes.jsonl", ".rejected.ldjson"):
        fast_log, slow_log = tmp_path / f"fast{suffix}", tmp_path / f"slow{suffix}"
        assert fast_log.exists() == slow_log.exists()
        if fast_log.exists():
            assert fast_log.read_bytes() == slow_log.read_bytes()
    assert (fast.fixed, fast.propagated, fast.fixes) == (slow.fixed, slow.propagated, slow.fixes)
    assert fast.propagated > 30  # the shortcut was taken, and not only for easy records
    assert fast.groups.as_json() == slow.groups.as_json()


def test_fix_propagation_log_lists_every_change_in_line_order(tmp_path: Path) -> None:
    """fixes.jsonl holds the reported record's change and each propagated one, by line."""
    source = _source(tmp_path, 1)
    rules = load_rules(SAMPLES)
    report, _ = _fix(
        tmp_path, source, RulesFixer(rules, validator=Validator("ACCOUNT"), now=lambda: NOW), "f"
    )
    changes = list(fix_docs(tmp_path / "f.fixes.jsonl"))
    assert len(changes) == report.fixes
    assert [c["line"] for c in changes] == sorted(c["line"] for c in changes)
    assert changes[0] == {
        "line": 1,
        "objectId": "001-0",
        "field": "modifiedDate",
        "old": DATES[0],
        "new": "2024-03-14T00:26:35Z",
        "why": changes[0]["why"],
    }
    declarations = [
        x for x in (tmp_path / "f.fixes.jsonl").read_bytes().splitlines() if x[:1] == b"{"
    ]
    assert len(declarations) < 5  # each kind of change is declared once, not per change


def test_fix_propagation_known_defect_skips_the_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records failing the way the one before did are fixed by the compiled known defect: the
    general path (the policy, Fix and Outcome objects) sees only the unusual ones."""
    source = tmp_path / "accounts.ldjson"  # \n endings, no BOM: the lines the quick path reads
    records = [
        _account(
            objectId=f"001-{n}",
            modifiedDate=DATES[n % 3],
            isDeleted="yes" if n % 17 == 0 else False,
        )
        for n in range(300)
    ]
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    general = lines_reaching(monkeypatch, fix_file_module, "decide_unreported")
    fixer = RulesFixer(load_rules(SAMPLES), validator=Validator("ACCOUNT"), now=lambda: NOW)
    report, _ = _fix(tmp_path, source, fixer, "f")
    assert fixer.known is not None
    fixed = {change["line"] for change in fix_docs(tmp_path / "f.fixes.jsonl")}
    assert report.propagated > 100
    assert len(fixed.intersection(general)) < report.propagated // 4


def _known_fix(value: Any = DATES[0]) -> tuple[RulesFixer, KnownFix]:
    fixer = RulesFixer(load_rules(SAMPLES), validator=Validator("ACCOUNT"), now=lambda: NOW)
    first = {"objectId": "001-1", "modifiedDate": DATES[0], "domains": ["a.com"], "name": "A"}
    errors = [f.as_line_error() for f in Validator("ACCOUNT").check_record(1, first)]
    assert fixer.fix(1, first, errors).record is not None
    for line in (2, 3):  # the first explains the failure's shape, the second follows the plan
        assert fixer.propagate(line, {**first, "objectId": f"001-{line}"}) is not None
    assert fixer.known is not None
    return fixer, fixer.known


def _account(**values: Any) -> dict[str, Any]:
    record = {"objectId": "001-3", "modifiedDate": DATES[0], "domains": ["a.com"], "name": "A"}
    return {k: v for k, v in {**record, **values}.items() if v is not _ABSENT}


_ABSENT = object()


@pytest.mark.parametrize(
    "record",
    [
        _account(modifiedDate="2025-02-30T10:00:00.5Z"),  # no such day
        _account(modifiedDate="not a date"),
        _account(modifiedDate=17),
        _account(modifiedDate=None),
        _account(modifiedDate=""),  # mandatory, left empty: another text
        _account(isDeleted="yes"),  # a second defect
        _account(modifiedDate=_ABSENT),  # no such field
        _account(objectId=5),  # another field fails instead
    ],
)
def test_known_defect_leaves_a_record_it_does_not_fit_as_it_was(record: dict[str, Any]) -> None:
    """MISS, and not one value changed: the general path decides it and says why."""
    _, known = _known_fix()
    before = orjson.dumps(record)
    assert known.apply(record) is MISS
    assert orjson.dumps(record) == before


def test_known_defect_fixes_in_place_and_knows_a_clean_record() -> None:
    """The fix the plan makes, in place, returning the old value; CLEAN for no defect."""
    fixer, known = _known_fix()
    record = {
        "objectId": "001-4",
        "modifiedDate": DATES[1],
        "domains": ["a.com"],
        "name": "A",
    }  # an offset
    general = fixer.propagate(4, dict(record))
    assert known.apply(record) == DATES[1]
    assert general is not None and record == general.record
    clean = _account(objectId="001-5", modifiedDate=DATES[2])
    assert known.apply(clean) is CLEAN and clean["modifiedDate"] == DATES[2]
