"""The loop at scale on the in-process sandbox: 100,000 records, six kinds of defect."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson

from ldjfix.fixing.rules import load_rules, parse_rules
from ldjfix.fixing.rules_fixer import RulesFixer
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.synth import generator as synth
from ldjfix.validation.validator import Validator
from tests.conftest import SAMPLES
from tests.support.loop import (
    LOCAL_KINDS,
    SERVER_KINDS,
    assert_invariant,
    assert_store_matches,
    sandbox_client,
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_loop_100k_records_reach_done_within_three_rounds(tmp_path: Path) -> None:
    """1,500 bad records of six kinds (two server-only), rules covering all: DONE in <= 3 rounds."""
    source = tmp_path / "accounts.ldjson"
    kinds = (*LOCAL_KINDS, *SERVER_KINDS)
    planted = synth.write_file(source, "ACCOUNT", 100_000, seed=11, defects={k: 250 for k in kinds})
    assert len(planted) == 1500
    before = _digest(source)
    validator = Validator("ACCOUNT")
    fixer = RulesFixer(load_rules(SAMPLES / "rules.toml"), validator=validator)
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(
            JobSpec(source, "ACCOUNT", 1), client=client, fixer=fixer, validator=validator
        )
    report = result.doc
    assert (result.outcome, result.exit_code) == ("DONE", 0)
    assert report["rounds"] <= 3
    assert report["local"]["findings"] == 1000
    assert (report["accepted"], report["quarantined"], report["pending"]) == (100_000, 0, 0)
    assert_invariant(report)
    assert report["apiCalls"] == client.calls
    assert_store_matches(tmp_path / "sandbox", result.job_dir / "corrected.ldjson")
    assert _digest(source) == before


def test_loop_quarantines_exactly_the_kinds_no_rule_covers(tmp_path: Path) -> None:
    """Without a rule for long names, exactly the long-name records end up in rejected.ldjson."""
    source = tmp_path / "accounts.ldjson"
    planted = synth.write_file(
        source,
        "ACCOUNT",
        20_000,
        seed=5,
        defects={"millis_modified_date": 60, "domain_is_url": 60, "name_too_long": 180},
    )
    doc = orjson.loads(
        orjson.dumps(
            {
                "rule": [
                    {"field": "modifiedDate", "kind": "invalid", "action": "reformat_datetime"},
                    {
                        "field": "domains",
                        "kind": "invalid",
                        "action": "replace",
                        "regex": r"^(?:[a-z]+://)?(?:www\.)?([^/]+).*$",
                        "with": r"\1",
                    },
                ]
            }
        )
    )
    validator = Validator("ACCOUNT")
    fixer = RulesFixer(parse_rules(doc), validator=validator)
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(
            JobSpec(source, "ACCOUNT", 1), client=client, fixer=fixer, validator=validator
        )
    assert (result.outcome, result.exit_code) == ("QUARANTINED", 1)
    rejected = [
        orjson.loads(x) for x in (result.job_dir / "rejected.ldjson").read_bytes().splitlines()
    ]
    assert sorted(r["line"] for r in rejected) == sorted(
        p.line for p in planted if p.kind == "name_too_long"
    )
    assert all("[name]" in r["errors"][0] for r in rejected)
    assert result.doc["rounds"] <= 3
    assert max(len(r["uploads"]) for r in result.doc["perRound"]) > 1  # shards were needed
    assert_invariant(result.doc)
    assert_store_matches(tmp_path / "sandbox", result.job_dir / "corrected.ldjson")
