"""Job folder basics: ids Gong accepts, refusing to resume a different job, the crash hook."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.loop.journal import (
    JOURNAL_VERSION,
    check_resumable,
    client_request_id,
    crash_hook_from_env,
    default_job_dir,
    make_job_id,
    source_facts,
    upload_name,
)


def test_journal_client_request_ids_use_only_allowed_characters(tmp_path: Path) -> None:
    """Ids are letters, digits, '-' and '_', derived from the job and the upload's name."""
    source = tmp_path / "a b$.ldjson"
    source.write_bytes(b'{"objectId": "1"}\n')
    job = make_job_id(source, source_facts(source), "2026-11-29T14:00:00+00:00")
    crid = client_request_id(job, upload_name(2, 7))
    assert re.fullmatch(r"[A-Za-z0-9_-]+", crid)
    assert crid == f"{job}-r02-s07"
    assert make_job_id(source, source_facts(source), "2026-11-29T14:00:00+00:00") == job
    assert make_job_id(source, source_facts(source), "2026-11-29T14:00:01+00:00") != job


def test_journal_default_job_dir_is_beside_the_source(tmp_path: Path) -> None:
    """``<source>.ldjfix-job`` in the source's folder."""
    assert default_job_dir(tmp_path / "x.ldjson") == tmp_path / "x.ldjson.ldjfix-job"


def test_journal_refuses_to_resume_a_changed_source_or_other_options(tmp_path: Path) -> None:
    """A changed source is an input problem (3); other options are a usage problem (2)."""
    journal = {
        "version": JOURNAL_VERSION,
        "sourceSha256": "aa",
        "objectType": "ACCOUNT",
        "integrationId": 1,
    }
    same = {"sourceSha256": "aa", "objectType": "ACCOUNT", "integrationId": 1}
    check_resumable(journal, same, tmp_path)
    with pytest.raises(InputProblem, match="source file changed"):
        check_resumable(journal, {**same, "sourceSha256": "bb"}, tmp_path)
    with pytest.raises(UsageProblem, match="objectType ACCOUNT, not DEAL"):
        check_resumable(journal, {**same, "objectType": "DEAL"}, tmp_path)


def test_journal_crash_hook_does_nothing_without_the_variable() -> None:
    """Without LDJFIX_CRASH_AT the hook is a no-op."""
    hook = crash_hook_from_env({})
    for _ in range(3):
        hook("upload")


def test_journal_crash_hook_kills_at_the_named_step() -> None:
    """LDJFIX_CRASH_AT=upload:2 SIGKILLs the process at the second 'upload' step."""
    code = (
        "from ldjfix.loop.journal import crash_hook_from_env\n"
        "import sys\n"
        "hook = crash_hook_from_env({'LDJFIX_CRASH_AT': 'upload:2'})\n"
        "hook('upload'); hook('poll'); print('alive', flush=True); hook('upload')\n"
        "print('not reached')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == -9
    assert done.stdout == "alive\n"


def test_journal_folder_refuses_a_second_run_at_the_same_time(tmp_path: Path) -> None:
    """While one run holds the job folder, another run of it stops with exit 3 and says why."""
    from click.testing import CliRunner

    from ldjfix.cli import cli
    from ldjfix.loop.journal import JobFolder
    from tests.support.loop import run_args

    source = tmp_path / "a.ldjson"
    source.write_bytes(b'{"objectId": "A1", "modifiedDate": "2025-01-01T00:00:00Z"}\n')
    folder = JobFolder(tmp_path / "job")
    folder.create()
    args = run_args(source, tmp_path / "sb", job=folder.root)
    with folder.locked():
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3
    assert "is in use by another ldjfix run" in result.stderr
    assert not folder.journal.exists()
