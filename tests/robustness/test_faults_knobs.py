"""The sandbox faults the fault-injection suite relies on: cut, truncate and flap.

``cut`` drops the connection mid-upload (half the body read), ``truncate`` handles the call but
sends only half of the answer, ``flap`` answers a stale PENDING/IN_PROGRESS status. Each is
checked over a real loopback socket, through ``sandbox serve --fault`` in a real process, and
in-process behind ``--sandbox`` (``LDJFIX_SANDBOX_KNOBS``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.errors import UsageProblem
from ldjfix.gong.client import GongClient, RequestIdUsed
from ldjfix.gong.connection import Connection
from ldjfix.jobs.remote import open_client
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving

RECORD = b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00Z","name":"Acme"}\n'
TOKEN = {"GONG_BEARER_TOKEN": "knob-test"}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A one-record ACCOUNT file."""
    path = tmp_path / "a.ldjson"
    path.write_bytes(RECORD)
    return path


def _sandbox(tmp_path: Path, *script: str) -> Iterator[RunningSandbox]:
    return serving(tmp_path / "state", Knobs(polls=0, calls_per_second=0, script=script))


def _client(sandbox: RunningSandbox) -> GongClient:
    return open_client(Connection(base_url=sandbox.url), env=TOKEN, sleep=lambda s: None)


def test_faults_knob_cut_drops_the_upload_and_the_retry_lands(source: Path, tmp_path: Path) -> None:
    """A connection cut mid-upload is retried; the sandbox keeps exactly one upload."""
    with _sandbox(tmp_path, "cut") as sandbox, _client(sandbox) as client:
        receipt = client.upload(
            source, object_type="ACCOUNT", integration_id=1, client_request_id="cut-1"
        )
        calls = [(c.path, c.code, c.fault) for c in sandbox.app.calls]
        logged = sandbox.store.uploads()
    assert receipt.client_request_id == "cut-1"
    assert calls == [("/v2/crm/entities", None, "cut"), ("/v2/crm/entities", 201, "ok")]
    assert [entry["clientRequestId"] for entry in logged] == ["cut-1"]


def test_faults_knob_truncate_loses_the_answer_not_the_upload(source: Path, tmp_path: Path) -> None:
    """A truncated upload answer: the upload arrived, so the retry meets 409 'on retry'."""
    with _sandbox(tmp_path, "truncate") as sandbox, _client(sandbox) as client:
        with pytest.raises(RequestIdUsed) as caught:
            client.upload(source, object_type="ACCOUNT", integration_id=1, client_request_id="tr-1")
        status = client.request_status(integration_id=1, client_request_id="tr-1")
        logged = sandbox.store.uploads()
    assert caught.value.on_retry is True
    assert status.status == "DONE" and len(logged) == 1


def test_faults_knob_truncate_on_status_is_retried(source: Path, tmp_path: Path) -> None:
    """A status answer cut off mid-body is a transport error: the client asks again."""
    with _sandbox(tmp_path, "ok", "truncate") as sandbox, _client(sandbox) as client:
        client.upload(source, object_type="ACCOUNT", integration_id=1, client_request_id="t2")
        status = client.request_status(integration_id=1, client_request_id="t2")
        faults = [c.fault for c in sandbox.app.calls]
    assert status.status == "DONE" and status.total_success_count == 1
    assert faults == ["ok", "truncate", "ok"]


def test_faults_knob_flap_shows_a_stale_status_then_the_true_one(
    source: Path, tmp_path: Path
) -> None:
    """A flapping status says PENDING or IN_PROGRESS even when done; polling goes on to DONE."""
    with _sandbox(tmp_path, "ok", "flap", "flap") as sandbox, _client(sandbox) as client:
        client.upload(source, object_type="ACCOUNT", integration_id=1, client_request_id="f1")
        seen = [client.request_status(integration_id=1, client_request_id="f1") for _ in range(3)]
    assert [s.status in ("PENDING", "IN_PROGRESS") for s in seen] == [True, True, False]
    assert seen[2].status == "DONE"
    assert seen[0].total_error_count is None and seen[0].errors == ()


def test_faults_knob_unknown_fault_is_refused() -> None:
    """A fault name the sandbox does not know is a usage problem naming the known ones."""
    with pytest.raises(UsageProblem, match=r"Unknown sandbox fault 'melt'.*cut, truncate, flap"):
        Knobs(script=("melt",))


def test_faults_knobs_through_sandbox_serve_flags(source: Path, tmp_path: Path) -> None:
    """``sandbox serve --fault cut --fault truncate`` in a real process: upload still ends DONE."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    env.update(TOKEN)
    serve = [
        sys.executable,
        "-m",
        "ldjfix",
        "sandbox",
        "serve",
        "--sandbox-dir",
        str(tmp_path / "served"),
        "--polls",
        "0",
        "--calls-per-second",
        "0",
        "--fault",
        "cut",
        "--fault",
        "truncate",
    ]
    with subprocess.Popen(
        serve, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as server:
        assert server.stdout is not None
        url = server.stdout.readline().decode().strip()
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ldjfix",
                    "upload",
                    str(source),
                    "-t",
                    "ACCOUNT",
                    "--integration-id",
                    "1",
                    "--client-request-id",
                    "served-1",
                    "--wait",
                    "--base-url",
                    url,
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert url.startswith("http://127.0.0.1:")
    # cut: retried; truncate: the upload arrived and its answer was lost, so the retry met
    # 409 "already used" — upload takes that as sent and polls it to DONE
    assert done.returncode == 0, done.stderr
    assert "served-1" in done.stdout and "DONE: 1 records accepted" in done.stderr


def test_faults_knobs_in_process_from_the_environment(source: Path, tmp_path: Path) -> None:
    """``--sandbox`` takes the knobs from LDJFIX_SANDBOX_KNOBS: a cut upload is retried."""
    env = {
        "LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0, "script": ["cut"]}',
        "GONG_BASE_URL": "",
    }
    result = CliRunner(env=env).invoke(
        cli,
        [
            "upload",
            str(source),
            "-t",
            "ACCOUNT",
            "--integration-id",
            "1",
            "--client-request-id",
            "env-1",
            "--wait",
            "--sandbox",
            "--sandbox-dir",
            str(tmp_path / "inproc"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "env-1" in result.output
