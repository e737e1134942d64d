"""Regression tests for every crash the fuzzers ever found: each is a file in tests/cases/fuzz/.

The file name's first word says which parser it crashed (``rules-``, ``status-``, ``schema-``,
``config-``, ``manifest-``, ``fixed-``); each must now be refused with a clear message and the
documented exit code, through the library and through the command line.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.errors import LdjfixError
from ldjfix.fixing.rules import load_rules
from ldjfix.gong.status import parse_status
from ldjfix.jobs.manifest import load_manifest
from ldjfix.jobs.settings import load_config
from ldjfix.loop.journal import check_journal
from ldjfix.mapping.merge import merge_fixed
from ldjfix.validation.validator import Validator, load_entity_schema

FUZZ_CASES = Path(__file__).parents[1] / "cases" / "fuzz"
SOURCE = b'{"objectId":"a1","name":"x"}\n{"objectId":"a2"\n[1]\n\n{"objectId":"a3","n":1}\n'
CASES = sorted(p for p in FUZZ_CASES.iterdir() if not p.name.startswith((".", "answer-")))
ANSWER_CASES = sorted(FUZZ_CASES.glob("answer-*.json"))  # HTTP answers that crashed the client


def _schema(path: Path) -> Any:
    return Validator("ACCOUNT", entity_schema=load_entity_schema(path), schema_source=str(path))


def _fixed(path: Path) -> Any:
    source = path.parent / "source.ldjson"
    source.write_bytes(SOURCE)
    return merge_fixed(source, path, path.parent / "out.ldjson")


def _journal(path: Path) -> Any:
    job = path.parent / "job"
    job.mkdir(exist_ok=True)
    return check_journal(orjson.loads(path.read_bytes()), job)


PARSERS: dict[str, Callable[[Path], Any]] = {
    "journal": _journal,
    "rules": load_rules,
    "status": lambda p: parse_status(p.read_bytes(), source=str(p)),
    "schema": _schema,
    "config": load_config,
    "manifest": load_manifest,
    "fixed": _fixed,
}


def named(path: Path) -> str:
    """The file a case's error message names: the case itself, or the journal it became."""
    if path.name.startswith("journal-"):
        return str(path.parent / "job" / "journal.json")
    return str(path)


def _copy(case: Path, tmp_path: Path) -> Path:
    path = tmp_path / case.name
    path.write_bytes(case.read_bytes())
    return path


def test_fuzz_cases_folder_names_known_parsers() -> None:
    """Every case file says which parser it is for, and there is at least one."""
    assert CASES
    assert all(case.name.split("-")[0] in PARSERS for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fuzz_case_is_refused_clearly(case: Path, tmp_path: Path) -> None:
    """A former crash now ends in a clear LdjfixError naming the file (exit 2 or 3)."""
    path = _copy(case, tmp_path)
    with pytest.raises(LdjfixError) as caught:
        PARSERS[case.name.split("-")[0]](path)
    assert caught.value.exit_code in (2, 3)
    assert named(path) in str(caught.value) and "\n" not in str(caught.value)


def _cli_args(kind: str, path: Path) -> list[str] | None:
    """The command that reads a case of ``kind``, or None when no command reads it directly."""
    source = path.parent / "source.ldjson"
    source.write_bytes(SOURCE)
    if kind == "rules":
        return [
            "run",
            str(source),
            "-t",
            "ACCOUNT",
            "--integration-id",
            "1",
            "--rules",
            str(path),
            "--sandbox",
            "--sandbox-dir",
            str(path.parent / "sb"),
        ]
    if kind == "status":
        return ["annotate", str(source), "--status-file", str(path)]
    if kind == "schema":
        return ["validate", str(source), "-t", "ACCOUNT", "--schema-file", str(path)]
    state = ["--integration-id", "1", "--sandbox", "--sandbox-dir", str(path.parent / "sb")]
    if kind == "journal":
        job = path.parent / "job"
        job.mkdir(exist_ok=True)
        (job / "journal.json").write_bytes(path.read_bytes())
        return ["run", str(source), "-t", "ACCOUNT", "--job-dir", str(job), *state]
    if kind == "config":
        return ["run", str(source), "-t", "ACCOUNT", "--config", str(path), *state]
    if kind == "manifest":
        return ["run", "--manifest", str(path), *state]
    if kind == "fixed":
        return ["merge", str(source), str(path), "-o", str(path.parent / "out.ldjson")]
    return None


CLI_KINDS = ("rules", "status", "schema", "fixed", "config", "manifest", "journal")
CLI_CASES = [c for c in CASES if c.name.split("-")[0] in CLI_KINDS]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_fuzz_case_through_cli_is_an_error_not_a_traceback(case: Path, tmp_path: Path) -> None:
    """Through the command line a former crash prints one Error: line naming it and exits 3."""
    path = _copy(case, tmp_path)
    args = _cli_args(case.name.split("-")[0], path)
    assert args is not None
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 3, result.output
    assert isinstance(result.exception, SystemExit)  # not an escaped exception
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and named(path) in errors[0]


@contextlib.contextmanager
def replaying(answers: list[dict[str, Any]]) -> Iterator[str]:
    """A loopback HTTP server that gives the recorded answers in order; yields its URL."""
    queue = list(answers)

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            item = queue.pop(0) if queue else {"code": 500, "body": "{}"}
            body = item["body"].encode()
            self.send_response(item["code"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CALLS = {"status": ["status", "--integration-id", "1", "--client-request-id", "c1"]}


@pytest.mark.parametrize("case", ANSWER_CASES, ids=[c.name for c in ANSWER_CASES])
def test_fuzz_answer_case_is_a_remote_problem(case: Path) -> None:
    """Gong's recorded answers that once crashed the client now end in one Error: line, exit 4."""
    doc = orjson.loads(case.read_bytes())
    with replaying(doc["answers"]) as url:
        result = CliRunner(env={"GONG_BEARER_TOKEN": "t", "GONG_BASE_URL": url}).invoke(
            cli, CALLS[doc["call"]]
        )
    assert result.exit_code == 4, result.output
    assert isinstance(result.exception, SystemExit)
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Gong answered HTTP" in errors[0]
