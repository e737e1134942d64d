"""Ctrl-C and SIGTERM while ``run`` works: stop within a second, everything saved, exit 130.

The first signal says "stopping…" on stderr and cancels the run's token: no shard not yet
sent is sent, every poll and back-off ends at once, a call already on the wire finishes (so
the journal counts what Gong saw), and each job saves its journal. On the single-file path
the signal also interrupts the main thread (KeyboardInterrupt), which may be busy validating
or writing; a batch's main thread only waits, so its jobs end as INTERRUPTED results and the
JSON summary is still printed. A second signal exits at once with 130: every job-folder file
is written atomically and a shard in doubt is asked about on resume, so that is consistent too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from ldjfix.errors import ExitCode
from ldjfix.gong.cancel import CancelToken

STOPPING = "stopping… (Ctrl-C again stops at once; the job folder stays consistent)\n"
STOPPED_AT_ONCE = "stopped at once; run the same command again to resume.\n"
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _say(text: str) -> None:
    with contextlib.suppress(OSError):  # os.write: safe even mid-print of the main thread
        os.write(2, text.encode("utf-8"))


@contextlib.contextmanager
def stop_on_signals(
    token: CancelToken,
    *,
    interrupt_main: bool,
    on_stop: Callable[[], None] | None = None,
) -> Iterator[None]:
    """While inside, SIGINT/SIGTERM cancel ``token`` (then ``on_stop``); a second one exits."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread: nothing to install
        return
    seen = 0

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal seen
        seen += 1
        if seen > 1:
            _say(STOPPED_AT_ONCE)
            os._exit(ExitCode.INTERRUPTED)
        _say(STOPPING)
        token.cancel()
        if on_stop is not None:
            on_stop()
        if interrupt_main:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
