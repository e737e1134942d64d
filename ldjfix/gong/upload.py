"""One upload from the command line: the checks before sending, the upload, an optional wait.

The checks refuse, before a byte goes out, what Gong would only reject after the fact: a file
over Gong's size cap, or one whose records still carry ``extract`` bookkeeping (which must go
through ``merge`` first). The text reporters for a request status live here too, shared by
``ldjfix status`` and ``ldjfix upload --wait``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ldjfix.errors import ExitCode, InputProblem
from ldjfix.gong.cancel import Cancelled
from ldjfix.gong.client import (
    GongClient,
    Receipt,
    RequestIdUsed,
    check_object_type,
    new_client_request_id,
)
from ldjfix.gong.limits import MAX_UPLOAD_BYTES
from ldjfix.gong.status import Status
from ldjfix.ldjson.origin import ORIGIN_KEY, first_marked_line
from ldjfix.ldjson.printable import safe
from ldjfix.ldjson.sources import Source, SourcePath


@dataclass(frozen=True)
class Submission:
    """What one upload gave: Gong's receipt and, when waited for, the final status."""

    receipt: Receipt
    status: Status | None


def check_uploadable(path: SourcePath) -> None:
    """Refuse a file Gong must not get: missing, over the size cap, or still marked by extract."""
    file = Path(os.fspath(path))  # a spooled stream is its spool
    if not file.is_file():
        raise InputProblem(f"input file {path} does not exist.", hint="Check the path.")
    size = file.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise InputProblem(
            f"{path} is {size:,} bytes; Gong accepts at most {MAX_UPLOAD_BYTES:,} per upload. "
            "Nothing was sent.",
            hint="Split it into smaller files (keep records sharing an objectId together).",
        )
    marked = first_marked_line(path)
    if marked is not None:
        raise InputProblem(
            f"{path} line {marked} still carries extract bookkeeping ({ORIGIN_KEY!r}). "
            "Nothing was sent.",
            hint="Upload the file `ldjfix merge` writes, not the extracted one.",
        )


def submit(
    client: GongClient,
    path: SourcePath,
    *,
    object_type: str,
    integration_id: int,
    client_request_id: str | None = None,
    wait: bool = False,
    timeout: float = 3600.0,
    on_uploaded: Callable[[Receipt], None] | None = None,
    on_poll: Callable[[Status], None] | None = None,
) -> Submission:
    """Check ``path``, upload it under a given or fresh clientRequestId, optionally wait."""
    check_object_type(object_type)
    check_uploadable(path)
    crid = client_request_id or new_client_request_id()
    try:
        receipt = client.upload(
            path if isinstance(path, Source) else Path(os.fspath(path)),
            object_type=object_type,
            integration_id=integration_id,
            client_request_id=crid,
        )
    except RequestIdUsed as used:
        if not used.on_retry:
            raise
        # the first attempt's reply was lost but the upload arrived: Gong has it under crid
        receipt = Receipt(request_id=None, client_request_id=crid)
    except (KeyboardInterrupt, Cancelled):  # Ctrl-C or SIGTERM while the file was on the wire
        raise Cancelled(
            f"interrupted while sending {path}; Gong may or may not have it "
            f"(clientRequestId {crid}).",
            hint=f"Send it again with --client-request-id {crid}: Gong refuses the id if the "
            "first upload arrived, and `ldjfix status` then shows how it went.",
        ) from None
    if on_uploaded is not None:
        on_uploaded(receipt)
    if not wait:
        return Submission(receipt, None)
    try:
        status = client.wait_for_status(
            integration_id=integration_id,
            client_request_id=receipt.client_request_id,
            timeout=timeout,
            on_poll=on_poll,
        )
    except (KeyboardInterrupt, Cancelled):  # the upload is at Gong: say how to follow it
        raise Cancelled(
            f"interrupted while waiting for Gong; the upload was sent as clientRequestId {crid}.",
            hint=f"See how it ends: ldjfix status --integration-id {integration_id} "
            f"--client-request-id {crid} --wait",
        ) from None
    return Submission(receipt, status)


def describe_status(status: Status) -> str:
    """A request status for people: the state, the counts, then every listed error."""
    head = status.status
    if status.total_error_count is not None or status.total_success_count is not None:
        failed, passed = status.total_error_count or 0, status.total_success_count or 0
        head += f": {passed:,} records accepted, {failed:,} failed"
        listed = len(status.errors)
        if failed > listed:
            head += f" ({listed} listed; Gong lists at most 20)"
    if status.request_id:
        head += f"  [Gong requestId {status.request_id}]"
    lines = [head]
    for error in status.errors:
        where = "file" if error.is_general else f"line {error.line}"
        lines.append(f"  {where}: {safe(error.description)}")
    return "\n".join(lines)


def exit_code_of(status: Status) -> ExitCode:
    """0 unless Gong said FAILED (the data still has defects: 1)."""
    return ExitCode.DEFECTS if status.status == "FAILED" else ExitCode.OK
