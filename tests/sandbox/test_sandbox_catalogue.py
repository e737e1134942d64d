"""The served sandbox's rows of the README's bad-inputs catalogue, checked like the others.

They follow the CLI rows of ``tests/robustness/test_faults_catalogue.py`` in the same table:
the command is curl against ``ldjfix sandbox serve`` (``URL``), what it prints is the answer
body and code (``-w ' %{http_code}'``), and the exit is curl's (28 when the sandbox hung). Each
row's request is sent to a served and an in-process sandbox; both must print exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.robustness.test_faults_catalogue import markdown_table
from tests.sandbox.wire import (
    AUTH,
    GOOD,
    JSON,
    Pair,
    Reply,
    Wire,
    form,
    read_back,
    register,
    sandbox_pair,
    status,
    upload,
)

README = Path(__file__).parents[2] / "README.md"
CURL = "curl -s -m5 -w ' %{http_code}'"
BASIC = ("Authorization", AUTH)


@dataclass(frozen=True)
class Row:
    """One bad request to the served sandbox: the curl command, the same request, the output."""

    kind: str
    curl: str  # after CURL; URL is the sandbox
    wire: Wire
    printed: str  # the body (requestId shown as …), a space, the code
    show_allow: bool = False  # the command also prints the Allow header


ROWS = [
    Row(
        "sandbox serve: a 400 raised after reading the body (it used to hang)",
        "-u k:s -X PUT -H 'Content-Type: application/json' -d '{}' URL/v2/crm/integrations",
        register(b"{}", JSON),
        '{"requestId":"…","errors":["Field name is required"]} 400',
    ),
    Row(
        "sandbox serve: read-back ids that are not JSON (it used to hang)",
        "-u k:s -X GET -d 'a1' 'URL/v2/crm/entities?integrationId=1&objectType=ACCOUNT'",
        read_back(b"a1"),
        '{"requestId":"…","errors":["Request body is not valid JSON: unexpected character, '
        'expected a JSON value"]} 400',
    ),
    Row(
        "sandbox serve: a part named file with filename dataFile",
        "-u k:s -F 'file=@accounts.ldjson;filename=dataFile' "
        "'URL/v2/crm/entities?integrationId=1&objectType=ACCOUNT&clientRequestId=c1'",
        upload("c1", form(('name="file"; filename="dataFile"', GOOD))),
        '{"requestId":"…","errors":["Required multipart part dataFile is missing"]} 400',
    ),
    Row(
        "sandbox serve: integrationId with a non-ASCII digit (it used to be a 500)",
        "-u k:s 'URL/v2/crm/request-status?integrationId=%C2%B2&clientRequestId=x'",
        status("integrationId=%C2%B2&clientRequestId=x"),
        '{"requestId":"…","errors":["integrationId \'²\' is not a valid integration id"]} 400',
    ),
    Row(
        "sandbox serve: a non-ASCII Bearer token (it used to be a 500)",
        "-H 'Authorization: Bearer tökén' URL/v2/crm/integrations",
        Wire("GET", "/v2/crm/integrations", (("Authorization", "Bearer tökén"),)),
        '{"requestId":"…","errors":["Access denied: malformed Bearer token"]} 401',
    ),
    Row(
        "sandbox serve: a method the path does not take",
        "-u k:s -X PATCH URL/v2/crm/integrations -w ' Allow: %header{allow}'",
        Wire("PATCH", "/v2/crm/integrations", (BASIC,)),
        '{"requestId":"…","errors":["PATCH is not allowed on /v2/crm/integrations"]} 405'
        " Allow: DELETE, GET, PUT",
        show_allow=True,
    ),
    Row(
        "sandbox serve: a JSON body sent as a form",
        "-u k:s -X PUT -d '{}' URL/v2/crm/integrations",
        register(b"{}", ("Content-Type", "application/x-www-form-urlencoded")),
        '{"requestId":"…","errors":["Content-Type must be application/json"]} 400',
    ),
    Row(
        "sandbox serve: a chunked body",
        "-u k:s -X PUT -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' "
        "-d '{}' URL/v2/crm/integrations",
        register(b"2\r\n{}\r\n0\r\n\r\n", JSON, ("Transfer-Encoding", "chunked")),
        '{"requestId":"…","errors":["Transfer-Encoding is not supported; send the body with '
        'a Content-Length"]} 400',
    ),
    Row(
        "sandbox serve: a negative Content-Length",
        "-u k:s -X PUT -H 'Content-Type: application/json' -H 'Content-Length: -5' -d '{}' "
        "URL/v2/crm/integrations",
        register(b"{}", JSON, ("Content-Length", "-5")),
        '{"requestId":"…","errors":["Content-Length must be one number of bytes"]} 400',
    ),
    Row(
        "sandbox serve: a query parameter given twice",
        "-u k:s 'URL/v2/crm/request-status?integrationId=1&integrationId=2&clientRequestId=x'",
        status("integrationId=1&integrationId=2&clientRequestId=x"),
        '{"requestId":"…","errors":["Query parameter integrationId is given 2 times; give it '
        'once"]} 400',
    ),
]


def markdown_rows(rows: list[Row] = ROWS) -> str:
    """The rows as they follow the CLI rows in the README table."""
    return "".join(f"| {row.kind} | `{CURL} {row.curl}` | {row.printed} | 0 |\n" for row in rows)


def printed(reply: Reply, *, show_allow: bool) -> str:
    """What the row's curl command prints for this answer."""
    body = re.sub(rb'"requestId":"[a-z0-9]{19}"', '"requestId":"…"'.encode(), reply.body)
    shown = f"{body.decode()} {reply.code}"
    return f"{shown} Allow: {reply.headers.get('allow', '')}" if show_allow else shown


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """A served and an in-process sandbox for the rows."""
    with sandbox_pair(tmp_path_factory.mktemp("catalogue")) as both:
        yield both


@pytest.mark.parametrize("row", ROWS, ids=[r.kind for r in ROWS])
def test_sandbox_catalogue_row_is_what_the_sandbox_answers(pair: Pair, row: Row) -> None:
    """Served and in-process, the row's request gets exactly the catalogued answer."""
    for reply in pair.both(row.wire):
        assert printed(reply, show_allow=row.show_allow) == row.printed


def test_sandbox_catalogue_rows_follow_the_cli_rows_in_the_readme() -> None:
    """README.md holds these rows right after the CLI rows, in one table."""
    assert markdown_table() + markdown_rows() in README.read_text()


if __name__ == "__main__":  # print the rows for the README
    print(markdown_rows(), end="")
