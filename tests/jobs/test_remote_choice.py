"""Where a command connects: flags > environment > file, --sandbox beside an exported base URL.

The run command once built its connection apart from the others and refused ``--sandbox``
whenever ``GONG_BASE_URL`` was exported (as a real user has it); these run the real program
with a real environment so such drift shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.jobs.remote import connection_for
from ldjfix.jobs.settings import Settings, resolve_settings
from tests.conftest import SAMPLES
from tests.support.loop import FAST_KNOBS

GONG = "https://us-55616.api.gong.io"


def _ldjfix(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ldjfix`` as a user would, with ``env`` over a clean environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *args],
        cwd=cwd,
        env={**base, "LDJFIX_SANDBOX_KNOBS": FAST_KNOBS, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sample(tmp_path: Path) -> Path:
    shutil.copyfile(SAMPLES / "accounts.ldjson", tmp_path / "accounts.ldjson")
    shutil.copyfile(SAMPLES / "rules.toml", tmp_path / "rules.toml")
    return tmp_path


def _run_args(*extra: str) -> list[str]:
    return [
        "run",
        "accounts.ldjson",
        "-t",
        "ACCOUNT",
        "--integration-id",
        "1",
        "--rules",
        "rules.toml",
        "--sandbox",
        "--sandbox-dir",
        "sandbox",
        *extra,
    ]


def test_remote_run_sandbox_beside_exported_base_url(tmp_path: Path) -> None:
    """The README's first command works with GONG_BASE_URL exported (it once exited 2)."""
    work = _sample(tmp_path)
    done = _ldjfix(work, *_run_args(), env={"GONG_BASE_URL": GONG})
    assert done.returncode in (0, 1), done.stderr
    assert "Use either --sandbox or --base-url" not in done.stderr
    assert (work / "accounts.ldjson.ldjfix-job" / "corrected.ldjson").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "accounts.ldjson", "-t", "ACCOUNT", "--integration-id", "1", "--sandbox"],
        ["upload", "accounts.ldjson", "-t", "ACCOUNT", "--integration-id", "1", "--sandbox"],
    ],
    ids=["validate", "upload"],
)
def test_remote_other_commands_take_sandbox_beside_exported_base_url(
    tmp_path: Path, args: list[str]
) -> None:
    """validate and upload take --sandbox with GONG_BASE_URL exported, like run."""
    work = _sample(tmp_path)
    done = _ldjfix(work, *args, "--sandbox-dir", "sandbox", env={"GONG_BASE_URL": GONG})
    assert done.returncode in (0, 1), done.stderr
    assert "Error:" not in done.stderr


def test_remote_run_base_url_flag_and_sandbox_is_usage(tmp_path: Path) -> None:
    """Both --base-url and --sandbox on the command line: exit 2, one line."""
    work = _sample(tmp_path)
    done = _ldjfix(work, *_run_args("--base-url", GONG), env={})
    assert done.returncode == 2
    assert done.stderr.strip() == "Error: Use either --sandbox or --base-url, not both."


def test_remote_run_vv_shows_http_traffic(tmp_path: Path) -> None:
    """``ldjfix -vv run`` logs each HTTP request on stderr, as --help promises."""
    work = _sample(tmp_path)
    done = _ldjfix(
        work,
        "-vv",
        *_run_args(),
        env={"GONG_ACCESS_KEY": "key-x", "GONG_ACCESS_KEY_SECRET": "s3cr3t-x"},
    )
    assert done.returncode in (0, 1), done.stderr
    assert "HTTP Request: POST http://sandbox.localhost/v2/crm/entities" in done.stderr
    assert "s3cr3t-x" not in done.stderr


def test_remote_config_base_url_elsewhere_is_refused_before_connecting(tmp_path: Path) -> None:
    """A base_url in ldjfix.toml naming a non-Gong host does not get the credentials (exit 3)."""
    work = _sample(tmp_path)
    (work / "ldjfix.toml").write_text('base_url = "https://collector.example.com"\n')
    env = {"GONG_ACCESS_KEY": "k", "GONG_ACCESS_KEY_SECRET": "s"}
    args = ["status", "--integration-id", "1", "--client-request-id", "abc"]
    done = _ldjfix(work, *args, env=env)
    assert done.returncode == 3, done.stderr
    assert "collector.example.com" in done.stderr and "not a Gong host" in done.stderr
    assert done.stderr.count("\n") == 1


def _settings(tmp_path: Path, file: str | None, env: dict[str, str], **flags: object) -> Settings:
    if file is not None:
        (tmp_path / "ldjfix.toml").write_text(file)
    return resolve_settings(config=None, flags=flags, env=env, cwd=tmp_path)


@pytest.mark.parametrize(
    ("file", "env", "flags", "sandbox", "base_url"),
    [
        (None, {"GONG_BASE_URL": GONG}, {"sandbox": True}, True, None),
        (None, {"LDJFIX_SANDBOX": "1", "GONG_BASE_URL": GONG}, {}, True, None),
        ("sandbox = true\n", {"GONG_BASE_URL": GONG}, {}, False, GONG),
        (f'base_url = "{GONG}"\n', {}, {"sandbox": True}, True, None),
        (None, {"LDJFIX_SANDBOX": "1"}, {"base_url": GONG}, False, GONG),
        ('base_url = "http://127.0.0.1:8080"\n', {}, {}, False, "http://127.0.0.1:8080"),
    ],
    ids=[
        "flag-over-env",
        "env-sandbox-over-env-url",
        "env-url-over-file-sandbox",
        "flag-over-file",
        "flag-url-over-env-sandbox",
        "file-loopback",
    ],
)
def test_remote_precedence(
    tmp_path: Path,
    file: str | None,
    env: dict[str, str],
    flags: dict[str, object],
    sandbox: bool,
    base_url: str | None,
) -> None:
    """The stronger origin wins between --sandbox and a base URL."""
    conn = connection_for(_settings(tmp_path, file, env, **flags))
    assert (conn.sandbox, conn.base_url) == (sandbox, base_url)


def test_remote_file_with_both_is_an_input_problem(tmp_path: Path) -> None:
    """A config file that sets both base_url and sandbox is refused (exit 3)."""
    settings = _settings(tmp_path, f'base_url = "{GONG}"\nsandbox = true\n', {})
    with pytest.raises(InputProblem, match="both base_url and sandbox"):
        connection_for(settings)


def test_remote_flags_with_both_is_usage(tmp_path: Path) -> None:
    """--base-url and --sandbox together are a usage error."""
    settings = _settings(tmp_path, None, {}, base_url=GONG, sandbox=True)
    with pytest.raises(UsageProblem):
        connection_for(settings)


def test_run_of_two_files_refuses_an_unusable_sandbox_folder_before_any_work(
    tmp_path: Path,
) -> None:
    """A batch refuses a --sandbox-dir it cannot use once, up front, as it refuses credentials."""
    cwd = _sample(tmp_path)
    shutil.copyfile(cwd / "accounts.ldjson", cwd / "more.ldjson")
    (cwd / "sandbox").write_text("a file, not a folder\n", encoding="utf-8")
    args = _run_args()
    args.insert(args.index("accounts.ldjson") + 1, "more.ldjson")
    done = _ldjfix(cwd, *args, env={})
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""  # no batch summary: nothing was started
    assert done.stderr.startswith("Error: Cannot use sandbox as the sandbox folder"), done.stderr
    assert "started" not in done.stderr
    assert not list(cwd.glob("*.ldjfix-job"))
