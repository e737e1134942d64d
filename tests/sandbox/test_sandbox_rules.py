"""The sandbox's own judgement of uploaded files: line numbering, rules, file-level failures."""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any

import orjson
import pytest

from ldjfix.gong import descriptions as say
from ldjfix.gong.limits import MAX_UPLOAD_BYTES
from ldjfix.sandbox.judge import Judgement, check_record, judge_file

NOW = "2024-01-01T00:00:00Z"
TIERS = {
    "tier": {
        "uniqueName": "tier",
        "label": "Tier",
        "type": "PICKLIST",
        "orderedValueList": ["A", "B"],
    }
}
CUSTOM = {
    **TIERS,
    "score": {"uniqueName": "score", "label": "Score", "type": "PERCENT"},
    "renewal": {"uniqueName": "renewal", "label": "Renewal", "type": "DATE"},
    "site": {"uniqueName": "site", "label": "Site", "type": "URL"},
    "owner": {"uniqueName": "owner", "label": "Owner", "type": "REFERENCE", "referenceTo": "USER"},
}


def judge(
    data: bytes,
    kind: str = "ACCOUNT",
    known: set[tuple[str, str]] | None = None,
    custom: dict[str, Any] | None = None,
) -> Judgement:
    """Judge bytes as an uploaded file."""
    found = known or set()
    return judge_file(
        data,
        0,
        len(data),
        object_type=kind,
        custom=custom or {},
        known=lambda t, k: (t, k) in found,
    )


CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("ACCOUNT", {"objectId": "a", "modifiedDate": NOW}, None),
    ("ACCOUNT", {"modifiedDate": NOW}, say.mandatory("objectId")),
    ("ACCOUNT", {"objectId": "  ", "modifiedDate": NOW}, say.mandatory("objectId")),
    ("ACCOUNT", {"objectId": "a"}, say.mandatory("modifiedDate")),
    ("ACCOUNT", {"objectId": 7, "modifiedDate": NOW}, say.invalid("objectId", "must be a string")),
    ("ACCOUNT", {"objectId": "x" * 65, "modifiedDate": NOW}, say.too_long("objectId", 64)),
    ("ACCOUNT", {"objectId": "a_b-C9", "modifiedDate": NOW}, None),
    ("ACCOUNT", {"objectId": "jo@acme.com", "modifiedDate": NOW}, None),
    (
        "ACCOUNT",
        {"objectId": "a#1", "modifiedDate": NOW},
        say.invalid("objectId", "only letters, digits, '-' and '_', or an email address"),
    ),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": "2024-01-01T00:00:00.5Z"}, "[modifiedDate]"),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": "2024-01-01T00:00:00"}, "[modifiedDate]"),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": "2024-02-30T00:00:00Z"}, "[modifiedDate]"),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": "2024-01-01T00:00:00+02:00"}, None),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": NOW, "domains": "a.com"}, "[domains]"),
    (
        "ACCOUNT",
        {"objectId": "a", "modifiedDate": NOW, "domains": ["http://a.com"]},
        say.invalid("domains", "'http://a.com' is not a bare domain name like acme.com"),
    ),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": NOW, "domains": ["a.com/x"]}, "[domains]"),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": NOW, "domains": ["sub.a.co.uk"]}, None),
    (
        "ACCOUNT",
        {"objectId": "a", "modifiedDate": NOW, "name": "n" * 256},
        say.too_long("name", 255),
    ),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": NOW, "isDeleted": "false"}, "[isDeleted]"),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": NOW, "url": "crm.com/a"}, "[url]"),
    ("ACCOUNT", {"objectId": "a", "modifiedDate": NOW, "url": "https://crm.com/a"}, None),
    ("BUSINESS_USER", {"objectId": "u", "modifiedDate": NOW}, say.mandatory("emailAddress")),
    ("BUSINESS_USER", {"objectId": "u", "modifiedDate": NOW, "isDeleted": True}, None),
    ("STAGE", {"objectId": "s"}, say.mandatory("name")),
    ("STAGE", {"objectId": "s", "name": "Won"}, None),
    ("STAGE", {"objectId": "s", "name": "Won", "sortOrder": 0}, "[sortOrder]"),
    ("STAGE", {"objectId": "s", "name": "Won", "isActive": 1}, "[isActive]"),
    ("DEAL", {"objectId": "d", "modifiedDate": NOW, "status": "open"}, "[status]"),
    ("DEAL", {"objectId": "d", "modifiedDate": NOW, "amount": "12"}, "[amount]"),
    ("DEAL", {"objectId": "d", "modifiedDate": NOW, "amount": True}, "[amount]"),
    (
        "DEAL",
        {"objectId": "d", "modifiedDate": NOW, "closeDate": "2024-01-01T00:00:00Z"},
        "[closeDate]",
    ),
    ("DEAL", {"objectId": "d", "modifiedDate": NOW, "createdDate": "yesterday"}, "[createdDate]"),
    (
        "DEAL",
        {
            "objectId": "d",
            "modifiedDate": NOW,
            "status": "WON",
            "amount": 3.5,
            "closeDate": "2024-05-01",
        },
        None,
    ),
    ("CONTACT", {"objectId": "c", "modifiedDate": NOW, "status": "anything"}, None),
]


@pytest.mark.parametrize(("kind", "record", "expected"), CASES)
def test_sandbox_rules_single_record(
    kind: str, record: dict[str, Any], expected: str | None
) -> None:
    """Each documented rule gives its Gong-style description (or none for a good record)."""
    found = check_record(record, kind, {})
    if expected is None or not expected.startswith("["):
        assert found == expected
    else:
        assert found is not None and found.startswith(f"Invalid value for field {expected}")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ({"tier": "A"}, True),
        ({"tier": "C"}, False),
        ({"score": 101}, False),
        ({"score": 7.5}, True),
        ({"renewal": "2024-13-01"}, False),
        ({"site": "ftp://x"}, False),
        ({"tier": None}, True),
        ({"unknownField": object()}, True),
    ],
)
def test_sandbox_rules_custom_fields_typed_by_schema(value: dict[str, Any], ok: bool) -> None:
    """Custom fields are checked against the stored entity schema; unknown ones are ignored."""
    found = check_record({"objectId": "a", "modifiedDate": NOW, **value}, "ACCOUNT", CUSTOM)
    assert (found is None) is ok
    if not ok:
        assert found is not None and f"[{next(iter(value))}]" in found


def test_sandbox_rules_dangling_references() -> None:
    """References to objects never received for the integration are server-only errors."""
    deal = {
        "objectId": "d",
        "modifiedDate": NOW,
        "accountId": "acc",
        "ownerId": "u1",
        "stage": "s1",
    }
    lines = orjson.dumps(deal) + b"\n" + orjson.dumps({**deal, "objectId": "d2", "stage": "s9"})
    known = {("ACCOUNT", "acc"), ("BUSINESS_USER", "u1"), ("STAGE", "s1")}
    verdict = judge(lines, "DEAL", known)
    assert verdict.errors == [(2, say.dangling("stage", "s9"))]
    assert judge(orjson.dumps(deal), "DEAL", set()).errors == [
        (1, say.dangling("accountId", "acc"))
    ]
    lead = {"objectId": "l", "modifiedDate": NOW, "convertedToContactId": "c7"}
    assert judge(orjson.dumps(lead), "LEAD").errors == [
        (1, say.dangling("convertedToContactId", "c7"))
    ]
    custom = {"objectId": "a", "modifiedDate": NOW, "owner": "u2"}
    assert judge(orjson.dumps(custom), custom=CUSTOM).errors == [(1, say.dangling("owner", "u2"))]
    gone = {**deal, "isDeleted": True}
    assert judge(orjson.dumps(gone), "DEAL").errors == []


def test_sandbox_rules_numbers_physical_lines(tmp_path: Path) -> None:
    """Lines count from 1 at \\n only; blank lines are errors of their own line; BOM skipped."""
    good = b'{"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z","n":"x\\u2028y\xe2\x80\xa8"}'
    data = b"\xef\xbb\xbf" + good + b"\r\n\n  \n" + good + b"\rmore\n[1]\n" + good
    verdict = judge(data)
    assert [n for n, _ in verdict.errors] == [2, 3, 4, 5]
    assert verdict.errors[0][1] == say.unparsable("the line is empty")
    assert verdict.errors[3][1] == say.unparsable("the line is not a JSON object")
    assert verdict.success == 2
    assert list(verdict.upserts) == ["a"]


def test_sandbox_rules_last_line_wins_and_deletes() -> None:
    """Records upsert by objectId in file order; isDeleted removes the record."""
    first = {"objectId": "a", "modifiedDate": NOW, "name": "old"}
    data = b"\n".join(
        orjson.dumps(r)
        for r in (
            first,
            {**first, "name": "new"},
            {"objectId": "b", "modifiedDate": NOW, "isDeleted": True},
        )
    )
    verdict = judge(data)
    assert orjson.loads(verdict.upserts["a"])["name"] == "new"
    assert verdict.deletes == {"b"} and verdict.success == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"\n \n", "The file is empty"),
        (
            b'{"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z"}\n{"name":"caf\xe9"}\n',
            "The file is not valid UTF-8 (line 2)",
        ),
    ],
)
def test_sandbox_rules_unreadable_file_fails_on_line_0(data: bytes, message: str) -> None:
    """An empty or non-UTF-8 file fails as a whole: one error on line 0, nothing kept."""
    verdict = judge(data)
    assert verdict.errors == [(0, message)]
    assert verdict.success == 0 and not verdict.upserts


def test_sandbox_rules_oversized_file_fails_on_line_0(tmp_path: Path) -> None:
    """A file over 200 MB fails as a whole (checked before reading it; sparse file here)."""
    path = tmp_path / "huge.ldjson"
    with open(path, "wb") as stream:
        stream.truncate(MAX_UPLOAD_BYTES + 1)
    with open(path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as m:
        verdict = judge_file(
            m, 0, len(m), object_type="ACCOUNT", custom={}, known=lambda t, k: False
        )
    assert verdict.errors == [
        (0, f"File size {MAX_UPLOAD_BYTES + 1} bytes exceeds the maximum of 200 MB")
    ]


def test_sandbox_rules_every_error_counted_one_per_line() -> None:
    """A line breaking several rules gets one error (the first); totals count lines."""
    bad = b'{"objectId":"a#","modifiedDate":"x"}'
    verdict = judge(b"\n".join([bad] * 30))
    assert len(verdict.errors) == 30 and verdict.success == 0
    assert all("[objectId]" in text for _, text in verdict.errors)


def test_sandbox_rules_broken_in_a_fixed_order() -> None:
    """A record breaking every rule is told them one at a time, in the documented order."""
    record: dict[str, Any] = {
        "objectId": "a#1",
        "modifiedDate": "2024-01-01T00:00:00.5Z",
        "isDeleted": "no",
        "domains": ["a.com", 3],
        "url": "crm.com/a",
        "name": "n" * 256,
        "tier": "C",
        "score": 101,
        "owner": "u9",
    }
    steps: list[tuple[str, dict[str, Any]]] = [
        ("[objectId]", {"objectId": "a"}),
        ("[modifiedDate]", {"modifiedDate": NOW}),
        ("[isDeleted]", {"isDeleted": False}),
        ("[domains]: expected an array of strings", {"domains": ["http://a.com"]}),
        ("[url]", {"url": "https://crm.com/a"}),  # the field checks come before domain names
        ("[domains]: 'http://a.com' is not a bare domain", {"domains": ["a.com"]}),
        ("[name]", {"name": "n"}),
        ("[tier]", {"tier": "A"}),  # custom fields in the order of the entity schema
        ("[score]", {"score": 50}),
        ("Referenced object [owner]", {"owner": "u1"}),  # references after every other rule
    ]
    for expected, repair in steps:
        errors = judge(orjson.dumps(record), custom=CUSTOM, known={("BUSINESS_USER", "u1")}).errors
        assert len(errors) == 1 and expected in errors[0][1], (expected, errors)
        record.update(repair)
    assert judge(orjson.dumps(record), custom=CUSTOM, known={("BUSINESS_USER", "u1")}).success == 1


def test_sandbox_rules_business_user_email_mandatory_after_the_others() -> None:
    """BUSINESS_USER's emailAddress is mandatory after objectId and modifiedDate, unless deleted."""
    assert check_record({"objectId": "u"}, "BUSINESS_USER", {}) == say.mandatory("modifiedDate")
    deleted = {"objectId": "u", "isDeleted": True}
    assert check_record(deleted, "BUSINESS_USER", {}) == say.mandatory("modifiedDate")
    assert check_record({**deleted, "modifiedDate": NOW}, "BUSINESS_USER", {}) is None
    live = {"objectId": "u", "modifiedDate": NOW, "emailAddress": " "}
    assert check_record(live, "BUSINESS_USER", {}) == say.mandatory("emailAddress")
