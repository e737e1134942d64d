"""Connection settings: base URL safety, credentials from env, secrets never shown."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ldjfix.cli import cli
from ldjfix.errors import UsageProblem
from ldjfix.gong.client import Connection, new_client_request_id
from ldjfix.gong.connection import credentials_from_env, default_sandbox_dir, normalize_base_url
from ldjfix.jobs.remote import open_client
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import serving

BASIC = {"GONG_ACCESS_KEY": "key-id", "GONG_ACCESS_KEY_SECRET": "s3cr3t"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://us-55616.api.gong.io", "https://us-55616.api.gong.io"),
        ("https://us-55616.api.gong.io/", "https://us-55616.api.gong.io"),
        ("https://api.gong.io/v2/", "https://api.gong.io"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:1/", "http://localhost:1"),
        ("http://[::1]:9/", "http://[::1]:9"),
    ],
)
def test_client_connection_normalizes_base_url(given: str, expected: str) -> None:
    """Trailing slashes and /v2 are dropped; https anywhere, http only on loopback."""
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (None, "No Gong base URL: pass --base-url or set GONG_BASE_URL"),
        ("", "No Gong base URL"),
        ("us-55616.api.gong.io", "not an http(s) URL"),
        ("ftp://api.gong.io", "not an http(s) URL"),
        ("http://api.gong.io", "Refusing to send Gong credentials over plain http to api.gong.io"),
        ("http://10.0.0.5:8080", "over plain http to 10.0.0.5"),
        ("https://key:s3cr3t@api.gong.io", "must not carry credentials"),
        ("https://api.gong.io:port", "not an http(s) URL"),
    ],
)
def test_client_connection_refuses_unsafe_or_missing_url(given: str | None, words: str) -> None:
    """A missing, malformed or plain-http non-loopback URL is a usage problem (exit 2)."""
    with pytest.raises(UsageProblem) as caught:
        normalize_base_url(given)
    assert words in str(caught.value) and caught.value.exit_code == 2


def test_client_connection_credentials_from_env() -> None:
    """Basic from the key pair, Bearer from the token; a half pair names what is missing."""
    basic = credentials_from_env(BASIC)
    bearer = credentials_from_env({"GONG_BEARER_TOKEN": "tok"})
    assert basic is not None and basic.header() == "Basic a2V5LWlkOnMzY3IzdA=="
    assert bearer is not None and bearer.header() == "Bearer tok"
    assert credentials_from_env({}) is None
    with pytest.raises(UsageProblem, match="GONG_ACCESS_KEY is set but GONG_ACCESS_KEY_SECRET"):
        credentials_from_env({"GONG_ACCESS_KEY": "k"})


def test_client_connection_missing_credentials_name_the_variables() -> None:
    """A real base URL without credentials is refused before any call, naming the variables."""
    with pytest.raises(UsageProblem) as caught:
        open_client(Connection(base_url="https://api.gong.io"), env={})
    text = str(caught.value)
    for name in ("GONG_ACCESS_KEY", "GONG_ACCESS_KEY_SECRET", "GONG_BEARER_TOKEN"):
        assert name in text


def test_client_connection_sandbox_and_base_url_exclude_each_other(tmp_path: Path) -> None:
    """--sandbox with --base-url is a usage problem; --sandbox alone needs no credentials."""
    with pytest.raises(UsageProblem, match="not both"):
        open_client(Connection(base_url="https://api.gong.io", sandbox=True, sandbox_dir=tmp_path))
    with open_client(Connection(sandbox=True, sandbox_dir=tmp_path), env={}) as client:
        assert client.list_integrations() == []


def test_client_connection_secrets_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    """Neither repr, logs nor error messages of a failing client show the secret."""

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"requestId": "r", "errors": ["down"]})

    caplog.set_level(logging.DEBUG)
    conn = Connection(base_url="https://api.gong.io")
    client = open_client(
        conn, env=BASIC, transport=httpx.MockTransport(refuse), sleep=lambda s: None
    )
    with pytest.raises(Exception) as caught:
        client.list_integrations()
    shown = " ".join([repr(client._http.auth), caplog.text, str(caught.value), repr(conn)])
    assert "s3cr3t" not in shown and "a2V5LWlkOnMzY3IzdA" not in shown
    assert "hidden" in repr(client._http.auth) and "down" in str(caught.value)


def test_client_connection_default_sandbox_dir(tmp_path: Path) -> None:
    """The sandbox folder: $LDJFIX_SANDBOX_DIR, else under $XDG_STATE_HOME or ~/.local/state."""
    assert default_sandbox_dir({"LDJFIX_SANDBOX_DIR": str(tmp_path)}) == tmp_path
    assert default_sandbox_dir({"XDG_STATE_HOME": "/s"}) == Path("/s/ldjfix/sandbox")
    assert default_sandbox_dir({}).parts[-4:] == (".local", "state", "ldjfix", "sandbox")


def test_client_connection_fresh_client_request_ids_are_valid_and_unique() -> None:
    """Generated clientRequestIds use only letters, digits, - and _, and never repeat."""
    ids = {new_client_request_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(i.replace("-", "").replace("_", "").isalnum() and i.isascii() for i in ids)


@pytest.mark.parametrize("token", ["sekrit-token\n", "sekrit-tökén", "sekrit\u2013token"])
def test_connection_token_with_line_break_is_refused_unprinted(tmp_path: Path, token: str) -> None:
    """A bearer token with a trailing line break or a non-ASCII character (a pasted dash) is
    refused up front (exit 2, nothing sent), never echoed in a message."""
    env = {"GONG_BEARER_TOKEN": token}
    with serving(tmp_path / "state", Knobs(calls_per_second=0)) as sandbox:
        args = ["status", "--integration-id", "1", "--client-request-id", "x"]
        result = CliRunner().invoke(cli, [*args, "--base-url", sandbox.url], env=env)
    assert "sekrit" not in result.output
    assert result.exit_code == 2, result.output
    assert "GONG_BEARER_TOKEN" in result.output
