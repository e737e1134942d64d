"""Propagation of defects seen by value (too long, missing, dangling) against the general path.

Once a rule fixed a defect recognised by value, every unreported record must be looked at. A
record with no local finding takes a shortcut (only the by-value defects are looked for); the
general path (``shortcuts=False``) builds every record's findings. Both must decide alike.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ldjfix.fixing.fixer import Outcome
from ldjfix.fixing.rules import load_rules
from ldjfix.fixing.rules_fixer import RulesFixer
from ldjfix.gong import descriptions
from ldjfix.gong.status import LineError
from ldjfix.validation.validator import Validator

SAMPLES = Path(__file__).parents[2] / "samples" / "rules.toml"
NOW = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)
LONG = "x" * 256
TAUGHT = [  # (reported record, Gong's error): each fixed by a rule, and so learned
    ({"objectId": "t1", "modifiedDate": "2024-01-01T00:00:00Z", "name": LONG}, "too_long"),
    ({"objectId": "t2", "name": "n"}, "missing"),
    ({"objectId": "t3", "modifiedDate": "2024-01-01T00:00:00.5Z", "name": "n"}, "invalid"),
]


def _error(kind: str) -> LineError:
    if kind == "too_long":
        return LineError(1, descriptions.too_long("name", 255))
    if kind == "missing":
        return LineError(1, descriptions.mandatory("modifiedDate"))
    return LineError(1, "Invalid value for field [modifiedDate]: expected an ISO-8601 date-time")


def _taught(shortcuts: bool, kinds: tuple[str, ...]) -> RulesFixer:
    fixer = RulesFixer(
        load_rules(SAMPLES), validator=Validator("ACCOUNT"), now=lambda: NOW, shortcuts=shortcuts
    )
    for record, kind in TAUGHT:
        if kind in kinds:
            base = {"domains": ["a.com"], **record}
            assert fixer.fix(1, base, [_error(kind)]).record is not None
    return fixer


def _record(rng: random.Random, n: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "objectId": f"001-{n}",
        "modifiedDate": "2024-05-01T10:00:00Z",
        "domains": ["a.com"],
        "name": f"Account {n}",
    }
    roll = rng.random()
    if roll < 0.1:
        record["name"] = "é" * rng.choice((255, 256, 300))  # over the limit, or just at it
    elif roll < 0.2:
        record["modifiedDate"] = rng.choice(("", None, "2024-05-01T10:00:00.123Z"))
    elif roll < 0.25:
        del record["modifiedDate"]
    elif roll < 0.3:
        record["domains"] = ["https://www.acme.com/about"]  # a local warning only
    elif roll < 0.35:
        record["isDeleted"] = "yes"  # a local error no rule was taught
    elif roll < 0.4:
        record["name"] = 7  # not a string: no length
    return record


def _decided(outcome: Outcome | None) -> bytes:
    if outcome is None:
        return b"none"
    fixes = [f.as_json() for f in outcome.fixes]
    return orjson.dumps([outcome.record, outcome.quarantine_reason, fixes])


@pytest.mark.parametrize(
    "kinds", [("too_long",), ("missing",), ("too_long", "missing", "invalid"), ("invalid",)]
)
def test_propagate_by_value_decides_as_the_general_path(kinds: tuple[str, ...]) -> None:
    """Every record, clean or not, gets the same outcome (record, fixes, reason) both ways,
    whether or not the caller says the validator passed it; a name over the limit is cut."""
    fast, slow = _taught(True, kinds), _taught(False, kinds)
    rng = random.Random(",".join(kinds))
    outcomes = []
    for n in range(2, 600):
        record = _record(rng, n)
        before = orjson.dumps(record)
        validator = fast.validator
        assert validator is not None
        vouched = validator if n % 2 and validator.passes(record) else None  # said, or not
        decided = _decided(fast.propagate(n, record, vouched))
        assert decided == _decided(slow.propagate(n, orjson.loads(before))), record
        assert orjson.dumps(record) == before  # the record offered is never changed
        name = record.get("name")
        if "too_long" in kinds and isinstance(name, str) and len(name) > 255:  # an oracle
            assert orjson.loads(decided)[0]["name"] == name[:255], record
        outcomes.append(decided)
    assert sum(o != b"none" for o in outcomes) > 10  # propagation did fix records
