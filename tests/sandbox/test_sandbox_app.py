"""The sandbox app's behaviour: states over polls, the 20 cap, rate limit, auth, state folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from ldjfix.clock import ManualClock
from ldjfix.errors import InputProblem, UsageProblem
from ldjfix.gong.connection import basic_auth
from ldjfix.sandbox.app import (
    Knobs,
    SandboxApp,
    SandboxTransport,
    in_process_transport,
    knobs_from_env,
)
from ldjfix.sandbox.store import SandboxStore

AUTH = basic_auth("key", "secret")
NOW = "2024-01-01T00:00:00Z"
IID = {"integrationId": "42"}


def client(app: SandboxApp, **headers: str) -> httpx.Client:
    """An httpx client wired to the app in-process."""
    return httpx.Client(
        transport=SandboxTransport(app=app),
        base_url="http://sb",
        auth=None if headers else AUTH,
        headers=headers,
    )


def app_in(path: Path, **knobs: Any) -> SandboxApp:
    """An app with unlimited calls unless said otherwise."""
    knobs.setdefault("calls_per_second", 0)
    return SandboxApp(SandboxStore(path), Knobs(**knobs), in_process=True)


def upload(
    http: httpx.Client, crid: str, lines: list[dict[str, Any]] | bytes, kind: str = "ACCOUNT"
) -> httpx.Response:
    """POST records (or raw bytes) as one LDJSON file."""
    data = lines if isinstance(lines, bytes) else b"\n".join(orjson.dumps(r) for r in lines)
    return http.post(
        "/v2/crm/entities",
        params={**IID, "objectType": kind, "clientRequestId": crid},
        files={"dataFile": ("f.ldjson", data)},
    )


def status(http: httpx.Client, crid: str) -> dict[str, Any]:
    """One request-status answer body."""
    answer = http.get("/v2/crm/request-status", params={**IID, "clientRequestId": crid})
    assert answer.status_code == 200, answer.text
    return orjson.loads(answer.content)  # type: ignore[no-any-return]


def test_sandbox_app_states_over_polls(tmp_path: Path) -> None:
    """PENDING, then IN_PROGRESS for the configured polls, then the outcome, then it stays."""
    with client(app_in(tmp_path, polls=3)) as http:
        assert upload(http, "c", [{"objectId": "a", "modifiedDate": NOW}]).status_code == 201
        states = [status(http, "c")["status"] for _ in range(5)]
    assert states == ["PENDING", "IN_PROGRESS", "IN_PROGRESS", "DONE", "DONE"]


def test_sandbox_app_caps_errors_at_20_with_true_totals(tmp_path: Path) -> None:
    """45 bad and 5 good records: the first 20 errors by line, totals 45 and 5."""
    records = [
        {"objectId": f"a{i}", "modifiedDate": NOW if i % 10 == 0 else "bad"} for i in range(50)
    ]
    with client(app_in(tmp_path, polls=0)) as http:
        upload(http, "c", records)
        body = status(http, "c")
    assert body["status"] == "FAILED"
    assert body["totalErrorCount"] == 45 and body["totalSuccessCount"] == 5
    lines = [e["line"] for e in body["errors"]]
    assert len(lines) == 20 and lines == sorted(lines) and lines[:3] == [2, 3, 4]


def test_sandbox_app_keeps_accepted_records_and_reads_them_back(tmp_path: Path) -> None:
    """Accepted records are upserted per integration and type; deletions read back as null."""
    app = app_in(tmp_path, polls=0)
    with client(app) as http:
        upload(
            http,
            "c1",
            [
                {"objectId": "a", "modifiedDate": NOW, "name": "Old"},
                {"objectId": "b", "modifiedDate": NOW},
                {"objectId": "bad#"},
            ],
        )
        upload(
            http,
            "c2",
            [
                {"objectId": "a", "modifiedDate": NOW, "name": "New"},
                {"objectId": "b", "modifiedDate": NOW, "isDeleted": True},
            ],
        )
        ids = [f"x{i}" for i in range(120)] + ["a"]
        read = http.request(
            "GET",
            "/v2/crm/entities",
            params={**IID, "objectType": "ACCOUNT"},
            content=orjson.dumps(["a", "b", *ids]),
        )
    found = orjson.loads(read.content)["crmObjectsMap"]
    assert found["a"]["name"] == "New" and found["b"] is None
    assert len(found) == 100  # only the first 100 ids are answered
    assert set(app.store.records(42, "ACCOUNT")) == {"a"}
    assert app.store.records(43, "ACCOUNT") == {}


def test_sandbox_app_409_per_integration(tmp_path: Path) -> None:
    """A clientRequestId can be used once per integration; another integration may reuse it."""
    app = app_in(tmp_path)
    record = [{"objectId": "a", "modifiedDate": NOW}]
    with client(app) as http:
        assert upload(http, "same", record).status_code == 201
        assert upload(http, "same", record).status_code == 409
        other = http.post(
            "/v2/crm/entities",
            params={"integrationId": "43", "objectType": "ACCOUNT", "clientRequestId": "same"},
            files={"dataFile": ("f", b'{"objectId":"a","modifiedDate":"' + NOW.encode() + b'"}')},
        )
    assert other.status_code == 201
    assert [(u["integrationId"], u["clientRequestId"]) for u in app.store.uploads()] == [
        (42, "same"),
        (43, "same"),
    ]


def test_sandbox_app_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    """A fourth call within one second gets 429 + Retry-After; a second later it passes."""
    clock = ManualClock()
    app = SandboxApp(SandboxStore(tmp_path), Knobs(retry_after=1), clock=clock.now, in_process=True)
    with client(app) as http:
        codes = [http.get("/v2/crm/integrations").status_code for _ in range(4)]
        limited = http.get("/v2/crm/integrations")
        clock.advance(1.0)
        after = http.get("/v2/crm/integrations").status_code
    assert codes == [200, 200, 200, 429] and limited.headers["Retry-After"] == "1"
    assert after == 200


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({}, "no credentials"),
        ({"Authorization": "Basic !!!"}, "malformed Basic"),
        ({"Authorization": "Basic a2V5"}, "malformed Basic"),  # "key" with no ":secret"
        ({"Authorization": "Bearer "}, "use Basic or Bearer"),
        ({"Authorization": "Token abc"}, "use Basic or Bearer"),
    ],
)
def test_sandbox_app_rejects_missing_or_malformed_credentials(
    tmp_path: Path, header: dict[str, str], reason: str
) -> None:
    """No or malformed credentials get 401 with a reason; any well-formed ones pass."""
    app = app_in(tmp_path)
    with client(app, **header, Accept="application/json") as http:
        answer = http.get("/v2/crm/integrations")
    assert answer.status_code == 401 and reason in answer.json()["errors"][0]
    with client(app, Authorization="Bearer any-token") as http:
        assert http.get("/v2/crm/integrations").status_code == 200


def test_sandbox_app_state_is_shared_through_the_folder(tmp_path: Path) -> None:
    """An upload through one app is polled through another on the same folder (two processes)."""
    with client(app_in(tmp_path, polls=1)) as first:
        upload(first, "c", [{"objectId": "a", "modifiedDate": NOW}])
    with client(app_in(tmp_path, polls=1)) as second:
        assert [status(second, "c")["status"] for _ in range(2)] == ["PENDING", "DONE"]


def test_sandbox_app_schema_needs_the_full_field_list(tmp_path: Path) -> None:
    """A schema update leaving out an earlier field is refused; isDeleted removes one."""
    tier = {"uniqueName": "tier", "label": "Tier", "type": "STRING"}
    size = {"uniqueName": "size", "label": "Size", "type": "NUMBER"}
    params = {**IID, "objectType": "ACCOUNT"}
    with client(app_in(tmp_path, polls=0)) as http:
        assert (
            http.post("/v2/crm/entity-schema", params=params, json=[tier, size]).status_code == 201
        )
        refused = http.post("/v2/crm/entity-schema", params=params, json=[tier])
        assert (
            http.post(
                "/v2/crm/entity-schema", params=params, json=[tier, {**size, "isDeleted": True}]
            ).status_code
            == 201
        )
        listed = http.get("/v2/crm/entity-schema", params=params).json()
        upload(http, "c", [{"objectId": "a", "modifiedDate": NOW, "tier": 5}])
        typed = status(http, "c")
    assert refused.status_code == 400 and "missing: size" in refused.json()["errors"][0]
    assert listed["objectTypeToSelectedFields"] == {"ACCOUNT": [tier]}
    assert typed["errors"] == [
        {"line": 1, "description": "Invalid value for field [tier]: expected a string"}
    ]


def test_sandbox_app_rejects_bad_upload_requests(tmp_path: Path) -> None:
    """Missing parameters, a wrong object type or no dataFile part are 400s naming the problem."""
    with client(app_in(tmp_path)) as http:
        no_type = http.post(
            "/v2/crm/entities",
            params={**IID, "clientRequestId": "c"},
            files={"dataFile": ("f", b"{}")},
        )
        no_part = http.post(
            "/v2/crm/entities",
            params={**IID, "objectType": "DEAL", "clientRequestId": "c"},
            files={"other": ("f", b"{}")},
        )
        lower = upload(http, "c", b"{}", kind="deal")
    assert no_type.status_code == 400 and "objectType must be one of" in no_type.text
    assert no_part.status_code == 400 and "dataFile is missing" in no_part.text
    assert lower.status_code == 400


def test_sandbox_app_knobs_from_env(tmp_path: Path) -> None:
    """LDJFIX_SANDBOX_KNOBS sets knobs; unknown keys or faults are usage problems."""
    knobs = knobs_from_env({"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "script": ["500"], "seed": 4}'})
    assert knobs.polls == 0 and knobs.script == ("500",) and knobs.seed == 4
    assert knobs_from_env({}) == Knobs()
    with pytest.raises(UsageProblem, match="keys from"):
        knobs_from_env({"LDJFIX_SANDBOX_KNOBS": '{"pols": 0}'})
    with pytest.raises(UsageProblem, match="Unknown sandbox fault 'boom'"):
        knobs_from_env({"LDJFIX_SANDBOX_KNOBS": '{"shares": {"boom": 0.5}}'})
    with pytest.raises(UsageProblem, match="from 0 to 1"):
        knobs_from_env({"LDJFIX_SANDBOX_KNOBS": '{"shares": {"500": 5}}'})
    with pytest.raises(UsageProblem, match="is not JSON"):
        knobs_from_env({"LDJFIX_SANDBOX_KNOBS": "{polls: 0}"})


def test_sandbox_app_random_faults_are_seeded(tmp_path: Path) -> None:
    """The same seed gives the same fault sequence; the share is roughly honoured."""

    def run(seed: int) -> list[int]:
        app = app_in(tmp_path / str(seed), shares={"503": 0.3}, seed=seed)
        with client(app) as http:
            return [http.get("/v2/crm/integrations").status_code for _ in range(100)]

    first, again = run(1), run(1)
    assert first == again and 15 <= first.count(503) <= 45
    assert run(2) != first


def test_sandbox_app_delete_integration_forgets_its_objects(tmp_path: Path) -> None:
    """DELETE /v2/crm/integrations drops records and schemas of that integration only; async."""
    app = app_in(tmp_path, polls=1)
    record = [{"objectId": "a", "modifiedDate": NOW}]
    with client(app) as http:
        upload(http, "c", record)
        http.post(
            "/v2/crm/entities",
            params={"integrationId": "7", "objectType": "ACCOUNT", "clientRequestId": "c"},
            files={"dataFile": ("f", orjson.dumps(record[0]))},
        )
        gone = http.delete("/v2/crm/integrations", params={**IID, "clientRequestId": "del"})
        states = [status(http, "del")["status"] for _ in range(2)]
        again = http.delete("/v2/crm/integrations", params={**IID, "clientRequestId": "del"})
    assert gone.status_code == 201 and gone.json()["clientRequestId"] == "del"
    assert states == ["PENDING", "DONE"] and again.status_code == 409
    assert app.store.records(42, "ACCOUNT") == {} and set(app.store.records(7, "ACCOUNT")) == {"a"}


def test_sandbox_app_damaged_state_is_explained(tmp_path: Path) -> None:
    """A damaged state file: in-process a clear InputProblem, on a socket a 500 with the reason."""
    (tmp_path / "requests" / "42").mkdir(parents=True)
    (tmp_path / "requests" / "42" / "c.json").write_bytes(b"{broken")
    with client(app_in(tmp_path)) as http, pytest.raises(InputProblem) as caught:
        http.get("/v2/crm/request-status", params={**IID, "clientRequestId": "c"})
    assert f"The sandbox state in {tmp_path} is unusable" in str(caught.value)
    assert "Delete that folder" in str(caught.value)
    served = SandboxApp(SandboxStore(tmp_path), Knobs(calls_per_second=0))
    with httpx.Client(
        transport=httpx.WSGITransport(app=served), base_url="http://sb", auth=AUTH
    ) as http:
        answer = http.get("/v2/crm/request-status", params={**IID, "clientRequestId": "c"})
    assert answer.status_code == 500 and "Sandbox internal error" in answer.json()["errors"][0]


def test_sandbox_app_unwritable_folder_is_a_usage_problem(tmp_path: Path) -> None:
    """--sandbox with a folder that cannot be created: exit 2 naming it."""
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(UsageProblem, match=r"Cannot use .* as the sandbox folder"):
        in_process_transport(blocker / "sub", env={})


def test_sandbox_app_logs_calls_in_the_folder(tmp_path: Path) -> None:
    """Every call, from any app on the folder, lands in calls.jsonl with its answer code."""
    with client(app_in(tmp_path, script=("503",))) as http:
        http.get("/v2/crm/integrations")
        http.get("/v2/crm/integrations")
    with client(app_in(tmp_path)) as http:
        http.get("/v2/crm/nowhere")
    calls = SandboxStore(tmp_path).calls()
    assert [(c["method"], c["path"], c["code"], c["fault"]) for c in calls] == [
        ("GET", "/v2/crm/integrations", 503, "503"),
        ("GET", "/v2/crm/integrations", 200, "ok"),
        ("GET", "/v2/crm/nowhere", 404, "ok"),
    ]
    assert calls[0]["wall"] <= calls[2]["wall"]
    assert all(c["arrived"] <= c["time"] for c in calls)
