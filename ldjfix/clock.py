"""A manual clock: time that moves only when someone sleeps, for tests and simulations.

Every waiting part of ldjfix (the rate limiter, retries, polling, the sandbox's rate window)
takes ``clock`` and ``sleep`` parameters; hand them one :class:`ManualClock` and a test runs
hours of backoff and polling in microseconds, with every wait recorded.
"""

from __future__ import annotations

import threading


class ManualClock:
    """``now()`` returns the current fake time; ``sleep(s)`` advances it and records ``s``."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        """The current fake time in seconds."""
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Advance the fake time by ``seconds`` (never waits)."""
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        """Let time pass without recording a sleep."""
        with self._lock:
            self._now += seconds
