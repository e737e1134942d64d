"""The sandbox's endpoints: what each of Gong's CRM calls does to the sandbox state.

Reached only after the app (``sandbox.py``) has checked credentials, the rate limit and the
fault knobs. Each handler takes a :class:`~ldjfix.sandbox.wsgi.Request` and returns an
:class:`~ldjfix.sandbox.wsgi.Answer` whose body matches Gong's response schema for that code.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Collection
from typing import Any

from ldjfix.gong.limits import (
    MAX_INTEGRATION_ID,
    MAX_LISTED_ERRORS,
    MAX_READBACK_IDS,
    MAX_UPLOAD_BYTES,
    SCHEMA_TYPES,
    UPLOAD_TYPES,
)
from ldjfix.sandbox.judge import (
    Judgement,
    general_failure,
    is_blank,
    iter_chunked_lines,
    judge_lines,
)
from ldjfix.sandbox.rules import reference_targets
from ldjfix.sandbox.store import SandboxStore
from ldjfix.sandbox.wsgi import (
    Answer,
    BadRequest,
    Part,
    Request,
    Spool,
    error,
    multipart,
    new_request_id,
)

_CRID = re.compile(r"[A-Za-z0-9_-]{1,200}")
_DIGITS = re.compile(r"[0-9]{1,19}")
_FIELD_TYPES = frozenset(
    {
        *("DATE", "DATETIME", "NUMBER", "PERCENT", "CURRENCY", "ID", "URL", "STRING"),
        *("BOOLEAN", "PHONENUMBER", "EMAILADDRESS", "PICKLIST", "REFERENCE", "STRINGARRAY"),
    }
)
_REFERENCE_TARGETS = frozenset({"ACCOUNT", "CONTACT", "DEAL", "LEAD", "USER"})
# GenericSchemaFieldRequest's optional properties and their JSON types
_OPTIONAL_KINDS = {
    "lastModified": "a string",
    "isDeleted": "a boolean",
    "referenceTo": "a string",
    "orderedValueList": "an array of strings",
}
_SCHEMA_KEYS = frozenset({"uniqueName", "label", "type", *_OPTIONAL_KINDS})
# room for multipart headers and boundaries around a file of the maximum size
_MULTIPART_OVERHEAD = 1 << 20

Handler = Callable[[Request], Answer]


class SandboxApi:
    """Gong's CRM endpoints over a :class:`SandboxStore`."""

    def __init__(self, store: SandboxStore, *, polls: int = 2) -> None:
        self.store = store
        self.polls = polls
        self.routes: dict[str, dict[str, Handler]] = {
            "/v2/crm/integrations": {
                "PUT": self.register,
                "GET": self.integrations,
                "DELETE": self.delete_integration,
            },
            "/v2/crm/entity-schema": {"GET": self.get_schema, "POST": self.put_schema},
            "/v2/crm/entities": {"POST": self.upload, "GET": self.get_entities},
            "/v2/crm/request-status": {"GET": self.request_status},
        }

    def handle(self, request: Request) -> Answer:
        """Route a request to its endpoint."""
        methods = self.routes.get(request.path)
        if methods is None:
            return error(404, f"No such endpoint: {request.path}")
        handler = methods.get(request.method)
        if handler is None:
            refused = error(405, f"{request.method} is not allowed on {request.path}")
            return Answer(405, refused.body, (("Allow", ", ".join(sorted(methods))),))
        return handler(request)

    # integrations --------------------------------------------------------------------------

    def register(self, request: Request) -> Answer:
        """``PUT /v2/crm/integrations``: register the one generic integration."""
        body = request.json_body()
        if not isinstance(body, dict):
            raise BadRequest("Body must be a JSON object with name and ownerEmail")
        for key in ("name", "ownerEmail"):  # required strings; the spec sets no other rule
            if body.get(key) is None:
                raise BadRequest(f"Field {key} is required")
            if not isinstance(body[key], str):
                raise BadRequest(f"Field {key} must be a string")
        with self.store.locked():
            existing = self.store.integrations()
            if existing:
                return error(409, "An active integration already exists")
            # a large id on purpose: clients that parse it as a double corrupt it
            new_id = random.SystemRandom().randint(2**62, MAX_INTEGRATION_ID)
            entry = {
                "integrationId": new_id,
                "ownerEmail": body["ownerEmail"],
                "name": body["name"],
            }
            self.store.save_integrations([entry])
        return Answer(200, {"requestId": new_request_id(), "integrationId": new_id})

    def integrations(self, request: Request) -> Answer:
        """``GET /v2/crm/integrations``."""
        return Answer(
            200, {"requestId": new_request_id(), "integrations": self.store.integrations()}
        )

    def delete_integration(self, request: Request) -> Answer:
        """``DELETE /v2/crm/integrations``: drop the integration and all its objects (async)."""
        integration_id = _integration_id(request)
        crid = _client_request_id(request)
        with self.store.locked():
            if self.store.request(integration_id, crid) is not None:
                return error(409, "Client request id has already been used")
            self.store.forget_integration(integration_id)
            done = {"status": "DONE", "errors": [], "totalErrorCount": 0, "totalSuccessCount": 0}
            doc = {"objectType": None, "polls": self.polls, "seen": 0, "result": done}
            self.store.save_request(integration_id, crid, doc)
        return Answer(201, {"requestId": new_request_id(), "clientRequestId": crid})

    # entity schema ---------------------------------------------------------------------------

    def get_schema(self, request: Request) -> Answer:
        """``GET /v2/crm/entity-schema``; without objectType, every type (as Gong's prose says)."""
        integration_id = _integration_id(request)
        wanted = request.param("objectType")
        types = SCHEMA_TYPES if wanted is None else (_object_type(request, SCHEMA_TYPES),)
        fields = {kind: self.store.schema(integration_id, kind) for kind in types}
        return Answer(200, {"requestId": new_request_id(), "objectTypeToSelectedFields": fields})

    def put_schema(self, request: Request) -> Answer:
        """``POST /v2/crm/entity-schema``: the full field list of one type, checked like Gong."""
        integration_id = _integration_id(request)
        object_type = _object_type(request, SCHEMA_TYPES)
        body = request.json_body()
        if not isinstance(body, list):
            raise BadRequest("Body must be a JSON array of field definitions")
        sent = [_schema_field(item, n) for n, item in enumerate(body, 1)]
        with self.store.locked():
            before = {f["uniqueName"] for f in self.store.schema(integration_id, object_type)}
            missing = sorted(before - {f["uniqueName"] for f in sent})
            if missing:
                raise BadRequest(
                    "A schema update must list every existing field (remove one with "
                    f"isDeleted=true); missing: {', '.join(missing)}"
                )
            kept = [f for f in sent if f.get("isDeleted") is not True]
            self.store.save_schema(integration_id, object_type, kept)
        return Answer(201, {"requestId": new_request_id()})

    # entities ------------------------------------------------------------------------------

    def upload(self, request: Request) -> Answer:
        """``POST /v2/crm/entities``: receive an LDJSON file, judge it, keep what passes."""
        integration_id = _integration_id(request)
        object_type = _object_type(request, UPLOAD_TYPES)
        crid = _client_request_id(request)
        if request.length > MAX_UPLOAD_BYTES + _MULTIPART_OVERHEAD:
            # not worth reading: it fails as a whole anyway (the server discards the rest)
            return self._accept(integration_id, object_type, crid, None, request.length)
        with multipart(request, self.store.scratch()) as (buffer, parts):
            part = parts.get("dataFile")
            if part is None:
                raise BadRequest("Required multipart part dataFile is missing")
            return self._accept(integration_id, object_type, crid, (buffer, part), request.length)

    def _accept(
        self, integration_id: int, object_type: str, crid: str, file: Any, size: int
    ) -> Answer:
        with self.store.locked():
            if self.store.request(integration_id, crid) is not None:
                return error(409, "Client request id has already been used")
            if file is None:
                verdict = general_failure(f"File size {size} bytes exceeds the maximum of 200 MB")
            else:
                verdict = self._judge(integration_id, object_type, *file)
            request_id = new_request_id()
            self.store.save_request(
                integration_id, crid, _outcome(verdict, object_type, self.polls)
            )
            self.store.log_upload(
                _log_entry(integration_id, object_type, crid, request_id, verdict)
            )
        return Answer(201, {"requestId": request_id, "clientRequestId": crid})

    def _judge(self, integration_id: int, object_type: str, spool: Spool, part: Part) -> Judgement:
        """Judge the uploaded part line by line, appending what passes to the record log."""
        size = part.end - part.start
        if size > MAX_UPLOAD_BYTES:
            return general_failure(f"File size {size} bytes exceeds the maximum of 200 MB")
        if is_blank(spool.chunks(part.start, part.end)):
            return general_failure("The file is empty")
        custom = self.store.custom_fields(integration_id, object_type)
        known = self._known_ids(integration_id, object_type)
        if object_type in reference_targets(object_type, custom).values():
            known(object_type, "")  # a reference to its own type sees the store before this file
        with self.store.appending(integration_id, object_type) as log:
            verdict = judge_lines(
                iter_chunked_lines(spool.chunks(part.start, part.end)),
                Judgement(),
                object_type=object_type,
                custom=custom,
                known=known,
                keep=log.add,
                listed=MAX_LISTED_ERRORS,
            )
            if verdict.whole:
                log.discard()
        return verdict

    def _known_ids(self, integration_id: int, uploaded: str) -> Callable[[str, str], bool]:
        """A lookup of stored objectIds, reading each type once per upload, not per line."""
        cache: dict[str, Collection[str]] = {}

        def known(kind: str, key: str) -> bool:
            if kind not in cache:
                ids = self.store.knows(integration_id, kind)
                # a copy of the uploaded type's own ids: its log grows while the file is judged
                cache[kind] = set(ids) if kind == uploaded else ids
            return key in cache[kind]

        return known

    def get_entities(self, request: Request) -> Answer:
        """``GET /v2/crm/entities``: ids as a JSON array in the body (or ``objectsCrmIds``)."""
        integration_id = _integration_id(request)
        object_type = _object_type(request, SCHEMA_TYPES)
        ids: Any = request.query.get("objectsCrmIds") or []
        if request.length:  # Gong documents no Content-Type for this GET body
            ids = request.json_body(typed=False)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadRequest("Body must be a JSON array of CRM object ids")
        found = self.store.lookup(integration_id, object_type, ids[:MAX_READBACK_IDS])
        return Answer(200, {"requestId": new_request_id(), "crmObjectsMap": found})

    # request status --------------------------------------------------------------------------

    def request_status(self, request: Request) -> Answer:
        """``GET /v2/crm/request-status``: PENDING, IN_PROGRESS…, then the outcome."""
        integration_id = _integration_id(request)
        crid = _client_request_id(request)
        with self.store.locked():
            doc = self.store.request(integration_id, crid)
            if doc is None:
                raise BadRequest(f"No request with clientRequestId {crid} for this integration")
            seen = doc["seen"]
            doc["seen"] = seen + 1
            self.store.save_request(integration_id, crid, doc)
        body: dict[str, Any] = {"requestId": new_request_id()}
        if seen < doc["polls"]:
            body.update(status="PENDING" if seen == 0 else "IN_PROGRESS", errors=[])
        else:
            body.update(doc["result"])
        return Answer(200, body)


def _outcome(verdict: Judgement, object_type: str, polls: int) -> dict[str, Any]:
    listed = [{"line": n, "description": d} for n, d in verdict.errors[:MAX_LISTED_ERRORS]]
    result = {
        "status": "FAILED" if verdict.failed else "DONE",
        "errors": listed,
        "totalErrorCount": verdict.error_count,
        "totalSuccessCount": verdict.success,
    }
    return {"objectType": object_type, "polls": polls, "seen": 0, "result": result}


def _log_entry(
    integration_id: int, object_type: str, crid: str, request_id: str, verdict: Judgement
) -> dict[str, Any]:
    return {
        "time": time.time(),
        "integrationId": integration_id,
        "objectType": object_type,
        "clientRequestId": crid,
        "requestId": request_id,
        "status": "FAILED" if verdict.failed else "DONE",
        "totalErrorCount": verdict.error_count,
        "totalSuccessCount": verdict.success,
    }


def _integration_id(request: Request) -> int:
    raw = request.param("integrationId")
    if raw is None:
        raise BadRequest("Query parameter integrationId is required")
    # ASCII digits only: str.isdigit also takes "²" or "٣", which int() then refuses or reads
    if not _DIGITS.fullmatch(raw) or not 0 < int(raw) <= MAX_INTEGRATION_ID:
        raise BadRequest(f"integrationId {raw!r} is not a valid integration id")
    return int(raw)


def _object_type(request: Request, allowed: tuple[str, ...]) -> str:
    raw = request.param("objectType")
    if raw not in allowed:
        raise BadRequest(f"objectType must be one of {', '.join(allowed)}")
    return raw


def _client_request_id(request: Request) -> str:
    raw = request.param("clientRequestId")
    if raw is None:
        raise BadRequest("Query parameter clientRequestId is required")
    if not _CRID.fullmatch(raw):
        raise BadRequest("clientRequestId may hold only letters, digits, '-' and '_'")
    return raw


def _schema_field(item: object, number: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise BadRequest(f"Field definition {number} is not an object")
    for key in ("uniqueName", "label", "type"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise BadRequest(f"Field definition {number}: {key} is required")
    for key, kind in _OPTIONAL_KINDS.items():
        if item.get(key) is not None and not _is_kind(item[key], kind):
            raise BadRequest(f"Field definition {number}: {key} must be {kind}")
    if item["type"] not in _FIELD_TYPES:
        raise BadRequest(f"Field definition {number}: unknown type {item['type']!r}")
    if item["type"] == "REFERENCE" and item.get("referenceTo") not in _REFERENCE_TARGETS:
        raise BadRequest(f"Field definition {number}: referenceTo is required for REFERENCE")
    if item["type"] == "PICKLIST" and not item.get("orderedValueList"):
        raise BadRequest(f"Field definition {number}: orderedValueList is required for PICKLIST")
    # like a typed server, keep only the fields of GenericSchemaFieldRequest
    return {k: v for k, v in item.items() if k in _SCHEMA_KEYS and v is not None}


def _is_kind(value: object, kind: str) -> bool:
    if kind == "a boolean":
        return isinstance(value, bool)
    if kind == "a string":
        return isinstance(value, str)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
