"""Tests of job manifests and of FILE:TYPE flags: the list of files a batch runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.jobs.manifest import BatchJob, jobs_from_flags, load_manifest, parse_file_spec

MANIFEST = """\
[[job]]
file = "accounts.ldjson"
object_type = "ACCOUNT"
rules = "rules/accounts.toml"

[[job]]
file = "/data/deals.ldjson"
object_type = "deal"
job_dir = "jobs/deals"
"""


def test_manifest_reads_jobs_relative_to_itself(tmp_path: Path) -> None:
    """Each [[job]] becomes a BatchJob; relative paths hang off the manifest's folder."""
    path = tmp_path / "jobs.toml"
    path.write_text(MANIFEST, encoding="utf-8")
    assert load_manifest(path) == (
        BatchJob(tmp_path / "accounts.ldjson", "ACCOUNT", tmp_path / "rules/accounts.toml"),
        BatchJob(Path("/data/deals.ldjson"), "DEAL", None, tmp_path / "jobs/deals"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "key 'job': needs at least one [[job]] table"),
        ("job = 3\n", "key 'job': needs at least one [[job]] table"),
        ("job = [3]\n", "job 1: must be a table ([[job]]), not int"),
        ("[[job]]\nfile = 'a'\n", "job 1: key 'object_type': is missing"),
        ("[[job]]\nobject_type = 'ACCOUNT'\n", "job 1: key 'file': is missing"),
        ("[[job]]\nfile = 'a'\nobject_type = 'USER'\n", "key 'object_type': must be one of"),
        ("[[job]]\nfile = 'a'\nobject_type = 'STAGE'\ncolor = 1\n", "key 'color': is not a job"),
        ("[defaults]\nx = 1\n", "key 'defaults': is not a manifest key"),
        ("[[job]]\nfile = 'a'\nobject_type = 'STAGE'\ntoken = 'x'\n", "looks like a credential"),
        (
            "[[job]]\nfile='a'\nobject_type='STAGE'\n[[job]]\nfile='a'\nobject_type='DEAL'\n",
            "key 'file': ",
        ),
        ("[[job]\n", "not valid TOML"),
    ],
)
def test_manifest_bad_input_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    """A bad manifest gets one message naming the file, the job/key and the problem (exit 3)."""
    path = tmp_path / "jobs.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputProblem) as info:
        load_manifest(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)
    assert info.value.exit_code == 3


def test_manifest_missing_file_is_clear(tmp_path: Path) -> None:
    """A manifest path that does not exist says so."""
    with pytest.raises(InputProblem, match=r"job manifest .* does not exist"):
        load_manifest(tmp_path / "jobs.toml")


def test_file_spec_splits_at_last_colon() -> None:
    """``dir:x/a.ldjson:contact`` is the file ``dir:x/a.ldjson`` of type CONTACT."""
    assert parse_file_spec("dir:x/a.ldjson:contact") == BatchJob(Path("dir:x/a.ldjson"), "CONTACT")
    with pytest.raises(UsageProblem, match="must be FILE:OBJECT_TYPE"):
        parse_file_spec("a.ldjson")
    with pytest.raises(UsageProblem, match="must be one of ACCOUNT") as info:
        parse_file_spec("a.ldjson:ACCOUNTS")
    assert info.value.exit_code == 2


def test_jobs_from_flags_pairs_types_with_files() -> None:
    """One --object-type serves every FILE; several pair up in order; --file adds more."""
    one = jobs_from_flags(("a", "b"), ("STAGE",), ())
    assert [job.object_type for job in one] == ["STAGE", "STAGE"]
    paired = jobs_from_flags(("a", "b"), ("STAGE", "deal"), ("c:LEAD",))
    assert [(str(job.file), job.object_type) for job in paired] == [
        ("a", "STAGE"),
        ("b", "DEAL"),
        ("c", "LEAD"),
    ]


def test_jobs_from_flags_refuses_mismatch_and_duplicates() -> None:
    """Three files with two types, or one file listed twice, are usage problems (exit 2)."""
    with pytest.raises(UsageProblem, match="3 files but 2 --object-type values"):
        jobs_from_flags(("a", "b", "c"), ("STAGE", "DEAL"), ())
    with pytest.raises(UsageProblem, match="is used by two jobs"):
        jobs_from_flags(("a",), ("STAGE",), ("a:DEAL",))
    with pytest.raises(UsageProblem, match="Give --object-type"):
        jobs_from_flags(("a",), (), ())
