"""Tests of ldjfix.toml: discovery, precedence, checks and the refusal of secrets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ldjfix.errors import InputProblem
from ldjfix.jobs.settings import Settings, find_config, load_config, resolve_settings


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` and return the path."""
    path.write_text(text, encoding="utf-8")
    return path


def test_config_reads_every_setting(tmp_path: Path) -> None:
    """Every documented key is read with its type; relative paths are taken from the file."""
    cfg = write(
        tmp_path / "ldjfix.toml",
        'base_url = "https://us-1.api.gong.io/"\nintegration_id = 5517027188234205706\n'
        'rules = "rules.toml"\ncalls_per_second = 2.5\nmax_api_calls = 9000\nmax_rounds = 4\n'
        'sandbox = true\njob_dir = "jobs"\nlog_format = "json"\n',
    )
    settings = load_config(cfg)
    assert settings == Settings(
        base_url="https://us-1.api.gong.io",
        integration_id="5517027188234205706",
        rules=tmp_path / "rules.toml",
        calls_per_second=2.5,
        max_api_calls=9000,
        max_rounds=4,
        sandbox=True,
        job_dir=tmp_path / "jobs",
        log_format="json",
    )
    assert settings.source == cfg


def test_config_found_in_working_folder(tmp_path: Path) -> None:
    """Without --config, ldjfix.toml in the working folder is used; absent means defaults."""
    assert find_config(None, tmp_path) is None
    assert resolve_settings(config=None, flags={}, env={}, cwd=tmp_path) == Settings()
    write(tmp_path / "ldjfix.toml", "calls_per_second = 1\n")
    assert resolve_settings(config=None, flags={}, env={}, cwd=tmp_path).calls_per_second == 1.0


def test_config_precedence_flags_over_env_over_file(tmp_path: Path) -> None:
    """Flags beat the environment, which beats the file; unset flags (None) do not count."""
    cfg = write(tmp_path / "c.toml", 'integration_id = "1"\nmax_api_calls = 10\nsandbox = true\n')
    env = {"LDJFIX_INTEGRATION_ID": "2", "LDJFIX_MAX_API_CALLS": "20", "LDJFIX_SANDBOX": "no"}
    settings = resolve_settings(
        config=cfg, flags={"integration_id": "3", "max_api_calls": None}, env=env, cwd=tmp_path
    )
    assert settings.integration_id == "3"
    assert settings.max_api_calls == 20
    assert settings.sandbox is False


def test_config_base_url_from_gong_env(tmp_path: Path) -> None:
    """GONG_BASE_URL, the name other Gong tools use, overrides the file's base_url."""
    cfg = write(tmp_path / "c.toml", 'base_url = "https://a.api.gong.io"\n')
    env = {"GONG_BASE_URL": "https://b.api.gong.io"}
    assert resolve_settings(config=cfg, flags={}, env=env).base_url == "https://b.api.gong.io"


@pytest.mark.parametrize(
    "key", ["access_key_secret", "GONG_ACCESS_KEY", "bearer_token", "password", "api_key"]
)
def test_config_refuses_secret_keys(tmp_path: Path, key: str) -> None:
    """A secret-looking key is refused, naming file and key, without echoing the value."""
    cfg = write(tmp_path / "ldjfix.toml", f'{key} = "s3cr3t-value"\n')
    with pytest.raises(InputProblem) as info:
        load_config(cfg)
    message = str(info.value)
    assert str(cfg) in message and f"'{key}'" in message
    assert "only from the environment" in message and "GONG_BEARER_TOKEN" in message
    assert "s3cr3t-value" not in message
    assert info.value.exit_code == 3


def test_config_refuses_nested_secret(tmp_path: Path) -> None:
    """A secret hidden in a sub-table is found too."""
    cfg = write(tmp_path / "ldjfix.toml", '[gong]\ntoken = "x"\n')
    with pytest.raises(InputProblem, match=r"key 'gong\.token': looks like a credential"):
        load_config(cfg)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("calls_per_second = 0\n", "key 'calls_per_second': must be a number greater than 0"),
        ("calls_per_second = inf\n", "key 'calls_per_second': must be a number greater than 0"),
        ("max_api_calls = 2.5\n", "key 'max_api_calls': must be a whole number greater than 0"),
        ("integration_id = -4\n", "key 'integration_id': must be Gong's numeric integration id"),
        ("sandbox = 'maybe'\n", "key 'sandbox': must be true or false"),
        ('base_url = "ftp://x"\n', "key 'base_url': must be an http(s) URL"),
        ('log_format = "xml"\n', "key 'log_format': must be one of text, json"),
        ("rules = 3\n", "key 'rules': must be a non-empty path string"),
        ("max_api_call = 3\n", "key 'max_api_call': is not a setting; known:"),
        ("calls_per_second = \n", "not valid TOML"),
    ],
)
def test_config_bad_values_name_key_and_problem(tmp_path: Path, text: str, expected: str) -> None:
    """Each bad value gets a message naming the file, the key and the problem (exit 3)."""
    cfg = write(tmp_path / "ldjfix.toml", text)
    with pytest.raises(InputProblem) as info:
        load_config(cfg)
    assert str(info.value).startswith(f"{cfg}: ")
    assert expected in str(info.value)


def test_config_bad_env_value_names_variable(tmp_path: Path) -> None:
    """A bad environment override names the variable it came from."""
    with pytest.raises(InputProblem, match="environment variable LDJFIX_MAX_API_CALLS"):
        resolve_settings(config=None, flags={}, env={"LDJFIX_MAX_API_CALLS": "lots"}, cwd=tmp_path)


def test_config_missing_or_binary_file(tmp_path: Path) -> None:
    """A --config that does not exist, or is not UTF-8, is a clear input problem."""
    with pytest.raises(InputProblem, match=r"config file .*nope\.toml does not exist"):
        resolve_settings(config=tmp_path / "nope.toml", flags={}, env={}, cwd=tmp_path)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"rules = '\xff'\n")
    with pytest.raises(InputProblem, match="not UTF-8"):
        load_config(binary)


def test_config_verify_and_failure_rate_are_settings(tmp_path: Path) -> None:
    """verify and max_failure_rate come from the file, the environment and the flags, in that
    order of strength; left out, they are 0 and 50 %."""
    from ldjfix.jobs.session import RunOptions, resolve_run

    write(tmp_path / "ldjfix.toml", "verify = 3\nmax_failure_rate = 12.5\n")
    options = RunOptions(("a.ldjson",), ("ACCOUNT",), integration_id=1)
    resolved = resolve_run(options, env={}, cwd=tmp_path)
    assert (resolved.verify, resolved.max_failure_rate) == (3, 12.5)
    env = {"LDJFIX_VERIFY": "5", "LDJFIX_MAX_FAILURE_RATE": "100"}
    resolved = resolve_run(options, env=env, cwd=tmp_path)
    assert (resolved.verify, resolved.max_failure_rate) == (5, 100.0)
    flagged = RunOptions(("a.ldjson",), ("ACCOUNT",), integration_id=1, verify=0)
    resolved = resolve_run(replace(flagged, max_failure_rate=0.0), env=env, cwd=tmp_path)
    assert (resolved.verify, resolved.max_failure_rate) == (0, 0.0)
    bare = resolve_run(options, env={}, cwd=tmp_path / "elsewhere")
    assert (bare.verify, bare.max_failure_rate) == (0, 50.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_failure_rate = 101\n", "must be a percentage from 0 to 100, not 101"),
        ("max_failure_rate = true\n", "must be a percentage from 0 to 100, not True"),
        ("verify = -1\n", "key 'verify': must be a whole number, 0 or more, not -1"),
    ],
)
def test_config_bad_verify_or_rate(tmp_path: Path, text: str, expected: str) -> None:
    """A bad verify or max_failure_rate names the file and the key."""
    cfg = write(tmp_path / "ldjfix.toml", text)
    with pytest.raises(InputProblem, match=expected):
        load_config(cfg)


def test_config_failure_rate_reaches_a_real_run(tmp_path: Path) -> None:
    """Deals whose accounts were never sent fail wholesale: STOPPED after round 1 at the
    default 50 %, and run to their end with max_failure_rate = 100 in ldjfix.toml."""
    import os
    import subprocess
    import sys

    from tests.conftest import SAMPLES

    env = {**os.environ, "LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'}
    env.pop("GONG_BASE_URL", None)
    args = [sys.executable, "-m", "ldjfix", "run", str(SAMPLES / "deals.ldjson"), "-t", "DEAL"]
    args += ["--integration-id", "1", "--sandbox", "--sandbox-dir", "sb", "--json"]
    args += ["--rules", str(SAMPLES / "rules.toml")]
    stopped = subprocess.run(
        [*args, "--job-dir", "j1"], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert b'"STOPPED"' in stopped.stdout, stopped.stderr
    write(tmp_path / "ldjfix.toml", "max_failure_rate = 100\n")
    went_on = subprocess.run(
        [*args, "--job-dir", "j2"], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert b'"QUARANTINED"' in went_on.stdout, went_on.stderr
