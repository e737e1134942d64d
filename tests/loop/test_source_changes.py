"""A source that changes while its job runs: the job stops with exit 3, nothing lost, resumable."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.ldjson.sources import SourceChanged
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.synth import generator as synth
from tests.support.loop import FAST_ENV, assert_invariant, run_args, sandbox_client


def _rewrite(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"name":"', b'"name":"X', 3))


def _truncate(path: Path) -> None:
    with open(path, "r+b") as stream:
        stream.truncate(path.stat().st_size // 2)


def _replace(path: Path) -> None:
    temp = path.with_name("next.ldjson")
    temp.write_bytes(path.read_bytes())
    os.replace(temp, path)


def _delete(path: Path) -> None:
    path.unlink()


CHANGES: dict[str, Callable[[Path], None]] = {
    "rewritten": _rewrite,
    "truncated": _truncate,
    "replaced": _replace,
    "deleted": _delete,
}


def _hook_at(step: str, act: Callable[[], None]) -> Callable[[str], None]:
    fired: list[str] = []

    def hook(name: str) -> None:
        if name == step and not fired:
            fired.append(name)
            act()

    return hook


@pytest.mark.parametrize("how", sorted(CHANGES))
@pytest.mark.parametrize("step", ["plan", "poll", "settle"])
def test_source_change_mid_run_stops_then_resumes(tmp_path: Path, how: str, step: str) -> None:
    """Changed at any step: SourceChanged (exit 3); restored, the same job ends with all kept."""
    source = tmp_path / "src.ldjson"
    synth.write_file(source, "ACCOUNT", 120, seed=5, defects={"name_too_long": 4})
    original = source.read_bytes()
    spec = JobSpec(source, "ACCOUNT", 1, job_dir=tmp_path / "job")
    state = tmp_path / "sandbox"
    with (
        sandbox_client(state) as client,
        pytest.raises(SourceChanged, match="changed while the job ran") as caught,
    ):
        run_job(
            spec,
            client=client,
            fixer=QuarantineFixer(),
            crash_hook=_hook_at(step, lambda: CHANGES[how](source)),
        )
    assert caught.value.exit_code == 3
    assert not (tmp_path / "job" / "report.json").exists()  # nothing finished on mixed data
    source.write_bytes(original)  # the exporter's file put back
    with sandbox_client(state) as client:
        result = run_job(spec, client=client, fixer=QuarantineFixer())
    assert_invariant(result.doc)
    assert result.counts.records == 120
    assert result.counts.pending == 0


def test_source_changed_mid_run_as_a_user_sees_it(tmp_path: Path) -> None:
    """An exporter rewriting the file while round 1 polls: exit 3, one Error: line, resumable."""
    source = tmp_path / "src.ldjson"
    synth.write_file(source, "ACCOUNT", 200, seed=8, defects={"name_too_long": 5})
    original = source.read_bytes()
    job = tmp_path / "job"
    env = {**os.environ, "LDJFIX_SANDBOX_KNOBS": '{"polls": 3, "calls_per_second": 50}'}
    args = [sys.executable, "-m", "ldjfix", *run_args(source, tmp_path / "sb", job=job)]
    proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)

    def exporter() -> None:  # rewrite as soon as round 1's upload set exists
        deadline = time.monotonic() + 30
        while not (job / "rounds" / "r01-s01.ldjson").exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        _rewrite(source)

    thread = threading.Thread(target=exporter)
    thread.start()
    _, err = proc.communicate(timeout=60)
    thread.join()
    assert proc.returncode == 3, err
    assert err.startswith("Error: the source") and "changed while the job ran" in err
    assert "Traceback" not in err
    source.write_bytes(original)
    fast = {**os.environ, **FAST_ENV}
    again = subprocess.run(args, env=fast, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1, again.stderr  # no rules: Gong's 5 rejects are quarantined
    report = orjson.loads((job / "report.json").read_bytes())
    assert_invariant(report)
    assert (report["records"], report["quarantined"], report["pending"]) == (200, 5, 0)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_source_change_before_fixed_records_are_read_back(tmp_path: Path, how: str) -> None:
    """Changed while planning, with records fixed in round 0: exit 3, then the job resumes."""
    from ldjfix.fixing.rules import load_rules
    from ldjfix.fixing.rules_fixer import RulesFixer
    from ldjfix.validation.validator import Validator
    from tests.conftest import SAMPLES

    source = tmp_path / "src.ldjson"
    synth.write_file(source, "ACCOUNT", 120, seed=5, defects={"millis_modified_date": 30})
    original = source.read_bytes()
    spec = JobSpec(source, "ACCOUNT", 1, job_dir=tmp_path / "job")
    validator = Validator("ACCOUNT")
    fixer = RulesFixer(load_rules(SAMPLES / "rules.toml"), validator=validator)
    state = tmp_path / "sandbox"
    with sandbox_client(state) as client, pytest.raises(SourceChanged) as caught:
        run_job(
            spec,
            client=client,
            fixer=fixer,
            validator=validator,
            crash_hook=_hook_at("plan", lambda: CHANGES[how](source)),
        )
    assert caught.value.exit_code == 3
    source.write_bytes(original)
    with sandbox_client(state) as client:
        result = run_job(spec, client=client, fixer=fixer, validator=validator)
    assert_invariant(result.doc)
    assert result.counts.accepted == 120


@pytest.mark.parametrize("how", sorted(CHANGES))
def test_source_change_before_the_drafted_output_is_taken(tmp_path: Path, how: str) -> None:
    """Round 1 all accepted, corrected.ldjson drafted: a change before the finish is exit 3."""
    source = tmp_path / "src.ldjson"
    synth.write_file(source, "ACCOUNT", 80, seed=6)
    original = source.read_bytes()
    spec = JobSpec(source, "ACCOUNT", 1, job_dir=tmp_path / "job")
    state = tmp_path / "sandbox"
    with sandbox_client(state) as client, pytest.raises(SourceChanged) as caught:
        run_job(
            spec,
            client=client,
            fixer=QuarantineFixer(),
            crash_hook=_hook_at("settle", lambda: CHANGES[how](source)),
        )
    assert caught.value.exit_code == 3
    assert not (tmp_path / "job" / "corrected.ldjson").exists()
    source.write_bytes(original)
    with sandbox_client(state) as client:
        result = run_job(spec, client=client, fixer=QuarantineFixer())
    assert (result.outcome, result.counts.accepted) == ("DONE", 80)
    assert (tmp_path / "job" / "corrected.ldjson").read_bytes() == original
    assert not (tmp_path / "job" / "rounds" / "corrected.draft.ldjson").exists()
