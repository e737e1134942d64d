"""A record's line as a person should see it in a terminal: the field marked, long lines cut.

The line is shown as it is in the file (not re-serialised), so what the person sees is what
Gong saw. The offending field, key and value, is wrapped in ``»`` and ``«``; a line longer than
the limit is cut around that field; control and line-break characters are shown escaped so a
lone ``\\r`` or U+2028 cannot scramble the terminal.
"""

from __future__ import annotations

import json
import re

from ldjfix.ldjson.printable import safe

LIMIT = 240
MARK_OPEN = "»"
MARK_CLOSE = "«"
_DECODER = json.JSONDecoder()


def field_span(text: str, field: str | None) -> tuple[int, int] | None:
    """Where ``"field": value`` sits in the line's text, or None when the key is absent."""
    if not field:
        return None
    for name in dict.fromkeys((field, field.rsplit(".", 1)[-1])):
        key = re.search(r'"' + re.escape(json.dumps(name)[1:-1]) + r'"\s*:\s*', text)
        if key is None:
            continue
        try:
            _, end = _DECODER.raw_decode(text, key.end())
        except (ValueError, RecursionError):  # a broken or too deep line: mark the key alone
            end = key.end()
        return key.start(), end
    return None


def excerpt(content: bytes, field: str | None, *, limit: int = LIMIT) -> str:
    """The line's text with the field marked, cut to about ``limit`` characters around it."""
    text = content.decode("utf-8", errors="replace")
    span = field_span(text, field)
    if span is None:
        if len(text) <= limit:
            return _printable(text)
        return _printable(text[: limit - 1]) + "…"
    start, end = span
    inner = text[start:end]
    if len(inner) > limit // 2:  # a huge value: shorten the marked part itself
        inner = inner[: limit // 2 - 1] + "…"
    before, after = text[:start], text[end:]
    room = max(0, limit - len(inner))
    take_left = min(len(before), max(room // 3, room - len(after)))
    take_right = min(len(after), room - take_left)
    left = ("…" if take_left < len(before) else "") + before[len(before) - take_left :]
    right = after[:take_right] + ("…" if take_right < len(after) else "")
    return _printable(left) + MARK_OPEN + _printable(inner) + MARK_CLOSE + _printable(right)


_printable = safe
