"""Stopping a run part-way: a token every call and every wait of a client checks.

Ctrl-C (or SIGTERM) cancels the run's token. From then on no client starts another call and
every wait (a poll interval, a retry back-off, the rate limiter) ends at once, each raising
:class:`Cancelled`; a call already on the wire is let finish, so what Gong saw is what the
journal says. A client also has a token of its own (cancelled when its wave of uploads fails),
whose parent is the run's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ldjfix.errors import ExitCode, LdjfixError

_SLICE = 0.05  # how often a wait looks at a parent token


class Cancelled(LdjfixError):
    """The run was asked to stop: raised where a call or a wait would begin."""

    exit_code = ExitCode.INTERRUPTED


class CancelToken:
    """Set once, never cleared; thread-safe. Cancelled when it or its parent is."""

    def __init__(self, parent: CancelToken | None = None) -> None:
        self._event = threading.Event()
        self._parent = parent

    def cancel(self) -> None:
        """Stop everything that checks this token (and its children)."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once this token or its parent was cancelled."""
        return self._event.is_set() or (self._parent is not None and self._parent.cancelled)

    def check(self) -> None:
        """Raise :class:`Cancelled` when cancelled."""
        if self.cancelled:
            raise Cancelled(
                "stopped: the run was interrupted.",
                hint="Everything is saved; run the same command again to resume.",
            )

    def sleeper(self, sleep: Callable[[float], None]) -> Callable[[float], None]:
        """``sleep`` that ends early, raising :class:`Cancelled`, once the token is cancelled.

        A test's fake ``sleep`` (one that never waits) is called as it is, checked around.
        """
        if sleep is not time.sleep:

            def checked(seconds: float) -> None:
                self.check()
                sleep(seconds)
                self.check()

            return checked

        def interruptible(seconds: float) -> None:
            deadline = time.monotonic() + seconds
            while True:
                self.check()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._event.wait(min(remaining, _SLICE) if self._parent else remaining)

        return interruptible
