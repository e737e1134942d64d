"""`ldjfix sandbox serve` as a real process, and `ldjfix status` against it and in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from ldjfix.cli import cli

GOOD = b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00Z"}\n'
BAD = b'{"objectId":"a1"}\n'
KEYS = {"GONG_ACCESS_KEY": "key", "GONG_ACCESS_KEY_SECRET": "secret", "GONG_BEARER_TOKEN": ""}


def ldjfix(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m ldjfix` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A `sandbox serve` process on a free loopback port; yields its URL."""
    command = [
        sys.executable,
        "-m",
        "ldjfix",
        "sandbox",
        "serve",
        "--port",
        "0",
        "--sandbox-dir",
        str(tmp_path / "state"),
        "--polls",
        "1",
        "--calls-per-second",
        "0",
        "--fault",
        "503",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LDJFIX_SANDBOX_KNOBS": ""},
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sandbox_serve_process_talks_like_gong(served: str, tmp_path: Path) -> None:
    """Upload and status, each its own process, against the served sandbox over a socket."""
    data = tmp_path / "bad.ldjson"
    data.write_bytes(GOOD + BAD)
    env = {**KEYS, "GONG_BASE_URL": served, "LDJFIX_SANDBOX_KNOBS": ""}
    sent = ldjfix("upload", str(data), "-t", "ACCOUNT", "--integration-id", "3", env=env)
    assert sent.returncode == 0, sent.stderr
    crid = sent.stdout.strip()
    args = ("status", "--integration-id", "3", "--client-request-id", crid)
    pending = ldjfix(*args, env=env)
    final = ldjfix(*args, "--json", env=env)
    assert pending.returncode == 0 and pending.stdout.startswith("PENDING")
    assert final.returncode == 1
    assert orjson.loads(final.stdout)["errors"] == [
        {"line": 2, "description": "Mandatory field [modifiedDate] is missing or empty"}
    ]


def test_sandbox_serve_refuses_other_interfaces(tmp_path: Path) -> None:
    """--host 0.0.0.0 (or any non-loopback address) is refused with exit 2."""
    result = ldjfix("sandbox", "serve", "--host", "0.0.0.0", "--sandbox-dir", str(tmp_path), env={})
    assert result.returncode == 2
    assert "serves only on this machine; '0.0.0.0' is not a loopback address" in result.stderr


def test_sandbox_serve_require_auth_needs_credentials(tmp_path: Path) -> None:
    """--require-auth without GONG_* credentials to require is a usage problem."""
    result = CliRunner().invoke(
        cli,
        ["sandbox", "serve", "--require-auth", "--sandbox-dir", str(tmp_path)],
        env={"GONG_ACCESS_KEY": "", "GONG_ACCESS_KEY_SECRET": "", "GONG_BEARER_TOKEN": ""},
    )
    assert result.exit_code == 2 and "--require-auth needs credentials" in result.stderr


@pytest.fixture
def sandbox_env(tmp_path: Path) -> dict[str, str]:
    """In-process sandbox settings for CliRunner runs."""
    return {
        "LDJFIX_SANDBOX_DIR": str(tmp_path / "sb"),
        "LDJFIX_SANDBOX_KNOBS": '{"polls": 5, "calls_per_second": 0}',
        "GONG_BASE_URL": "",
    }


def _upload(tmp_path: Path, env: dict[str, str], data: bytes = GOOD) -> str:
    path = tmp_path / "f.ldjson"
    path.write_bytes(data)
    result = CliRunner().invoke(
        cli,
        [
            "upload",
            str(path),
            "-t",
            "ACCOUNT",
            "--integration-id",
            "5517027188234205706",
            "--sandbox",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_sandbox_serve_status_wait_times_out_with_exit_4(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    """status --wait --timeout 0 on a still-PENDING upload: exit 4 and what to do."""
    crid = _upload(tmp_path, sandbox_env)
    result = CliRunner().invoke(
        cli,
        [
            "status",
            "--integration-id",
            "5517027188234205706",
            "--client-request-id",
            crid,
            "--sandbox",
            "--wait",
            "--timeout",
            "0",
        ],
        env=sandbox_env,
    )
    assert result.exit_code == 4
    assert f"Gong still says PENDING for clientRequestId '{crid}' after 0 s" in result.stderr
    assert "ldjfix status" in result.stderr


def test_sandbox_serve_status_unknown_id_is_exit_4(sandbox_env: dict[str, str]) -> None:
    """The status of an id never used: exit 4 with Gong's (the sandbox's) words."""
    result = CliRunner().invoke(
        cli,
        ["status", "--integration-id", "1", "--client-request-id", "never", "--sandbox"],
        env=sandbox_env,
    )
    assert result.exit_code == 4
    assert "HTTP 400: No request with clientRequestId never for this integration" in result.stderr


def test_sandbox_serve_status_json_is_gongs_fields(
    tmp_path: Path, sandbox_env: dict[str, str]
) -> None:
    """status --json prints exactly the fields Gong sent (here a FAILED outcome)."""
    env = {**sandbox_env, "LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'}
    crid = _upload(tmp_path, env, GOOD + BAD)
    result = CliRunner().invoke(
        cli,
        [
            "status",
            "--integration-id",
            "5517027188234205706",
            "--client-request-id",
            crid,
            "--sandbox",
            "--json",
        ],
        env=env,
    )
    doc = orjson.loads(result.stdout)
    assert result.exit_code == 1
    assert set(doc) == {"requestId", "status", "errors", "totalErrorCount", "totalSuccessCount"}
    assert (doc["status"], doc["totalErrorCount"], doc["totalSuccessCount"]) == ("FAILED", 1, 1)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            ["--status-file", "s.json", "--integration-id", "1", "--client-request-id", "c"],
            "Use --status-file or --integration-id/--client-request-id, not both.",
        ),
        (["--integration-id", "1"], "--integration-id and --client-request-id go together."),
        ([], "--integration-id ID --client-request-id CRID to ask Gong"),
    ],
)
def test_sandbox_serve_annotate_status_source_conflicts(
    tmp_path: Path, sandbox_env: dict[str, str], extra: list[str], words: str
) -> None:
    """annotate takes one status source: a file, or the two ids; mixing them is exit 2."""
    data = tmp_path / "f.ldjson"
    data.write_bytes(GOOD)
    result = CliRunner().invoke(cli, ["annotate", str(data), "--sandbox", *extra], env=sandbox_env)
    assert result.exit_code == 2 and words in result.stderr
