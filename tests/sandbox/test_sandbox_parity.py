"""Malformed requests: a prompt, documented 4xx, the same from the served and in-process sandbox.

Each case is sent byte for byte to a real loopback server and through the in-process transport
(``--sandbox``); both must answer at once, with the same code, headers and errors. Issue 11:
the served sandbox hung on every 400 raised after reading a body, answered 500 for
``integrationId=²`` and non-ASCII credentials, took a part *named* ``file`` with
``filename="dataFile"`` for the data file, and sent 405 without ``Allow``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ldjfix.gong.connection import basic_auth
from ldjfix.sandbox.store import SandboxStore
from tests.sandbox.wire import (
    AUTHZ,
    GOOD,
    JSON,
    MULTIPART,
    READ_TIMEOUT,
    Pair,
    Wire,
    form,
    read_back,
    register,
    sandbox_pair,
    schema,
    status,
    upload,
)

PROMPT = 1.5  # seconds: every answer below comes at once (the lying-length one after 0.5 s)


@dataclass(frozen=True)
class Case:
    """A malformed request and the answer it must get (code, words in errors[0])."""

    name: str
    wire: Wire
    code: int
    words: str


CASES = [
    # issue 11: each hung on a socket (the body was read, then drained a second time)
    Case("register without fields", register(b"{}", JSON), 400, "Field name is required"),
    Case("schema field incomplete", schema(b'[{"x": 1}]'), 400, "uniqueName is required"),
    Case("schema not an array", schema(b"{}"), 400, "JSON array of field definitions"),
    Case("upload without parts", upload("c1", form()), 400, "dataFile is missing"),
    Case(
        "upload: a part named file, filename dataFile",
        upload("c2", form(('name="file"; filename="dataFile"', GOOD))),
        400,
        "dataFile is missing",
    ),
    Case(
        "upload: filename before a name that is not dataFile",
        upload("c3", form(('filename="dataFile"; name="other"', GOOD))),
        400,
        "dataFile is missing",
    ),
    Case("read-back body not JSON", read_back(b"nope"), 400, "not valid JSON"),
    Case("read-back body an object", read_back(b'{"a": 1}'), 400, "JSON array of CRM object"),
    # issue 11: 500s
    Case("integrationId ² escaped", status("integrationId=%C2%B2&clientRequestId=x"), 400, "²"),
    Case("integrationId ² raw", status("integrationId=²&clientRequestId=x"), 400, "not a valid"),
    Case("integrationId Arabic 3", status("integrationId=٣&clientRequestId=x"), 400, "not a valid"),
    Case(
        "integrationId Arabic 3 escaped",
        status("integrationId=%D9%A3&clientRequestId=x"),
        400,
        "not a valid",
    ),
    Case(
        "Bearer token not ASCII",
        status("integrationId=1&clientRequestId=x", ("Authorization", "Bearer tökén")),
        401,
        "malformed Bearer token",
    ),
    Case(
        "Basic credentials not ASCII",
        status("integrationId=1&clientRequestId=x", ("Authorization", "Basic öö")),
        401,
        "malformed Basic",
    ),
    Case(
        "Basic credentials not UTF-8",
        status("integrationId=1&clientRequestId=x", ("Authorization", "Basic /w==")),
        401,
        "malformed Basic",
    ),
    # issue 11: 405 (Allow is compared too)
    Case("PATCH integrations", Wire("PATCH", "/v2/crm/integrations"), 405, "PATCH is not"),
    Case("DELETE entities", Wire("DELETE", "/v2/crm/entities"), 405, "DELETE is not allowed"),
    Case("OPTIONS status", Wire("OPTIONS", "/v2/crm/request-status"), 405, "OPTIONS is not"),
    # content types
    Case(
        "register as text/plain",
        register(b"{}", ("Content-Type", "text/plain")),
        400,
        "application/json",
    ),
    Case("register with no Content-Type", register(b'{"name": "a"}'), 400, "application/json"),
    Case(
        "schema as form",
        schema(b"[]", ("Content-Type", "application/x-www-form-urlencoded")),
        400,
        "application/json",
    ),
    Case("upload as JSON", upload("c4", b"[]", JSON), 400, "multipart/form-data"),
    Case(
        "upload without boundary",
        upload("c5", form(), ("Content-Type", "multipart/form-data")),
        400,
        "with a boundary",
    ),
    Case(
        "upload with another boundary",
        upload("c6", form(boundary="other")),
        400,
        "boundary not found",
    ),
    Case(
        "upload cut before its closing boundary",
        upload("c7", form(('name="dataFile"', GOOD))[:-12]),
        400,
        "Malformed multipart",
    ),
    # bad JSON
    Case("register truncated JSON", register(b'{"name": ', JSON), 400, "not valid JSON"),
    Case("register JSON with BOM", register(b'\xef\xbb\xbf{"name": "a"}', JSON), 400, "JSON"),
    Case("register JSON not UTF-8", register(b'{"name": "\xff"}', JSON), 400, "not valid JSON"),
    Case("register JSON array", register(b"[]", JSON), 400, "must be a JSON object"),
    Case("register name a number", register(b'{"name": 1, "ownerEmail": "a"}', JSON), 400, "name"),
    Case("register JSON nested deep", register(b"[" * 5000 + b"]" * 5000, JSON), 400, "JSON"),
    Case(
        "schema isDeleted a string",
        schema(b'[{"uniqueName": "t", "label": "T", "type": "STRING", "isDeleted": "yes"}]'),
        400,
        "isDeleted must be a boolean",
    ),
    Case(
        "schema lastModified a number",
        schema(b'[{"uniqueName": "t", "label": "T", "type": "STRING", "lastModified": 5}]'),
        400,
        "lastModified must be a string",
    ),
    Case(
        "schema unknown type",
        schema(b'[{"uniqueName": "t", "label": "T", "type": "COLOR"}]'),
        400,
        "unknown type",
    ),
    # framing: Content-Length and Transfer-Encoding
    Case(
        "negative Content-Length",
        register(b"{}", JSON, ("Content-Length", "-5")),
        400,
        "Content-Length must be one number",
    ),
    Case(
        "Content-Length not a number",
        register(b"{}", JSON, ("Content-Length", "two")),
        400,
        "Content-Length must be one number",
    ),
    Case(
        "Content-Length with a plus sign",
        register(b"{}", JSON, ("Content-Length", "+2")),
        400,
        "Content-Length must be one number",
    ),
    Case(
        "two different Content-Lengths",
        register(b"{}", JSON, ("Content-Length", "2"), ("Content-Length", "3")),
        400,
        "Content-Length must be one number",
    ),
    Case(
        "huge Content-Length on a JSON call",
        register(b"{}", JSON, ("Content-Length", "999999999999999999")),
        400,
        "Request body too large",
    ),
    Case(
        "Content-Length of 25 digits",
        register(b"{}", JSON, ("Content-Length", "1" * 25)),
        400,
        "Content-Length must be one number",
    ),
    Case(
        "chunked body",
        register(b"2\r\n{}\r\n0\r\n\r\n", JSON, ("Transfer-Encoding", "chunked")),
        400,
        "Transfer-Encoding is not supported",
    ),
    Case(
        "body without Content-Length",
        register(b'{"name": "a", "ownerEmail": "b"}', JSON, auto_length=False),
        400,
        "zero-length",
    ),
    Case(
        "upload without Content-Length",
        upload("c8", form(('name="dataFile"', GOOD)), auto_length=False),
        400,
        "Content-Length is missing or 0",
    ),
    Case(
        "upload with Content-Length 0",
        upload("c10", b"", MULTIPART, ("Content-Length", "0")),
        400,
        "Content-Length is missing or 0",
    ),
    Case(
        "Content-Length longer than the body",
        register(b'{"name"', JSON, ("Content-Length", "50")),
        400,
        "ended early: 7 of 50 bytes arrived",
    ),
    Case(
        "upload longer than its Content-Length says",
        upload("c9", form(('name="dataFile"', GOOD)), MULTIPART, ("Content-Length", "400")),
        400,
        "ended early",
    ),
    # query strings
    Case(
        "objectType not UTF-8",
        Wire("GET", "/v2/crm/entity-schema?integrationId=1&objectType=%FF", (AUTHZ,)),
        400,
        "objectType must be one of",
    ),
    Case(
        "clientRequestId not UTF-8",
        status("integrationId=1&clientRequestId=%FF"),
        400,
        "letters, digits",
    ),
    Case(
        "integrationId twice",
        status("integrationId=1&integrationId=2&clientRequestId=x"),
        400,
        "given 2 times",
    ),
    Case(
        "clientRequestId twice",
        status("integrationId=1&clientRequestId=a&clientRequestId=a"),
        400,
        "given 2 times",
    ),
    Case("integrationId empty", status("integrationId=&clientRequestId=x"), 400, "not a valid"),
    Case("integrationId 0", status("integrationId=0&clientRequestId=x"), 400, "not a valid"),
    Case(
        "integrationId negative", status("integrationId=-1&clientRequestId=x"), 400, "not a valid"
    ),
    Case(
        "integrationId past int64",
        status("integrationId=9223372036854775808&clientRequestId=x"),
        400,
        "not a valid",
    ),
    Case(
        "integrationId with a plus",
        status("integrationId=%2B1&clientRequestId=x"),
        400,
        "not a valid",
    ),
    Case(
        "integrationId with a space",
        status("integrationId=+1&clientRequestId=x"),
        400,
        "not a valid",
    ),
    Case("integrationId missing", status("clientRequestId=x"), 400, "integrationId is required"),
    Case(
        "clientRequestId with a slash",
        status("integrationId=1&clientRequestId=a%2Fb"),
        400,
        "letters, digits",
    ),
    Case(
        "clientRequestId of 201 characters",
        status("integrationId=1&clientRequestId=" + "a" * 201),
        400,
        "letters, digits",
    ),
    Case(
        "unknown clientRequestId",
        status("integrationId=1&clientRequestId=never"),
        400,
        "No request with",
    ),
    Case(
        "read-back of STAGE",
        read_back(b"[]", "integrationId=1&objectType=STAGE"),
        400,
        "objectType must be one of",
    ),
    # paths
    Case("unknown path", Wire("GET", "/v2/crm/nope"), 404, "No such endpoint: /v2/crm/nope"),
    Case("path not UTF-8", Wire("GET", "/v2/crm/%FF"), 404, "/v2/crm/\ufffd"),
    Case("path with é escaped", Wire("GET", "/v2/crm/%C3%A9"), 404, "/v2/crm/é"),
    Case("path with é raw", Wire("GET", "/v2/crm/é"), 404, "/v2/crm/é"),
    Case("old 2023 path", Wire("PUT", "/v2/crm/integration/new"), 404, "No such endpoint"),
    # credentials
    Case("no credentials", Wire("GET", "/v2/crm/integrations", ()), 401, "no credentials"),
    Case(
        "scheme only",
        Wire("GET", "/v2/crm/integrations", (("Authorization", "Basic"),)),
        401,
        "malformed Basic",
    ),
    Case(
        "Bearer with a space inside",
        Wire("GET", "/v2/crm/integrations", (("Authorization", "Bearer a b"),)),
        401,
        "malformed Bearer",
    ),
    Case(
        "another scheme",
        Wire("GET", "/v2/crm/integrations", (("Authorization", "Digest abc"),)),
        401,
        "use Basic or Bearer",
    ),
    Case(
        "Bearer token with a NUL",
        Wire("GET", "/v2/crm/integrations", (("Authorization", "Bearer a\x00b"),)),
        401,
        "malformed Bearer",
    ),
    # and some that are fine, so the comparison is seen to hold on success too
    Case("list integrations", Wire("GET", "/v2/crm/integrations"), 200, ""),
    Case(
        "scheme in lower case, two spaces (RFC 9110)",
        Wire("GET", "/v2/crm/integrations", (("Authorization", "bearer  abc.def-1"),)),
        200,
        "",
    ),
    Case(
        "upload with filename before name",
        upload("ok1", form(('filename="a.ldjson"; name="dataFile"', GOOD))),
        201,
        "",
    ),
    Case(
        "huge Content-Length on an upload",
        upload("big1", b"", MULTIPART, ("Content-Length", "900000000")),
        201,
        "",
    ),
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """One served and one in-process sandbox for the whole module."""
    with sandbox_pair(tmp_path_factory.mktemp("parity")) as both:
        yield both


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_sandbox_parity_served_and_in_process_answer_alike(pair: Pair, case: Case) -> None:
    """The documented code at once, with the same code, headers and errors from both."""
    served, in_process = pair.both(case.wire)
    assert served.code == case.code, served.body
    if case.code >= 400:
        assert case.words in served.errors()[0]
    assert served.comparable() == in_process.comparable()
    assert served.seconds < PROMPT
    assert served.headers["content-type"] == "application/json"


def test_sandbox_parity_405_names_the_allowed_methods(pair: Pair) -> None:
    """A 405 carries Allow with the path's methods (RFC 9110), served and in-process."""
    for path, allowed in [
        ("/v2/crm/integrations", "DELETE, GET, PUT"),
        ("/v2/crm/entities", "GET, POST"),
        ("/v2/crm/entity-schema", "GET, POST"),
        ("/v2/crm/request-status", "GET"),
    ]:
        served, in_process = pair.both(Wire("PATCH", path))
        assert (served.code, served.headers["allow"]) == (405, allowed)
        assert in_process.headers["allow"] == allowed


def test_sandbox_parity_head_gets_405_without_a_body(pair: Pair) -> None:
    """HEAD is not a CRM call: 405 with Allow, and no body (a HEAD answer never has one)."""
    served, in_process = pair.both(Wire("HEAD", "/v2/crm/integrations"))
    assert (served.code, served.body, served.headers["allow"]) == (405, b"", "DELETE, GET, PUT")
    assert served.comparable() == in_process.comparable()


def test_sandbox_parity_upload_matches_the_part_by_its_name(pair: Pair) -> None:
    """Of a 'file' part with filename dataFile and a real dataFile part, the real one is read."""
    body = form(('name="file"; filename="dataFile"', b"not json\n"), ('name="dataFile"', GOOD))
    served, in_process = pair.both(upload("named-1", body))
    assert served.code == in_process.code == 201
    for store in (pair.app.store, SandboxStore(pair.app.store.root.parent / "served")):
        assert store.request(1, "named-1")["result"]["status"] == "DONE"


def test_sandbox_parity_lying_length_is_answered_after_the_read_timeout(pair: Pair) -> None:
    """A body that stops short of its Content-Length: 400 once the server stops waiting."""
    wire = register(b'{"na', JSON, ("Content-Length", "40"))
    served, in_process = pair.both(wire)
    assert served.errors() == ["The request body ended early: 4 of 40 bytes arrived"]
    assert READ_TIMEOUT <= served.seconds < READ_TIMEOUT + 1
    assert served.comparable() == in_process.comparable()
    closed, _ = pair.both(wire, half_close=True)  # a client that says it is done: no wait
    assert closed.code == 400 and closed.seconds < READ_TIMEOUT


def test_sandbox_parity_require_auth_refuses_non_ascii_with_401(tmp_path: Path) -> None:
    """With --require-auth, a non-ASCII token is a 401 (it used to crash the comparison)."""
    required = basic_auth("right", "secret").header()
    with sandbox_pair(tmp_path, require_auth=required) as both:
        for value in ("Bearer tökén", "Basic öö", "Bearer " + "a" * 300, required + "x"):
            wire = Wire("GET", "/v2/crm/integrations", (("Authorization", value),))
            served, in_process = both.both(wire)
            assert served.code == 401 and served.comparable() == in_process.comparable()
        served, _ = both.both(Wire("GET", "/v2/crm/integrations", (("Authorization", required),)))
    assert served.code == 200
