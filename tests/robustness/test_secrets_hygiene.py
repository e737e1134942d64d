"""Secret hygiene: credentials never show up in output, logs, job folders or files.

Every command runs with known credential values against a loopback sandbox that requires
exactly those credentials (so they were really sent), at -v and -vv and with every logger at
DEBUG; then stdout, stderr, the logs and every file written are searched for the values and
their base64 forms. Credentials are refused for plain http to another machine before any
connection is made, and files are created with the user's umask.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.gong.connection import basic_auth
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving

SAMPLES = Path(__file__).parents[2] / "samples"
KEY = "ldjfix-key-QX71Z"
SECRET = "ldjfix-secret-Vr93kPw"
TOKEN = "ldjfix-bearer-Tt55mNq"
BASIC_ENV = {"GONG_ACCESS_KEY": KEY, "GONG_ACCESS_KEY_SECRET": SECRET}
BEARER_ENV = {"GONG_BEARER_TOKEN": TOKEN}


def needles() -> list[bytes]:
    """The secrets as they could leak: plain, base64 (both alphabets, every alignment)."""
    found = [KEY.encode(), SECRET.encode(), TOKEN.encode()]
    for text in (f"{KEY}:{SECRET}", SECRET, TOKEN, KEY):
        for pad in range(3):  # a secret inside a longer base64 text starts at any of 3 offsets
            encoded = base64.b64encode(b"\0" * pad + text.encode())[4 if pad else 0 :]
            found += [encoded[:-4] if len(encoded) > 8 else encoded]
            found += [base64.urlsafe_b64encode(text.encode()).rstrip(b"=")]
    return found


def assert_no_secret(data: bytes, where: str) -> None:
    """No credential, in any form, in ``data``."""
    for needle in needles():
        assert needle not in data, f"{needle!r} leaked in {where}"


def files_under(folder: Path) -> Iterator[Path]:
    """Every file below ``folder``."""
    return (p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The sample accounts, their status, and rules."""
    for name in ("accounts.ldjson", "accounts-status.json", "rules.toml"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    return tmp_path


def commands() -> list[tuple[list[str], set[int]]]:
    """Every command that takes credentials (and the offline ones), with its expected codes."""
    remote = ["--integration-id", "3", "--client-request-id", "sec-1"]
    return [
        (["upload", "accounts.ldjson", "-t", "ACCOUNT", *remote, "--wait"], {1}),
        (["status", *remote, "--json"], {1}),
        (["status", *remote, "--wait"], {1}),
        (["annotate", "accounts.ldjson", *remote], {1}),
        (["extract", "accounts.ldjson", *remote, "-o", "failing.ldjson"], {0}),
        (["merge", "accounts.ldjson", "failing.ldjson", "-o", "merged.ldjson"], {0}),
        (["validate", "accounts.ldjson", "-t", "ACCOUNT", "--integration-id", "3"], {1}),
        (
            [
                "fix",
                "accounts.ldjson",
                *remote,
                "-t",
                "ACCOUNT",
                "--rules",
                "rules.toml",
                "-o",
                "fixed.ldjson",
            ],
            {0, 1},
        ),
        (
            ["replay", "accounts.ldjson", "--fixes", "fixed.fixes.jsonl", "-o", "replayed.ldjson"],
            {0},
        ),
        (
            [
                "run",
                "accounts.ldjson",
                "-t",
                "ACCOUNT",
                "--integration-id",
                "3",
                "--rules",
                "rules.toml",
                "--job-dir",
                "job",
                "--calls-per-second",
                "100",
            ],
            {1},
        ),
    ]


def quick_sandbox(folder: Path, header: str) -> Iterator[RunningSandbox]:
    """A loopback sandbox that answers at once and accepts only ``header``."""
    return serving(
        folder / "sandbox-state", Knobs(polls=0, calls_per_second=0), require_auth=header
    )


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The test process's environment without any GONG_/LDJFIX_ variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    env.update(extra)
    return env


def test_secrets_never_leak_from_any_command_at_vv(workspace: Path) -> None:
    """Basic credentials at -vv: no command prints or writes them, in any form."""
    header = basic_auth(KEY, SECRET).header()
    with quick_sandbox(workspace, header) as sandbox:
        env = clean_env({**BASIC_ENV, "GONG_BASE_URL": sandbox.url})
        for args, codes in commands():
            done = subprocess.run(
                [sys.executable, "-m", "ldjfix", "-vv", *args],
                cwd=workspace,
                env=env,
                capture_output=True,
                timeout=120,
                check=False,
            )
            assert done.returncode in codes, (args, done.stderr.decode())
            assert_no_secret(done.stdout, f"stdout of {args[0]}")
            assert_no_secret(done.stderr, f"stderr of {args[0]}")
        assert any(
            call.path == "/v2/crm/entities" and call.code == 201 for call in sandbox.app.calls
        )  # the credentials were accepted
    for path in files_under(workspace):
        if "sandbox-state" not in path.parts:
            assert_no_secret(path.read_bytes(), str(path))


def test_secrets_never_leak_into_debug_logs_with_bearer(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Bearer token with every logger at DEBUG: not in output, logs or files."""
    header = f"Bearer {TOKEN}"
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    monkeypatch.chdir(workspace)
    try:
        with quick_sandbox(workspace, header) as sandbox:
            env = {
                **BEARER_ENV,
                "GONG_BASE_URL": sandbox.url,
                "GONG_ACCESS_KEY": "",
                "GONG_ACCESS_KEY_SECRET": "",
            }
            for args, codes in commands():
                result = CliRunner(env=env).invoke(cli, ["-v", *args])
                assert result.exit_code in codes, (args, result.output)
                assert_no_secret(result.output.encode(), f"output of {args[0]}")
            assert sum(call.code == 201 for call in sandbox.app.calls) >= 2
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    logs = captured.getvalue()
    assert "HTTP Request" in logs or "ldjfix" in logs  # the logs really were captured
    assert_no_secret(logs.encode(), "debug logs")
    for path in files_under(workspace):
        if "sandbox-state" not in path.parts:
            assert_no_secret(path.read_bytes(), str(path))


def test_secrets_sandbox_serve_never_prints_required_credentials(tmp_path: Path) -> None:
    """``sandbox serve --require-auth`` prints its URL, never the credentials it requires."""
    env = clean_env({**BASIC_ENV, "LDJFIX_SANDBOX_DIR": str(tmp_path / "state")})
    with subprocess.Popen(
        [sys.executable, "-m", "ldjfix", "-vv", "sandbox", "serve", "--require-auth"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        url = process.stdout.readline() if process.stdout else b""
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert url.startswith(b"http://127.0.0.1:")
    assert_no_secret(url + out + err, "sandbox serve output")


class _NoNetwork:
    """Records every attempt to resolve or connect, and refuses it."""

    def __init__(self) -> None:
        self.attempts: list[object] = []

    def getaddrinfo(self, *args: object, **kw: object) -> list[object]:
        self.attempts.append(("getaddrinfo", args))
        raise OSError("the test forbids name lookups")

    def create_connection(self, *args: object, **kw: object) -> socket.socket:
        self.attempts.append(("create_connection", args))
        raise OSError("the test forbids connections")


@pytest.mark.parametrize("host", ["gong.invalid", "10.11.12.13", "example.com:8080"])
def test_secrets_refused_over_plain_http_to_another_machine(
    host: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every remote command refuses http:// to a non-loopback host before any connection."""
    spy = _NoNetwork()
    monkeypatch.setattr(socket, "getaddrinfo", spy.getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", spy.create_connection)
    monkeypatch.chdir(workspace)
    env = {**BASIC_ENV, "GONG_BASE_URL": f"http://{host}"}
    hostname = host.split(":")[0]
    for args, _ in commands():
        if args[0] in ("merge", "replay"):
            continue  # offline commands never connect
        result = CliRunner(env=env).invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert (
            f"Error: Refusing to send Gong credentials over plain http to {hostname}."
            in result.output
        ), result.output
        assert_no_secret(result.output.encode(), f"output of {args[0]}")
    assert spy.attempts == []


def test_secrets_plain_http_to_loopback_is_allowed(workspace: Path) -> None:
    """http:// to this machine (the sandbox) is fine: the refusal is about other machines."""
    with quick_sandbox(workspace, basic_auth(KEY, SECRET).header()) as sandbox:
        result = CliRunner(env={**BASIC_ENV, "GONG_BASE_URL": sandbox.url}).invoke(
            cli,
            [
                "upload",
                str(workspace / "accounts.ldjson"),
                "-t",
                "ACCOUNT",
                "--integration-id",
                "3",
                "--client-request-id",
                "loop-1",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "loop-1" in result.output


def _modes(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): stat.S_IMODE(p.stat().st_mode)
        for p in folder.rglob("*")
        if not p.is_symlink()
    }


@pytest.mark.parametrize(
    ("umask", "file_mode", "dir_mode"), [(0o027, 0o640, 0o750), (0o077, 0o600, 0o700)]
)
def test_secrets_outputs_follow_the_umask(
    umask: int, file_mode: int, dir_mode: int, workspace: Path
) -> None:
    """Job folders and outputs get the user's umask (not wider, not narrower), no secrets."""
    env = clean_env({**BASIC_ENV, "LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'})
    out = workspace / "out"
    out.mkdir(mode=0o755)
    runs = [
        [
            "run",
            "accounts.ldjson",
            "-t",
            "ACCOUNT",
            "--integration-id",
            "3",
            "--rules",
            "rules.toml",
            "--job-dir",
            "out/job",
            "--sandbox",
            "--sandbox-dir",
            "state",
            "--calls-per-second",
            "100",
        ],
        [
            "extract",
            "accounts.ldjson",
            "--status-file",
            "accounts-status.json",
            "-o",
            "out/failing.ldjson",
        ],
        ["merge", "accounts.ldjson", "out/failing.ldjson", "-o", "out/merged.ldjson"],
        [
            "fix",
            "accounts.ldjson",
            "--status-file",
            "accounts-status.json",
            "-t",
            "ACCOUNT",
            "--rules",
            "rules.toml",
            "-o",
            "out/fixed.ldjson",
        ],
    ]
    for args in runs:
        done = subprocess.run(
            [sys.executable, "-m", "ldjfix", *args],
            cwd=workspace,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
            preexec_fn=lambda: os.umask(umask),
        )
        assert done.returncode in (0, 1), (args, done.stderr.decode())
    modes = _modes(out)
    assert "job/corrected.ldjson" in modes and "fixed.ldjson" in modes
    for name, mode in modes.items():
        expected = dir_mode if (out / name).is_dir() else file_mode
        assert mode == expected, f"{name} has mode {oct(mode)}, expected {oct(expected)}"
        if (out / name).is_file():
            assert_no_secret((out / name).read_bytes(), name)
