"""``ldjfix replay``: apply a ``fixes.jsonl`` to the next export of the same CRM.

Each line of ``fixes.jsonl`` says: on the record with this ``objectId``, field ``field`` went
from ``old`` to ``new`` (``null`` for absent). Replay finds the record by ``objectId`` in the
new export and makes the change only where the field still holds ``old``: a value the CRM has
changed since is left alone and counted as stale. Unchanged lines are copied byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ldjfix.errors import InputProblem
from ldjfix.ldjson.files import atomic_output, open_input, refuse_overwrite
from ldjfix.ldjson.lines import Line
from ldjfix.ldjson.rewrite import KEEP, Replacement, write_replaced
from ldjfix.ldjson.sources import SourcePath

_FIX_KEYS = ("objectId", "field", "old", "new")


@dataclass(frozen=True)
class Change:
    """One recorded change to replay."""

    number: int  # its line in fixes.jsonl
    object_id: str
    field: str
    old: Any
    new: Any


@dataclass
class ReplayReport:
    """What replay did with the recorded changes."""

    applied: int = 0
    already: int = 0
    stale: int = 0
    not_found: int = 0
    unkeyed: int = 0
    records: int = 0
    used: set[int] = field(default_factory=set)

    def summary(self) -> str:
        """One line for stderr."""
        return (
            f"{self.applied} changes applied to {self.records} records; {self.already} already "
            f"in place; {self.stale} stale (the value changed since); {self.not_found} for "
            f"objectIds not in the file; {self.unkeyed} without an objectId (not replayable)."
        )


def load_changes(path: SourcePath) -> tuple[dict[str, list[Change]], int]:
    """The changes of a fixes.jsonl by objectId, and how many lines had no objectId."""
    by_id: dict[str, list[Change]] = {}
    unkeyed = 0
    with open_input(path, what="fixes file") as stream:
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            item = _item(raw, number, path)
            if not isinstance(item.get("objectId"), str) or not isinstance(item.get("field"), str):
                unkeyed += 1  # e.g. a missing objectId that was filled in: nothing to match on
                continue
            change = Change(number, item["objectId"], item["field"], item["old"], item["new"])
            by_id.setdefault(change.object_id, []).append(change)
    return by_id, unkeyed


def _item(raw: bytes, number: int, path: SourcePath) -> dict[str, Any]:
    try:
        item = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputProblem(f"fixes file {path} line {number} is not JSON ({exc.msg}).") from None
    if not isinstance(item, dict) or any(k not in item for k in _FIX_KEYS):
        raise InputProblem(
            f"fixes file {path} line {number} is not a recorded fix.",
            hint='Each line needs "objectId", "field", "old" and "new" (as ldjfix writes them).',
        )
    return item


def replay_fixes(path: SourcePath, fixes: SourcePath, *, output: str | Path) -> ReplayReport:
    """Apply the changes in ``fixes`` to ``path``, writing the result to ``output``."""
    refuse_overwrite(path, output)
    by_id, unkeyed = load_changes(fixes)
    report = ReplayReport(unkeyed=unkeyed)

    def change(line: Line) -> Replacement:
        record = _replayed(line, by_id, report)
        return KEEP if record is None else record

    with open_input(path) as source, atomic_output(output) as out:
        write_replaced(source, out, change)
    report.not_found = sum(
        1 for changes in by_id.values() for c in changes if c.number not in report.used
    )
    return report


def _replayed(
    line: Line, by_id: dict[str, list[Change]], report: ReplayReport
) -> dict[str, Any] | None:
    """The record of ``line`` with its recorded changes applied, or None when none applies."""
    try:
        record = orjson.loads(line.content)
    except orjson.JSONDecodeError:
        return None
    if type(record) is not dict or not isinstance(record.get("objectId"), str):
        return None
    if record["objectId"] not in by_id or not _apply(record, by_id, report):
        return None
    report.records += 1
    return record


def _apply(record: dict[str, Any], by_id: dict[str, list[Change]], report: ReplayReport) -> bool:
    """Apply the changes for this record's objectId, in order; an objectId fix brings its own."""
    changed = False
    queue = list(by_id[record["objectId"]])
    while queue:
        change = queue.pop(0)
        report.used.add(change.number)
        current = record.get(change.field)
        if _same(current, change.new) and (change.new is not None or change.field not in record):
            report.already += 1
        elif not _same(current, change.old):
            report.stale += 1
        else:
            if change.new is None:
                record.pop(change.field, None)
            else:
                record[change.field] = change.new
            report.applied += 1
            changed = True
            if change.field == "objectId" and isinstance(change.new, str):
                queue += [c for c in by_id.get(change.new, []) if c.number not in report.used]
    return changed


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: ``true`` and ``1`` are different values in a record (Python says equal)."""
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        b, option=orjson.OPT_SORT_KEYS
    )
