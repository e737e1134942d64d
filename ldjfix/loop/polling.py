"""Polling a round's uploads together: one paced cycle for all, not a timer per upload.

Every status call counts against Gong's quota (3 a second, 10,000 a day per company), and Gong
publishes no processing time. So the uploads of a wave are polled by one loop: each waits
before its first poll in proportion to its size (Gong cannot be done with 200 MB in a second),
then every upload still in flight is asked once per cycle, the calls paced by the shared rate
limiter, and the cycles grow apart (x1.5, at most 30 s) counting the time a cycle itself took.
With a hundred shards in flight, a round costs one set of waits instead of a hundred, and no
upload is asked about twice in a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ldjfix.errors import RemoteProblem
from ldjfix.gong.client import GongClient
from ldjfix.gong.status import Status

MAX_FIRST_WAIT = 60.0
MAX_INTERVAL = 30.0
GROWTH = 1.5


@dataclass(slots=True)
class InFlight:
    """One upload being waited for: its name, clientRequestId, when it was sent, the first wait."""

    name: str
    client_request_id: str
    sent_at: float
    wait: float = 0.0

    def first_poll_at(self) -> float:
        """Not before its size says Gong could be done with it."""
        return self.sent_at + self.wait


def first_wait(size: int, bytes_per_second: float | None) -> float:
    """Seconds before the first poll of an upload of ``size`` bytes (at most a minute)."""
    if not bytes_per_second:
        return 0.0
    return min(size / bytes_per_second, MAX_FIRST_WAIT)


def poll_together(
    uploads: Sequence[InFlight],
    *,
    client: GongClient,
    integration_id: int,
    first_interval: float,
    timeout: float,
    on_status: Callable[[str, Status], None],
    on_done: Callable[[str, Status], None],
) -> None:
    """Poll every upload until DONE/FAILED; ``on_done`` gets each terminal status once."""
    waiting = list(uploads)
    interval = first_interval
    while waiting:
        start = client.now()
        ready = [u for u in waiting if u.first_poll_at() <= start]
        for upload in ready:
            status = client.request_status(
                integration_id=integration_id, client_request_id=upload.client_request_id
            )
            on_status(upload.name, status)
            if status.is_terminal:
                waiting.remove(upload)
                on_done(upload.name, status)
            elif client.now() - upload.sent_at >= timeout:
                raise _still_running(upload, status, timeout)
        if not waiting:
            return
        if ready:
            next_cycle = start + interval
            interval = min(interval * GROWTH, MAX_INTERVAL)
        else:
            next_cycle = float("inf")
        not_yet = [u.first_poll_at() for u in waiting if u.first_poll_at() > start]
        wake = min([next_cycle, *not_yet])
        client.pause(max(0.0, wake - client.now()))


def _still_running(upload: InFlight, status: Status, timeout: float) -> RemoteProblem:
    return RemoteProblem(
        f"Gong still says {status.status} for clientRequestId {upload.client_request_id!r} "
        f"after {timeout:g} s.",
        hint="Run the same command again later: the job resumes by polling it.",
    )
