"""Fuzzing the job folder: any of its files hand-damaged, and ``run`` resumes or refuses cleanly.

Two staged jobs: one stopped after round 1 was polled (resuming reads the journal, the round-0
settlement, the status and the lineage) and one finished with quarantined records (reading
report.json and rejected.ldjson). One file of each is damaged (some keys dropped or replaced,
cut short, replaced by noise, or removed); the same command then exits 0, 1 or 3, never with a
traceback, and a 3 names the damaged file.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from ldjfix.cli import cli
from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.synth import generator as synth
from tests.robustness.test_fuzz_cli import _mutate_json, assert_clean
from tests.robustness.test_fuzz_parsers import EXAMPLES
from tests.support.loop import FAST_ENV, run_args, sandbox_client

STAGES = ("sent", "finished")
FILES = {
    "sent": (
        "rounds/r00-settled.json",
        "rounds/r01-s01.status.json",
        "rounds/r01-s01.lineage.json",
    ),
    "finished": ("report.json", "rejected.ldjson", "rounds/r02-settled.json"),
}


class Stop(Exception):
    """Stops the staged run once round 1's status is saved and the journal says "sent"."""


def _stop_when_sent() -> object:
    seen: list[str] = []

    def hook(step: str) -> None:
        seen.append(step)
        if step == "journal" and "poll" in seen:
            raise Stop

    return hook


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A source and, per stage, a sandbox and a job folder left in that stage."""
    root = tmp_path_factory.mktemp("staged")
    source = root / "accounts.ldjson"
    synth.write_file(source, "ACCOUNT", 200, seed=5, defects={"name_too_long": 30})
    with sandbox_client(root / "sent" / "sb") as client, pytest.raises(Stop):
        spec = JobSpec(source, "ACCOUNT", 1, root / "sent" / "job")
        run_job(spec, client=client, fixer=QuarantineFixer(), crash_hook=_stop_when_sent())
    with sandbox_client(root / "finished" / "sb") as client:
        spec = JobSpec(source, "ACCOUNT", 1, root / "finished" / "job")
        result = run_job(spec, client=client, fixer=QuarantineFixer())
    assert result.outcome == "QUARANTINED"
    return root


def _damage(path: Path, how: str, data: st.DataObject) -> None:
    raw = path.read_bytes()
    if how == "remove":
        path.unlink()
    elif how == "cut":
        path.write_bytes(raw[: data.draw(st.integers(0, max(0, len(raw) - 1)))])
    elif how == "noise":
        path.write_bytes(data.draw(st.binary(max_size=80)))
    elif path.suffix == ".ldjson":
        lines = [_mutate_json(json.loads(line), data) for line in raw.splitlines()]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    else:
        path.write_text(json.dumps(_mutate_json(json.loads(raw), data)))


@settings(max_examples=max(12, EXAMPLES // 3), deadline=None)
@given(data=st.data())
def test_fuzz_jobfiles_damaged_file_resumes_or_is_named(staged: Path, data: st.DataObject) -> None:
    """Any job-folder file damaged: exit 0, 1 or 3 with no traceback; a 3 names the file."""
    stage = data.draw(st.sampled_from(STAGES))
    name = data.draw(st.sampled_from(FILES[stage]))
    how = data.draw(st.sampled_from(("mutate", "mutate", "cut", "noise", "remove")))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copytree(staged / stage, folder / stage)
        job = folder / stage / "job"
        _damage(job / name, how, data)
        args = run_args(staged / "accounts.ldjson", folder / stage / "sb", job=job)
        result = CliRunner(env={**FAST_ENV, "GONG_BASE_URL": ""}).invoke(cli, args)
        assert_clean(result, {0, 1, 3})
        if result.exit_code == 3:
            assert Path(name).name in result.output, result.output
            assert "Error: job file" in result.output


@pytest.mark.parametrize("name", ["report.json", "rejected.ldjson", "corrected.ldjson"])
def test_fuzz_jobfiles_deleted_output_is_written_again(
    staged: Path, tmp_path: Path, name: str
) -> None:
    """A finished job whose output was deleted writes its outputs afresh on the same command."""
    shutil.copytree(staged / "finished", tmp_path / "finished")
    job = tmp_path / "finished" / "job"
    before = (job / name).read_bytes()
    (job / name).unlink()
    args = run_args(staged / "accounts.ldjson", tmp_path / "finished" / "sb", job=job)
    result = CliRunner(env={**FAST_ENV, "GONG_BASE_URL": ""}).invoke(cli, args)
    assert result.exit_code == 1, result.output
    after = (job / name).read_bytes()
    if name == "report.json":
        assert json.loads(after)["quarantined"] == json.loads(before)["quarantined"]
    else:
        assert after == before


def test_fuzz_jobfiles_damaged_status_is_named_with_what_to_do(
    staged: Path, tmp_path: Path
) -> None:
    """A status file cut short: exit 3, the file named, and what to do."""
    shutil.copytree(staged / "sent", tmp_path / "sent")
    job = tmp_path / "sent" / "job"
    status = job / "rounds" / "r01-s01.status.json"
    status.write_bytes(status.read_bytes()[:40])
    args = run_args(staged / "accounts.ldjson", tmp_path / "sent" / "sb", job=job)
    result = CliRunner(env={**FAST_ENV, "GONG_BASE_URL": ""}).invoke(cli, args)
    assert result.exit_code == 3
    assert f"Error: job file {status} is damaged" in result.output
    assert "--job-dir" in result.output


@pytest.mark.parametrize(
    ("change", "code"),
    [({"local": None}, 1), ({"local": 5}, 3), ({"perRound": [{"x": 1}]}, 3), ({"fixes": "x"}, 3)],
    ids=["local-removed", "local-not-an-object", "round-entry-damaged", "fixes-not-a-count"],
)
def test_fuzz_jobfiles_finished_report_edited_by_hand(
    staged: Path, tmp_path: Path, change: dict[str, object], code: int
) -> None:
    """A finished job's report.json edited by hand: its summary, or exit 3 naming it."""
    shutil.copytree(staged / "finished", tmp_path / "finished")
    job = tmp_path / "finished" / "job"
    doc = json.loads((job / "report.json").read_bytes())
    for key, value in change.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    (job / "report.json").write_text(json.dumps(doc))
    args = run_args(staged / "accounts.ldjson", tmp_path / "finished" / "sb", job=job)
    result = CliRunner(env={**FAST_ENV, "GONG_BASE_URL": ""}).invoke(cli, args)
    assert_clean(result, {code})
    if code == 3:
        assert "Error: job file" in result.output and "report.json" in result.output


@pytest.mark.parametrize("defects", [None, [1], [{"field": "name"}], [{"count": -1}]])
def test_fuzz_jobfiles_report_with_damaged_defects_is_named(
    staged: Path, tmp_path: Path, defects: object
) -> None:
    """A finished job's report.json whose defect groups are no groups: exit 3, the file named
    and what to do; never a traceback from printing the summary (was a TypeError)."""
    shutil.copytree(staged / "finished", tmp_path / "finished")
    job = tmp_path / "finished" / "job"
    report = job / "report.json"
    report.write_text(json.dumps({**json.loads(report.read_text()), "defects": defects}))
    args = run_args(staged / "accounts.ldjson", tmp_path / "finished" / "sb", job=job)
    result = CliRunner(env={**FAST_ENV, "GONG_BASE_URL": ""}).invoke(cli, args)
    assert_clean(result, {3})
    assert f"Error: job file {report} is damaged" in result.output
    assert "Delete it and run the same command again" in result.output
