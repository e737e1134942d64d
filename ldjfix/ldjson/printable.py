"""Data made safe to show on a terminal: controls, bidi overrides and line breaks escaped.

Records, objectIds, Gong's descriptions and file names come from other people's systems. Shown
raw, ``ESC ] 0;… BEL`` retitles the window, ``ESC [2J`` clears the screen, a lone ``\\r``
overwrites what was printed, and U+202E (right-to-left override) makes text read backwards.
Every place that puts data on a terminal passes it through :func:`safe` (one line: every such
character escaped) or :func:`safe_lines` (newlines kept, for text of several lines).
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\r": "\\r", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\x1b": "\\e"}
# C0 and C1 controls (Cc), line/paragraph separators (Zl, Zp), and format characters (Cf:
# bidi overrides and isolates, zero-width joiners, the BOM), which can hide or reorder text.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cf"})


def is_unsafe(ch: str) -> bool:
    """True for a character that could move the cursor, restyle or reorder what is shown."""
    return ch < " " or ch == "\x7f" or unicodedata.category(ch) in _UNSAFE_CATEGORIES


def escape_char(ch: str) -> str:
    """The visible escape of one unsafe character (``\\r``, ``\\e``, ``\\u202e`` ...)."""
    return _NAMED.get(ch, f"\\u{ord(ch):04x}")


def safe(value: object) -> str:
    """``value`` as text for one terminal line: every unsafe character escaped."""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():
        return text  # the common case, at C speed
    return "".join(escape_char(ch) if is_unsafe(ch) else ch for ch in text)


def safe_lines(text: str) -> str:
    """Like :func:`safe`, but ``\\n`` stays a line break (for ldjfix's own multi-line text)."""
    return "\n".join(safe(line) for line in text.split("\n"))
