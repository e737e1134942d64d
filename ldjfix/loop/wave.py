"""One wave of uploads: every shard of a round uploaded and polled at once, journal kept exact.

Each shard runs in its own thread (at most MAX_THREADS at once, the rest queued); the
client's shared rate limiter keeps the whole wave (and any other job sharing it) within Gong's
calls per second. Ctrl-C (or a failed shard) cancels the client: queued shards never start,
and those running stop at their next call or wait. The journal records each shard's
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
from ldjfix.loop.journal import JobFolder, Journal

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
    """Upload and poll every named upload; returns each one's terminal status."""
    folder = journal.folder

    def one(name: str) -> Status:
        def polled(status: Status) -> None:
            if on_poll is not None:
                on_poll(name, status)

        maybe = name in maybe_sent
        status = _settle_one(name, remote, journal, folder, maybe, hook, polled)
        on_done(name, status)
        return status

    if not names:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(MAX_THREADS, len(names)))
    try:
        futures = {name: pool.submit(one, name) for name in names}
        return {name: future.result() for name, future in futures.items()}
    except BaseException:
        # Ctrl-C, or one upload failed: no shard not yet sent is sent; those on the wire
        # finish their call (the journal says how far each got) and stop at their next wait.
        remote.client.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)


def _settle_one(
    name: str,
    remote: Remote,
    journal: Journal,
    folder: JobFolder,
    maybe: bool,
    hook: Callable[[str], None],
    on_poll: Callable[[Status], None],
) -> Status:
    entry = journal.upload(name)
    crid = entry["clientRequestId"]
    if entry["state"] == "polled":
        return folder.read_status(name)
    if entry["state"] == "planned":
        maybe = maybe and not entry.get("unused")
        request_id = _upload_once(name, remote, journal, crid, maybe)
        hook("upload")
        journal.set_upload(name, state="uploaded", requestId=request_id)
    status = remote.client.wait_for_status(
        integration_id=remote.integration_id,
        client_request_id=crid,
        timeout=remote.poll_timeout,
        first_interval=remote.first_poll,
        on_poll=on_poll,
    )
    folder.write_json(folder.status(name), status.raw)
    hook("poll")
    journal.set_upload(name, state="polled", status=status.status)
    return status


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
