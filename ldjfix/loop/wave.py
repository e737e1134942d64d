"""One wave of uploads: every shard of a round uploaded and polled at once, journal kept exact.

Shards are uploaded from a few threads (at most MAX_THREADS at once, the rest queued); the
client's shared rate limiter keeps the whole wave (and any other job sharing it) within Gong's
calls per second. Then they are polled together in one paced cycle (:mod:`ldjfix.loop.polling`),
not each on its own timer. Ctrl-C (or a failed shard) cancels the client: queued shards never
start, and those running stop at their next call or wait. The journal records each shard's
progress: *planned* (its file is written and its ``clientRequestId`` fixed), *uploaded*, then
*polled* (its terminal status saved). A shard found *planned* in a journal read back from disk
may have been uploaded just before a crash, so it is first asked about (once: "never used" is
noted), never blindly resent; a 409 (id already used) is taken the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ldjfix.gong.client import ApiError, GongClient, RequestIdUsed
from ldjfix.gong.status import Status
from ldjfix.loop.journal import Journal
from ldjfix.loop.polling import InFlight, first_wait, poll_together

MAX_THREADS = 8
_NOT_FOUND = (400, 404)  # what Gong (and the sandbox) answer for an id never used


@dataclass(frozen=True, slots=True)
class Remote:
    """What the wave needs to talk to Gong about one job."""

    client: GongClient
    object_type: str
    integration_id: int
    poll_timeout: float = 3600.0
    first_poll: float = 1.0


def send_wave(
    names: Sequence[str],
    *,
    remote: Remote,
    journal: Journal,
    maybe_sent: Collection[str],
    hook: Callable[[str], None],
    on_done: Callable[[str, Status], None],
    on_poll: Callable[[str, Status], None] | None = None,
) -> dict[str, Status]:
    """Upload every named upload, then poll them together; returns each one's terminal status."""
    folder = journal.folder
    found: dict[str, Status] = {}

    def finish(name: str, status: Status) -> None:
        folder.write_json(folder.status(name), status.raw)
        hook("poll")
        journal.set_upload(name, state="polled", status=status.status)
        found[name] = status
        on_done(name, status)

    def send(name: str) -> InFlight | None:
        status, sent_now = _send_one(name, remote, journal, name in maybe_sent, hook)
        if status is not None:  # polled before a resume: its status is saved
            found[name] = status
            on_done(name, status)
            return None
        crid = journal.upload(name)["clientRequestId"]
        if not sent_now:  # sent by an earlier run: ask at once
            return InFlight(name, crid, remote.client.now())
        size = folder.upload_set(name).stat().st_size
        wait = first_wait(size, remote.client.processing_rate)
        return InFlight(name, crid, remote.client.now(), wait)

    if not names:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(names)))
    try:
        futures = [pool.submit(send, name) for name in names]
        flying = [u for u in (f.result() for f in futures) if u is not None]
        pool.shutdown(wait=True)
        poll_together(
            flying,
            client=remote.client,
            integration_id=remote.integration_id,
            first_interval=remote.first_poll,
            timeout=remote.poll_timeout,
            on_status=on_poll or (lambda name, status: None),
            on_done=finish,
        )
    except BaseException:
        # Ctrl-C, or one upload failed: no shard not yet sent is sent; those on the wire
        # finish their call (the journal says how far each got) and stop at their next wait.
        remote.client.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
    return {name: found[name] for name in names}


def _send_one(
    name: str, remote: Remote, journal: Journal, maybe: bool, hook: Callable[[str], None]
) -> tuple[Status | None, bool]:
    """Upload one set unless it already was: its saved status if polled, and if sent now."""
    entry = journal.upload(name)
    if entry["state"] == "polled":
        return journal.folder.read_status(name), False
    if entry["state"] != "planned":
        return None, False
    maybe = maybe and not entry.get("unused")
    request_id = _upload_once(name, remote, journal, entry["clientRequestId"], maybe)
    hook("upload")
    journal.set_upload(name, state="uploaded", requestId=request_id)
    return None, True


def _upload_once(name: str, remote: Remote, journal: Journal, crid: str, maybe: bool) -> str | None:
    """Upload unless Gong already has this id; returns Gong's requestId when it gave one."""
    if maybe:
        if already_sent(remote, crid):
            return None
        # Noted, so a run stopped before the upload (budget) does not ask again on resume;
        # should that upload arrive before a crash, the next one gets a 409, taken as sent.
        journal.set_upload(name, unused=True)
    try:
        receipt = remote.client.upload(
            journal.folder.upload_set(name),
            object_type=remote.object_type,
            integration_id=remote.integration_id,
            client_request_id=crid,
        )
    except RequestIdUsed:
        return None  # it arrived before: poll it, never upload it again
    return receipt.request_id


def already_sent(remote: Remote, crid: str) -> bool:
    """True when Gong knows the upload ``crid`` (it arrived, whatever became of it)."""
    try:
        remote.client.request_status(integration_id=remote.integration_id, client_request_id=crid)
    except ApiError as exc:
        if exc.status_code in _NOT_FOUND:
            return False
        raise
    return True
