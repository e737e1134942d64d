"""A client-side rate limiter shared by every call of one run (Gong allows 3 calls a second).

Calls are spaced evenly, ``1 / calls_per_second`` apart, which keeps any one-second window at
or under the limit. Threads reserve their slot under a lock and sleep outside it, so many
uploads can share one limiter. A 429's ``Retry-After`` pushes every later slot back
(:meth:`RateLimiter.hold_off`), because the limit is per company, not per call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Thread-safe even spacing of calls; clock and sleep are parameters so tests never wait."""

    def __init__(
        self,
        calls_per_second: float = 3.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls_per_second <= 0:
            raise ValueError("calls_per_second must be positive")
        self.interval = 1.0 / calls_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")
        self._held_until = float("-inf")

    def acquire(self) -> None:
        """Block until this caller may make one call."""
        while True:
            with self._lock:
                now = self._clock()
                slot = max(now, self._next)
                self._next = slot + self.interval
            if slot > now:
                self._sleep(slot - now)
            with self._lock:
                if slot >= self._held_until:  # no hold-off came while this caller waited
                    return

    def hold_off(self, seconds: float) -> None:
        """Make every caller wait at least ``seconds`` from now (after a 429 with Retry-After).

        Callers already waiting for an earlier slot wait again, after the hold-off.
        """
        with self._lock:
            until = self._clock() + seconds
            self._next = max(self._next, until)
            self._held_until = max(self._held_until, until)
