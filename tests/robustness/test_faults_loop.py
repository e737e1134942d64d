"""Fault injection: seeded ``ldjfix run`` jobs against a faulty loopback sandbox lose nothing.

The runner lives in ``scripts/faults.py`` (``python scripts/faults.py --seeds 500`` runs the
long version); here CI runs 20 seeds, every fifth as real SIGKILLed ``ldjfix run`` processes,
and checks that the checker itself catches a broken promise.
"""

from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from scripts import faults
from scripts.faults import Outcome, check_job, run_seed, run_seeds, tally

REPO = Path(__file__).parents[2]
CI_SEEDS = range(20)


@pytest.mark.parametrize("seed", [s for s in CI_SEEDS if s % 20 != 19])
def test_faults_seed_keeps_every_record(seed: int, tmp_path: Path) -> None:
    """A seeded run with faults and kills keeps the invariant, the sandbox and the source."""
    outcome = run_seed(seed, tmp_path, subprocess_mode=seed % 5 == 0)
    assert outcome.violations == []
    assert outcome.outcome in {"DONE", "QUARANTINED", "PENDING", "STOPPED"}
    report = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
    assert report["invariantHolds"] is True


@pytest.mark.parametrize("seed", [s for s in CI_SEEDS if s % 20 == 19])
def test_faults_batch_seed_keeps_every_record_of_every_file(seed: int, tmp_path: Path) -> None:
    """A batch of five files with references, SIGKILLed and resumed, loses nothing anywhere."""
    outcome = faults.run_batch_seed(seed, tmp_path)
    assert outcome.violations == []
    for name, _ in faults.BATCH:
        report = orjson.loads(
            (tmp_path / "jobs" / f"{name}.ldjfix-job" / "report.json").read_bytes()
        )
        assert report["invariantHolds"] is True


def test_faults_seeds_inject_every_fault_kind() -> None:
    """The CI seeds really inject each fault kind and really kill runs (no silent no-op)."""
    plans = [faults.plan_for(seed, subprocess_mode=seed % 5 == 0) for seed in CI_SEEDS]
    kinds: collections.Counter[str] = collections.Counter()
    for plan in plans:
        kinds.update(plan.knobs["shares"])
        kinds.update(plan.knobs["script"])
    assert {"429", "500", "503", "drop", "lost", "cut", "truncate", "flap"} <= set(kinds)
    assert sum(plan.kills for plan in plans) >= 10
    assert any(plan.knobs["polls"] >= 3 for plan in plans)  # slow PENDING


def test_faults_seeds_vary_the_source_shape(tmp_path: Path) -> None:
    """The CI seeds' sources include \\r\\n endings, blank lines, a BOM and reused objectIds."""
    seen = set()
    for seed in CI_SEEDS:
        folder = tmp_path / str(seed)
        folder.mkdir()
        data = faults.make_source(faults.plan_for(seed), folder).read_bytes()
        lines = data.split(b"\n")
        seen.add("crlf" if b"\r\n" in data else "lf")
        seen.add("bom" if data.startswith(b"\xef\xbb\xbf") else "no-bom")
        seen.add("blank" if any(not line.strip() for line in lines[:-1]) else "no-blank")
        ids = [i for i in map(faults.object_id_of, lines) if i is not None]
        seen.add("duplicates" if len(ids) != len(set(ids)) else "unique")
    assert {"crlf", "bom", "blank", "duplicates"} <= seen


def _finished_job(tmp_path: Path) -> Outcome:
    outcome = run_seed(3, tmp_path)
    assert outcome.violations == []
    return outcome


def test_faults_check_catches_a_record_missing_from_the_sandbox(tmp_path: Path) -> None:
    """Deleting one accepted record from the sandbox is reported as a violation."""
    _finished_job(tmp_path)
    records = tmp_path / "sandbox" / "records" / str(faults.INTEGRATION_ID) / "ACCOUNT.ldjson"
    lines = records.read_bytes().splitlines(keepends=True)
    records.write_bytes(b"".join(lines[1:]))
    outcome = Outcome(3)
    check_job(
        tmp_path / "accounts.ldjson",
        tmp_path / "job",
        faults.SandboxStore(tmp_path / "sandbox"),
        outcome,
    )
    assert [kind for kind, _ in outcome.violations][:1] == ["accepted_not_in_sandbox"]


def test_faults_check_catches_changed_content_and_reused_ids(tmp_path: Path) -> None:
    """A record whose sandbox content differs, and a clientRequestId logged twice, are caught."""
    _finished_job(tmp_path)
    records = tmp_path / "sandbox" / "records" / str(faults.INTEGRATION_ID) / "ACCOUNT.ldjson"
    lines = records.read_bytes().splitlines(keepends=True)
    first = orjson.loads(lines[0])
    first["name"] = "changed by the test"
    records.write_bytes(orjson.dumps(first) + b"\n" + b"".join(lines[1:]))
    log = tmp_path / "sandbox" / "uploads.jsonl"
    log.write_bytes(log.read_bytes() + log.read_bytes().splitlines(keepends=True)[0])
    outcome = Outcome(3)
    check_job(
        tmp_path / "accounts.ldjson",
        tmp_path / "job",
        faults.SandboxStore(tmp_path / "sandbox"),
        outcome,
    )
    kinds = {kind for kind, _ in outcome.violations}
    assert {"content_differs", "crid_reused"} <= kinds


def test_faults_check_catches_a_broken_invariant(tmp_path: Path) -> None:
    """A report whose counts do not add up to the source's records is a violation."""
    _finished_job(tmp_path)
    report_path = tmp_path / "job" / "report.json"
    report = orjson.loads(report_path.read_bytes())
    report["accepted"] -= 1
    report_path.write_bytes(orjson.dumps(report))
    outcome = Outcome(3)
    check_job(
        tmp_path / "accounts.ldjson",
        tmp_path / "job",
        faults.SandboxStore(tmp_path / "sandbox"),
        outcome,
    )
    assert "invariant" in {kind for kind, _ in outcome.violations}


def test_faults_tally_counts_violations_by_kind() -> None:
    """The tally prints seeds, outcomes and violations by kind (0 when there are none)."""
    good = Outcome(1, outcome="DONE")
    bad = Outcome(2, violations=[("crid_reused", "x"), ("crid_reused", "y")], outcome="DONE")
    assert "violations: 0" in tally([good])
    text = tally([good, bad])
    assert "seeds: 2" in text and "violations: crid_reused 2" in text


def test_faults_script_prints_the_tally() -> None:
    """``python scripts/faults.py --seeds 2`` runs real seeds and prints a zero tally."""
    done = subprocess.run(
        [
            sys.executable,
            "scripts/faults.py",
            "--seeds",
            "2",
            "--first",
            "41",
            "--every-subprocess",
            "0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "seeds: 2" in done.stdout and "violations: 0" in done.stdout


def test_faults_run_seeds_reports_each_outcome() -> None:
    """run_seeds hands each seed's outcome (single file, then batch) to the reporter."""
    seen: list[int] = []
    outcomes = run_seeds(range(50, 52), report=lambda o: seen.append(o.seed), every_batch=2)
    assert seen == [50, 51] and all(not o.violations for o in outcomes)
    assert [o.outcome == "BATCH" for o in outcomes] == [False, True]
