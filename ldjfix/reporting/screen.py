"""What a live display needs to know about its terminal: its size, kept current, and text to fit.

A line longer than the terminal wraps, and a redraw that goes back one line (``\\r``) then
leaves the wrapped half behind; so every live line is cut to fit (:func:`fit`, counting wide
characters as two cells). :class:`Viewport` reads the size on each draw and tracks ``SIGWINCH``:
the handler only raises a flag (drawing from a signal handler could interleave with a prompt
being written), and the next draw takes the new size and clears what the old size left below.
"""

from __future__ import annotations

import os
import signal
import threading
import unicodedata
from collections.abc import Callable
from types import FrameType
from typing import Any, TextIO

ELLIPSIS = "…"
FALLBACK = (80, 24)
Size = tuple[int, int]  # columns, lines


def cells(text: str) -> int:
    """How many terminal columns ``text`` takes (East Asian wide characters take two)."""
    if text.isascii():
        return len(text)
    return sum(_cell(ch) for ch in text)


def _cell(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def fit(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` columns, ending in an ellipsis when it was cut."""
    if cells(text) <= width:
        return text
    if width <= 0:
        return ""
    return _take(text, width - 1) + ELLIPSIS


def fit_middle(text: str, width: int) -> str:
    """``text`` cut in the middle (``accou…ldjson``): both ends of a path say the most."""
    if cells(text) <= width:
        return text
    if width <= 2:
        return fit(text, width)
    head_width = (width - 1) // 2  # the end (the file's own name) gets the larger half
    head = _take(text, head_width)
    tail = width - 1 - cells(head)
    return head + ELLIPSIS + _take(text[::-1], tail)[::-1]


def _take(text: str, width: int) -> str:
    """The longest start of ``text`` that fits in ``width`` columns."""
    out, used = [], 0
    for ch in text:
        used += _cell(ch)
        if used > width:
            break
        out.append(ch)
    return "".join(out)


def stream_size(stream: TextIO) -> Size:
    """The size of the terminal ``stream`` writes to (80x24 when it cannot tell)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return FALLBACK
    if size.columns <= 0 or size.lines <= 0:
        return FALLBACK
    return size.columns, size.lines


class Viewport:
    """The terminal's size for a live display, re-read on every draw, resizes noticed."""

    def __init__(self, stream: TextIO, *, size: Callable[[], Size] | None = None) -> None:
        self._size = size if size is not None else (lambda: stream_size(stream))
        self.resized = False
        self._previous: Any = None
        self._watching = False

    def size(self) -> Size:
        """Columns and lines now."""
        return self._size()

    def columns(self) -> int:
        """The width a live line may use: one less than the terminal's, so it never wraps."""
        return max(1, self.size()[0] - 1)

    def take_resize(self) -> bool:
        """True once after the terminal was resized (the caller clears and redraws)."""
        resized, self.resized = self.resized, False
        return resized

    def watch(self) -> None:
        """Track ``SIGWINCH`` (only possible from the main thread; elsewhere sizes are polled)."""
        sigwinch = getattr(signal, "SIGWINCH", None)
        if sigwinch is None or threading.current_thread() is not threading.main_thread():
            return
        self._previous = signal.signal(sigwinch, self._on_resize)
        self._watching = True

    def unwatch(self) -> None:
        """Put back the handler that was there before :meth:`watch`."""
        if self._watching:
            signal.signal(signal.SIGWINCH, self._previous)
            self._watching = False

    def _on_resize(self, signum: int, frame: FrameType | None) -> None:
        self.resized = True
        if callable(self._previous):
            self._previous(signum, frame)
