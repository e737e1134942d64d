"""``fix`` and ``replay`` as a demanding user drives them, where a shortcut could cut a corner.

Each test runs the real CLI: a remembered plan must log its changes as the full path does
(under the objectId the record has when the change is made), and two outputs on one stdout
must never be mixed line by line.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from ldjfix.fixing.fixlog import fix_docs
from ldjfix.validation.validator import Validator
from tests.support.edges import ldjfix

OID_THEN_DATE = """
[[rule]]
field = "objectId"
kind = "invalid"
action = "replace"
regex = '[^A-Za-z0-9-]'
with = "-"

[[rule]]
field = "modifiedDate"
kind = "invalid"
action = "reformat_datetime"
"""
MILLIS = "2024-03-14T00:26:35.864Z"


def _bad_ids(tmp_path: Path, count: int, reported: int) -> None:
    """accounts.ldjson with a bad objectId and milliseconds in every record; a status."""
    records = [
        {"objectId": f"001 {n}", "modifiedDate": MILLIS, "name": "Acme", "domains": ["a.com"]}
        for n in range(count)
    ]
    (tmp_path / "accounts.ldjson").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    validator = Validator("ACCOUNT")
    errors = [
        {"line": n + 1, "description": f.description}
        for n in range(reported)
        for f in validator.check_record(n + 1, records[n])
    ]
    status = {"status": "FAILED", "errors": errors}
    (tmp_path / "status.json").write_bytes(orjson.dumps(status))
    (tmp_path / "rules.toml").write_text(OID_THEN_DATE)


def _fix(tmp_path: Path, *extra: str) -> tuple[int, bytes, bytes]:
    done = ldjfix(
        ["fix", "accounts.ldjson", "--status-file", "status.json", "-t", "ACCOUNT",
         "--rules", "rules.toml", *extra],
        cwd=tmp_path,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_fix_logs_a_change_after_an_objectid_fix_under_the_new_id_on_every_path(
    tmp_path: Path,
) -> None:
    """Reported, planned and propagated records alike log the date change under the fixed id."""
    _bad_ids(tmp_path, count=5, reported=2)
    code, _, err = _fix(tmp_path, "-o", "out.ldjson", "--fixes", "fixes.jsonl")
    assert code == 0, err
    logged = [(c["line"], c["objectId"], c["field"]) for c in fix_docs(tmp_path / "fixes.jsonl")]
    expected = []
    for n in range(5):
        expected += [(n + 1, f"001 {n}", "objectId"), (n + 1, f"001-{n}", "modifiedDate")]
    assert logged == expected


def test_replay_onto_an_export_with_ids_fixed_already_applies_every_date_change(
    tmp_path: Path,
) -> None:
    """The CRM fixed the objectIds since: every recorded date change still finds its record."""
    _bad_ids(tmp_path, count=5, reported=2)
    code, _, err = _fix(tmp_path, "-o", "out.ldjson", "--fixes", "fixes.jsonl")
    assert code == 0, err
    export = [
        {"objectId": f"001-{n}", "modifiedDate": MILLIS, "name": "Acme", "domains": ["a.com"]}
        for n in range(5)
    ]
    (tmp_path / "next.ldjson").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in export))
    done = ldjfix(
        ["replay", "next.ldjson", "--fixes", "fixes.jsonl", "-o", "next.fixed.ldjson", "--json"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["records"] == 5
    replayed = (tmp_path / "next.fixed.ldjson").read_bytes().splitlines()
    assert [orjson.loads(r)["modifiedDate"] for r in replayed] == ["2024-03-14T00:26:35Z"] * 5


def test_fix_refuses_the_corrected_file_and_fixes_on_one_stdout(tmp_path: Path) -> None:
    """-o - with --fixes - would mix change lines into the records: refused (exit 2)."""
    _bad_ids(tmp_path, count=3, reported=1)
    code, out, err = _fix(tmp_path, "-o", "-", "--fixes", "-")
    assert code == 2, err
    assert out == b""
    assert b"stdout" in err


def test_fix_with_only_the_corrected_file_on_stdout_writes_records_alone(tmp_path: Path) -> None:
    """-o - with the fixes in a file: stdout holds the corrected records and nothing else."""
    _bad_ids(tmp_path, count=3, reported=1)
    code, out, err = _fix(tmp_path, "-o", "-", "--fixes", "fixes.jsonl")
    assert code == 0, err
    assert [orjson.loads(r)["objectId"] for r in out.splitlines()] == ["001-0", "001-1", "001-2"]
    assert len(list(fix_docs(tmp_path / "fixes.jsonl"))) == 6


def test_fix_refuses_fixes_written_over_the_corrected_file(tmp_path: Path) -> None:
    """--fixes naming OUT by another path would replace the corrected file: refused (exit 2)."""
    _bad_ids(tmp_path, count=3, reported=1)
    code, _, err = _fix(tmp_path, "-o", "out.ldjson", "--fixes", "./out.ldjson")
    assert code == 2, err
    assert b"each needs its own" in err
    assert not (tmp_path / "out.ldjson").exists()


def test_fix_writes_two_outputs_through_one_device(tmp_path: Path) -> None:
    """-o /dev/null with --fixes /dev/null is no clash: a device is written through (exit 0)."""
    _bad_ids(tmp_path, count=3, reported=1)
    code, _, err = _fix(tmp_path, "-o", "/dev/null", "--fixes", "/dev/null")
    assert code == 0, err


def test_replay_index_keeps_one_slot_per_objectid(tmp_path: Path) -> None:
    """Many changes to one objectId take one slot, not a run every insert and lookup walks."""
    from ldjfix.fixing.replay import ChangeIndex

    log = tmp_path / "fixes.jsonl"
    lines = [b'{"fix":1,"field":"name","why":"w"}\n']
    lines += [orjson.dumps([n, "dup", n, n + 1, 1]) + b"\n" for n in range(500)]
    lines += [orjson.dumps([n, f"id-{n}", n, n + 1, 1]) + b"\n" for n in range(20)]
    log.write_bytes(b"".join(lines))
    index = ChangeIndex(log)
    try:
        assert sum(1 for slot in index.table if slot) == 21
        assert [c[2:] for c in index.changes("dup")] == [(n, n + 1) for n in range(500)]
        assert [c[2:] for c in index.changes("id-7")] == [(7, 8)]
        assert index.changes("absent") == []
    finally:
        index.close()


def test_replay_applies_a_chain_of_changes_to_one_objectid_in_file_order(tmp_path: Path) -> None:
    """3,000 changes of one field of one record, each from the last value: all applied, in order."""
    lines = [b'{"fix":1,"field":"name","why":"w"}\n']
    lines += [orjson.dumps([1, "dup", f"v{n}", f"v{n + 1}", 1]) + b"\n" for n in range(3000)]
    (tmp_path / "fixes.jsonl").write_bytes(b"".join(lines))
    (tmp_path / "next.ldjson").write_bytes(b'{"objectId":"dup","name":"v0"}\n{"objectId":"x"}\n')
    done = ldjfix(
        ["replay", "next.ldjson", "--fixes", "fixes.jsonl", "-o", "out.ldjson", "--json"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["applied"] == 3000
    assert (tmp_path / "out.ldjson").read_bytes() == (
        b'{"objectId":"dup","name":"v3000"}\n{"objectId":"x"}\n'
    )


COERCE_INTEGER = """
[[rule]]
field = "numberOfEmployees"
kind = "invalid"
action = "coerce"
to = "integer"
"""
HUGE_COUNTS = ("12", "1e999", "NaN", "-Infinity")  # a number, then text that is no finite one


def _huge_counts(tmp_path: Path) -> None:
    """accounts.ldjson with numberOfEmployees as text: one whole number, then no finite one."""
    records = [
        {"objectId": f"a{n}", "modifiedDate": "2024-01-01T00:00:00Z", "name": "Acme",
         "domains": ["a.com"], "numberOfEmployees": value}
        for n, value in enumerate(HUGE_COUNTS, 1)
    ]  # fmt: skip
    (tmp_path / "accounts.ldjson").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    (tmp_path / "rules.toml").write_text(COERCE_INTEGER)
    detail = "Invalid value for field [numberOfEmployees]: expected a number"
    errors = [{"line": n, "description": detail} for n in range(1, len(records) + 1)]
    (tmp_path / "status.json").write_bytes(orjson.dumps({"status": "FAILED", "errors": errors}))


def test_fix_coerce_to_integer_quarantines_text_that_is_no_finite_number(tmp_path: Path) -> None:
    """ "1e999", "NaN" and "-Infinity" coerced to integers are quarantined, never a traceback."""
    _huge_counts(tmp_path)
    schema = str(Path(__file__).parents[2] / "samples" / "entity-schema.json")
    done = ldjfix(
        ["fix", "accounts.ldjson", "--status-file", "status.json", "-t", "ACCOUNT",
         "--rules", "rules.toml", "--schema-file", schema, "-o", "fixed.ldjson",
         "--rejected", "rejected.ldjson"],
        cwd=tmp_path,
    )  # fmt: skip
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    assert done.returncode == 1, done.stderr.decode()
    assert (tmp_path / "fixed.ldjson").read_bytes().count(b"\n") == 1  # only a1, fixed
    assert b'"numberOfEmployees":12' in (tmp_path / "fixed.ldjson").read_bytes()
    rejected = [
        orjson.loads(line) for line in (tmp_path / "rejected.ldjson").read_bytes().splitlines()
    ]
    assert [r["objectId"] for r in rejected] == ["a2", "a3", "a4"]


def test_run_coerce_to_integer_quarantines_text_that_is_no_finite_number(tmp_path: Path) -> None:
    """The same in ``run``'s round 0, where the first fix makes the rule the known defect."""
    _huge_counts(tmp_path)
    schema = str(Path(__file__).parents[2] / "samples" / "entity-schema.json")
    done = ldjfix(
        ["run", "accounts.ldjson", "-t", "ACCOUNT", "--integration-id", "1",
         "--rules", "rules.toml", "--schema-file", schema, "--sandbox",
         "--sandbox-dir", "sandbox", "--job-dir", "job"],
        cwd=tmp_path,
    )  # fmt: skip
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    assert done.returncode == 1, done.stderr.decode()
    report = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
    assert (report["accepted"], report["quarantined"]) == (1, 3)
    rejected = (tmp_path / "job" / "rejected.ldjson").read_bytes().splitlines()
    assert [orjson.loads(line)["objectId"] for line in rejected] == ["a2", "a3", "a4"]
