"""run --verify N and --max-failure-rate P as a user runs them, against both sandboxes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ldjfix.synth.generator import write_file
from tests.conftest import SAMPLES
from tests.support.cli import REMOTES, remote
from tests.support.loop import sandbox_client


def run_args(source: Path, object_type: str, job: Path, *extra: str) -> list[str]:
    """`ldjfix run` arguments for one file into integration 1."""
    return ["run", str(source), "-t", object_type, "--integration-id", "1", "--job-dir",
            str(job), "--calls-per-second", "100", *extra]  # fmt: skip


def report(job: Path) -> dict:  # type: ignore[type-arg]
    """The job's report.json."""
    return orjson.loads((job / "report.json").read_bytes())  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", REMOTES)
def test_run_verify_reads_back_and_matches(kind: str, tmp_path: Path) -> None:
    """DONE, then N records read back (in calls of at most 100 ids) all match: exit 0."""
    source = tmp_path / "accounts.ldjson"
    write_file(source, "ACCOUNT", 260, seed=3, defects={"millis_modified_date": 5})
    job = tmp_path / "job"
    with remote(kind, tmp_path) as gong:
        done = gong.ldjfix(*run_args(source, "ACCOUNT", job, "--rules",
                                     str(SAMPLES / "rules.toml"), "--verify", "250"))  # fmt: skip
        calls = [c.method for c in gong.server.app.calls] if gong.server else []
    assert done.returncode == 0, done.stderr
    doc = report(job)
    assert doc["outcome"] == "DONE" and doc["exitCode"] == 0
    assert doc["verify"]["checked"] == 250 and doc["verify"]["mismatched"] == []
    assert "read-back: 250 record(s) checked, all as in corrected.ldjson" in done.stderr
    if gong.server:  # 250 ids: three read-back calls of at most 100
        assert calls.count("GET") >= 3


def test_run_verify_mismatch_exits_1_and_lists_records(tmp_path: Path) -> None:
    """A record Gong holds differently from corrected.ldjson: exit 1, the record listed."""
    source = tmp_path / "accounts.ldjson"
    write_file(source, "ACCOUNT", 30, seed=4)
    job = tmp_path / "job"
    with remote("sandbox", tmp_path) as gong:
        gong.env["LDJFIX_CRASH_AT"] = "outputs:1"  # outputs written, report not yet
        crashed = gong.ldjfix(*run_args(source, "ACCOUNT", job, "--verify", "30"))
        assert crashed.returncode != 0
        first = orjson.loads(source.read_bytes().splitlines()[0])
        changed = tmp_path / "changed.ldjson"
        changed.write_bytes(orjson.dumps({**first, "name": "Renamed Meanwhile"}) + b"\n")
        with sandbox_client(gong.state) as client:  # someone else changes it in Gong
            client.upload(changed, object_type="ACCOUNT", integration_id=1, client_request_id="x1")
        del gong.env["LDJFIX_CRASH_AT"]
        done = gong.ldjfix(*run_args(source, "ACCOUNT", job, "--verify", "30"))
    assert done.returncode == 1, done.stderr
    doc = report(job)
    assert doc["outcome"] == "DONE" and doc["exitCode"] == 1
    [bad] = doc["verify"]["mismatched"]
    assert bad["objectId"] == first["objectId"] and bad["line"] == 1
    assert bad["fields"] == [
        {"field": "name", "expected": first["name"], "actual": "Renamed Meanwhile"}
    ]
    assert f"read-back: 1 of 30 record(s) differ in Gong ({first['objectId']};" in done.stderr


def test_run_verify_skips_types_gong_cannot_read_back(tmp_path: Path) -> None:
    """STAGE records cannot be read back: verify says so, and the exit code is untouched."""
    with remote("sandbox", tmp_path) as gong:
        done = gong.ldjfix(
            *run_args(SAMPLES / "stages.ldjson", "STAGE", tmp_path / "job", "--verify", "5")
        )
    assert done.returncode == 0, done.stderr
    assert report(tmp_path / "job")["verify"]["skipped"].startswith("Gong reads back only ACCOUNT")


@pytest.mark.parametrize("kind", REMOTES)
def test_run_max_failure_rate_stops_before_shards(kind: str, tmp_path: Path) -> None:
    """Deals whose accounts were never sent fail wholesale: STOPPED after 1 upload, then go on."""
    job = tmp_path / "job"
    args = run_args(SAMPLES / "deals.ldjson", "DEAL", job, "--rules", str(SAMPLES / "rules.toml"))
    with remote(kind, tmp_path) as gong:
        stopped = gong.ldjfix(*args)
        doc = report(job)
        again = gong.ldjfix(*args, "--max-failure-rate", "100")
    assert stopped.returncode == 1
    assert doc["outcome"] == "STOPPED" and doc["exitCode"] == 1
    assert doc["uploads"] == 1 and doc["apiCalls"] == 2  # one upload, one poll: no shards
    assert doc["pending"] > 150
    rate = doc["failureRate"]
    assert rate["maxFailureRate"] == 50 and rate["uploads"][0]["rate"] > 90
    assert rate["groups"][0]["field"] == "accountId" and rate["groups"][0]["kind"] == "dangling"
    assert "upload the objects these records point at first" in rate["advice"]
    assert (
        "more than --max-failure-rate 50; stopped before spending more API calls" in stopped.stderr
    )
    assert again.returncode == 1
    assert report(job)["outcome"] == "QUARANTINED" and report(job)["pending"] == 0


def test_run_max_failure_rate_threshold_is_the_given_percent(tmp_path: Path) -> None:
    """2 % failing stops at --max-failure-rate 1, and runs to its end at the default 50."""
    with remote("sandbox", tmp_path) as gong:
        done = gong.ldjfix(*run_args(SAMPLES / "accounts.ldjson", "ACCOUNT", tmp_path / "job",
                                     "--rules", str(SAMPLES / "rules.toml"),
                                     "--max-failure-rate", "1"))  # fmt: skip
    assert done.returncode == 1
    doc = report(tmp_path / "job")
    assert doc["outcome"] == "STOPPED" and doc["failureRate"]["uploads"][0]["rate"] > 1
    with remote("sandbox", tmp_path / "two") as gong:
        fine = gong.ldjfix(*run_args(SAMPLES / "accounts.ldjson", "ACCOUNT", tmp_path / "job2",
                                     "--rules", str(SAMPLES / "rules.toml")))  # fmt: skip
    assert report(tmp_path / "job2")["outcome"] == "QUARANTINED" and "failureRate" not in report(
        tmp_path / "job2"
    )
    assert fine.returncode == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-failure-rate", "150"], "Invalid value for '--max-failure-rate'"),
        (["--verify", "-1"], "Invalid value for '--verify'"),
    ],
)
def test_run_verify_and_rate_bad_values_are_usage(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    """Out-of-range values are usage errors (exit 2), before anything runs."""
    with remote("sandbox", tmp_path) as gong:
        done = gong.ldjfix(*run_args(SAMPLES / "stages.ldjson", "STAGE", tmp_path / "job", *extra))
    assert done.returncode == 2 and message in done.stderr
    assert not (tmp_path / "job").exists()
