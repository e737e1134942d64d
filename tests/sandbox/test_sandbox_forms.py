"""Multipart forms, odd but legal or broken: read alike by the served and in-process sandbox.

The data file is the part whose Content-Disposition is ``form-data`` with the form-field name
``dataFile`` (RFC 7578); parameters are read whole, so a ``name=`` or ``boundary=`` inside
another parameter's quoted value is not taken for one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from ldjfix.sandbox.store import SandboxStore
from tests.sandbox.wire import GOOD, Pair, sandbox_pair, upload


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """One served and one in-process sandbox for the module."""
    with sandbox_pair(tmp_path_factory.mktemp("forms")) as both:
        yield both


def _part(disposition: bytes, content: bytes = GOOD, end: bytes = b"\r\n") -> bytes:
    return b"--xYz" + end + b"Content-Disposition: " + disposition + end + end + content + end


FORMS = [
    # (what, body, Content-Type, code, outcome of the upload or None)
    ("unquoted name", _part(b"form-data; name=dataFile") + b"--xYz--\r\n", None, 201, "DONE"),
    (
        "header and parameter in other cases",
        _part(b"form-data; NAME=dataFile").replace(b"Content-Disposition", b"content-disposition")
        + b"--xYz--\r\n",
        "Multipart/Form-Data; BOUNDARY=xYz",
        201,
        "DONE",
    ),
    (
        "name= inside a quoted filename",
        _part(b'form-data; filename="a\\"; name=\\"x"; name="dataFile"') + b"--xYz--\r\n",
        None,
        201,
        "DONE",
    ),
    (
        "boundary= inside another parameter's quotes",
        _part(b'form-data; name="dataFile"') + b"--xYz--\r\n",
        'multipart/form-data; x="a;boundary=zzz"; boundary="xYz"',
        201,
        "DONE",
    ),
    (
        "two dataFile parts: the first counts",
        _part(b'form-data; name="dataFile"', b"not json")
        + _part(b'form-data; name="dataFile"')
        + b"--xYz--\r\n",
        None,
        201,
        "FAILED",
    ),
    ("not form-data", _part(b'attachment; name="dataFile"') + b"--xYz--\r\n", None, 400, None),
    (
        "LF line ends",
        _part(b'form-data; name="dataFile"', end=b"\n") + b"--xYz--\n",
        None,
        400,
        None,
    ),
]


@pytest.mark.parametrize(
    ("what", "body", "content_type", "code", "outcome"), FORMS, ids=[f[0] for f in FORMS]
)
def test_sandbox_forms_are_read_alike(
    pair: Pair, what: str, body: bytes, content_type: str | None, code: int, outcome: str | None
) -> None:
    """Odd but legal (or broken) forms: the same answer and outcome served and in-process."""
    crid = "form-" + re.sub(r"[^A-Za-z0-9]+", "-", what)
    header = ("Content-Type", content_type or "multipart/form-data; boundary=xYz")
    served, in_process = pair.both(upload(crid, body, header))
    assert served.code == code and served.comparable() == in_process.comparable()
    for store in (pair.app.store, SandboxStore(pair.app.store.root.parent / "served")):
        found = store.request(1, crid)
        assert (found and found["result"]["status"]) == outcome
