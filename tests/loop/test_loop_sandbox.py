"""The correction loop against the real in-process sandbox: rounds, shards, outputs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson

from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.fixing.fixlog import fix_docs
from ldjfix.fixing.rules import load_rules
from ldjfix.fixing.rules_fixer import RulesFixer
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.sandbox.store import SandboxStore
from ldjfix.synth import generator as synth
from ldjfix.validation.validator import Validator
from tests.conftest import SAMPLES
from tests.support.loop import (
    assert_invariant,
    assert_store_matches,
    records_of,
    sandbox_client,
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_loop_shards_reveal_every_failure_without_rules(tmp_path: Path) -> None:
    """With no rules, round 2's shards list every failure: all quarantined, rest accepted."""
    source = tmp_path / "accounts.ldjson"
    planted = synth.write_file(source, "ACCOUNT", 5_000, seed=3, defects={"name_too_long": 100})
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(JobSpec(source, "ACCOUNT", 1), client=client, fixer=QuarantineFixer())
    per_round = result.doc["perRound"]
    assert len(per_round) == 2
    assert per_round[0]["failed"] == 20 and per_round[0]["unknown"] == 4_980
    assert len(per_round[1]["uploads"]) == 10  # 80 unseen failures, about 8 per shard
    assert all(
        u["listed"] == u["totalErrorCount"] or u["status"] == "DONE"
        for u in per_round[1]["uploads"]
    )
    assert result.counts.quarantined == len(planted) == 100
    uploads = SandboxStore(tmp_path / "sandbox").uploads()
    assert len(uploads) == result.uploads == 11
    assert_store_matches(tmp_path / "sandbox", result.job_dir / "corrected.ldjson")


def test_loop_corrected_copies_unchanged_lines_byte_for_byte(tmp_path: Path) -> None:
    """BOM, CRLF, blank lines and odd separators survive; quarantined records are left out."""
    source = tmp_path / "odd.ldjson"
    good = b'{"objectId":"a1","modifiedDate":"2025-01-01T00:00:00Z","name":"A\xe2\x80\xa8B"}'
    millis = b'{"objectId":"a2","modifiedDate":"2025-01-01T00:00:00.123Z"}'
    broken = b'{"objectId":"a3",'
    tail = b'{"objectId":"a4","modifiedDate":"2025-01-02T00:00:00+02:00"}'
    source.write_bytes(
        b"\xef\xbb\xbf" + good + b"\r\n\n  \n" + millis + b"\r\n" + broken + b"\n" + tail
    )
    validator = Validator("ACCOUNT")
    fixer = RulesFixer(load_rules(SAMPLES / "rules.toml"), validator=validator)
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(
            JobSpec(source, "ACCOUNT", 1), client=client, fixer=fixer, validator=validator
        )
    assert result.outcome == "QUARANTINED"  # the broken line
    fixed = b'{"objectId":"a2","modifiedDate":"2025-01-01T00:00:00Z"}'
    corrected = (result.job_dir / "corrected.ldjson").read_bytes()
    assert corrected == b"\xef\xbb\xbf" + good + b"\r\n\n  \n" + fixed + b"\r\n" + tail
    rejected = orjson.loads((result.job_dir / "rejected.ldjson").read_bytes())
    assert rejected["line"] == 5 and rejected["record"] is None
    assert rejected["text"] == broken.decode()
    fixes = list(fix_docs(result.job_dir / "fixes.jsonl"))
    assert fixes[0]["line"] == 4 and fixes[0]["field"] == "modifiedDate"
    assert records_of(result.job_dir / "corrected.ldjson")["a2"]["modifiedDate"].endswith(":00Z")


def test_loop_corrected_drafted_in_round_0_is_the_rewrite_from_the_store(tmp_path: Path) -> None:
    """Round 0 drafts corrected.ldjson; it is byte for byte what the finish would rebuild."""
    source = tmp_path / "odd.ldjson"
    good = b'{"objectId":"a1","modifiedDate":"2025-01-01T00:00:00Z","name":"A"}'
    millis = b'{ "objectId" : "a2", "modifiedDate":"2025-01-01T00:00:00.123Z","a\\u0062":1}'
    twice = b'{"objectId":"a5","modifiedDate":"2025-01-01T00:00:00.5Z","modifiedDate":"x"}'
    listed = b"[1, 2]"
    source.write_bytes(
        b"\xef\xbb\xbf" + millis + b"\r\n\n" + good + b"\n" + listed + b"\r\n" + twice + b"\n"
    )
    validator = Validator("ACCOUNT")
    fixer = RulesFixer(load_rules(SAMPLES / "rules.toml"), validator=validator)
    spec = JobSpec(source, "ACCOUNT", 1)
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(spec, client=client, fixer=fixer, validator=validator)
        assert result.rounds == 1 and result.counts.quarantined >= 1
        corrected = result.job_dir / "corrected.ldjson"
        drafted = corrected.read_bytes()
        assert not (result.job_dir / "rounds" / "corrected.draft.ldjson").exists()
        corrected.unlink()  # the same command writes the outputs afresh, from the store
        run_job(spec, client=client, fixer=fixer, validator=validator)
    assert corrected.read_bytes() == drafted
    assert drafted.startswith(b"\xef\xbb\xbf{") and b"\r\n\n" + good + b"\n" in drafted
    assert b"00:00:00Z" in drafted.split(b"\r\n")[0]


def test_loop_resent_record_never_overwrites_a_later_version(tmp_path: Path) -> None:
    """X fails on line 1 and is fixed; its newer line 3 is sent again after it: Gong keeps it."""
    long_name = "N" * 300
    source = tmp_path / "dupes.ldjson"
    lines = [
        {"objectId": "X", "modifiedDate": "2025-01-01T00:00:00Z", "name": long_name},
        {"objectId": "Y", "modifiedDate": "2025-01-01T00:00:00Z", "name": "Y"},
        {"objectId": "X", "modifiedDate": "2025-02-01T00:00:00Z", "name": "X newer"},
    ]
    source.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    validator = Validator("ACCOUNT")
    fixer = RulesFixer(load_rules(SAMPLES / "rules.toml"), validator=validator)
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(
            JobSpec(source, "ACCOUNT", 1), client=client, fixer=fixer, validator=validator
        )
    assert (result.outcome, result.rounds) == ("DONE", 2)
    assert result.doc["perRound"][0]["accepted"] == 1  # only Y: line 3 waits for line 1
    stored = SandboxStore(tmp_path / "sandbox").records(1, "ACCOUNT")
    assert stored["X"]["name"] == "X newer"
    assert_store_matches(tmp_path / "sandbox", result.job_dir / "corrected.ldjson")


def test_loop_splits_a_source_too_big_for_one_upload(tmp_path: Path) -> None:
    """Over the per-upload cap (here 20 kB instead of 200 MB): several uploads in round 1."""
    source = tmp_path / "accounts.ldjson"
    synth.write_file(source, "ACCOUNT", 300, seed=2)
    size = source.stat().st_size
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(
            JobSpec(source, "ACCOUNT", 1, max_upload_bytes=20_000),
            client=client,
            fixer=QuarantineFixer(),
        )
    assert (result.outcome, result.rounds) == ("DONE", 1)
    uploads = result.doc["perRound"][0]["uploads"]
    assert len(uploads) >= size // 20_000
    sets = sorted((result.job_dir / "rounds").glob("r01-s*.ldjson"))
    assert all(path.stat().st_size <= 20_000 for path in sets)
    assert sum(u["records"] for u in uploads) == 300
    assert_store_matches(tmp_path / "sandbox", result.job_dir / "corrected.ldjson")


def test_loop_shard_listing_fewer_than_it_failed_is_split_again(tmp_path: Path) -> None:
    """Failures bunched at the end of the file overflow a shard: the next round splits it."""
    source = tmp_path / "bunched.ldjson"
    records = [
        {
            "objectId": f"B{i}",
            "modifiedDate": "2025-01-01T00:00:00Z",
            "name": "N" * (300 if i >= 1_900 else 10),
        }
        for i in range(2_000)
    ]
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    with sandbox_client(tmp_path / "sandbox") as client:
        result = run_job(JobSpec(source, "ACCOUNT", 1), client=client, fixer=QuarantineFixer())
    per_round = result.doc["perRound"]
    overflowing = [
        (r["round"], u["upload"])
        for r in per_round
        for u in r["uploads"]
        if u["status"] == "FAILED" and u["listed"] < u["totalErrorCount"]
    ]
    assert overflowing[0] == (1, "r01-s01")
    # round 2's last shard holds 80 of the bunched failures, lists 20: round 3 cuts it up
    assert (2, "r02-s10") in overflowing
    assert len(per_round[2]["uploads"]) == 8
    assert len(per_round) == 4
    assert (result.outcome, result.counts.quarantined, result.counts.accepted) == (
        "QUARANTINED",
        100,
        1_900,
    )
    assert_invariant(result.doc)
