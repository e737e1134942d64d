"""Every sandbox answer matches the response schema Gong publishes for that call and code."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import pytest

from ldjfix.gong.connection import basic_auth
from ldjfix.sandbox.app import Knobs, SandboxApp, SandboxTransport
from ldjfix.sandbox.store import SandboxStore

OPENAPI = Path(__file__).parents[1] / "reference" / "gong-openapi-crm.json"
SPEC: dict[str, Any] = orjson.loads(OPENAPI.read_bytes())
AUTH = basic_auth("key", "secret")
RECORD = (
    b'{"objectId":"a1","modifiedDate":"2024-01-01T00:00:00Z","name":"Acme","domains":["a.com"]}'
)
BAD = b'{"modifiedDate":"2024-01-01T00:00:00Z"}'


def strict(schema: Any) -> Any:
    """A copy in which objects may carry only declared properties (no invented fields)."""
    if isinstance(schema, dict):
        out = {key: strict(value) for key, value in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def components() -> dict[str, Any]:
    """Gong's schemas, strict, with the one documented deviation applied.

    ``GetGenericCrmObjectsResponse.crmObjectsMap`` is typed as a map of maps of *objects*, yet
    Gong's prose (reference 1, #7) says each value is the record's fields ({field: value}) and
    an unknown id maps to ``null``. The sandbox follows the prose; see the test below.
    """
    found = strict(copy.deepcopy(SPEC["components"]))
    objects = found["schemas"]["GetGenericCrmObjectsResponse"]["properties"]["crmObjectsMap"]
    objects["additionalProperties"] = {"type": ["object", "null"]}
    return found  # type: ignore[no-any-return]


COMPONENTS = components()


def check(response: httpx.Response) -> None:
    """Validate one answer against its documented response schema (the code must be listed)."""
    path, method = response.request.url.path, response.request.method.lower()
    documented = SPEC["paths"][path][method]["responses"]
    code = str(response.status_code)
    assert code in documented, f"{method.upper()} {path} answered undocumented {code}"
    schema = documented[code]["content"]["application/json"]["schema"]
    if code == "429":
        assert response.headers["Retry-After"].isdigit()
    jsonschema.Draft202012Validator({**schema, "components": COMPONENTS}).validate(
        orjson.loads(response.content)
    )


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxApp]:
    """A sandbox app with no rate limit that answers at once."""
    yield SandboxApp(SandboxStore(tmp_path), Knobs(polls=2, calls_per_second=0), in_process=True)


def http(app: SandboxApp, auth: httpx.Auth | None = AUTH) -> httpx.Client:
    """An httpx client wired to the app in-process."""
    return httpx.Client(transport=SandboxTransport(app=app), base_url="http://sb", auth=auth)


def upload(client: httpx.Client, crid: str, data: bytes, kind: str = "ACCOUNT") -> httpx.Response:
    """POST one LDJSON body."""
    params = {"integrationId": "5517027188234205706", "objectType": kind, "clientRequestId": crid}
    files = {"dataFile": ("f.ldjson", data, "application/octet-stream")}
    return client.post("/v2/crm/entities", params=params, files=files)


ID = {"integrationId": "5517027188234205706"}
CALLS: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("PUT", "/v2/crm/integrations", {}, b'{"name": "ACME", "ownerEmail": "a@acme.com"}'),
    ("GET", "/v2/crm/integrations", {}, None),
    ("DELETE", "/v2/crm/integrations", {**ID, "clientRequestId": "d1"}, None),
    ("GET", "/v2/crm/entity-schema", {**ID, "objectType": "ACCOUNT"}, None),
    ("POST", "/v2/crm/entity-schema", {**ID, "objectType": "ACCOUNT"}, b"[]"),
    ("GET", "/v2/crm/entities", {**ID, "objectType": "ACCOUNT"}, b'["a1"]'),
    ("GET", "/v2/crm/request-status", {**ID, "clientRequestId": "c1"}, None),
]


def test_contract_sandbox_success_answers(sandbox: SandboxApp) -> None:
    """Successful answers of every endpoint validate, statuses through all four states."""
    with http(sandbox) as client:
        answers = [
            client.put("/v2/crm/integrations", json={"name": "ACME", "ownerEmail": "a@a.com"}),
            client.get("/v2/crm/integrations"),
            client.post(
                "/v2/crm/entity-schema",
                params={**ID, "objectType": "ACCOUNT"},
                json=[
                    {
                        "uniqueName": "tier",
                        "label": "Tier",
                        "type": "PICKLIST",
                        "orderedValueList": ["A", "B"],
                    }
                ],
            ),
            client.get("/v2/crm/entity-schema", params={**ID, "objectType": "ACCOUNT"}),
            client.get("/v2/crm/entity-schema", params=ID),
            upload(client, "ok", RECORD + b"\n"),
            upload(client, "bad", BAD + b"\n" + RECORD + b"\n"),
            upload(client, "broken", b"\xff\xfe\n"),
        ]
        for crid in ("ok", "bad", "broken"):
            answers += [
                client.get("/v2/crm/request-status", params={**ID, "clientRequestId": crid})
                for _ in range(3)
            ]
        answers.append(
            client.request(
                "GET",
                "/v2/crm/entities",
                params={**ID, "objectType": "ACCOUNT"},
                content=b'["a1", "missing"]',
            )
        )
    with http(sandbox) as client:
        answers.append(client.delete("/v2/crm/integrations", params={**ID, "clientRequestId": "d"}))
    for answer in answers:
        assert answer.is_success, answer.text
        check(answer)
    states = [orjson.loads(a.content)["status"] for a in answers if "request-status" in str(a.url)]
    progress = ["PENDING", "IN_PROGRESS"]
    assert states == [*progress, "DONE", *progress, "FAILED", *progress, "FAILED"]
    assert orjson.loads(answers[-2].content)["crmObjectsMap"]["missing"] is None


@pytest.mark.parametrize(("method", "path", "params", "body"), CALLS)
def test_contract_sandbox_error_answers(
    tmp_path: Path, method: str, path: str, params: dict[str, str], body: bytes | None
) -> None:
    """401, 429 and 500 answers of every endpoint validate against Gong's ErrorResponse."""
    required = basic_auth("right", "secret").header()
    knobs = Knobs(script=("429", "500"), calls_per_second=0)
    app = SandboxApp(SandboxStore(tmp_path), knobs, require_auth=required, in_process=True)
    with http(app) as client:
        answers = [client.request(method, path, params=params, content=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 500, 401]
    documented = SPEC["paths"][path][method.lower()]["responses"]
    for answer in answers:
        if str(answer.status_code) in documented:  # Gong omits 429 on the integration calls
            check(answer)
        else:
            assert path == "/v2/crm/integrations" and answer.status_code == 429


def test_contract_sandbox_conflict_and_bad_request_answers(sandbox: SandboxApp) -> None:
    """409 (reused id, second integration) and 400 (malformed) answers validate."""
    with http(sandbox) as client:
        upload(client, "dup", RECORD)
        answers = [
            upload(client, "dup", RECORD),
            upload(client, "bad id!", RECORD),
            client.put("/v2/crm/integrations", json={"name": "A", "ownerEmail": "a@a.com"}),
            client.put("/v2/crm/integrations", json={"name": "B", "ownerEmail": "b@a.com"}),
            client.put("/v2/crm/integrations", json={"name": "C"}),
            client.get("/v2/crm/request-status", params={**ID, "clientRequestId": "nope"}),
            client.get("/v2/crm/request-status", params={"clientRequestId": "dup"}),
            client.post(
                "/v2/crm/entity-schema", params={**ID, "objectType": "STAGE"}, content=b"[]"
            ),
            client.request(
                "GET",
                "/v2/crm/entities",
                params={**ID, "objectType": "ACCOUNT"},
                content=b'{"not": "a list"}',
            ),
            client.get("/v2/crm/entity-schema", params={**ID, "objectType": "account"}),
            client.delete("/v2/crm/integrations", params={**ID, "clientRequestId": "dup"}),
            client.delete("/v2/crm/integrations", params=ID),
        ]
    assert [a.status_code for a in answers] == [409, 400, 200, 409] + [400] * 6 + [409, 400]
    for answer in answers:
        check(answer)
    assert orjson.loads(answers[0].content)["errors"] == ["Client request id has already been used"]


def test_contract_sandbox_spec_contradicts_prose_on_read_back(sandbox: SandboxApp) -> None:
    """The unpatched read-back schema rejects what Gong's prose describes (why we patch it)."""
    with http(sandbox) as client:
        upload(client, "r", RECORD)
        answer = client.request(
            "GET", "/v2/crm/entities", params={**ID, "objectType": "ACCOUNT"}, content=b'["a1"]'
        )
    literal = {
        "$ref": "#/components/schemas/GetGenericCrmObjectsResponse",
        "components": SPEC["components"],
    }
    body = orjson.loads(answer.content)
    assert body["crmObjectsMap"]["a1"]["name"] == "Acme"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(literal).validate(body)
    check(answer)
