"""rules suggest: its rules, unchanged, take every file to DONE but for what a person decides."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import orjson
import pytest

from ldjfix.fixing.rules import parse_rules
from ldjfix.synth.defects import kinds_for
from ldjfix.synth.generator import write_file
from ldjfix.synth.universe import Universe
from tests.conftest import SAMPLES
from tests.support.cli import remote

# Only a person can decide these: the upsert key, a line that is not JSON, a missing email
# (Gong matches users by it), and references to objects nobody uploaded.
PERSON = {
    "missing_object_id", "long_object_id", "bad_object_id_chars", "invalid_json", "not_object",
    "missing_email", "dangling_account_ref", "dangling_owner_ref", "dangling_stage_ref",
}  # fmt: skip
ORDER = ("BUSINESS_USER", "STAGE", "ACCOUNT", "CONTACT", "DEAL", "LEAD")
SAMPLE_FILES = {
    "users.ldjson": "BUSINESS_USER",
    "stages.ldjson": "STAGE",
    "accounts.ldjson": "ACCOUNT",
    "contacts.ldjson": "CONTACT",
    "deals.ldjson": "DEAL",
}


def suggest(source: Path, object_type: str, out: Path, *extra: str) -> str:
    """Run `ldjfix rules suggest` as a user would; the rules file's text."""
    done = subprocess.run(
        [sys.executable, "-m", "ldjfix", "rules", "suggest", str(source), "-t", object_type,
         "-o", str(out), *extra],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "rules written to" in done.stderr and done.stdout == ""
    text = out.read_text(encoding="utf-8")
    parse_rules(tomllib.loads(text))
    return text


def run_batch(
    gong_kind: str, tmp_path: Path, jobs: list[tuple[Path, str, Path]]
) -> dict[str, set[int]]:
    """Run every file (parents first) with its rules; the quarantined source lines per file."""
    manifest = tmp_path / "jobs.toml"
    manifest.write_text(
        "\n".join(f'[[job]]\nfile = "{f}"\nobject_type = "{t}"\nrules = "{r}"\n'
                  f'job_dir = "{tmp_path / "jobs" / f.name}"\n' for f, t, r in jobs),
        encoding="utf-8",
    )  # fmt: skip
    with remote(gong_kind, tmp_path) as gong:
        done = gong.ldjfix("run", "--manifest", str(manifest), "--integration-id", "1",
                           "--calls-per-second", "100", timeout=120)  # fmt: skip
    summary = orjson.loads(done.stdout)
    quarantined = {}
    for entry in summary["files"]:
        assert entry["outcome"] in ("DONE", "QUARANTINED"), entry
        assert entry["pending"] == 0
        rejected = Path(entry["jobDir"]) / "rejected.ldjson"
        lines = rejected.read_bytes().splitlines()
        quarantined[Path(entry["file"]).name] = {orjson.loads(x)["line"] for x in lines}
    return quarantined


@pytest.mark.parametrize("gong_kind", ["sandbox", "serve"])
def test_rules_suggest_samples_reach_done_but_for_person_defects(
    gong_kind: str, tmp_path: Path
) -> None:
    """Every sample: the suggested rules (with a status if there is one) leave only PERSON kinds."""
    planted = orjson.loads((SAMPLES / "defects.json").read_bytes())
    jobs = []
    for name, object_type in SAMPLE_FILES.items():
        source = SAMPLES / name
        status = SAMPLES / name.replace(".ldjson", "-status.json")
        extra = ["--status-file", str(status)] if status.exists() else []
        rules = tmp_path / f"{name}.rules.toml"
        suggest(source, object_type, rules, *extra)
        jobs.append((source, object_type, rules))
    quarantined = run_batch(gong_kind, tmp_path, jobs)
    for name in SAMPLE_FILES:
        person = {d["line"] for d in planted.get(name, []) if d["kind"] in PERSON}
        assert quarantined[name] == person, name


def test_rules_suggest_every_defect_kind_generated(tmp_path: Path) -> None:
    """A generated file of each type with every defect kind: only PERSON kinds are quarantined."""
    universe = Universe(seed=5, accounts=100, users=60, stages=50)
    counts = {
        "ACCOUNT": 100,
        "BUSINESS_USER": 60,
        "STAGE": 50,
        "CONTACT": 80,
        "DEAL": 120,
        "LEAD": 60,
    }
    jobs, expected = [], {}
    for object_type in ORDER:
        source = tmp_path / f"{object_type.lower()}.ldjson"
        kinds = {kind: 1 for kind in kinds_for(object_type)}
        planted = write_file(source, object_type, counts[object_type], seed=5, defects=kinds,
                             universe=universe)  # fmt: skip
        assert {p.kind for p in planted} == set(kinds)
        text = suggest(source, object_type, tmp_path / f"{object_type}.toml")
        assert text.count("[[rule]]") >= 3
        jobs.append((source, object_type, tmp_path / f"{object_type}.toml"))
        expected[source.name] = {p.line for p in planted if p.kind in PERSON}
    assert run_batch("sandbox", tmp_path, jobs) == expected


def test_rules_suggest_choices_for_each_kind(tmp_path: Path) -> None:
    """The rule chosen per kind: the mechanical fix where safe, quarantine for objectId."""
    source = tmp_path / "deals.ldjson"
    source.write_text(
        '{"objectId":"d1","modifiedDate":"2025-01-02T03:04:05.678Z","closeDate":"2025-06-30T00:00:00Z"}\n'
        '{"objectId":"d2","modifiedDate":"2025-01-02T03:04:05+0200","amount":"1,200.50","status":"Won"}\n'
        '{"objectId":"d3","modifiedDate":"2025-01-02T03:04:05Z","isDeleted":"false",'
        '"status":"Closed Won"}\n'
        '{"objectId":"d#4","modifiedDate":"2025-01-02T03:04:05Z"}\n',
        encoding="utf-8",
    )  # fmt: skip
    rules = parse_rules(tomllib.loads(suggest(source, "DEAL", tmp_path / "r.toml"))).rules
    by_field = {r.field: r for r in rules}
    assert by_field["modifiedDate"].action == "reformat_datetime"
    assert by_field["closeDate"].action == "reformat_datetime"
    assert by_field["closeDate"].options["to"] == "date"
    assert (by_field["amount"].action, by_field["amount"].options["to"]) == ("coerce", "number")
    assert (by_field["isDeleted"].action, by_field["isDeleted"].options["to"]) == (
        "coerce",
        "boolean",
    )
    assert (
        by_field["status"].action == "map" and by_field["status"].options["values"]["Won"] == "WON"
    )
    assert by_field["objectId"].action == "quarantine" and rules[0].field == "objectId"
    text = (tmp_path / "r.toml").read_text(encoding="utf-8")
    assert "# status: 2 records (local), e.g. line 2, 3" in text
    assert 'Not mapped (quarantined unless you add them to values): "Closed Won".' in text


def test_rules_suggest_then_fix_with_a_status(tmp_path: Path) -> None:
    """`fix` with the suggested rules and Gong's status fixes all but the objectId records."""
    source, status = SAMPLES / "accounts.ldjson", SAMPLES / "accounts-status.json"
    rules = tmp_path / "rules.toml"
    suggest(source, "ACCOUNT", rules, "--status-file", str(status))
    done = subprocess.run(
        [sys.executable, "-m", "ldjfix", "fix", str(source), "--status-file", str(status),
         "-t", "ACCOUNT", "--rules", str(rules), "-o", str(tmp_path / "out.ldjson"),
         "--rejected", str(tmp_path / "rejected.ldjson")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    planted = orjson.loads((SAMPLES / "defects.json").read_bytes())["accounts.ldjson"]
    listed = {e["line"] for e in orjson.loads(status.read_bytes())["errors"]}
    person = {d["line"] for d in planted if d["kind"] in PERSON and d["line"] in listed}
    rejected = {
        orjson.loads(x)["line"] for x in (tmp_path / "rejected.ldjson").read_bytes().splitlines()
    }
    assert rejected == person


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["missing.ldjson", "-t", "ACCOUNT", "-o", "r.toml"], 3, "Error: "),
        (["a.ldjson", "-t", "ACCOUNT", "-o", "a.ldjson"], 2, "ldjfix never overwrites its input"),
        (["a.ldjson", "-t", "WIDGET", "-o", "r.toml"], 2, "objectType 'WIDGET' is not one of"),
        (["a.ldjson", "-t", "ACCOUNT", "--status-file", "bad.json", "-o", "r.toml"], 3, "Error: "),
    ],
)
def test_rules_suggest_bad_inputs(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    """Bad input: one Error line, the documented code, and no rules file left behind."""
    (tmp_path / "a.ldjson").write_text('{"objectId":"a","modifiedDate":"x"}\n', encoding="utf-8")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "ldjfix", "rules", "suggest", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == code
    assert message in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "r.toml").exists()


def test_rules_suggest_reads_stdin_once_with_a_status(tmp_path: Path) -> None:
    """FILE on stdin with a status: one pass, Gong's defects counted, a line past the end noted."""
    status = orjson.loads((SAMPLES / "contacts-status.json").read_bytes())
    status["errors"].append({"line": 999, "description": "Mandatory field [objectId] is missing"})
    saved = tmp_path / "status.json"
    saved.write_bytes(orjson.dumps(status))
    done = subprocess.run(
        [sys.executable, "-m", "ldjfix", "rules", "suggest", "-", "-t", "CONTACT",
         "--status-file", str(saved), "-o", "-"],
        input=(SAMPLES / "contacts.ldjson").read_bytes(), capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode("utf-8")
    assert "# accountId: 7 records (Gong), e.g. line 44, 100, 144" in text
    assert "# 1 status error(s) name lines past the end of the file;" in text
    rules = parse_rules(tomllib.loads(text)).rules
    assert any(r.field == "accountId" and r.action == "quarantine" for r in rules)
