"""The generator: seeded, realistic, consistent across files, and safe to write."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldjfix.ldjson.lines import iter_lines
from ldjfix.synth import generator as synth
from ldjfix.synth.defects import kinds_for
from ldjfix.synth.universe import Universe

_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)")


def _lines(object_type: str, count: int, **kwargs: Any) -> list[bytes]:
    return [line for line, _ in synth.records(object_type, count, **kwargs)]


@pytest.mark.parametrize("object_type", synth.OBJECT_TYPES)
def test_synth_records_same_seed_same_bytes(object_type: str) -> None:
    """The same seed gives the same lines and defects; another seed gives other lines."""
    defects = dict.fromkeys(kinds_for(object_type)[:3], 1)
    first = list(synth.records(object_type, 8, seed=4, defects=defects))
    assert first == list(synth.records(object_type, 8, seed=4, defects=defects))
    assert _lines(object_type, 8, seed=4) != _lines(object_type, 8, seed=5)


@pytest.mark.parametrize("object_type", synth.OBJECT_TYPES)
def test_synth_records_clean_lines_independent_of_defects(object_type: str) -> None:
    """A file with defects differs from the clean file of its seed only on planted lines."""
    defects = dict.fromkeys(kinds_for(object_type)[:4], 1)
    clean = _lines(object_type, 8, seed=9)
    dirty = list(synth.records(object_type, 8, seed=9, defects=defects))
    changed = {n for n, (line, _) in enumerate(dirty) if line != clean[n]}
    assert changed == {n for n, (_, injected) in enumerate(dirty) if injected is not None}
    assert len(changed) == sum(defects.values())


@pytest.mark.parametrize("object_type", synth.OBJECT_TYPES)
def test_synth_records_follow_gong_field_rules(object_type: str) -> None:
    """Clean records are JSON objects with a good objectId and ISO-8601 dates without ms."""
    for line in _lines(object_type, 300 if object_type != "STAGE" else 8, seed=2):
        record = orjson.loads(line)
        assert re.fullmatch(r"[A-Za-z0-9-]{1,64}", record["objectId"])
        assert _ISO.fullmatch(record["modifiedDate"])
        if object_type == "DEAL":
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", record["closeDate"])
            assert record["closeDate"] > record["createdDate"][:10]
            assert record["status"] in ("WON", "LOST", "OPEN")
            assert isinstance(record["amount"], int | float)
        if object_type == "ACCOUNT":
            assert all(re.fullmatch(r"[a-z0-9.-]+\.[a-z.]+", d) for d in record["domains"])
        if object_type in ("CONTACT", "LEAD", "BUSINESS_USER"):
            assert re.fullmatch(r"[a-z0-9.]+@[a-z0-9.-]+\.[a-z.]+", record["emailAddress"])


def test_synth_records_realistic_variety() -> None:
    """Accounts vary, include non-ASCII names, and some values hold U+2028; lines stay lines."""
    lines = _lines("ACCOUNT", 2_000, seed=1)
    records = [orjson.loads(line) for line in lines]
    names = {record["name"] for record in records}
    assert len(names) > 300
    assert any(not name.isascii() for name in names)
    assert any("株式会社" in name for name in names)
    assert any("\u2028" in record["description"] for record in records)
    assert 450 < sum(map(len, lines)) / len(lines) < 650  # like the design's 200 MB file
    people = [orjson.loads(line) for line in _lines("CONTACT", 500, seed=1)]
    assert any(not p["firstName"].isascii() for p in people)


def test_synth_records_references_resolve_to_clean_records(tmp_path: Path) -> None:
    """Clean contacts and deals refer only to accounts, users and stages that are clean lines."""
    universe = Universe(3, accounts=200, users=15, stages=8)
    made = {}
    for object_type, count in (("ACCOUNT", 200), ("BUSINESS_USER", 15), ("STAGE", 8)):
        path = tmp_path / object_type
        kinds = kinds_for(object_type)[: len(universe.spare(object_type))]
        planted = synth.write_file(
            path, object_type, count, seed=3, defects=dict.fromkeys(kinds, 1), universe=universe
        )
        bad = {injected.line for injected in planted}
        made[object_type] = {
            orjson.loads(line.content)["objectId"]
            for line in iter_lines(path.open("rb"))
            if line.number not in bad
        }
    for object_type in ("CONTACT", "DEAL"):
        for line in _lines(object_type, 400, seed=3, universe=universe):
            record = orjson.loads(line)
            assert record["accountId"] in made["ACCOUNT"]
            if object_type == "DEAL":
                assert record["ownerId"] in made["BUSINESS_USER"]
                assert record["stage"] in made["STAGE"]


def test_synth_records_contact_email_matches_account_domain() -> None:
    """A contact's email address uses its account's main domain."""
    universe = Universe(8, accounts=50)
    domains = {
        record["objectId"]: record["domains"][0]
        for record in map(orjson.loads, _lines("ACCOUNT", 50, seed=8, universe=universe))
    }
    for line in _lines("CONTACT", 100, seed=8, universe=universe):
        record = orjson.loads(line)
        assert record["emailAddress"].endswith("@" + domains[record["accountId"]])


def test_synth_records_spare_fifth_never_referenced() -> None:
    """A seeded fifth of the accounts (never the first) is spare: no clean record refers to it."""
    universe = Universe(6, accounts=100, users=10, stages=8)
    spare = universe.spare("ACCOUNT")
    assert len(spare) == 20 and 0 not in spare
    assert len(universe.spare("STAGE")) == 1 and universe.spare("ACCOUNT") is spare
    ids = {universe.account_id(i) for i in spare}
    for line in _lines("DEAL", 500, seed=6, universe=universe):
        assert orjson.loads(line)["accountId"] not in ids


def test_synth_records_user_emails_unique() -> None:
    """Business users get distinct email addresses, even with many users."""
    universe = Universe(2, users=300)
    emails = [orjson.loads(line)["emailAddress"] for line in _lines("BUSINESS_USER", 300, seed=2)]
    assert len(set(emails)) == 300 and set(emails) == set(universe.user_emails)


def test_synth_records_universe_size_must_match() -> None:
    """An ACCOUNT file must hold exactly the universe's accounts, or references would dangle."""
    with pytest.raises(ValueError, match="the universe has 300 ACCOUNT records, not 10"):
        list(synth.records("ACCOUNT", 10, seed=1, universe=Universe(1)))
    with pytest.raises(ValueError, match="at least one account"):
        Universe(1, accounts=0)


def test_synth_records_write_file_atomic_lines(tmp_path: Path) -> None:
    """write_file ends every line with a newline and leaves no file when generation fails."""
    path = tmp_path / "deals.ldjson"
    planted = synth.write_file(path, "DEAL", 50, seed=1, defects={"bad_status_enum": 3})
    data = path.read_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == 50
    assert [i.kind for i in planted] == ["bad_status_enum"] * 3
    broken = tmp_path / "broken.ldjson"
    with pytest.raises(ValueError):
        synth.write_file(broken, "DEAL", 5, seed=1, defects={"domains_not_array": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deals.ldjson"]


def test_synth_records_write_sized_hits_the_size(tmp_path: Path) -> None:
    """write_sized writes about the asked size and spreads the bad lines over the kinds."""
    path = tmp_path / "accounts.ldjson"
    kinds = ["domain_is_url", "name_too_long", "bad_url"]
    planted = synth.write_sized(path, "ACCOUNT", 2_000_000, seed=1, bad=100, kinds=kinds)
    assert 1_900_000 < path.stat().st_size < 2_100_000
    counts = {kind: sum(i.kind == kind for i in planted) for kind in kinds}
    assert counts == {"domain_is_url": 34, "name_too_long": 33, "bad_url": 33}


@settings(max_examples=60, deadline=None)
@given(
    object_type=st.sampled_from(synth.OBJECT_TYPES),
    seed=st.integers(0, 2**32),
    count=st.integers(1, 40),
    picks=st.lists(st.integers(0, 40), max_size=6),
)
def test_synth_records_any_plan_gives_count_lines(
    object_type: str, seed: int, count: int, picks: list[int]
) -> None:
    """Any seed and defect plan that fits gives ``count`` one-line records, defects as asked."""
    kinds = kinds_for(object_type)
    defects: dict[str, int] = {}
    for pick in picks:
        if sum(defects.values()) < count:
            defects[kinds[pick % len(kinds)]] = defects.get(kinds[pick % len(kinds)], 0) + 1
    made = list(synth.records(object_type, count, seed=seed, defects=defects))
    assert len(made) == count
    assert not any(b"\n" in line or b"\r" in line for line, _ in made)
    planted = [injected for _, injected in made if injected is not None]
    assert sorted(i.kind for i in planted) == sorted(
        k for k, n in defects.items() for _ in range(n)
    )
