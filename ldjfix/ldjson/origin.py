"""The bookkeeping that extracted records carry so ``merge`` can put them back.

``extract`` adds one top-level key, :data:`ORIGIN_KEY`, to every record it writes; ``merge``
reads it back and removes it. It must never reach Gong: ``upload`` and ``run`` refuse a file
in which any record still carries it (:func:`first_marked_line`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from ldjfix.errors import InputProblem
from ldjfix.ldjson.lines import iter_lines
from ldjfix.ldjson.sources import SourcePath, open_input

ORIGIN_KEY = "_ldjfix"
RAW_KEY = "_raw"  # holds the text of a line that is not a JSON object, so it can be repaired
_MARKER = b'"' + ORIGIN_KEY.encode() + b'"'
_JSON_SPACE = b" \t\r\n"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an extracted record came from: its source line and that line's SHA-256."""

    line: int
    sha256: str


def line_digest(content: bytes) -> str:
    """The SHA-256 (hex) of a line's content, without its ending or a BOM."""
    import hashlib  # only when marking records: extract's start-up does not pay for it

    return hashlib.sha256(content).hexdigest()


def marked_record(
    number: int, content: bytes, record: dict[str, Any] | None, errors: Iterable[str]
) -> bytes:
    """The line as ``extract`` writes it: bookkeeping first, then the record as it was.

    The record's own bytes follow the key unchanged (not re-serialised), so the person edits
    exactly what Gong saw. A line that holds no JSON object becomes ``{"_ldjfix": …, "_raw":
    "<its text>"}`` so it can still be repaired in an editor.
    """
    origin = {"line": number, "sha256": line_digest(content), "errors": list(errors)}
    head = b'{"' + ORIGIN_KEY.encode() + b'":' + orjson.dumps(origin)
    if record is None:
        text = content.decode("utf-8", errors="replace")
        return head + b',"' + RAW_KEY.encode() + b'":' + orjson.dumps(text) + b"}"
    body = content.strip(_JSON_SPACE)[1:].lstrip(_JSON_SPACE)  # after the opening brace
    return head + (b"}" if body.startswith(b"}") else b"," + body)


def read_origin(record: dict[str, Any], *, where: str) -> Origin:
    """The bookkeeping of an edited record; ``where`` names its file and line in errors."""
    if ORIGIN_KEY not in record:
        raise InputProblem(
            f"{where} has no {ORIGIN_KEY} key, so it cannot be put back.",
            hint="Only records written by `ldjfix extract` can be merged; keep their "
            f"{ORIGIN_KEY} key as it is.",
        )
    value = record[ORIGIN_KEY]
    line = value.get("line") if isinstance(value, dict) else None
    digest = value.get("sha256") if isinstance(value, dict) else None
    if isinstance(line, bool) or not isinstance(line, int) or line < 1:
        raise InputProblem(f"{where}: {ORIGIN_KEY}.line is missing or not a line number.")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise InputProblem(f"{where}: {ORIGIN_KEY}.sha256 is missing or not a SHA-256.")
    return Origin(line, digest)


def first_marked_line(path: SourcePath) -> int | None:
    """The first line whose record carries extract bookkeeping, or None when none does."""
    with open_input(path) as stream:
        for line in iter_lines(stream):
            if _MARKER in line.content:
                try:
                    value = orjson.loads(line.content)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(value, dict) and ORIGIN_KEY in value:
                    return line.number
    return None
