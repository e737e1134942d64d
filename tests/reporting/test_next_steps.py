"""After the job: the summary's next steps, the round note, and the fix-then-send path.

Real processes (``python -m ldjfix``) against ``--sandbox``, read the way a person reads them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from ldjfix.synth.generator import write_file

FAST = '{"polls": 0, "calls_per_second": 0}'
SAMPLES = Path(__file__).parents[2] / "samples"


def ldjfix(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``ldjfix ARGS`` in ``cwd`` against the in-process sandbox (its state in ``cwd``)."""
    env = {**os.environ, "GONG_BASE_URL": "", "LDJFIX_SANDBOX_KNOBS": FAST}
    env["LDJFIX_SANDBOX_DIR"] = str(cwd / "sandbox")
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_next_steps_round_line_explains_accepted_0_after_gong_took_most(tmp_path: Path) -> None:
    """30 of 100 fail at Gong, 20 listed: the round says Gong accepted 70 and why 80 went again."""
    write_file(tmp_path / "a.ldjson", "ACCOUNT", 100, seed=3, defects={"name_too_long": 30})
    done = ldjfix(tmp_path, "run", "a.ldjson", "-t", "ACCOUNT", "--integration-id", "1",
                  "--sandbox", "--max-rounds", "1")  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "round 1: 1 upload(s), 0 accepted, 20 reported" in done.stderr
    assert (
        "Gong accepted 70 of 100 but listed only 20 of 30 failing lines, so 80 records whose "
        "fate it did not say went again" in done.stderr
    )
    assert "raise --max-rounds to continue" in done.stderr
    assert "--max-rounds 6 resumes where this one stopped" in done.stderr


def test_next_steps_say_why_everything_was_quarantined(tmp_path: Path) -> None:
    """No --rules, no --interactive: the summary says so, and names the commands to go on with."""
    source = tmp_path / "accounts.ldjson"
    source.write_bytes((SAMPLES / "accounts.ldjson").read_bytes())
    done = ldjfix(tmp_path, "run", "accounts.ldjson", "-t", "ACCOUNT", "--integration-id", "1",
                  "--sandbox")  # fmt: skip
    assert done.returncode == 1
    said = done.stderr.splitlines()
    assert said[-6] == "  next:"
    assert said[-5] == (
        "    every defect was quarantined because no --rules or --interactive was given "
        '(a rules file fixes them next time: see "Rules files" in the README).'
    )
    job = "accounts.ldjson.ldjfix-job"
    assert said[-4:] == [
        "    to fix the 22 quarantined records:",
        f"      ldjfix fix {job}/rejected.ldjson -t ACCOUNT --interactive -o {job}/fixed.ldjson",
        "    then send them:",
        f"      ldjfix run {job}/fixed.ldjson -t ACCOUNT --integration-id 1 --sandbox",
    ]


def test_next_steps_fix_the_rejected_file_then_send_it(tmp_path: Path) -> None:
    """The hint's two commands as printed (a rules file in place of the person): records sent."""
    source = tmp_path / "accounts.ldjson"
    source.write_bytes((SAMPLES / "accounts.ldjson").read_bytes())
    first = ldjfix(tmp_path, "run", "accounts.ldjson", "-t", "ACCOUNT", "--integration-id", "1",
                   "--sandbox", "--rules", str(SAMPLES / "rules.toml"))  # fmt: skip
    assert first.returncode == 1
    said = first.stderr.splitlines()
    fix_words = said[said.index("    to fix the 6 quarantined records:") + 1].split()
    send_words = said[said.index("    then send them:") + 1].split()
    assert fix_words[:3] == ["ldjfix", "fix", "accounts.ldjson.ldjfix-job/rejected.ldjson"]
    rules = tmp_path / "ids.toml"  # what the person decides: new ids, the overlong one cut
    rules.write_text(
        '[[rule]]\nfield = "objectId"\nkind = "missing"\naction = "fill"\nvalue = "acc-new"\n'
        '[[rule]]\nfield = "objectId"\nkind = "too_long"\naction = "truncate"\nlength = 64\n'
        '[[rule]]\nfield = "objectId"\nkind = "invalid"\naction = "replace"\n'
        "regex = '[^A-Za-z0-9-]'\nwith = '-'\n"
    )
    fix_args = [w for w in fix_words[1:] if w != "--interactive"] + ["--rules", str(rules)]
    fixed = ldjfix(tmp_path, *fix_args)
    assert fixed.returncode == 1, fixed.stderr  # the unparsable line needs a person
    assert "6 reported records: 5 fixed, 1 quarantined" in fixed.stderr
    out = tmp_path / "accounts.ldjson.ldjfix-job" / "fixed.ldjson"
    records = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert len(records) == 5 and all(set(r) >= {"objectId", "modifiedDate"} for r in records)
    sent = ldjfix(tmp_path, *send_words[1:])
    assert sent.returncode == 0, sent.stderr
    report = orjson.loads((out.parent / "fixed.ldjson.ldjfix-job" / "report.json").read_bytes())
    assert (report["outcome"], report["accepted"]) == ("DONE", 5)


def test_round_note_counts_a_status_without_total_error_count_as_none_listed() -> None:
    """A FAILED status that left totalErrorCount out (null) reads as 0 failing, not a crash."""
    from ldjfix.reporting.nextsteps import round_note

    entry = {
        "unknown": 30,
        "uploads": [{"records": 50, "listed": 20, "totalErrorCount": None, "status": "FAILED"}],
    }
    note = round_note(entry)
    assert "Gong accepted 50 of 50 but listed only 20 of 0 failing lines" in note
    assert "30 records" in note
