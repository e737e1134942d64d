"""``--max-failure-rate``: stop a job whose first upload failed wholesale, before any shards.

When most of a file fails at Gong, the cause is rarely the records one by one: a wrong
``--integration-id``, parent objects never uploaded (contacts before their accounts), or one
systematic rule only the server knows. Splitting such a file into shards past the 20-error cap
would spend thousands of calls of the day's 10,000 to learn the same thing. So after round 1
(the first time Gong sees the records), an upload with more than P % of its records failed
stops the job: outcome STOPPED, the failures grouped by field and kind, and what to do.
Later rounds are exempt: their shards hold the records suspected of failing, by design.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ldjfix.gong.descriptions import defect_kind
from ldjfix.gong.status import Status, field_named_in

DEFAULT_MAX_FAILURE_RATE = 50.0
_GROUPS_SHOWN = 5


def check_failure_rate(
    settled: Mapping[str, Any] | None,
    max_rate: float,
    statuses: Callable[[str], Status],
) -> dict[str, Any] | None:
    """The stop document when an upload of round 1 failed more than ``max_rate`` %, else None.

    ``settled`` is the round's settlement; ``statuses`` reads an upload's saved final status.
    """
    if settled is None or settled.get("round") != 1 or max_rate >= 100:
        return None
    notes = settled.get("notes", {})
    over = []
    for upload in notes.get("uploads", []):
        records = note_count(upload.get("records"))
        failed = note_count(upload.get("totalErrorCount"))
        rate = 100.0 * failed / records if records else 0.0
        if rate > max_rate:
            over.append({"upload": upload["upload"], "records": records, "failed": failed,
                         "rate": round(rate, 1)})  # fmt: skip
    if not over:
        return None
    groups = failure_groups(statuses(entry["upload"]) for entry in over)
    return {
        "maxFailureRate": max_rate,
        "uploads": over,
        "groups": groups,
        "advice": advice(groups),
    }


def note_count(value: Any) -> int:
    """A count from a round's notes (records, totalErrorCount, listed); 0 when there is none.

    Gong may leave ``totalErrorCount`` out, so a round's notes can hold null there; a damaged
    note (text, a boolean, a negative number) counts 0 too, never a crash.
    """
    return value if type(value) is int and value > 0 else 0


def rate_allows(stop: Mapping[str, Any] | None, max_rate: float) -> bool:
    """True when a job stopped by the failure rate would not stop at ``max_rate``."""
    found = (stop or {}).get("failureRate")
    if not found:
        return False
    return max(float(u["rate"]) for u in found["uploads"]) <= max_rate


def failure_groups(statuses: Any) -> list[dict[str, Any]]:
    """Gong's listed errors grouped by field and kind, biggest first, one example each."""
    groups: dict[tuple[str | None, str], dict[str, Any]] = {}
    for status in statuses:
        for error in status.line_errors:
            name = field_named_in(error.description)
            key = (name, defect_kind(error.description))
            entry = groups.setdefault(
                key, {"field": name, "kind": key[1], "listed": 0, "example": error.description}
            )
            entry["listed"] += 1
    return sorted(groups.values(), key=lambda g: -int(g["listed"]))


def advice(groups: list[dict[str, Any]]) -> str:
    """What to do, from the biggest groups of failures."""
    kinds = {g["kind"] for g in groups[:_GROUPS_SHOWN]}
    steps = []
    if "dangling" in kinds:
        steps.append(
            "upload the objects these records point at first (accounts, users and stages "
            "before contacts and deals: give `ldjfix run` all the files at once), and check "
            "that --integration-id is the integration they went to"
        )
    else:
        steps.append("check that --integration-id is the right integration")
    steps.append(
        "fix the systematic defect (`ldjfix rules suggest FILE -t T --status-file "
        "<job folder>/rounds/r01-s01.status.json` writes rules for what Gong reported)"
    )
    steps.append("then run the same command again (--max-failure-rate 100 goes on regardless)")
    return "; ".join(steps) + "."


def describe(stop: Mapping[str, Any]) -> str:
    """One line for people: which upload failed how much, the top groups, what to do."""
    worst = max(stop["uploads"], key=lambda u: float(u["rate"]))
    shown = "; ".join(f"{g['listed']} x {g['example']}" for g in stop["groups"][:_GROUPS_SHOWN])
    return (
        f"{worst['failed']} of {worst['records']} records ({worst['rate']:g} %) of upload "
        f"{worst['upload']} failed at Gong, more than --max-failure-rate {stop['maxFailureRate']:g}"
        f"; stopped before spending more API calls. Gong listed: {shown}. To do: {stop['advice']}"
    )
