"""The sandbox's state folder: what the simulated Gong remembers between calls and processes.

Plain files, so a person can look inside and separate ``ldjfix`` processes share them:

* ``integrations.json``: registered integrations;
* ``schemas/<integrationId>/<TYPE>.json``: custom fields per object type;
* ``records/<integrationId>/<TYPE>.ldjson``: accepted records, an append-only log folded by
  ``objectId`` (``sandbox_records.py``);
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
from collections.abc import Iterator, KeysView, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import orjson

from ldjfix.gong.limits import SCHEMA_TYPES
from ldjfix.sandbox.records import Appender, RecordLog


class SandboxStore:
    """Read and change the sandbox state in ``state_dir`` (created on first use)."""

    def __init__(self, state_dir: str | Path) -> None:
        self.root = Path(state_dir)
        self._logs: dict[Path, RecordLog] = {}

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
        with self.locked():
            log = self._log(integration_id, object_type)
            return {key: orjson.loads(line) for key, line in log.items()}

    def lookup(
        self, integration_id: int, object_type: str, ids: list[str]
    ) -> dict[str, dict[str, Any] | None]:
        """The records with the given objectIds (None for an unknown one), in the given order."""
        with self.locked():
            log = self._log(integration_id, object_type)
            found = {key: log.get(key) for key in ids}
            return {k: None if line is None else orjson.loads(line) for k, line in found.items()}

    def knows(self, integration_id: int, object_type: str) -> KeysView[str]:
        """The objectIds of the accepted records of one type (call under the lock; a view)."""
        return self._log(integration_id, object_type).ids()

    def appending(self, integration_id: int, object_type: str) -> AbstractContextManager[Appender]:
        """Append accepted records one by one (call under the lock); see ``RecordLog``."""
        return self._log(integration_id, object_type).appending()

    def save_records(
        self,
        integration_id: int,
        object_type: str,
        upserts: dict[str, bytes],
        deletes: set[str],
    ) -> None:
        """Upsert raw record lines by objectId and drop deleted ones (call under the lock)."""
        self._log(integration_id, object_type).append(upserts, deletes)

    def _log(self, integration_id: int, object_type: str) -> RecordLog:
        path = self.root / "records" / str(integration_id) / f"{object_type}.ldjson"
        return self._logs.setdefault(path, RecordLog(path))

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
