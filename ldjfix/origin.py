"""The bookkeeping that extracted records carry so ``merge`` can put them back.

``extract`` adds one top-level key, :data:`ORIGIN_KEY`, to every record it writes; ``merge``
reads it back and removes it. It must never reach Gong: ``upload`` and ``run`` refuse a file
in which any record still carries it (:func:`first_marked_line`).
"""

from __future__ import annotations

from pathlib import Path

import orjson

from .files import open_input
from .lines import iter_lines

ORIGIN_KEY = "_ldjfix"
_MARKER = b'"' + ORIGIN_KEY.encode() + b'"'


def first_marked_line(path: str | Path) -> int | None:
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
