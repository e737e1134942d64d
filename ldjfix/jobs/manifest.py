"""Which files a batch runs: job manifests (``[[job]]`` tables) and ``FILE:TYPE`` flags.

A manifest is TOML, one ``[[job]]`` per file with ``file`` and ``object_type`` (and optional
``rules`` and ``job_dir``); relative paths hang off the manifest's folder. Problems in a
manifest name the file, the job and the key (exit 3); mistakes on the command line are usage
problems (exit 2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.jobs.settings import OBJECT_TYPES, _as_path, _problem, load_toml, refuse_secrets


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One file of a batch: what to upload, as which object type, fixed by which rules."""

    file: Path
    object_type: str
    rules: Path | None = None
    job_dir: Path | None = None


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
