"""Colour for people at a terminal, and never anywhere else.

Text is painted only when the stream it goes to is a terminal, ``NO_COLOR`` is not set (any
value, even empty, turns colour off: https://no-color.org), ``TERM`` is not ``dumb`` and
``--no-color`` was not given (:func:`disable`). Colour is decoration: every painted text says
the same without it, and data (stdout JSON, files) is never painted.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

STYLES = {
    "error": "1;31",  # bold red: what stopped, what failed
    "warning": "33",  # yellow: what needs a look
    "ok": "32",  # green: done
    "mark": "33",  # yellow: the offending field in a record
    "strong": "1",  # bold: headings
}
_state = {"disabled": False}


def disable() -> None:
    """Turn colour off for the rest of the process (``--no-color``)."""
    _state["disabled"] = True


def enabled(stream: TextIO | None = None) -> bool:
    """True when text written to ``stream`` (default stderr) may be coloured."""
    if _state["disabled"] or "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def paint(text: str, style: str, stream: TextIO | None = None) -> str:
    """``text`` in ``style`` (a key of :data:`STYLES`) when colour is on for ``stream``."""
    if not text or not enabled(stream):
        return text
    return f"\x1b[{STYLES[style]}m{text}\x1b[0m"


def outcome_style(outcome: str) -> str:
    """The style of a job's outcome word: DONE green, ERROR red, the rest yellow."""
    return {"DONE": "ok", "ERROR": "error", "FAILED": "error"}.get(outcome, "warning")
