"""The judge's schema screen: never looser than the rules, so verdicts match the unscreened path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldjfix.gong.limits import UPLOAD_TYPES
from ldjfix.sandbox.judge import Judgement, judge_lines
from ldjfix.sandbox.rules import RecordRules
from ldjfix.sandbox.screen import screen_for

NOW = "2024-01-01T00:00:00Z"
KNOWN = {("ACCOUNT", "acc-1"), ("BUSINESS_USER", "u-1"), ("STAGE", "s-1"), ("DEAL", "d-1")}
KNOWN |= {("CONTACT", "c-1"), ("BUSINESS_USER", "jo@acme.com")}
# every custom-field type of the entity schema, and names that are standard fields too
CUSTOM: dict[str, dict[str, Any]] = {
    "tier": {"type": "PICKLIST", "orderedValueList": ["A", "B"]},
    "rank": {"type": "PICKLIST", "orderedValueList": [1, 2]},
    "empty": {"type": "PICKLIST"},
    "score": {"type": "PERCENT"},
    "price": {"type": "CURRENCY"},
    "count": {"type": "NUMBER"},
    "renewal": {"type": "DATE"},
    "seen": {"type": "DATETIME"},
    "flag": {"type": "BOOLEAN"},
    "site": {"type": "URL"},
    "mail": {"type": "EMAILADDRESS"},
    "phone": {"type": "PHONENUMBER"},
    "tags": {"type": "STRINGARRAY"},
    "code": {"type": "ID"},
    "note": {"type": "STRING"},
    "owner": {"type": "REFERENCE", "referenceTo": "USER"},
    "odd": {"type": "SOMETHING_NEW"},
    "name": {"type": "STRING"},
    "modifiedDate": {"type": "DATETIME"},
}
STANDARD = {"name", "modifiedDate"}  # custom fields named as standard ones
# a record of each type that breaks no rule (references resolve against KNOWN)
GOOD: dict[str, dict[str, Any]] = {
    "ACCOUNT": {"url": "https://acme.com/a?b=1#c", "name": "Acme", "domains": ["acme.com"]},
    "CONTACT": {"accountId": "acc-1", "name": "Jo"},
    "DEAL": {
        "createdDate": "2023-02-28T23:59:59-05:30",
        "closeDate": "2024-12-31",
        "status": "OPEN",
        "amount": 12.5,
        "accountId": "acc-1",
        "ownerId": "u-1",
        "stage": "s-1",
    },
    "LEAD": {"convertedToDealId": "d-1", "convertedToContactId": "c-1"},
    "BUSINESS_USER": {"emailAddress": "jo@acme.com"},
    "STAGE": {"name": "Won", "isActive": True},
}
GOOD_CUSTOM = {"tier": "A", "score": 100, "renewal": "2024-06-30", "flag": False, "tags": []}
GOOD_CUSTOM |= {"site": "http://x.io", "mail": "a.b+c@mail.acme.io", "owner": "u-1", "seen": NOW}


def good(kind: str, custom: bool, object_id: str = "id-1") -> dict[str, Any]:
    """A record of ``kind`` that breaks no rule (with good custom values when ``custom``)."""
    head = {"objectId": object_id, "modifiedDate": NOW, "isDeleted": False}
    if kind == "STAGE":
        del head["modifiedDate"]
    return head | GOOD[kind] | (GOOD_CUSTOM if custom else {})


def verdict(lines: list[bytes], kind: str, custom: bool, *, screen: bool) -> tuple[Any, ...]:
    """Everything a judgement of ``lines`` decides: errors, counts and each kept record."""
    kept: list[tuple[str, bytes, bool]] = []
    found = judge_lines(
        enumerate(lines, 1),
        Judgement(),
        object_type=kind,
        custom=CUSTOM if custom else {},
        known=lambda t, k: (t, k) in KNOWN,
        keep=lambda key, line, deleted: kept.append((key, line, deleted)),
        screen=screen,
    )
    return found.errors, found.error_count, found.success, found.whole, kept


def assert_same_verdict(lines: list[bytes], kind: str, custom: bool) -> None:
    """The screened judge decides ``lines`` exactly as the rules alone do."""
    expected = verdict(lines, kind, custom, screen=False)
    assert verdict(lines, kind, custom, screen=True) == expected


def assert_sound(record: dict[str, Any], kind: str, custom: bool) -> None:
    """A record the screen passes is one the rules pass."""
    rules = RecordRules.of(kind, CUSTOM if custom else {})
    if screen_for(rules)(record):
        assert rules.first_broken(record) is None, record


@pytest.mark.parametrize("custom", [False, True])
@pytest.mark.parametrize("kind", UPLOAD_TYPES)
def test_screen_passes_good_records(kind: str, custom: bool) -> None:
    """A plainly good record of every type takes the shortcut (the screen is not a no-op)."""
    rules = RecordRules.of(kind, CUSTOM if custom else {})
    assert rules.first_broken(good(kind, custom)) is None
    assert screen_for(rules)(good(kind, custom))


DATETIMES: list[Any] = ["2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z"]
DATETIMES += ["2024-01-31T00:00:00+23:59", "2024-01-01T00:00:00+24:00", "2024-01-01T24:00:00Z"]
DATETIMES += ["0000-01-01T00:00:00Z", "0999-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z"]
DATETIMES += ["2024-01-01T00:00:60Z", "2024-01-01T00:00:00", "2024-01-01 00:00:00Z", "２０２４"]
DATETIMES += ["٢٠٢٤-01-01T00:00:00Z", "2024-01-01T00:00:00Z\n", " 2024-01-01T00:00:00Z", 20240101]
DATETIMES += ["2024-01-01T00:00:0001:00", "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00z"]
DATETIMES += ["2024-01-01T00:00:00-00:00", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z"]
NAMES: list[Any] = ["x" * 255, "x" * 256, "😀" * 255, "😀" * 256, "e\u0301" * 127 + "e"]
NAMES += ["e\u0301" * 128, "", " ", "\u3000", "\x1c", 7, ["a"], True]
TEXTS = ["", " ", "\t", "\u3000", "\x1c", "\u00a0", "a", "ab c", "\n"]
OBJECT_IDS = ["a" * 64, "a" * 65, "٣", "a b", "a\n", "jo@acme.com", "jo@acme", "jo@@a.b"]
OBJECT_IDS += [f"{'a' * 55}@acme.com", f"{'a' * 56}@acme.com", "é@acme.com", 7, 7.0, True, None]
DOMAINS: list[Any] = [[], ["a.co"], ["-a.com"], ["a-.com"], ["a.c"], ["a" * 63 + ".com"]]
DOMAINS += [["a" * 64 + ".com"], [("a" * 61 + ".") * 4 + "com"], [("a" * 62 + ".") * 4 + "com"]]
DOMAINS += [[("a" * 62 + ".") * 4 + "co"], [("a" * 62 + ".") * 3 + "a" * 61 + ".co"]]  # 254, 253
DOMAINS += [["a." + "b" * 63], ["a." + "b" * 64], ["a.b2"], ["a.com."], [".a.com"]]
DOMAINS += [["a.com\n"], ["ａ.com"], ["a.com", 5], [None], "a.com", {"a": 1}, ["a..com"], ["1.2"]]
URLS = ["https://a.com", "http://", "https:// a", "https://a.com/é", "https://a.com\n", "ftp://a"]
URLS += ["https://a.com/ b", "HTTPS://a.com", "https://?a", "https://[::1]/", "http://a", 5]
URLS += ["https://a.com/x\u3000", "https://a.com/x\x1c", "https://#"]
DATES: list[Any] = ["2024-02-29", "2023-02-29", "2024-06-31", "0000-01-01", "2024-1-01", "2024"]
DATES += ["٢٠٢٤-01-01", "2024-01-01T00:00:00Z", "2024-01-01\n", 20240101, "2024-12-31"]
EDGES: dict[str, list[Any]] = {
    "objectId": [*OBJECT_IDS, *TEXTS],
    "modifiedDate": DATETIMES,
    "createdDate": DATETIMES,
    "seen": DATETIMES,
    "closeDate": DATES,
    "renewal": DATES,
    "isDeleted": [True, False, None, 0, 1, 1.0, "true"],
    "isActive": [True, 0, 1, "false"],
    "flag": [True, 0, 1, 1.0, "true"],
    "sortOrder": [1, 2, 0, -1, 1.0, 2.5, True, "1"],
    "status": ["WON", "LOST", "won", "", 1, ["WON"]],
    "amount": [0, -1.5, 2**64 - 1, 1e308, True, False, "1", [1]],
    "price": [0, 1.5, True, "1"],
    "count": [3, False, None, "3"],
    "score": [0, 100, 100.0, 100.000001, -0.0, -1, 101, True, False, "50"],
    "domains": DOMAINS,
    "tags": [[], ["a", "b"], ["a", 1], "a", [None]],
    "url": URLS,
    "site": URLS,
    "name": NAMES,
    "emailAddress": ["jo@acme.com", 5, *TEXTS],
    "mail": ["a@b.c", "a@b", "a b@c.d", "a@b.c\u00a0", "é@b.c", "@b.c", 5],
    "tier": ["A", "B", "C", "a", 1, None, ["A"]],
    "rank": [1, 2, 1.0, True, "1", 3],
    "empty": ["A", 0, None],
    "phone": ["+1 555", 5, None],
    "code": ["x", 1],
    "note": [" ", 1],
    "owner": ["u-1", "u-2", "", 5],
    "accountId": ["acc-1", "acc-2", "", 5, None],
    "stage": ["s-1", "s-2"],
    "convertedToDealId": ["d-1", "d-9"],
    "odd": [1, "x", [1], {"a": None}],
}


def edge_records(kind: str, custom: bool) -> list[dict[str, Any]]:
    """A good record of ``kind`` with one field set to each edge value, or left out."""
    records = []
    for name, values in EDGES.items():
        for value in values:
            record = good(kind, custom) | {name: value}
            records += [record, record | {"isDeleted": True}]
        records.append({k: v for k, v in good(kind, custom).items() if k != name})
    return records


@pytest.mark.parametrize("custom", [False, True])
@pytest.mark.parametrize("kind", UPLOAD_TYPES)
def test_screen_edge_values_keep_the_verdict(kind: str, custom: bool) -> None:
    """Each rule's edge values, in a good record of every type: the verdict of the rules alone."""
    records = edge_records(kind, custom)
    for record in records:
        assert_sound(record, kind, custom)
    assert_same_verdict([orjson.dumps(record) for record in records], kind, custom)


DEEPEST = b"[" * 1023 + b"]" * 1023  # as deep as orjson reads (with the record around it)
RAW_LINES = [
    b'{"objectId":"a","modifiedDate":"2024-01-01T00:00:00.5Z","modifiedDate":"2024-01-01T00:00:00Z"}',
    b'{"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z","modifiedDate":"2024-01-01T00:00:00.5Z"}',
    b'{"objectId":"a b","objectId":"a","modifiedDate":"2024-01-01T00:00:00Z"}',
    b'  {"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z"}\t',
    b'{"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z","amount":1.0,"sortOrder":1.0}',
    b'{"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z","amount":1e2,"score":1E2}',
    b'{"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z","name":"\\ud83d\\ude00"}',
    b'{"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z","count":123456789012345678901234567}',
    b'{"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z","deep":%s}' % DEEPEST,
    b'[{"objectId":"a","modifiedDate":"2024-01-01T00:00:00Z"}]',
    b'"text"',
    b"",
    b"   ",
    b'{"objectId":"a",',
    b'{"objectId":"\xc3\xa9","modifiedDate":"2024-01-01T00:00:00Z"}',
]


@pytest.mark.parametrize("custom", [False, True])
@pytest.mark.parametrize("kind", UPLOAD_TYPES)
def test_screen_raw_lines_keep_the_verdict(kind: str, custom: bool) -> None:
    """Duplicate keys, padding, 1.0, escapes, deep nesting, non-objects, bad JSON: same verdict."""
    assert_same_verdict(RAW_LINES, kind, custom)
    assert_same_verdict([*RAW_LINES, b"\xff"], kind, custom)  # not UTF-8: the whole file fails


def test_screen_spares_good_records_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the records the screen refuses (bad ones, 29 February) reach the Python rules."""
    reached: list[str] = []
    real = RecordRules.first_broken

    def noted(rules: RecordRules, record: dict[str, Any]) -> str | None:
        reached.append(record.get("objectId"))
        return real(rules, record)

    monkeypatch.setattr(RecordRules, "first_broken", noted)
    records = [good("DEAL", True, "leap") | {"modifiedDate": "2024-02-29T00:00:00Z"}]
    records += [good("DEAL", True, f"g{n}") for n in range(5)]
    records += [good("DEAL", True, "bad") | {"amount": "3"}]
    assert verdict([orjson.dumps(r) for r in records], "DEAL", True, screen=True)[2] == 6
    assert reached == ["leap", "bad"]


def test_screen_standing_aside_keeps_the_verdict() -> None:
    """A long file the screen mostly refuses, then good lines: the verdict of the rules alone."""
    bad = good("ACCOUNT", False) | {"modifiedDate": "2024-01-01T00:00:00.000Z"}
    lines = [orjson.dumps(bad | {"objectId": f"b{n}"}) for n in range(2500)]
    records = [good("ACCOUNT", False, f"g{n}") for n in range(500)] + edge_records("ACCOUNT", False)
    lines += [orjson.dumps(record) for record in records]
    assert_same_verdict(lines, "ACCOUNT", custom=False)


def test_screen_dates_are_ones_python_reads() -> None:
    """Every day and offset the date-time pattern takes is a date-time Python's rules take."""
    rules = RecordRules.of("ACCOUNT", {})
    passes = screen_for(rules)
    taken = 0
    for year in (0, 1, 999, 1000, 2023, 2024, 2100, 9999):
        for month in range(0, 14):
            for day in range(0, 33):
                for zone in ("Z", "+23:59", "-00:00", "+14:00"):
                    stamp = f"{year:04}-{month:02}-{day:02}T23:59:59{zone}"
                    record = {"objectId": "a", "modifiedDate": stamp}
                    if passes(record):
                        taken += 1
                        assert rules.first_broken(record) is None, stamp
                        dt.datetime.fromisoformat(stamp)
    assert taken > 5 * 4 * 300  # every day of every month but 29 February


def _values() -> st.SearchStrategy[Any]:
    edges = sorted({repr(v): v for vs in EDGES.values() for v in vs}.items())
    leaves = st.one_of(
        st.sampled_from([v for _, v in edges]),
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        st.text(alphabet="aZ09-_.@:/ \t\u3000é٣", max_size=70),
    )
    return st.one_of(leaves, st.lists(leaves, max_size=3))


@st.composite
def judged_files(draw: st.DrawFn) -> tuple[str, bool, list[bytes]]:
    """A type, with or without custom fields, and good records with a few fields changed."""
    kind = draw(st.sampled_from(UPLOAD_TYPES))
    custom = draw(st.booleans())
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        record = good(kind, custom, object_id=draw(st.sampled_from(["a", "b", "acc-1"])))
        fields = sorted(EDGES) if custom else sorted(set(EDGES) - set(CUSTOM) | STANDARD)
        for name in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=2)):
            edge = draw(st.integers(0, 3)) > 0  # mostly the field's own edges, some noise
            record[name] = draw(st.sampled_from(EDGES[name]) if edge else _values())
        if draw(st.integers(0, 9)) == 0:
            record.pop(draw(st.sampled_from(sorted(record))))
        lines.append(orjson.dumps(record))
    return kind, custom, lines


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(judged_files())
def test_screen_differential_random_files(file: tuple[str, bool, list[bytes]]) -> None:
    """Random near-good files of every type: the screened verdict is the rules' verdict."""
    kind, custom, lines = file
    for line in lines:
        assert_sound(orjson.loads(line), kind, custom)
    assert_same_verdict(lines, kind, custom)
