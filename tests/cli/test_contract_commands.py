"""Every request the new commands send, caught on a real loopback server, matches Gong's OpenAPI."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jsonschema
import orjson

from ldjfix.synth.generator import write_file
from tests.support.cli import remote

SPEC: dict[str, Any] = orjson.loads(
    (Path(__file__).parents[1] / "reference" / "gong-openapi-crm.json").read_bytes()
)
# prose-only parameters (reference 1.1 and #7): upload's three; read-back's ids go in the body
PROSE_PARAMS = {("POST", "/v2/crm/entities"): {"integrationId", "objectType", "clientRequestId"}}
BODY_NOT_QUERY = {("GET", "/v2/crm/entities"): {"objectsCrmIds"}}


@dataclass(frozen=True)
class Seen:
    """One request as it reached the server."""

    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: bytes


class Recorder:
    """WSGI middleware in front of the sandbox: notes every request, passes it on unchanged."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            self.seen.append(
                Seen(
                    environ["REQUEST_METHOD"],
                    environ["PATH_INFO"],
                    parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
                    environ.get("CONTENT_TYPE", ""),
                    body,
                )
            )
        return self.app(environ, start_response)


def check(seen: Seen) -> None:
    """The request is a documented operation with its documented parameters and body."""
    operation = SPEC["paths"][seen.path][seen.method.lower()]
    key = (seen.method, seen.path)
    params = operation.get("parameters", [])
    documented = {p["name"] for p in params if p["in"] == "query"} - BODY_NOT_QUERY.get(key, set())
    documented |= PROSE_PARAMS.get(key, set())
    assert set(seen.query) == documented, (key, seen.query)
    assert all(len(v) == 1 for v in seen.query.values())
    if "integrationId" in seen.query:
        assert seen.query["integrationId"][0].isdigit()
    for p in params:
        if p["in"] == "query" and "enum" in p["schema"] and p["name"] in seen.query:
            assert seen.query[p["name"]][0] in p["schema"]["enum"]
    if seen.content_type == "application/json":
        body = orjson.loads(seen.body)
        if key == ("GET", "/v2/crm/entities"):
            ids = next(p for p in params if p["name"] == "objectsCrmIds")["schema"]
            schema = {**ids, "maxItems": 100}
        else:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
        jsonschema.Draft202012Validator({**schema, "components": SPEC["components"]}).validate(body)
    elif seen.method in ("POST", "PUT"):
        assert seen.content_type.startswith("multipart/form-data") and key in PROSE_PARAMS
    else:
        assert seen.body == b""


def test_contract_commands_requests_match_openapi(tmp_path: Path) -> None:
    """integrations, schema and run --verify: each request is one Gong documents, as documented."""
    fields = tmp_path / "fields.json"
    fields.write_bytes(orjson.dumps([
        {"uniqueName": "tier", "label": "Tier", "type": "PICKLIST", "orderedValueList": ["A"]},
        {"uniqueName": "owner", "label": "Owner", "type": "REFERENCE", "referenceTo": "USER"},
    ]))  # fmt: skip
    fewer = tmp_path / "fewer.json"
    fewer.write_bytes(orjson.dumps([{"uniqueName": "tier", "label": "T", "type": "STRING"}]))
    source = tmp_path / "accounts.ldjson"
    write_file(source, "ACCOUNT", 150, seed=2)
    with remote("serve", tmp_path, knobs='{"polls": 1, "calls_per_second": 100}') as gong:
        assert gong.server is not None
        recorder = Recorder(gong.server.app)
        gong.server.server.set_app(recorder)
        made = gong.ldjfix("integrations", "register", "--name", "A", "--owner-email", "a@a.com")
        new_id = made.stdout.strip()
        target = ["--integration-id", new_id, "-t", "ACCOUNT"]
        codes = [
            made.returncode,
            gong.ldjfix("integrations", "register", "--name", "B", "--owner-email", "b@b.com")
            .returncode,
            gong.ldjfix("integrations", "list").returncode,
            gong.ldjfix("schema", "push", str(fields), *target).returncode,
            gong.ldjfix("schema", "diff", str(fewer), *target).returncode,
            gong.ldjfix("schema", "push", str(fewer), *target, "--allow-remove").returncode,
            gong.ldjfix("schema", "pull", *target, "-o", str(tmp_path / "s.json")).returncode,
            gong.ldjfix("run", str(source), "-t", "ACCOUNT", "--integration-id", new_id,
                        "--verify", "120", "--job-dir", str(tmp_path / "job")).returncode,
            gong.ldjfix("integrations", "delete", "--integration-id", new_id, "--yes").returncode,
        ]  # fmt: skip
    assert codes == [0, 4, 0, 0, 1, 0, 0, 0, 0]
    kinds = {(s.method, s.path) for s in recorder.seen}
    assert kinds == {
        ("PUT", "/v2/crm/integrations"), ("GET", "/v2/crm/integrations"),
        ("DELETE", "/v2/crm/integrations"), ("GET", "/v2/crm/entity-schema"),
        ("POST", "/v2/crm/entity-schema"), ("POST", "/v2/crm/entities"),
        ("GET", "/v2/crm/entities"), ("GET", "/v2/crm/request-status"),
    }  # fmt: skip
    for seen in recorder.seen:
        check(seen)
    removal = [
        orjson.loads(s.body)
        for s in recorder.seen
        if s.method == "POST" and s.path.endswith("schema")
    ][-1]
    assert {"uniqueName": "owner", "label": "Owner", "type": "REFERENCE", "referenceTo": "USER",
            "isDeleted": True} in removal  # fmt: skip
    reads = [
        orjson.loads(s.body)
        for s in recorder.seen
        if (s.method, s.path) == ("GET", "/v2/crm/entities")
    ]
    assert [len(r) for r in reads] == [100, 20]
