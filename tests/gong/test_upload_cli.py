"""`ldjfix upload` (and annotate on its live status): sandbox, refusals, 409, 401, subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.gong.connection import basic_auth
from ldjfix.gong.limits import MAX_UPLOAD_BYTES
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import serving
from ldjfix.sandbox.store import SandboxStore
from tests.conftest import SAMPLES

GOOD = b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00Z"}\n'
FAST = '{"polls": 0, "calls_per_second": 0}'
BIG_ID = 5517027188234205706


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment for a CLI run: a private sandbox folder, immediate outcomes, no Gong vars."""
    return {
        "LDJFIX_SANDBOX_DIR": str(tmp_path / "sandbox"),
        "LDJFIX_SANDBOX_KNOBS": FAST,
        "GONG_BASE_URL": "",
        "GONG_ACCESS_KEY": "",
        "GONG_ACCESS_KEY_SECRET": "",
        "GONG_BEARER_TOKEN": "",
    }


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A valid one-record ACCOUNT file."""
    path = tmp_path / "good.ldjson"
    path.write_bytes(GOOD)
    return path


def manifest(name: str) -> list[int]:
    """The lines of a sample file with a planted defect (the samples' own manifest)."""
    found = orjson.loads((SAMPLES / "defects.json").read_bytes())[name]
    return sorted(entry["line"] for entry in found)


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run the CLI in-process; exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, args, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_upload_cli_samples_failed_with_20_listed_and_true_total(env: dict[str, str]) -> None:
    """The accounts sample comes back FAILED: at most 20 errors listed, the true total shown."""
    code, out, err = invoke(
        [
            "upload",
            str(SAMPLES / "accounts.ldjson"),
            "--object-type",
            "ACCOUNT",
            "--integration-id",
            "1",
            "--sandbox",
            "--wait",
        ],
        env,
    )
    planted = manifest("accounts.ldjson")
    total_lines = len((SAMPLES / "accounts.ldjson").read_bytes().splitlines())
    assert code == 1
    crid = out.strip()
    assert crid.startswith("ldjfix-")
    summary = (
        f"FAILED: {total_lines - len(planted)} records accepted, {len(planted)} failed "
        f"({min(20, len(planted))} listed; Gong lists at most 20)"
    )
    assert summary in err
    listed = [
        int(row.split()[1].rstrip(":")) for row in err.splitlines() if row.startswith("  line ")
    ]
    assert listed == planted[:20]
    stored = SandboxStore(env["LDJFIX_SANDBOX_DIR"]).request(1, crid)
    assert stored is not None and stored["result"]["totalErrorCount"] == len(planted)


def test_upload_cli_annotate_shows_each_live_error_beside_its_record(env: dict[str, str]) -> None:
    """annotate --integration-id/--client-request-id maps the live status onto the file."""
    sample = SAMPLES / "accounts.ldjson"
    _, out, _ = invoke(
        ["upload", str(sample), "-t", "ACCOUNT", "--integration-id", "1", "--sandbox"], env
    )
    crid = out.strip()
    code, report, _ = invoke(
        [
            "annotate",
            str(sample),
            "--sandbox",
            "--integration-id",
            "1",
            "--client-request-id",
            crid,
            "--format",
            "json",
        ],
        env,
    )
    assert code == 1
    errors = orjson.loads(report)["errors"]
    lines = sample.read_bytes().split(b"\n")
    assert [e["line"] for e in errors] == manifest("accounts.ldjson")[:20]
    for error in errors:
        raw = lines[error["line"] - 1]
        if error["objectId"] is not None:
            assert orjson.loads(raw)["objectId"] == error["objectId"]
        assert error["description"]
    code, text, _ = invoke(
        [
            "annotate",
            str(sample),
            "--sandbox",
            "--integration-id",
            "1",
            "--client-request-id",
            crid,
        ],
        env,
    )
    first = errors[0]
    assert code == 1 and f"line {first['line']}  objectId {first['objectId']}" in text


def test_upload_cli_done_prints_the_client_request_id(env: dict[str, str], good: Path) -> None:
    """A clean file: exit 0, the given clientRequestId on stdout, DONE on stderr."""
    code, out, err = invoke(
        [
            "upload",
            str(good),
            "-t",
            "ACCOUNT",
            "--integration-id",
            str(BIG_ID),
            "--client-request-id",
            "my_id-1",
            "--sandbox",
            "--wait",
        ],
        env,
    )
    assert (code, out.strip()) == (0, "my_id-1")
    assert "uploaded" in err and "DONE: 1 records accepted, 0 failed" in err
    assert SandboxStore(env["LDJFIX_SANDBOX_DIR"]).uploads()[0]["integrationId"] == BIG_ID


def test_upload_cli_json_output(env: dict[str, str], good: Path) -> None:
    """--json prints the ids and Gong's status fields unchanged."""
    code, out, _ = invoke(
        [
            "upload",
            str(good),
            "-t",
            "ACCOUNT",
            "--integration-id",
            "7",
            "--sandbox",
            "--wait",
            "--json",
        ],
        env,
    )
    doc = orjson.loads(out)
    assert code == 0 and doc["status"]["status"] == "DONE"
    assert doc["status"]["totalSuccessCount"] == 1 and doc["clientRequestId"].startswith("ldjfix-")
    assert set(doc["status"]) == {
        "requestId",
        "status",
        "errors",
        "totalErrorCount",
        "totalSuccessCount",
    }


def test_upload_cli_reused_id_explains_409(env: dict[str, str], good: Path) -> None:
    """Sending the same clientRequestId twice: exit 4 and what to do."""
    args = [
        "upload",
        str(good),
        "-t",
        "ACCOUNT",
        "--integration-id",
        "1",
        "--client-request-id",
        "twice",
        "--sandbox",
    ]
    assert invoke(args, env)[0] == 0
    code, _, err = invoke(args, env)
    assert code == 4
    assert "HTTP 409: Client request id has already been used" in err
    assert "clientRequestId 'twice' was already used for integration 1" in err
    assert "leave --client-request-id out" in err


def test_upload_cli_refuses_oversized_file_before_sending(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Over 200 MB: exit 3, nothing sent (sparse file, so the test is cheap)."""
    huge = tmp_path / "huge.ldjson"
    with open(huge, "wb") as stream:
        stream.truncate(MAX_UPLOAD_BYTES + 1)
    code, _, err = invoke(
        ["upload", str(huge), "-t", "ACCOUNT", "--integration-id", "1", "--sandbox"], env
    )
    assert code == 3 and "Gong accepts at most 200,000,000" in err and "Nothing was sent" in err
    assert SandboxStore(env["LDJFIX_SANDBOX_DIR"]).uploads() == []


def test_upload_cli_refuses_extract_bookkeeping(env: dict[str, str], tmp_path: Path) -> None:
    """A file still carrying extract's _ldjfix key: exit 3 naming the line, nothing sent."""
    marked = tmp_path / "failing.ldjson"
    marked.write_bytes(GOOD + b'{"objectId":"b","_ldjfix":{"line":9}}\n')
    code, _, err = invoke(
        ["upload", str(marked), "-t", "ACCOUNT", "--integration-id", "1", "--sandbox"], env
    )
    assert code == 3 and f"{marked} line 2 still carries extract bookkeeping" in err
    assert "ldjfix merge" in err
    assert SandboxStore(env["LDJFIX_SANDBOX_DIR"]).uploads() == []


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--client-request-id", "has space"], "characters Gong does not allow"),
        (["--object-type", "acount"], "objectType 'acount' is not one of ACCOUNT, CONTACT"),
        (["--integration-id", "0"], "Invalid value for '--integration-id'"),
        (["--integration-id", "9223372036854775808"], "Invalid value for '--integration-id'"),
    ],
)
def test_upload_cli_bad_options_are_usage_problems(
    env: dict[str, str], good: Path, extra: list[str], words: str
) -> None:
    """Bad ids or object types: exit 2 with a message, nothing sent."""
    args = [
        "upload",
        str(good),
        "--integration-id",
        "1",
        "--object-type",
        "ACCOUNT",
        "--sandbox",
        *extra,
    ]
    code, _, err = invoke(args, env)
    assert code == 2 and words in err
    assert SandboxStore(env["LDJFIX_SANDBOX_DIR"]).uploads() == []


def test_upload_cli_takes_an_object_type_in_any_case(env: dict[str, str], good: Path) -> None:
    """`-t account` is ACCOUNT, as `--file x:account` is for run: sent as Gong spells it."""
    code, _out, err = invoke(
        ["upload", str(good), "--integration-id", "1", "-t", "account", "--sandbox"], env
    )
    assert code == 0, err
    [sent] = SandboxStore(env["LDJFIX_SANDBOX_DIR"]).uploads()
    assert sent["objectType"] == "ACCOUNT"


def test_upload_cli_real_url_needs_credentials_and_https(env: dict[str, str], good: Path) -> None:
    """No credentials, or plain http to another machine: exit 2 before anything is sent."""
    base = ["upload", str(good), "-t", "ACCOUNT", "--integration-id", "1"]
    code, _, err = invoke([*base, "--base-url", "https://api.gong.io"], env)
    assert code == 2 and "GONG_ACCESS_KEY" in err and "GONG_BEARER_TOKEN" in err
    keyed = {**env, "GONG_ACCESS_KEY": "k", "GONG_ACCESS_KEY_SECRET": "s3cr3t"}
    code, _, err = invoke([*base, "--base-url", "http://gong.example.com"], keyed)
    assert code == 2 and "Refusing to send Gong credentials over plain http" in err
    code, _, err = invoke(base, env)
    assert code == 2 and "--base-url or set GONG_BASE_URL" in err and "--sandbox" in err


def test_upload_cli_401_from_a_served_sandbox(
    env: dict[str, str], good: Path, tmp_path: Path
) -> None:
    """Wrong credentials against `sandbox serve --require-auth`: exit 4, no secret shown."""
    required = basic_auth("key", "right-secret").header()
    with serving(tmp_path / "served", Knobs(calls_per_second=0), require_auth=required) as sandbox:
        wrong = {**env, "GONG_ACCESS_KEY": "key", "GONG_ACCESS_KEY_SECRET": "wrong-secret"}
        code, _, err = invoke(
            [
                "upload",
                str(good),
                "-t",
                "ACCOUNT",
                "--integration-id",
                "1",
                "--base-url",
                sandbox.url,
            ],
            wrong,
        )
        right = {**wrong, "GONG_ACCESS_KEY_SECRET": "right-secret"}
        ok, out, _ = invoke(
            [
                "upload",
                str(good),
                "-t",
                "ACCOUNT",
                "--integration-id",
                "1",
                "--base-url",
                sandbox.url,
            ],
            right,
        )
    assert code == 4 and "HTTP 401: Access denied: invalid credentials" in err
    assert "wrong-secret" not in err
    assert ok == 0 and out.strip().startswith("ldjfix-")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m ldjfix` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_upload_cli_subprocess_upload_then_status_share_the_sandbox(
    env: dict[str, str], good: Path
) -> None:
    """upload --sandbox and status --sandbox in separate processes behave like one Gong."""
    slow = {**env, "LDJFIX_SANDBOX_KNOBS": '{"polls": 1, "calls_per_second": 0}'}
    sent = _run(
        ["upload", str(good), "-t", "ACCOUNT", "--integration-id", str(BIG_ID), "--sandbox"], slow
    )
    assert sent.returncode == 0, sent.stderr
    crid = sent.stdout.strip()
    args = ["status", "--integration-id", str(BIG_ID), "--client-request-id", crid, "--sandbox"]
    first, second = _run(args, slow), _run([*args, "--json"], slow)
    assert first.returncode == 0 and first.stdout.startswith("PENDING")
    assert second.returncode == 0 and orjson.loads(second.stdout)["status"] == "DONE"


def test_upload_cli_sandbox_wins_over_exported_base_url(env: dict[str, str], good: Path) -> None:
    """An exported GONG_BASE_URL does not block --sandbox; an explicit --base-url does."""
    exported = {**env, "GONG_BASE_URL": "https://us-1.api.gong.io"}
    base = ["upload", str(good), "-t", "ACCOUNT", "--integration-id", "1", "--sandbox"]
    code, out, _ = invoke(base, exported)
    assert code == 0 and out.strip().startswith("ldjfix-")
    code, _, err = invoke([*base, "--base-url", "https://us-1.api.gong.io"], env)
    assert code == 2 and "Use either --sandbox or --base-url, not both." in err
