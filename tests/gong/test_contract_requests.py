"""The client's requests carry exactly the parameters, bodies and headers Gong documents."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import pytest

from ldjfix import __version__
from ldjfix.clock import ManualClock
from ldjfix.gong.client import Connection, GongClient
from ldjfix.gong.connection import basic_auth
from ldjfix.jobs.remote import open_client

OPENAPI = Path(__file__).parents[1] / "reference" / "gong-openapi-crm.json"
SPEC: dict[str, Any] = orjson.loads(OPENAPI.read_bytes())
BIG_ID = 5517027188234205706
# POST /v2/crm/entities lists no parameters in the machine-readable spec; its three query
# parameters exist only in the prose (Gong's CRM API reference, section 1.1).
UPLOAD_PARAMS = {"integrationId", "objectType", "clientRequestId"}

ANSWERS: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {
    ("POST", "/v2/crm/entities"): (201, {"requestId": "r1", "clientRequestId": "c1"}),
    ("GET", "/v2/crm/request-status"): (200, {"requestId": "r2", "status": "DONE", "errors": []}),
    ("GET", "/v2/crm/entity-schema"): (200, {"requestId": "r3", "objectTypeToSelectedFields": {}}),
    ("POST", "/v2/crm/entity-schema"): (201, {"requestId": "r4"}),
    ("GET", "/v2/crm/entities"): (200, {"requestId": "r5", "crmObjectsMap": {"a": None}}),
    ("PUT", "/v2/crm/integrations"): (200, {"requestId": "r6", "integrationId": BIG_ID}),
    ("DELETE", "/v2/crm/integrations"): (201, {"requestId": "r8", "clientRequestId": "d1"}),
    ("GET", "/v2/crm/integrations"): (
        200,
        {
            "requestId": "r7",
            "integrations": [{"integrationId": BIG_ID, "ownerEmail": "a@acme.com", "name": "ACME"}],
        },
    ),
}


class Recorder:
    """A mock Gong that records every request and answers per ANSWERS."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        code, body = ANSWERS[(request.method, request.url.path)]
        return httpx.Response(code, content=orjson.dumps(body))


def documented_params(method: str, path: str) -> set[str]:
    """The query parameter names the spec lists for one operation."""
    operation = SPEC["paths"][path][method.lower()]
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def request_schema(method: str, path: str, content_type: str) -> dict[str, Any]:
    """The documented request body schema, resolvable against the spec's components."""
    schema = SPEC["paths"][path][method.lower()]["requestBody"]["content"][content_type]["schema"]
    return {**schema, "components": SPEC["components"]}


def make_client(recorder: Recorder) -> GongClient:
    """A client over the mock transport with Basic credentials."""
    clock = ManualClock()
    http = httpx.Client(
        transport=httpx.MockTransport(recorder),
        base_url="https://us-1.api.gong.io",
        auth=basic_auth("key", "secret"),
        headers={"User-Agent": f"ldjfix/{__version__}"},
    )
    return GongClient(http, sleep=clock.sleep, clock=clock.now)


def only(recorder: Recorder) -> httpx.Request:
    """The single request the recorder saw."""
    assert len(recorder.requests) == 1
    return recorder.requests[0]


def test_contract_requests_upload_params_and_multipart(tmp_path: Path) -> None:
    """Upload: POST with exactly the three prose query parameters and one part dataFile."""
    path = tmp_path / "accounts.ldjson"
    path.write_bytes(b'{"objectId":"a"}\n')
    recorder = Recorder()
    receipt = make_client(recorder).upload(
        path, object_type="ACCOUNT", integration_id=BIG_ID, client_request_id="c1"
    )
    request = only(recorder)
    assert dict(request.url.params) == {
        "integrationId": str(BIG_ID),
        "objectType": "ACCOUNT",
        "clientRequestId": "c1",
    }
    assert set(request.url.params) == UPLOAD_PARAMS and not documented_params(
        "POST", request.url.path
    )
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=")[1].encode()
    parts = request.content.split(b"--" + boundary)[1:-1]
    assert len(parts) == 1
    assert (
        b'Content-Disposition: form-data; name="dataFile"; filename="accounts.ldjson"' in parts[0]
    )
    assert parts[0].endswith(b'{"objectId":"a"}\n\r\n')
    schema = request_schema("POST", "/v2/crm/entities", "multipart/form-data")
    assert schema["required"] == ["dataFile"] and set(schema["properties"]) == {"dataFile"}
    assert receipt.request_id == "r1" and receipt.client_request_id == "c1"


CallMaker = Callable[[GongClient], object]
SIMPLE_CALLS: list[tuple[str, str, CallMaker]] = [
    (
        "GET",
        "/v2/crm/request-status",
        lambda c: c.request_status(integration_id=BIG_ID, client_request_id="c1"),
    ),
    (
        "GET",
        "/v2/crm/entity-schema",
        lambda c: c.entity_schema(integration_id=BIG_ID, object_type="DEAL"),
    ),
    (
        "POST",
        "/v2/crm/entity-schema",
        lambda c: c.put_entity_schema(
            integration_id=BIG_ID,
            object_type="DEAL",
            fields=[{"uniqueName": "tier", "label": "Tier", "type": "STRING"}],
        ),
    ),
    (
        "PUT",
        "/v2/crm/integrations",
        lambda c: c.register_integration(name="ACME", owner_email="a@acme.com"),
    ),
    ("GET", "/v2/crm/integrations", lambda c: c.list_integrations()),
    (
        "DELETE",
        "/v2/crm/integrations",
        lambda c: c.delete_integration(integration_id=BIG_ID, client_request_id="d1"),
    ),
]


@pytest.mark.parametrize(("method", "path", "call"), SIMPLE_CALLS)
def test_contract_requests_match_documented_params(method: str, path: str, call: CallMaker) -> None:
    """Each call sends exactly the query parameters its operation documents, ids as digits."""
    recorder = Recorder()
    call(make_client(recorder))
    request = only(recorder)
    assert (request.method, request.url.path) == (method, path)
    assert set(request.url.params) == documented_params(method, path)
    if "integrationId" in request.url.params:
        assert request.url.params["integrationId"] == str(BIG_ID)


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/v2/crm/entity-schema"), ("PUT", "/v2/crm/integrations")]
)
def test_contract_requests_json_bodies_validate(method: str, path: str) -> None:
    """JSON request bodies validate against the documented request schema."""
    recorder = Recorder()
    call = next(c for m, p, c in SIMPLE_CALLS if (m, p) == (method, path))
    call(make_client(recorder))
    request = only(recorder)
    assert request.headers["Content-Type"] == "application/json"
    schema = request_schema(method, path, "application/json")
    jsonschema.Draft202012Validator(schema).validate(orjson.loads(request.content))


def test_contract_requests_read_back_sends_ids_in_body() -> None:
    """Read-back: integrationId and objectType as query, the ids as a JSON array body (prose)."""
    recorder = Recorder()
    make_client(recorder).get_entities(integration_id=BIG_ID, object_type="ACCOUNT", ids=["a", "b"])
    request = only(recorder)
    # the machine spec also lists objectsCrmIds as a query parameter; Gong's prose and other
    # clients send the ids as the body of the GET (Gong's CRM API reference, section 1, #7),
    # as ldjfix does
    assert set(request.url.params) == documented_params("GET", "/v2/crm/entities") - {
        "objectsCrmIds"
    }
    assert orjson.loads(request.content) == ["a", "b"]


def test_contract_requests_headers_identify_and_authenticate(tmp_path: Path) -> None:
    """Requests made through connect carry the User-Agent and the Basic or Bearer header."""
    seen: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"requestId": "r", "integrations": []})

    conn = Connection(base_url="https://us-1.api.gong.io")
    envs = [{"GONG_ACCESS_KEY": "k", "GONG_ACCESS_KEY_SECRET": "s"}, {"GONG_BEARER_TOKEN": "tok"}]
    for env in envs:
        with open_client(conn, env=env, transport=httpx.MockTransport(capture)) as client:
            client.list_integrations()
    assert [r.headers["Authorization"] for r in seen] == ["Basic azpz", "Bearer tok"]
    assert {r.headers["User-Agent"] for r in seen} == {f"ldjfix/{__version__}"}
    assert seen[0].url == "https://us-1.api.gong.io/v2/crm/integrations"


def test_contract_requests_parse_64bit_ids_exactly() -> None:
    """integrationId values in Gong's JSON answers come back as exact Python ints."""
    recorder = Recorder()
    client = make_client(recorder)
    assert client.register_integration(name="A", owner_email="a@a.com") == BIG_ID
    assert client.list_integrations()[0]["integrationId"] == BIG_ID
    assert int(float(BIG_ID)) != BIG_ID  # what a double would have made of it
