"""A job's ``rejected.ldjson`` as input to ``ldjfix fix``: the records and their errors, no status.

After a job, the quarantined records sit in ``JOB/rejected.ldjson``, one per line as
``{"line", "objectId", "errors", "record"}`` (``record`` null and ``text`` set for a line that
was not a JSON object). ``ldjfix fix JOB/rejected.ldjson --interactive -o fixed.ldjson`` reads
it directly: each entry becomes line *i* of a plain LDJSON spool (the record, or its text) and
its errors become a request status naming line *i*, so the one fixing path takes it like any
other file. ``fixed.ldjson`` then holds plain records, ready for ``ldjfix run`` or ``upload``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ldjfix.errors import InputProblem
from ldjfix.gong.status import Status, status_from_dict
from ldjfix.ldjson.files import STDIO
from ldjfix.ldjson.sources import open_input

_KEYS = {"line", "objectId", "errors", "record", "text"}
# the rule that quarantined a record is noted among its errors; it is not a defect to fix
_RULE_NOTE = re.compile(r"rule \d+ \((?:field|pattern) .*\): quarantine\b")


def _entry(raw: bytes) -> dict[str, Any] | None:
    """A rejected.ldjson entry, or None when the line is something else."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or not {"line", "errors", "record"} <= doc.keys() <= _KEYS:
        return None
    if not isinstance(doc["errors"], list) or not isinstance(doc["record"], dict | None):
        return None
    return doc


def is_rejected_file(path: str | Path) -> bool:
    """True when the first line that holds anything is a rejected.ldjson entry."""
    if str(path) == STDIO or not Path(path).is_file():
        return False
    with open_input(path) as stream:
        for raw in stream:
            if raw.strip():
                return _entry(raw) is not None
    return False


@contextlib.contextmanager
def unwrapped(path: str | Path, *, beside: str | Path) -> Iterator[tuple[Path, Status]]:
    """The records of a rejected.ldjson as a plain spool file, and a status naming their errors.

    The spool is written in ``beside``'s folder (an output's, so it is on the same disk) and
    removed afterwards, whatever happens.
    """
    folder = Path(beside).parent if str(beside) != STDIO else Path(tempfile.gettempdir())
    handle, name = tempfile.mkstemp(prefix=".ldjfix-rejected-", suffix=".ldjson", dir=folder)
    errors: list[dict[str, Any]] = []
    try:
        with os.fdopen(handle, "wb") as spool, open_input(path) as stream:
            for number, raw in enumerate((r for r in stream if r.strip()), start=1):
                entry = _entry(raw)
                if entry is None:
                    raise InputProblem(
                        f"{path} line {number} is not an entry of a job's rejected.ldjson.",
                        hint="Pass the rejected.ldjson a run wrote, unchanged.",
                    )
                record, text = entry["record"], entry.get("text")
                body = orjson.dumps(record) if record is not None else str(text or "").encode()
                spool.write(body.replace(b"\n", b" ") + b"\n")
                said = [str(e) for e in entry["errors"] if not _RULE_NOTE.match(str(e))]
                errors += [{"line": number, "description": e} for e in said]
        failed = len({e["line"] for e in errors})  # Gong counts failing records, not errors
        doc = {"status": "FAILED", "errors": errors, "totalErrorCount": failed}
        yield Path(name), status_from_dict(doc, source=f"the errors in {path}")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
