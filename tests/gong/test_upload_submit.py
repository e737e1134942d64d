"""submit(): checks before sending, a lost reply taken as uploaded, the status reporter."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ldjfix.clock import ManualClock
from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.gong.client import Connection, GongClient, RequestIdUsed
from ldjfix.gong.status import LineError, Status
from ldjfix.gong.upload import describe_status, exit_code_of, submit
from ldjfix.jobs.remote import open_client
from ldjfix.ldjson.sources import SourceChanged, open_source
from ldjfix.sandbox.app import in_process_transport
from ldjfix.sandbox.store import SandboxStore

GOOD = b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00Z"}\n'


def sandbox_client(tmp_path: Path, knobs: str, clock: ManualClock) -> GongClient:
    """An in-process sandbox client on fake time."""
    env = {"LDJFIX_SANDBOX_KNOBS": knobs}
    conn = Connection(sandbox=True, sandbox_dir=tmp_path / "sb")
    return open_client(conn, env=env, sleep=clock.sleep, clock=clock.now)


def test_upload_submit_lost_reply_counts_as_uploaded(tmp_path: Path) -> None:
    """A reply lost after the upload arrived: the retry's 409 is taken as success, then polled."""
    clock = ManualClock()
    path = tmp_path / "a.ldjson"
    path.write_bytes(GOOD)
    knobs = '{"script": ["lost"], "polls": 1, "calls_per_second": 0}'
    with sandbox_client(tmp_path, knobs, clock) as client:
        done = submit(
            client,
            path,
            object_type="ACCOUNT",
            integration_id=1,
            client_request_id="once",
            wait=True,
        )
    assert done.receipt.client_request_id == "once" and done.receipt.request_id is None
    assert done.status is not None and done.status.status == "DONE"
    assert [u["clientRequestId"] for u in SandboxStore(tmp_path / "sb").uploads()] == ["once"]


def test_upload_submit_plain_reuse_still_fails(tmp_path: Path) -> None:
    """A 409 on a first attempt is not taken as success."""
    clock = ManualClock()
    path = tmp_path / "a.ldjson"
    path.write_bytes(GOOD)
    with sandbox_client(tmp_path, '{"calls_per_second": 0}', clock) as client:
        submit(client, path, object_type="ACCOUNT", integration_id=1, client_request_id="x")
        with pytest.raises(RequestIdUsed) as caught:
            submit(client, path, object_type="ACCOUNT", integration_id=1, client_request_id="x")
    assert caught.value.on_retry is False


def test_upload_submit_checks_before_any_call(tmp_path: Path) -> None:
    """A missing file or an unknown object type is refused before the client is used."""
    clock = ManualClock()
    with sandbox_client(tmp_path, "", clock) as client:
        with pytest.raises(InputProblem, match="does not exist"):
            submit(client, tmp_path / "nope.ldjson", object_type="ACCOUNT", integration_id=1)
        with pytest.raises(UsageProblem, match="case-sensitive"):
            submit(client, tmp_path / "nope.ldjson", object_type="Account", integration_id=1)
        assert client.calls == 0


def test_upload_submit_describe_status_lists_everything() -> None:
    """The text report: state, counts, the cap note when more failed than listed, each error."""
    errors = (LineError(3, "Mandatory field [objectId] is missing or empty"), LineError(0, "x"))
    failed = Status("FAILED", errors, 25, 75, "rq", {})
    text = describe_status(failed)
    assert text.splitlines() == [
        "FAILED: 75 records accepted, 25 failed (2 listed; Gong lists at most 20)"
        "  [Gong requestId rq]",
        "  line 3: Mandatory field [objectId] is missing or empty",
        "  file: x",
    ]
    assert describe_status(Status("PENDING", (), None, None, None, {})) == "PENDING"
    assert (exit_code_of(failed), exit_code_of(Status("DONE", (), 0, 1, None, {}))) == (1, 0)


class _Exporter(httpx.BaseTransport):
    """The real in-process sandbox, with a CRM export that may rewrite the file mid-call."""

    def __init__(self, inner: httpx.BaseTransport, path: Path, on_wire: bool) -> None:
        self.inner, self.path, self.on_wire, self.calls = inner, path, on_wire, 0

    def rewrite(self) -> None:
        """The export writes a new version of the file."""
        self.path.write_bytes(GOOD + GOOD.replace(b"a1", b"a2"))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.on_wire:
            request.read()  # the body is on the wire; then the export rewrites the file
            self.rewrite()
        return self.inner.handle_request(request)


@pytest.mark.parametrize(
    ("on_wire", "said"),
    [(False, "changed while the job ran"), (True, "changed while it was being sent")],
    ids=["before-the-retry", "on-the-wire"],
)
def test_upload_submit_source_changed_is_never_resent(
    tmp_path: Path, on_wire: bool, said: str
) -> None:
    """A source rewritten during an upload whose first attempt gets a 500: exit 3 naming the
    change, and the new content is never sent under the same clientRequestId."""
    clock = ManualClock()
    path = tmp_path / "a.ldjson"
    path.write_bytes(GOOD)
    conn = Connection(sandbox=True, sandbox_dir=tmp_path / "sb")
    knobs = '{"script": ["500"], "polls": 0, "calls_per_second": 0}'
    inner = in_process_transport(tmp_path / "sb", env={"LDJFIX_SANDBOX_KNOBS": knobs})
    transport = _Exporter(inner, path, on_wire)

    def back_off(seconds: float) -> None:  # between the attempts, the export rewrites the file
        clock.sleep(seconds)
        transport.rewrite()

    client = open_client(conn, env={}, sleep=back_off, clock=clock.now, transport=transport)
    with (
        open_source(path) as opened,
        client,
        pytest.raises(SourceChanged, match=said) as raised,
    ):
        submit(client, opened, object_type="ACCOUNT", integration_id=1, client_request_id="c1")
    assert raised.value.exit_code == 3
    assert transport.calls == 1  # no second attempt with the new content
