"""Fuzzing through the command line: random files into annotate, extract, validate, merge, run.

Whatever the files hold, each command exits with one of its documented codes, prints no
traceback, and leaves no half-written output behind.
"""

from __future__ import annotations

import json
import socket
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from ldjfix.cli import cli
from tests.robustness.test_fuzz_parsers import (
    EXAMPLES,
    JSON,
    LINE_BYTES,
    fixed_files,
    rules_text,
    schema_bytes,
    status_bytes,
    toml_docs,
)

CLI_FUZZ = settings(max_examples=max(10, EXAMPLES // 4), deadline=None)


def invoke(args: list[str]) -> Result:
    """Run the CLI in-process, as a user would from a shell."""
    return CliRunner().invoke(cli, args, catch_exceptions=True)


def assert_clean(result: Result, codes: set[int]) -> None:
    """A documented exit code, no escaped exception, no traceback, errors on one line each."""
    assert result.exit_code in codes, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    if result.exit_code in (2, 3, 4):
        assert "Error: " in result.output


def _files(folder: Path, **contents: bytes) -> dict[str, str]:
    paths = {}
    for name, data in contents.items():
        path = folder / name
        path.write_bytes(data)
        paths[name] = str(path)
    return paths


@CLI_FUZZ
@given(source=LINE_BYTES, status=status_bytes())
def test_fuzz_cli_annotate_and_extract_exit_cleanly(source: bytes, status: bytes) -> None:
    """annotate exits 0/1/3 and extract 0/3, never leaving a partial FAILING file."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        p = _files(folder, src=source, st=status)
        assert_clean(invoke(["annotate", p["src"], "--status-file", p["st"]]), {0, 1, 3})
        assert_clean(
            invoke(["annotate", p["src"], "--status-file", p["st"], "--format", "json"]), {0, 1, 3}
        )
        out = folder / "failing.ldjson"
        result = invoke(["extract", p["src"], "--status-file", p["st"], "-o", str(out)])
        assert_clean(result, {0, 3})
        assert out.exists() == (result.exit_code == 0)
        assert not [f for f in folder.iterdir() if f.name.endswith(".tmp")]


@CLI_FUZZ
@given(source=LINE_BYTES, schema=st.none() | schema_bytes(), as_json=st.booleans())
def test_fuzz_cli_validate_exits_cleanly(
    source: bytes, schema: bytes | None, as_json: bool
) -> None:
    """validate exits 0, 1 or 3 whatever the file and the schema file hold."""
    with tempfile.TemporaryDirectory() as tmp:
        p = _files(Path(tmp), src=source, schema=schema or b"")
        args = ["validate", p["src"], "-t", "ACCOUNT"]
        args += ["--schema-file", p["schema"]] if schema is not None else []
        args += ["--json"] if as_json else []
        assert_clean(invoke(args), {0, 1, 3})


@CLI_FUZZ
@given(source=LINE_BYTES, fixed=fixed_files(), only=st.booleans())
def test_fuzz_cli_merge_exits_cleanly(source: bytes, fixed: bytes, only: bool) -> None:
    """merge exits 0 or 3; on 3 there is no output file at all."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        p = _files(folder, src=source, fixed=fixed)
        out = folder / "out.ldjson"
        args = ["merge", p["src"], p["fixed"], "-o", str(out)] + (
            ["--only-corrected"] if only else []
        )
        result = invoke(args)
        assert_clean(result, {0, 3})
        assert out.exists() == (result.exit_code == 0)


RUN_SOURCE = (
    b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00.123Z","name":"A"}\n'
    b'{"objectId":"a2","modifiedDate":"2024-01-01T00:00:00Z","name":"B","isDeleted":"no"}\n'
)


@settings(max_examples=max(5, EXAMPLES // 10), deadline=None)
@given(rules=rules_text())
def test_fuzz_cli_run_with_any_rules_file_exits_cleanly(rules: bytes) -> None:
    """run --sandbox with any rules file exits 0, 1 or 3 (a bad rules file before any upload)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        p = _files(folder, src=RUN_SOURCE, rules=rules)
        args: list[Any] = [
            "run",
            p["src"],
            "-t",
            "ACCOUNT",
            "--integration-id",
            "5",
            "--rules",
            p["rules"],
            "--sandbox",
            "--sandbox-dir",
            str(folder / "sb"),
        ]
        result = CliRunner(
            env={"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'}
        ).invoke(cli, args)
        assert_clean(result, {0, 1, 3})
        if result.exit_code == 3:
            assert not (folder / "sb").exists()  # refused before anything reached the sandbox


@settings(max_examples=max(5, EXAMPLES // 10), deadline=None)
@given(data=st.data(), manifest=st.booleans())
def test_fuzz_cli_run_with_any_config_or_manifest_exits_cleanly(
    data: st.DataObject, manifest: bool
) -> None:
    """run with any ldjfix.toml or job manifest exits 0-3, and never reaches the network."""
    config = data.draw(toml_docs(manifest=manifest))
    spy: list[object] = []

    def no_lookup(*args: object, **kw: object) -> list[object]:
        spy.append(args)
        raise OSError("the test forbids name lookups")

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", no_lookup)
        folder = Path(tmp)
        p = _files(folder, src=RUN_SOURCE, cfg=config)
        state = ["--sandbox", "--sandbox-dir", str(folder / "sb")]
        if manifest:
            args = ["run", "--manifest", p["cfg"], "--integration-id", "5", *state]
        else:
            args = [
                "run",
                p["src"],
                "-t",
                "ACCOUNT",
                "--config",
                p["cfg"],
                "--integration-id",
                "5",
                *state,
            ]
        result = CliRunner(
            env={"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}', "GONG_BASE_URL": ""}
        ).invoke(cli, args)
        assert_clean(result, {0, 1, 2, 3})
    assert spy == []


def _mutate_json(value: Any, data: st.DataObject) -> Any:
    """A JSON document with some keys dropped, some values replaced by random JSON."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = data.draw(st.integers(0, 9))
            if roll == 0:
                continue  # dropped
            out[key] = data.draw(JSON) if roll == 1 else _mutate_json(item, data)
        return out
    if isinstance(value, list):
        return [_mutate_json(item, data) for item in value if data.draw(st.integers(0, 9))]
    return value


@settings(max_examples=max(5, EXAMPLES // 5), deadline=None)
@given(data=st.data())
def test_fuzz_cli_run_resumes_or_refuses_a_damaged_journal(data: st.DataObject) -> None:
    """A hand-damaged journal.json makes run resume or refuse (exit 0-3), never crash."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        p = _files(folder, src=RUN_SOURCE)
        args = [
            "run",
            p["src"],
            "-t",
            "ACCOUNT",
            "--integration-id",
            "5",
            "--sandbox",
            "--sandbox-dir",
            str(folder / "sb"),
            "--job-dir",
            str(folder / "job"),
        ]
        env = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}', "GONG_BASE_URL": ""}
        first = CliRunner(env=env).invoke(cli, [*args, "--max-rounds", "1"])
        assert first.exit_code in (0, 1), first.output
        journal = folder / "job" / "journal.json"
        damaged = _mutate_json(json.loads(journal.read_bytes()), data)
        journal.write_text(json.dumps(damaged))
        assert_clean(CliRunner(env=env).invoke(cli, args), {0, 1, 2, 3})


ANSWER_CODES = st.sampled_from([200, 201, 202, 204, 301, 400, 401, 403, 404, 409, 429, 500, 503])
RETRY_AFTER = st.none() | st.sampled_from(["0", "1", "-1", "nan", "inf", "1e308", "soon", ""])


@st.composite
def answers(draw: Any) -> list[tuple[int, str | None, bytes]]:
    """A run of HTTP answers Gong (or something in between) might send."""
    body = st.builds(dumps_any, STATUS_LIKE) | st.binary(max_size=60)
    return draw(st.lists(st.tuples(ANSWER_CODES, RETRY_AFTER, body), min_size=1, max_size=8))


def dumps_any(value: Any) -> bytes:
    """JSON bytes of any value, big integers included."""
    return json.dumps(value).encode()


STATUS_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["DONE", "FAILED", "PENDING", "IN_PROGRESS"]) | JSON,
        "errors": st.lists(st.fixed_dictionaries({}, optional={"line": JSON, "description": JSON}))
        | JSON,
        "totalErrorCount": JSON,
        "requestId": JSON,
        "clientRequestId": JSON,
        "objectTypeToSelectedFields": JSON,
        "integrationId": JSON,
    },
)


@settings(max_examples=max(20, EXAMPLES), deadline=None)
@given(script=answers(), call=st.sampled_from(["status", "wait", "upload", "schema"]))
def test_fuzz_client_reads_any_answer_or_raises_a_remote_problem(
    script: list[tuple[int, str | None, bytes]], call: str
) -> None:
    """Whatever Gong answers, the client returns a result or raises an LdjfixError (exit 2-4)."""
    import httpx

    from ldjfix.errors import LdjfixError
    from ldjfix.gong.client import GongClient

    replies = iter(script)

    def answer(request: httpx.Request) -> httpx.Response:
        code, retry_after, body = next(replies, (200, None, b'{"status": "DONE"}'))
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return httpx.Response(code, headers=headers, content=body)

    http = httpx.Client(base_url="https://gong.invalid", transport=httpx.MockTransport(answer))
    client = GongClient(http, sleep=lambda s: None)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "a.ldjson"
        source.write_bytes(RUN_SOURCE)
        try:
            if call == "status":
                client.request_status(integration_id=1, client_request_id="c1")
            elif call == "wait":
                client.wait_for_status(integration_id=1, client_request_id="c1", timeout=0.0)
            elif call == "upload":
                client.upload(
                    source, object_type="ACCOUNT", integration_id=1, client_request_id="c1"
                )
            else:
                client.entity_schema(integration_id=1, object_type="ACCOUNT")
        except LdjfixError as exc:
            assert exc.exit_code in (2, 3, 4)
            assert str(exc) and "\n" not in str(exc)
