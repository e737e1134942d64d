"""Settings from ``ldjfix.toml`` and job manifests, checked key by key.

A config file holds what stays the same from run to run (base URL, integration id, rules,
limits); flags and environment variables override it (flags win). Credentials are read only
from the environment: a config file with a secret-looking key is refused, so a secret never
ends up in a file that gets committed or copied around. Every problem names the file, the key
and what is wrong (exit 3). Relative paths in a file are taken from the file's own folder.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ldjfix.errors import InputProblem
from ldjfix.gong.limits import MAX_INTEGRATION_ID, UPLOAD_TYPES
from ldjfix.ldjson.files import open_file

CONFIG_NAME = "ldjfix.toml"
CONFIG_FILE, ENVIRONMENT, COMMAND_LINE = "config file", "environment", "command line"
OBJECT_TYPES = UPLOAD_TYPES
LOG_FORMATS = ("text", "json")
CREDENTIAL_ENV = "GONG_ACCESS_KEY + GONG_ACCESS_KEY_SECRET, or GONG_BEARER_TOKEN"
_SECRET_WORDS = re.compile(
    r"secret|token|passw|credential|bearer|auth|api_?key|access_?key|private", re.IGNORECASE
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_ENV = {  # setting -> environment variable that overrides the config file
    "base_url": "GONG_BASE_URL",
    "integration_id": "LDJFIX_INTEGRATION_ID",
    "rules": "LDJFIX_RULES",
    "calls_per_second": "LDJFIX_CALLS_PER_SECOND",
    "max_api_calls": "LDJFIX_MAX_API_CALLS",
    "max_rounds": "LDJFIX_MAX_ROUNDS",
    "sandbox": "LDJFIX_SANDBOX",
    "job_dir": "LDJFIX_JOB_DIR",
    "log_format": "LDJFIX_LOG_FORMAT",
    "keep_history": "LDJFIX_KEEP_HISTORY",
    "schema_file": "LDJFIX_SCHEMA_FILE",
    "strict": "LDJFIX_STRICT",
    "verify": "LDJFIX_VERIFY",
    "max_failure_rate": "LDJFIX_MAX_FAILURE_RATE",
}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run can take from a config file; None means "not set, use the default"."""

    base_url: str | None = None
    integration_id: str | None = None
    rules: Path | None = None
    calls_per_second: float = 3.0
    max_api_calls: int | None = None
    max_rounds: int | None = None
    sandbox: bool = False
    job_dir: Path | None = None
    log_format: str = "text"
    keep_history: int | None = None
    schema_file: Path | None = None
    strict: bool = False
    verify: int | None = None  # records per job read back after the end
    max_failure_rate: float | None = None  # percent of round 1's upload that stops the job
    source: Path | None = field(default=None, compare=False)
    # where each set key came from: "config file", "environment" or "command line"
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    def origin(self, key: str) -> str | None:
        """Where setting ``key`` came from, or None when it is a default."""
        return self.origins.get(key)


def _problem(where: Path | str, key: str | None, what: str) -> InputProblem:
    at = f"{where}: key '{key}'" if key else str(where)
    return InputProblem(f"{at}: {what}")


def load_toml(path: Path, *, what: str) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a message that names the file."""
    try:
        with open_file(path, what=what) as stream:
            text = stream.read().decode("utf-8")
    except OSError as exc:  # opened, then failed to read (open_file explains open failures)
        raise InputProblem(f"cannot read {what} {path}: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise _problem(path, None, f"not UTF-8 text (byte {exc.start}).") from None
    import tomllib  # only when there is a file to read: most commands start without it

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _problem(path, None, f"not valid TOML: {exc}.") from None


def refuse_secrets(doc: Mapping[str, Any], path: Path, prefix: str = "") -> None:
    """Refuse any key, at any depth, that looks like it holds a credential."""
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if _SECRET_WORDS.search(str(key)):
            raise _problem(
                path,
                name,
                f"looks like a credential; ldjfix reads credentials only from the environment "
                f"({CREDENTIAL_ENV}). Remove it from the file.",
            )
        if isinstance(value, Mapping):
            refuse_secrets(value, path, f"{name}.")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    refuse_secrets(item, path, f"{name}.")


def _as_path(value: Any, where: Path | str, key: str, base: Path) -> Path:
    value = str(value) if isinstance(value, Path) else value
    if not isinstance(value, str) or not value.strip():
        raise _problem(where, key, "must be a non-empty path string.")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _as_positive(value: Any, where: Path | str, key: str, *, integer: bool) -> float:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = int(value) if integer else float(value)
    ok_types = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok_types) or not 0 < value < math.inf:
        kind = "a whole number" if integer else "a number"
        raise _problem(where, key, f"must be {kind} greater than 0, not {value!r}.")
    return float(value)


def _as_count(value: Any, where: Path | str, key: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _problem(where, key, f"must be a whole number, 0 or more, not {value!r}.")
    return value


def _as_percent(value: Any, where: Path | str, key: str) -> float:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise _problem(where, key, f"must be a percentage from 0 to 100, not {value!r}.")
    return float(value)


def _as_integration_id(value: Any, where: Path | str, key: str) -> str:
    # Kept as text: Gong's ids are 64-bit and must survive exactly (no float anywhere).
    text = str(value).strip() if isinstance(value, int | str) else ""
    digits = text.isascii() and text.isdigit()
    if isinstance(value, bool) or not digits or not 0 < int(text) <= MAX_INTEGRATION_ID:
        raise _problem(where, key, f"must be Gong's numeric integration id, not {value!r}.")
    return text


def _as_bool(value: Any, where: Path | str, key: str) -> bool:
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise _problem(where, key, f"must be true or false, not {value!r}.")


def _as_choice(value: Any, where: Path | str, key: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _problem(where, key, f"must be one of {', '.join(choices)}, not {value!r}.")
    return value


def _as_url(value: Any, where: Path | str, key: str) -> str:
    if not isinstance(value, str) or not re.match(r"https?://[^/\s]+", value):
        example = "https://api.gong.io"
        raise _problem(where, key, f"must be an http(s) URL such as {example}, not {value!r}.")
    return value.rstrip("/")


def _convert(key: str, value: Any, where: Path | str, base: Path) -> Any:
    """Check one setting's value and turn it into its typed form."""
    if key in ("rules", "job_dir", "schema_file"):
        return _as_path(value, where, key, base)
    if key == "calls_per_second":
        return _as_positive(value, where, key, integer=False)
    if key in ("max_api_calls", "max_rounds"):
        return int(_as_positive(value, where, key, integer=True))
    if key == "integration_id":
        return _as_integration_id(value, where, key)
    if key in ("keep_history", "verify"):
        return _as_count(value, where, key)
    if key == "max_failure_rate":
        return _as_percent(value, where, key)
    if key in ("sandbox", "strict"):
        return _as_bool(value, where, key)
    if key == "log_format":
        return _as_choice(value, where, key, LOG_FORMATS)
    return _as_url(value, where, key)


def _apply(
    settings: Settings, values: Mapping[str, Any], where: Path | str, base: Path, origin: str
) -> Settings:
    known = set(_ENV)
    for key in values:
        if key not in known:
            raise _problem(where, key, f"is not a setting; known: {', '.join(sorted(known))}.")
    typed = {key: _convert(key, value, where, base) for key, value in values.items()}
    origins = {**settings.origins, **dict.fromkeys(typed, origin)}
    return replace(settings, **typed, origins=origins)


def find_config(explicit: Path | None, cwd: Path) -> Path | None:
    """The config file to use: the one given, else ``ldjfix.toml`` in ``cwd`` if there is one."""
    if explicit is not None:
        return explicit
    candidate = cwd / CONFIG_NAME
    return candidate if candidate.is_file() else None


def load_config(path: Path) -> Settings:
    """Read and check a config file (no environment, no flags)."""
    doc = load_toml(path, what="config file")
    refuse_secrets(doc, path)
    return replace(_apply(Settings(), doc, path, path.parent, CONFIG_FILE), source=path)


def resolve_settings(
    *,
    config: Path | None,
    flags: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Settings in force: defaults < config file < environment < flags (None flags are unset)."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    path = find_config(config, cwd)
    settings = load_config(path) if path is not None else Settings()
    from_env = {key: env[name] for key, name in _ENV.items() if env.get(name, "").strip()}
    for key, value in from_env.items():
        where = f"environment variable {_ENV[key]}"
        settings = _apply(settings, {key: value}, where, cwd, ENVIRONMENT)
    given = {key: value for key, value in flags.items() if value is not None}
    return _apply(settings, given, COMMAND_LINE, cwd, COMMAND_LINE)


def require_integration_id(settings: Settings) -> int:
    """The integration id in force; a usage error (exit 2) when none was given anywhere."""
    if settings.integration_id is None:
        from ldjfix.errors import UsageProblem

        raise UsageProblem(
            "No integration id: pass --integration-id, or set integration_id in "
            "ldjfix.toml or LDJFIX_INTEGRATION_ID."
        )
    return int(settings.integration_id)
