"""The sandbox's state folder: what the simulated Gong remembers between calls and processes.

Plain files, so a person can look inside and separate ``ldjfix`` processes share them:

* ``integrations.json``: registered integrations;
* ``schemas/<integrationId>/<TYPE>.json``: custom fields per object type;
* ``records/<integrationId>/<TYPE>.ldjson``: accepted records, one per ``objectId``;
* ``requests/<integrationId>/<clientRequestId>.json``: each upload's outcome and poll count;
* ``uploads.jsonl``: one line per upload, for tests and audits;
* ``calls.jsonl``: one line per API call (wall time, method, path, answer code, fault).

Every change happens under an exclusive ``fcntl`` lock on ``lock`` (a fresh descriptor per
use, so it also excludes threads of one process) and files are replaced atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from .limits import SCHEMA_TYPES


class SandboxStore:
    """Read and change the sandbox state in ``state_dir`` (created on first use)."""

    def __init__(self, state_dir: str | Path) -> None:
        self.root = Path(state_dir)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the state's exclusive lock for a read-modify-write."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # records -------------------------------------------------------------------------------

    def records(self, integration_id: int, object_type: str) -> dict[str, dict[str, Any]]:
        """Accepted records of one integration and type, by objectId."""
        return {k: orjson.loads(v) for k, v in self._raw_records(integration_id, object_type)}

    def knows(self, integration_id: int, object_type: str) -> set[str]:
        """The objectIds of the accepted (not deleted) records of one integration and type."""
        return {key for key, _ in self._raw_records(integration_id, object_type)}

    def save_records(
        self,
        integration_id: int,
        object_type: str,
        upserts: Mapping[str, bytes],
        deletes: set[str],
    ) -> None:
        """Upsert raw record lines by objectId and drop deleted ones (call under the lock)."""
        if not upserts and not deletes:
            return
        kept = dict(self._raw_records(integration_id, object_type))
        for key in deletes:
            kept.pop(key, None)
        kept.update(upserts)
        path = self._records_path(integration_id, object_type)
        self._write(path, b"".join(line + b"\n" for line in kept.values()))

    def _raw_records(self, integration_id: int, object_type: str) -> Iterator[tuple[str, bytes]]:
        path = self._records_path(integration_id, object_type)
        if not path.exists():
            return
        with open(path, "rb") as stream:
            for raw in stream:
                line = raw.rstrip(b"\n")
                if line:
                    yield str(orjson.loads(line)["objectId"]), line

    def _records_path(self, integration_id: int, object_type: str) -> Path:
        return self.root / "records" / str(integration_id) / f"{object_type}.ldjson"

    # schemas -------------------------------------------------------------------------------

    def schema(self, integration_id: int, object_type: str) -> list[dict[str, Any]]:
        """The custom fields of one object type (a list of Gong field definitions)."""
        found = self._read(self.root / "schemas" / str(integration_id) / f"{object_type}.json")
        return found if isinstance(found, list) else []

    def custom_fields(self, integration_id: int, object_type: str) -> dict[str, dict[str, Any]]:
        """The active custom fields of one object type, by uniqueName."""
        if object_type not in SCHEMA_TYPES:
            return {}
        return {str(f["uniqueName"]): f for f in self.schema(integration_id, object_type)}

    def save_schema(self, integration_id: int, object_type: str, fields: list[Any]) -> None:
        """Replace the custom fields of one object type (call under the lock)."""
        path = self.root / "schemas" / str(integration_id) / f"{object_type}.json"
        self._write(path, orjson.dumps(fields, option=orjson.OPT_INDENT_2))

    # requests and the upload log -----------------------------------------------------------

    def request(self, integration_id: int, client_request_id: str) -> dict[str, Any] | None:
        """What the sandbox remembers of one async request, or None if it never saw it."""
        found = self._read(self._request_path(integration_id, client_request_id))
        return found if isinstance(found, dict) else None

    def save_request(self, integration_id: int, client_request_id: str, doc: Any) -> None:
        """Store one async request's record (call under the lock)."""
        path = self._request_path(integration_id, client_request_id)
        self._write(path, orjson.dumps(doc, option=orjson.OPT_INDENT_2))

    def _request_path(self, integration_id: int, client_request_id: str) -> Path:
        # clientRequestId is checked to be [A-Za-z0-9_-]+ before it gets here: a safe name
        return self.root / "requests" / str(integration_id) / f"{client_request_id}.json"

    def log_upload(self, entry: Mapping[str, Any]) -> None:
        """Append one line to ``uploads.jsonl`` (call under the lock)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "uploads.jsonl", "ab") as stream:
            stream.write(orjson.dumps(entry) + b"\n")

    def uploads(self) -> list[dict[str, Any]]:
        """Every upload the sandbox received, oldest first."""
        return self._read_log("uploads.jsonl")

    def log_call(self, entry: Mapping[str, Any]) -> None:
        """Append one API call to ``calls.jsonl`` (one short write: no lock needed)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "calls.jsonl", "ab") as stream:
            stream.write(orjson.dumps(entry) + b"\n")

    def calls(self) -> list[dict[str, Any]]:
        """Every API call any sandbox process on this folder saw: wall time, method, path, code."""
        return self._read_log("calls.jsonl")

    def _read_log(self, name: str) -> list[dict[str, Any]]:
        path = self.root / name
        if not path.exists():
            return []
        with open(path, "rb") as stream:
            return [orjson.loads(line) for line in stream if line.strip()]

    # integrations --------------------------------------------------------------------------

    def integrations(self) -> list[dict[str, Any]]:
        """Registered integrations (``integrationId``, ``name``, ``ownerEmail``)."""
        found = self._read(self.root / "integrations.json")
        return found if isinstance(found, list) else []

    def save_integrations(self, integrations: list[dict[str, Any]]) -> None:
        """Replace the list of integrations (call under the lock)."""
        self._write(self.root / "integrations.json", orjson.dumps(integrations))

    def forget_integration(self, integration_id: int) -> None:
        """Remove an integration with its records and schemas (call under the lock)."""
        for folder in ("records", "schemas"):
            shutil.rmtree(self.root / folder / str(integration_id), ignore_errors=True)
        kept = [i for i in self.integrations() if i.get("integrationId") != integration_id]
        self.save_integrations(kept)

    # files ---------------------------------------------------------------------------------

    def scratch(self) -> Path:
        """A folder for spooling request bodies, inside the state folder."""
        path = self.root / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @staticmethod
    def _read(path: Path) -> Any:
        try:
            return orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return None

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
