"""JSON out, whatever the nesting: orjson at speed, the standard library past its 255 levels.

orjson refuses to write a value nested deeper than 255 levels (``TypeError: Recursion limit
reached``), yet reads up to 1,024; a record from a user's file can be that deep, and it must
still reach rejected.ldjson, fixes.jsonl or an upload set instead of crashing the command.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from ldjfix.errors import InputProblem


def dump_json(value: Any, *, indent: bool = False) -> bytes:
    """``value`` as compact (or indented) UTF-8 JSON, however deeply it nests."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0)
    except TypeError as exc:
        if "Recursion" not in str(exc):
            raise
    try:
        text = json.dumps(
            value, ensure_ascii=False, indent=2 if indent else None,
            separators=None if indent else (",", ":"),
        )  # fmt: skip
    except RecursionError:
        raise InputProblem(
            "a record nests arrays or objects too deeply to be written (about 1,000 levels).",
            hint="Flatten or remove the nested value.",
        ) from None
    return text.encode("utf-8")
