"""Round 0's shortcuts (a known failure shape settled by the fixer's plan, a record fixed by the
fixer's known defect) against the general path."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ldjfix.fixing.known import KnownFix
from ldjfix.fixing.rules import load_rules
from ldjfix.fixing.rules_fixer import RulesFixer
from ldjfix.loop import survey
from ldjfix.loop.fixedstore import FixedRecords, changes
from ldjfix.loop.folder import CORRECTED_DRAFT
from ldjfix.loop.ledger import QUARANTINED, Settlement
from ldjfix.loop.lineage import Draft, write_upload_sets
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.loop.runs import unpack
from ldjfix.loop.settling import Decisions, KnownStreak
from ldjfix.synth import generator as synth
from ldjfix.validation.validator import Validator
from tests.conftest import SAMPLES
from tests.support.loop import assert_store_matches, sandbox_client
from tests.support.spies import lines_reaching

DEFECTS = {
    "millis_modified_date": 300,
    "bad_datetime": 40,
    "missing_modified_date": 20,
    "is_deleted_as_string": 30,
    "domains_not_array": 20,
    "domain_is_url": 20,
    "name_too_long": 15,
    "invalid_json": 5,
    "not_object": 5,
}
VARIABLE = ("jobId", "jobDir", "timings")  # what differs between any two runs of a job


def _mixed_source(path: Path) -> None:
    """A file bad in many ways: planted defects, two defects at once, a date no rule can
    read, an escaped key, a duplicate key, lines that are no object, a BOM and CRLF."""
    synth.write_file(path, "ACCOUNT", 1_500, seed=11, defects=DEFECTS)
    lines = path.read_bytes().split(b"\n")
    for n in range(3, len(lines) - 1, 97):  # failing two ways: milliseconds and isDeleted
        record = orjson.loads(lines[n]) if lines[n].startswith(b"{") else None
        if record is not None:
            record["modifiedDate"] = "2024-03-14T00:26:35.864Z"
            record["isDeleted"] = "yes"
            lines[n] = orjson.dumps(record)
    for n in range(5, len(lines) - 1, 89):  # milliseconds, and a value the rule cannot read
        record = orjson.loads(lines[n]) if lines[n].startswith(b"{") else None
        if record is not None:
            record["modifiedDate"] = "sometime in March" if n % 2 else "2024-03-14T00:26:35.864Z"
            lines[n] = orjson.dumps(record)
    lines[7] = lines[7].replace(b'"name"', b'"n\\u0061me"', 1)  # an escaped key
    lines[9] = lines[9].replace(b'{"objectId"', b'{"isDeleted":false,"objectId"', 1)  # twice
    body = b"".join(line + (b"\r\n" if n % 3 == 0 else b"\n") for n, line in enumerate(lines[:-1]))
    path.write_bytes(b"\xef\xbb\xbf" + body)


def _run(tmp_path: Path, source: Path, name: str, *, shortcuts: bool = True) -> Path:
    validator = Validator("ACCOUNT")
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    rules = load_rules(SAMPLES / "rules.toml")
    fixer = RulesFixer(rules, validator=validator, now=lambda: now, shortcuts=shortcuts)
    spec = JobSpec(source, "ACCOUNT", 1, job_dir=tmp_path / name)
    with sandbox_client(tmp_path / f"sandbox-{name}") as client:
        result = run_job(spec, client=client, fixer=fixer, validator=validator)
    return result.job_dir


def _outputs(job: Path) -> dict[str, bytes]:
    """Every file of a job folder but the ids and times that differ from run to run."""
    found = {}
    for path in sorted(job.rglob("*")):
        name = path.relative_to(job).as_posix()
        if path.is_dir() or name in ("journal.json", ".lock") or name.endswith(".status.json"):
            continue
        found[name] = path.read_bytes()
    report = orjson.loads(found["report.json"])
    found["report.json"] = orjson.dumps({k: v for k, v in report.items() if k not in VARIABLE})
    return found


def _mostly_millis(path: Path) -> None:
    """A file bad the commonest way: milliseconds nearly everywhere, a few other defects."""
    synth.write_file(
        path, "ACCOUNT", 600, seed=5, defects={"millis_modified_date": 450, "bad_datetime": 10}
    )


@pytest.mark.parametrize("make", [_mixed_source, _mostly_millis])
def test_known_shapes_shortcut_writes_what_the_general_path_writes(
    tmp_path: Path, make: Any
) -> None:
    """The same settlements, fixed store, fixes, upload sets and report, whatever the defects."""
    source = tmp_path / "source.ldjson"
    make(source)
    fast = _outputs(_run(tmp_path, source, "fast"))
    general = _outputs(_run(tmp_path, source, "general", shortcuts=False))
    assert sorted(fast) == sorted(general)
    for name, data in general.items():
        assert fast[name] == data, name
    assert b"2026-01-02T03:04:05Z" in fast["corrected.ldjson"] or make is _mostly_millis
    if make is _mostly_millis:
        return
    settled = orjson.loads(fast["rounds/r00-settled.json"])
    assert settled  # round 0 settled records both ways: fixed and quarantined
    assert b"sometime in March" in fast["rejected.ldjson"]


def test_known_shapes_shortcut_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Most reported records skip the general path: it sees only the unusual ones."""
    source = tmp_path / "mixed.ldjson"
    _mixed_source(source)
    general = lines_reaching(monkeypatch, survey, "fix_one")
    job = _run(tmp_path, source, "fast")
    reported = orjson.loads((job / "rounds/r00-settled.json").read_bytes())["notes"]["findings"]
    assert 0 < len(general) < reported // 3


@pytest.mark.parametrize(
    ("before", "after", "fields"),
    [
        ({"a": 1, "b": "x"}, {"a": 1, "b": "y"}, ["b"]),
        ({"a": 1}, {"a": 1, "b": "y"}, ["b"]),  # filled in
        ({"a": 1, "b": True}, {"a": 1, "b": 1}, ["b"]),  # equal in Python, not in JSON
        ({"a": 1, "b": "x"}, {"a": 1, "b": "x"}, ["b"]),  # the same value
        ({"a": 1, "b": "x"}, {"a": 1}, ["b"]),  # dropped: the general comparison
        ({"a": 1, "b": "x"}, {"a": 1, "c": "x"}, ["b", "c"]),  # renamed
    ],
)
def test_changes_of_named_fields_are_the_changes(
    before: dict[str, object], after: dict[str, object], fields: list[str]
) -> None:
    """Naming the fields a fix touched gives the same change as comparing every field."""
    assert changes(before, after, fields) == changes(before, after)


def test_known_defect_settles_most_records_of_round_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most of the milliseconds are fixed by the fixer's known defect, one check each, and
    kept a streak at a time."""
    source = tmp_path / "millis.ldjson"
    _mostly_millis(source)
    kept: list[int] = []
    streaks: list[int] = []
    real = Decisions.keep_known

    def noted(decisions: Decisions, known: KnownFix, streak: KnownStreak) -> None:
        kept.extend(streak.lines)
        streaks.append(len(streak.lines))
        real(decisions, known, streak)

    monkeypatch.setattr(Decisions, "keep_known", noted)
    _run(tmp_path, source, "fast")
    assert len(kept) > 300
    assert len(streaks) < len(kept) // 4  # a streak at a time, not a record at a time


class _Planned(Exception):
    """Raised once round 1 is planned: the job stops with its sets on disk."""


def _stop_at_plan(step: str) -> None:
    if step == "plan":
        raise _Planned


def _plain_bom_open_end(path: Path) -> None:
    """Milliseconds everywhere, \\n endings, a BOM, and a last line without its \\n."""
    _mostly_millis(path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().rstrip(b"\n"))


@pytest.mark.parametrize("make", [_mixed_source, _mostly_millis, _plain_bom_open_end])
def test_round_1_sets_from_the_draft_are_the_sets_from_the_source(
    tmp_path: Path, make: Any
) -> None:
    """Round 1's sets, copied from the draft round 0 wrote, are byte for byte the sets a
    rebuild of every fixed record from the source and the store gives (BOM, CRLF, blank
    lines, quarantined lines, two defects at once); and the draft is corrected.ldjson's."""
    source = tmp_path / "source.ldjson"
    make(source)
    validator = Validator("ACCOUNT")
    fixer = RulesFixer(load_rules(SAMPLES / "rules.toml"), validator=validator)
    spec = JobSpec(source, "ACCOUNT", 1, job_dir=tmp_path / "job")
    with sandbox_client(tmp_path / "sandbox") as client, pytest.raises(_Planned):
        run_job(spec, client=client, fixer=fixer, validator=validator, crash_hook=_stop_at_plan)
    rounds = tmp_path / "job" / "rounds"
    names = sorted(p.name.removesuffix(".ldjson") for p in rounds.glob("r01-s*.ldjson"))
    shards = {n: unpack(orjson.loads((rounds / f"{n}.lineage.json").read_bytes())) for n in names}
    found = survey.survey(source, None, validate=False)
    store = FixedRecords(source, rounds / "fixed.jsonl", found.offsets)
    settled = Settlement.from_json(orjson.loads((rounds / "r00-settled.json").read_bytes()))
    found.ledger.fixed = store
    found.ledger.apply(settled)
    paths = {n: tmp_path / f"{n}.rebuilt" for n in names}
    dropped = set(found.ledger.lines_in(QUARANTINED))
    draft = Draft(tmp_path / "corrected.rebuilt", dropped)
    write_upload_sets(source, shards, store, paths, draft)
    assert names and all(len(lines) for lines in shards.values())
    for name in names:
        assert (rounds / f"{name}.ldjson").read_bytes() == paths[name].read_bytes(), name
    drafted = (rounds / CORRECTED_DRAFT).read_bytes()
    assert drafted == (tmp_path / "corrected.rebuilt").read_bytes()


def _plan_round_1(tmp_path: Path, source: Path) -> Path:
    """Run a job on ``source`` until round 1's plan is in the journal; its job folder."""
    validator = Validator("ACCOUNT")
    fixer = RulesFixer(load_rules(SAMPLES / "rules.toml"), validator=validator)
    spec = JobSpec(source, "ACCOUNT", 1, job_dir=tmp_path / "job")
    steps: list[str] = []

    def stop_once_saved(step: str) -> None:
        steps.append(step)
        if step == "journal" and "plan" in steps:
            raise _Planned

    with sandbox_client(tmp_path / "sandbox") as client, pytest.raises(_Planned):
        run_job(spec, client=client, fixer=fixer, validator=validator, crash_hook=stop_once_saved)
    return tmp_path / "job"


@pytest.mark.parametrize(("make", "linked"), [(_mostly_millis, True), (_plain_bom_open_end, False)])
def test_round_1_set_of_a_plain_draft_is_the_draft_itself(
    tmp_path: Path, make: Any, linked: bool
) -> None:
    """A draft with no BOM and \\n endings is round 1's one set under a second name (nothing
    copied or hashed again), with the journal's facts right; any other draft is copied."""
    source = tmp_path / "source.ldjson"
    make(source)
    job = _plan_round_1(tmp_path, source)
    upload = job / "rounds" / "r01-s01.ldjson"
    same = os.stat(upload).st_ino == os.stat(job / "rounds" / CORRECTED_DRAFT).st_ino
    assert same is linked
    entry = orjson.loads((job / "journal.json").read_bytes())["uploads"]["r01-s01"]
    data = upload.read_bytes()
    assert (entry["bytes"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert entry["records"] == data.count(b"\n") and data.endswith(b"\n")


@pytest.mark.parametrize(
    ("step", "name"), [("plan", "r01-s01.ldjson"), ("survey", CORRECTED_DRAFT)]
)
def test_set_or_draft_edited_in_place_reaches_neither_gong_nor_corrected(
    tmp_path: Path, step: str, name: str
) -> None:
    """An upload set edited in place after planning (so the draft, its other name, too), or
    the draft edited before planning, is not trusted: the set is written again from the source
    before it is sent, corrected.ldjson is rebuilt, and Gong holds what corrected.ldjson holds."""
    source = tmp_path / "source.ldjson"
    _mostly_millis(source)
    expected = (_run(tmp_path, source, "clean") / "corrected.ldjson").read_bytes()
    job = tmp_path / "edited"

    def edit(at: str) -> None:
        if at == step:
            upload = job / "rounds" / name
            with upload.open("r+b") as stream:  # in place: the same file, another byte
                data = stream.read()
                at = data.index(b'"name":"') + len(b'"name":"')
                stream.seek(at)
                stream.write(b"#" if data[at : at + 1] != b"#" else b"%")

    validator = Validator("ACCOUNT")
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    fixer = RulesFixer(load_rules(SAMPLES / "rules.toml"), validator=validator, now=lambda: now)
    spec = JobSpec(source, "ACCOUNT", 1, job_dir=job)
    with sandbox_client(tmp_path / "sandbox-edited") as client:
        result = run_job(spec, client=client, fixer=fixer, validator=validator, crash_hook=edit)
    assert result.outcome in ("DONE", "QUARANTINED")
    assert (job / "corrected.ldjson").read_bytes() == expected
    assert_store_matches(tmp_path / "sandbox-edited", job / "corrected.ldjson")


def test_finished_job_corrected_and_its_last_set_are_two_files(tmp_path: Path) -> None:
    """Round 1's set was the draft under a second name; once the draft is corrected.ldjson,
    the set has a copy of its own: an edit of corrected.ldjson in place leaves the set as it
    was uploaded (its SHA-256 still the journal's)."""
    source = tmp_path / "source.ldjson"
    _mostly_millis(source)
    job = _run(tmp_path, source, "job")
    corrected, upload = job / "corrected.ldjson", job / "rounds" / "r01-s01.ldjson"
    assert upload.read_bytes() == corrected.read_bytes()
    assert os.stat(upload).st_ino != os.stat(corrected).st_ino
    with corrected.open("ab") as stream:  # in place, as `>>` or an editor keeping links would
        stream.write(b'{"objectId":"added by hand"}\n')
    entry = orjson.loads((job / "journal.json").read_bytes())["uploads"]["r01-s01"]
    assert hashlib.sha256(upload.read_bytes()).hexdigest() == entry["sha256"]
