"""Seeded generator of realistic CRM LDJSON records, with defects planted on purpose.

Files of different object types agree through a :class:`~ldjfix.synth.universe.Universe`. Contacts
and deals never refer to the universe's "spare" fifth of accounts, users and stages, and
defects in ACCOUNT, BUSINESS_USER and STAGE files go to spare lines first: so as long as such a
file has no more defects than spare records, a clean contact or deal never points at a record
that itself fails. Clean lines do not depend on which defects are planted:
a file with defects differs from the clean file of the same seed only on the planted lines.
Records are plain dicts built from a few ``random`` calls each, so 200 MB takes seconds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from ldjfix.gong.limits import UPLOAD_TYPES
from ldjfix.ldjson.files import atomic_output
from ldjfix.synth import words as w
from ldjfix.synth.defects import KINDS, Injected, check_kinds, inject
from ldjfix.synth.universe import SELLER_DOMAIN, Universe, ascii_slug, sf_id

OBJECT_TYPES = UPLOAD_TYPES
_EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z: modified dates fall in 2024 and H1 2025
_SPAN = 545 * 86_400
_CRM = "https://northstar.my.salesforce.com/lightning/r"
Record = dict[str, Any]
LEAD_SOURCES = ("Webinar", "Trade Show", "Website", "Referral", "Cold Call")
FORECASTS = ("Pipeline", "Best Case", "Commit", "Omitted")


def _iso(seconds: int, offset_hours: int = 0) -> str:
    """ISO-8601 date-time without milliseconds, ``Z`` or with an offset."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds + offset_hours * 3600))
    return f"{stamp}Z" if offset_hours == 0 else f"{stamp}{offset_hours:+03d}:00"


def _modified(rng: random.Random) -> str:
    """A plausible ``modifiedDate``: mostly UTC, sometimes with an offset."""
    offset = 0 if rng.random() < 0.85 else rng.choice((-5, -8, 1, 2, 9))
    return _iso(_EPOCH + rng.randrange(_SPAN), offset)


def _phone(rng: random.Random) -> str:
    n = rng.randrange(10**7)
    style = rng.randrange(3)
    if style == 0:
        return f"({rng.randrange(201, 990)}) {n // 10**4:03d}-{n % 10**4:04d}"
    return f"+49 30 {n:07d}" if style == 1 else f"+44 20 {n // 10**4:04d} {n % 10**4:04d}"


def _note(rng: random.Random) -> str:
    note = rng.choice(w.NOTES)
    if rng.random() < 0.02:  # Some CRMs keep soft line breaks: U+2028 inside a string value.
        note = f"{note}\u2028{rng.choice(w.NOTES)}"
    return note


def _common(
    rng: random.Random, object_id: str, url_kind: str | None, *, referable: bool = False
) -> Record:
    record: Record = {"objectId": object_id, "modifiedDate": _modified(rng)}
    # A record others refer to is never a deleted one; other records are, now and then.
    record["isDeleted"] = rng.random() < 0.02 and not referable
    if url_kind:
        record["url"] = f"{_CRM}/{url_kind}/{object_id}/view"
    return record


def _account(rng: random.Random, u: Universe, i: int) -> Record:
    record = _common(rng, u.account_id(i), "Account", referable=u.is_referable("ACCOUNT", i))
    domain = u.account_domain(i)
    city, country = rng.choice(w.CITIES)
    record.update(
        name=u.account_name(i),
        domains=[domain] if rng.random() < 0.8 else [domain, f"{domain.split('.')[0]}.io"],
        industry=rng.choice(w.INDUSTRIES),
        type=rng.choice(w.ACCOUNT_TYPES),
        numberOfEmployees=rng.choice((12, 48, 150, 420, 1_200, 5_000, 23_000)),
        annualRevenue=rng.randrange(1, 5_000) * 10_000,
        billingCity=city,
        billingCountry=country,
        phone=_phone(rng),
        website=f"https://www.{domain}",
        accountNumber=f"AC-{rng.randrange(10**6):06d}",
        description=_note(rng),
    )
    return record


def _person(rng: random.Random, record: Record, domain: str) -> Record:
    first, last = rng.choice(w.FIRST_NAMES), rng.choice(w.LAST_NAMES)
    record.update(
        firstName=first,
        lastName=last,
        emailAddress=f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}",
        title=rng.choice(w.TITLES),
        phoneNumber=_phone(rng),
    )
    return record


def _contact(rng: random.Random, u: Universe, i: int) -> Record:
    record = _common(rng, sf_id("CONTACT", u.seed, i), "Contact")
    account = u.pick(rng, "ACCOUNT")
    record["accountId"] = u.account_id(account)
    return _person(rng, record, u.account_domain(account))


def _lead(rng: random.Random, u: Universe, i: int) -> Record:
    record = _common(rng, f"lead-{10_000 + i}", "Lead")
    stranger = u.accounts + 1_000 + rng.randrange(10_000)  # a company not (yet) an account
    _person(rng, record, u.account_domain(stranger))
    record["company"] = u.account_name(stranger)
    record["leadSource"] = rng.choice(LEAD_SOURCES)
    if rng.random() < 0.15:
        record["convertedToAccountId"] = u.account_id(u.pick(rng, "ACCOUNT"))
    return record


def _deal(rng: random.Random, u: Universe, i: int) -> Record:
    record = _common(rng, sf_id("DEAL", u.seed, i), "Opportunity")
    account, stage = u.pick(rng, "ACCOUNT"), u.pick(rng, "STAGE")
    created = _EPOCH + rng.randrange(_SPAN)
    stage_name = u.stage_name(stage)
    record.update(
        accountId=u.account_id(account),
        ownerId=u.user_id(u.pick(rng, "BUSINESS_USER")),
        name=f"{u.account_name(account)} - {rng.choice(w.DEAL_KINDS)} {rng.choice(w.PRODUCTS)}",
        createdDate=_iso(created),
        closeDate=_iso(created + rng.randrange(14, 200) * 86_400)[:10],
        status={"Closed Won": "WON", "Closed Lost": "LOST"}.get(stage_name, "OPEN"),
        stage=u.stage_id(stage),
        amount=rng.choice((rng.randrange(50, 2_500) * 100, round(rng.uniform(900, 90_000), 2))),
        forecastCategory=rng.choice(FORECASTS),
    )
    return record


def _user(rng: random.Random, u: Universe, i: int) -> Record:
    record = _common(rng, u.user_id(i), None, referable=u.is_referable("BUSINESS_USER", i))
    emails = u.user_emails
    record["emailAddress"] = emails[i] if i < len(emails) else f"user{i}@{SELLER_DOMAIN}"
    return record


def _stage(rng: random.Random, u: Universe, i: int) -> Record:
    return {
        "objectId": u.stage_id(i),
        "modifiedDate": _modified(rng),
        "name": u.stage_name(i),
        "isActive": rng.random() < 0.9,
        "sortOrder": i + 1,
    }


BUILDERS: dict[str, Callable[[random.Random, Universe, int], Record]] = {
    "ACCOUNT": _account,
    "CONTACT": _contact,
    "DEAL": _deal,
    "LEAD": _lead,
    "BUSINESS_USER": _user,
    "STAGE": _stage,
}


def records(
    object_type: str,
    count: int,
    *,
    seed: int,
    defects: Mapping[str, int] | None = None,
    universe: Universe | None = None,
) -> Iterator[tuple[bytes, Injected | None]]:
    """Yield ``count`` serialized lines (no newline), each with the defect planted on it, if any."""
    if object_type not in OBJECT_TYPES:
        raise ValueError(f"unknown object type {object_type!r}; use one of {OBJECT_TYPES}")
    defects = dict(defects or {})
    check_kinds(object_type, defects)
    universe = _universe_for(object_type, count, seed, universe)
    plan = _plan(object_type, count, defects, universe, seed)
    rng = random.Random(f"{seed}:{object_type}")
    defect_rng = random.Random(f"{seed}:{object_type}:defects")
    build = BUILDERS[object_type]
    for index in range(count):
        record = build(rng, universe, index)
        kind = plan.get(index)
        if kind is None:
            yield orjson.dumps(record), None
        else:
            yield inject(kind, record, defect_rng, index + 1, universe.dangling)


def _universe_for(object_type: str, count: int, seed: int, universe: Universe | None) -> Universe:
    """The given universe, or a default one in which this file's type has ``count`` records."""
    if universe is None:
        return Universe(seed).resized(object_type, count)
    size = universe.size(object_type)
    if size is not None and size != count:
        raise ValueError(f"the universe has {size} {object_type} records, not {count}")
    return universe


def _plan(
    object_type: str, count: int, defects: Mapping[str, int], universe: Universe, seed: int
) -> dict[int, str]:
    """Scatter the wanted defects over distinct lines (0-based index -> kind), seeded."""
    if any(n < 0 for n in defects.values()):
        raise ValueError("defect counts cannot be negative")
    wanted = [kind for kind, n in defects.items() for _ in range(n)]
    if len(wanted) > count:
        raise ValueError(f"{len(wanted)} defects do not fit in {count} records")
    rng = random.Random(f"{seed}:{object_type}:plan")
    if universe.size(object_type) is None:
        chosen = rng.sample(range(count), len(wanted))
    else:  # referenced records: damage the ones nobody refers to first
        spare = sorted(universe.spare(object_type))
        chosen = rng.sample(spare, min(len(wanted), len(spare)))
        if len(chosen) < len(wanted):  # more defects than spare records: some refs will dangle
            rest = sorted(set(range(count)) - universe.spare(object_type))
            chosen += rng.sample(rest, len(wanted) - len(chosen))
    rng.shuffle(wanted)
    return dict(zip(chosen, wanted, strict=True))


def write_file(
    path: str | Path,
    object_type: str,
    count: int,
    *,
    seed: int,
    defects: Mapping[str, int] | None = None,
    universe: Universe | None = None,
) -> list[Injected]:
    """Write an LDJSON file atomically (every line ends in ``\\n``); return what was planted."""
    planted: list[Injected] = []
    with atomic_output(path) as out:
        lines = records(object_type, count, seed=seed, defects=defects, universe=universe)
        for data, injected in lines:
            out.write(data + b"\n")
            if injected is not None:
                planted.append(injected)
    return planted


def spread(bad: int, kinds: Sequence[str]) -> dict[str, int]:
    """``bad`` defects shared out evenly over ``kinds`` (the first kinds get the remainder)."""
    if bad and not kinds:
        raise ValueError("bad lines need at least one defect kind")
    return {kind: bad // len(kinds) + (n < bad % len(kinds)) for n, kind in enumerate(kinds)}


def write_sized(
    path: str | Path,
    object_type: str,
    size_bytes: int,
    *,
    seed: int,
    bad: int,
    kinds: Sequence[str],
    universe: Universe | None = None,
) -> list[Injected]:
    """Write a file of about ``size_bytes`` with ``bad`` defects spread evenly over ``kinds``."""
    defects = spread(bad, kinds)
    probe = sum(len(data) + 1 for data, _ in records(object_type, 500, seed=seed + 1))
    count = max(size_bytes * 500 // probe, bad, 1)
    universe = (universe or Universe(seed)).resized(object_type, count)
    return write_file(path, object_type, count, seed=seed, defects=defects, universe=universe)


def manifest_json(planted: Mapping[str, list[Injected]]) -> bytes:
    """The defects manifest ``{file: [{line, kind, field, objectId}]}`` as indented JSON."""
    doc = {name: [item.as_json() for item in items] for name, items in planted.items()}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


__all__ = [
    "KINDS",
    "OBJECT_TYPES",
    "Injected",
    "Universe",
    "manifest_json",
    "records",
    "spread",
    "write_file",
    "write_sized",
]
