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
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import InputProblem, UsageProblem

CONFIG_NAME = "ldjfix.toml"
OBJECT_TYPES = ("ACCOUNT", "CONTACT", "DEAL", "LEAD", "BUSINESS_USER", "STAGE")
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
    source: Path | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One file of a batch: what to upload, as which object type, fixed by which rules."""

    file: Path
    object_type: str
    rules: Path | None = None
    job_dir: Path | None = None


def _problem(where: Path | str, key: str | None, what: str) -> InputProblem:
    at = f"{where}: key '{key}'" if key else str(where)
    return InputProblem(f"{at}: {what}")


def load_toml(path: Path, *, what: str) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a message that names the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputProblem(f"{what} {path} does not exist.", hint="Check the path.") from None
    except IsADirectoryError:
        raise InputProblem(f"{what} {path} is a folder, not a file.") from None
    except OSError as exc:
        raise InputProblem(f"cannot read {what} {path}: {exc.strerror}.") from None
    except UnicodeDecodeError as exc:
        raise _problem(path, None, f"not UTF-8 text (byte {exc.start}).") from None
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


def _as_integration_id(value: Any, where: Path | str, key: str) -> str:
    # Kept as text: Gong's ids are 64-bit and must survive exactly (no float anywhere).
    text = str(value).strip() if isinstance(value, int | str) else ""
    if isinstance(value, bool) or not text.isdigit():
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
    if key in ("rules", "job_dir"):
        return _as_path(value, where, key, base)
    if key == "calls_per_second":
        return _as_positive(value, where, key, integer=False)
    if key in ("max_api_calls", "max_rounds"):
        return int(_as_positive(value, where, key, integer=True))
    if key == "integration_id":
        return _as_integration_id(value, where, key)
    if key == "sandbox":
        return _as_bool(value, where, key)
    if key == "log_format":
        return _as_choice(value, where, key, LOG_FORMATS)
    return _as_url(value, where, key)


def _apply(
    settings: Settings, values: Mapping[str, Any], where: Path | str, base: Path
) -> Settings:
    known = set(_ENV)
    for key in values:
        if key not in known:
            raise _problem(where, key, f"is not a setting; known: {', '.join(sorted(known))}.")
    typed = {key: _convert(key, value, where, base) for key, value in values.items()}
    return replace(settings, **typed)


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
    return replace(_apply(Settings(), doc, path, path.parent), source=path)


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
        settings = _apply(settings, {key: value}, f"environment variable {_ENV[key]}", cwd)
    given = {key: value for key, value in flags.items() if value is not None}
    return _apply(settings, given, "command line", cwd)


_JOB_KEYS = ("file", "object_type", "rules", "job_dir")


def as_object_type(value: Any, where: Path | str, key: str = "object_type") -> str:
    """Check an object type name (case-insensitive) and return Gong's spelling."""
    name = value.strip().upper() if isinstance(value, str) else None
    if name not in OBJECT_TYPES:
        raise _problem(where, key, f"must be one of {', '.join(OBJECT_TYPES)}, not {value!r}.")
    return name


def _manifest_job(entry: Any, path: Path, index: int) -> BatchJob:
    where = f"{path}: job {index}"
    if not isinstance(entry, Mapping):
        raise InputProblem(f"{where}: must be a table ([[job]]), not {type(entry).__name__}.")
    for key in entry:
        if key not in _JOB_KEYS:
            raise _problem(where, key, f"is not a job key; known: {', '.join(_JOB_KEYS)}.")
    for key in ("file", "object_type"):
        if key not in entry:
            raise _problem(where, key, "is missing; every [[job]] needs file and object_type.")
    base = path.parent
    return BatchJob(
        file=_as_path(entry["file"], where, "file", base),
        object_type=as_object_type(entry["object_type"], where),
        rules=_as_path(entry["rules"], where, "rules", base) if "rules" in entry else None,
        job_dir=_as_path(entry["job_dir"], where, "job_dir", base) if "job_dir" in entry else None,
    )


def load_manifest(path: Path) -> tuple[BatchJob, ...]:
    """Read a job manifest: one ``[[job]]`` table per file (file, object_type, rules, job_dir)."""
    doc = load_toml(path, what="job manifest")
    refuse_secrets(doc, path)
    for key in doc:
        if key != "job":
            raise _problem(path, key, "is not a manifest key; list files as [[job]] tables.")
    entries = doc.get("job")
    if not isinstance(entries, list) or not entries:
        raise _problem(path, "job", "needs at least one [[job]] table with file and object_type.")
    jobs = tuple(_manifest_job(entry, path, i) for i, entry in enumerate(entries, start=1))
    check_distinct(jobs, path)
    return jobs


def check_distinct(jobs: tuple[BatchJob, ...], where: Path | str) -> None:
    """Refuse two jobs on the same file or the same job folder (they would trample each other)."""
    seen: dict[Path, str] = {}
    for job in jobs:
        for label, path in (("file", job.file), ("job_dir", job.job_dir)):
            if path is None:
                continue
            key = Path(os.path.abspath(path))
            if key in seen:
                raise _problem(where, label, f"{path} is used by two jobs; give each its own.")
            seen[key] = label


def parse_file_spec(spec: str) -> BatchJob:
    """``accounts.ldjson:ACCOUNT`` -> a job (the type after the last colon)."""
    path, sep, kind = spec.rpartition(":")
    if not sep or not path:
        raise UsageProblem(f"--file {spec!r} must be FILE:OBJECT_TYPE, e.g. a.ldjson:ACCOUNT.")
    return BatchJob(Path(path), _flag_type(kind, f"--file {spec}"))


def _flag_type(kind: str, where: str) -> str:
    try:
        return as_object_type(kind, where)
    except InputProblem as exc:  # on the command line this is a usage problem (exit 2)
        raise UsageProblem(exc.message) from None


def jobs_from_flags(
    files: tuple[str, ...], object_types: tuple[str, ...], file_specs: tuple[str, ...]
) -> tuple[BatchJob, ...]:
    """Jobs from ``FILE... --object-type T...`` (one type, or one per file) and ``--file``."""
    if files and not object_types:
        raise UsageProblem("Give --object-type for the FILE arguments (or use --file FILE:TYPE).")
    if len(object_types) not in (0, 1, len(files)):
        raise UsageProblem(
            f"{len(files)} files but {len(object_types)} --object-type values; "
            "give one type for all files or one per file (or use --file FILE:TYPE)."
        )
    types = object_types * len(files) if len(object_types) == 1 else object_types
    jobs = [
        BatchJob(Path(name), _flag_type(kind, "--object-type"))
        for name, kind in zip(files, types, strict=False)
    ]
    jobs += [parse_file_spec(spec) for spec in file_specs]
    try:
        check_distinct(tuple(jobs), "command line")
    except InputProblem as exc:
        raise UsageProblem(exc.message) from None
    return tuple(jobs)
