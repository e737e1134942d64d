"""The committed ``samples/`` folder: realistic CRM files with known defects and saved statuses.

``python bench/generate.py --samples samples`` rebuilds it; a test rebuilds it into a temporary
folder and compares byte for byte, so the files cannot drift from this recipe. The status files
are what Gong answers on FAILED: at most 20 ``{line, description}`` errors (the first bad lines),
with ``totalErrorCount`` counting every bad line.
"""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import Any

import orjson

from ldjfix.gong import descriptions
from ldjfix.ldjson.files import open_input, write_bytes_atomic
from ldjfix.ldjson.lines import parse_line, read_lines
from ldjfix.synth import words as w
from ldjfix.synth.defects import Injected, describe
from ldjfix.synth.generator import FORECASTS, LEAD_SOURCES, manifest_json, write_file
from ldjfix.synth.universe import Universe

SEED = 2025
UNIVERSE = Universe(SEED, accounts=300, users=12, stages=8)
LISTED = 20  # Gong lists at most this many errors per status

# file -> (object type, records, defects planted)
FILES: dict[str, tuple[str, int, dict[str, int]]] = {
    "accounts.ldjson": (
        "ACCOUNT",
        300,
        {
            "missing_object_id": 2,
            "long_object_id": 1,
            "bad_object_id_chars": 2,
            "millis_modified_date": 4,
            "bad_datetime": 1,
            "missing_modified_date": 1,
            "domains_not_array": 2,
            "is_deleted_as_string": 1,
            "bad_url": 1,
            "invalid_json": 1,
            "domain_is_url": 4,
            "name_too_long": 2,
        },
    ),
    "contacts.ldjson": (
        "CONTACT",
        300,
        {
            "missing_object_id": 2,
            "bad_object_id_chars": 1,
            "missing_modified_date": 3,
            "millis_modified_date": 3,
            "bad_datetime": 2,
            "is_deleted_as_string": 1,
            "bad_url": 1,
            "not_object": 1,
            "invalid_json": 1,
            "dangling_account_ref": 7,
        },
    ),
    "deals.ldjson": (
        "DEAL",
        200,
        {
            "close_date_with_time": 3,
            "bad_status_enum": 2,
            "amount_as_string": 3,
            "millis_modified_date": 1,
            "dangling_account_ref": 2,
            "dangling_owner_ref": 2,
            "dangling_stage_ref": 2,
            "name_too_long": 1,
        },
    ),
    "users.ldjson": ("BUSINESS_USER", 12, {"missing_email": 1}),
    "stages.ldjson": ("STAGE", 8, {}),
}
STATUSES = {"accounts-status.json": "accounts.ldjson", "contacts-status.json": "contacts.ldjson"}
GENERAL_STATUS = "general-error-status.json"
MANIFEST = "defects.json"
ENTITY_SCHEMA = "entity-schema.json"
_MODIFIED = "2024-01-02T09:00:00Z"


def make_samples(folder: str | Path) -> dict[str, list[Injected]]:
    """Write every sample file into ``folder`` (created if needed); return what was planted."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    planted = {
        name: write_file(folder / name, kind, count, seed=SEED, defects=defects, universe=UNIVERSE)
        for name, (kind, count, defects) in FILES.items()
    }
    write_bytes_atomic(folder / MANIFEST, manifest_json(planted))
    for status_name, data_name in STATUSES.items():
        doc = failed_status(folder / data_name, planted[data_name], FILES[data_name][1])
        write_bytes_atomic(folder / status_name, _pretty(doc))
    write_bytes_atomic(folder / GENERAL_STATUS, _pretty(general_status()))
    write_bytes_atomic(folder / ENTITY_SCHEMA, _pretty(entity_schema()))
    return planted


def failed_status(path: Path, planted: list[Injected], records: int) -> dict[str, Any]:
    """A FAILED status for ``path`` as Gong shapes it: the first 20 bad lines, true totals."""
    first = sorted(planted, key=lambda item: item.line)[:LISTED]
    with open_input(path) as stream:
        lines, _ = read_lines(stream, [item.line for item in first])
    errors = [
        {"line": item.line, "description": describe(item.kind, parse_line(lines[item.line]).record)}
        for item in first
    ]
    return {
        "requestId": _request_id(path.name),
        "status": "FAILED",
        "errors": errors,
        "totalErrorCount": len(planted),
        "totalSuccessCount": records - len(planted),
    }


def general_status() -> dict[str, Any]:
    """A FAILED status with one file-level (``line: 0``) error, as for an unreadable upload."""
    detail = "the file is not UTF-8 LDJSON with one JSON object per line"
    return {
        "requestId": _request_id(GENERAL_STATUS),
        "status": "FAILED",
        "errors": [{"line": 0, "description": descriptions.invalid("dataFile", detail)}],
        "totalErrorCount": 0,
        "totalSuccessCount": 0,
    }


def entity_schema() -> dict[str, Any]:
    """A saved ``GET /v2/crm/entity-schema`` response declaring the generator's custom fields."""

    def field(name: str, label: str, kind: str, values: tuple[str, ...] = ()) -> dict[str, Any]:
        item = {"uniqueName": name, "label": label, "type": kind, "lastModified": _MODIFIED}
        return item | ({"orderedValueList": list(values)} if values else {})

    return {
        "requestId": _request_id(ENTITY_SCHEMA),
        "objectTypeToSelectedFields": {
            "ACCOUNT": [
                field("industry", "Industry", "PICKLIST", w.INDUSTRIES),
                field("type", "Account Type", "PICKLIST", w.ACCOUNT_TYPES),
                field("numberOfEmployees", "Employees", "NUMBER"),
                field("annualRevenue", "Annual Revenue", "CURRENCY"),
                field("billingCity", "Billing City", "STRING"),
                field("billingCountry", "Billing Country", "STRING"),
                field("phone", "Phone", "PHONENUMBER"),
                field("website", "Website", "URL"),
                field("accountNumber", "Account Number", "STRING"),
                field("description", "Description", "STRING"),
            ],
            "CONTACT": [],
            "DEAL": [field("forecastCategory", "Forecast Category", "PICKLIST", FORECASTS)],
            "LEAD": [
                field("company", "Company", "STRING"),
                field("leadSource", "Lead Source", "PICKLIST", LEAD_SOURCES),
            ],
        },
    }


def _request_id(name: str) -> str:
    """A Gong-looking request id (like ``4al018gzaztcr8nbukw``), fixed per sample."""
    rng = random.Random(f"{SEED}:{name}")
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=19))


def _pretty(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
