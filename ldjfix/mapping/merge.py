"""Put edited records back where ``extract`` took them from.

Each record of the FIXED file names its source line and that line's SHA-256 (see
:mod:`ldjfix.ldjson.origin`), so the person may reorder, delete or reformat records, reorder
keys and change values. The source is walked once in chunks (:func:`ldjfix.ldjson.lines.scan`):
every line not edited is copied byte for byte, an edited record is re-serialised (compact,
without the bookkeeping) with its line's original ending, and an extracted record left as it was
— or deleted from FIXED — keeps its original line. Nothing is ever lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ldjfix.errors import InputProblem
from ldjfix.ldjson.files import atomic_output, open_input, refuse_overwrite
from ldjfix.ldjson.lines import Line, Shape, iter_lines, parse_line
from ldjfix.ldjson.origin import ORIGIN_KEY, RAW_KEY, Origin, line_digest, read_origin
from ldjfix.ldjson.rewrite import KEEP, Replacement, write_replaced
from ldjfix.ldjson.sources import SourcePath


@dataclass(frozen=True, slots=True)
class EditedRecord:
    """One record of FIXED: where it goes, and either its fields or its repaired raw text."""

    fixed_line: int
    origin: Origin
    record: dict[str, Any] | None  # the edited record without bookkeeping
    raw: str | None  # the ``_raw`` text, for a line that was not a JSON object


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What ``merge`` did: records corrected, FIXED records equal to their line, lines copied."""

    corrected: int
    unchanged: int
    copied: int
    lines: int


def read_fixed(fixed: SourcePath) -> dict[int, EditedRecord]:
    """Every edited record of FIXED by its source line; any bad line stops with exit 3."""
    edits: dict[int, EditedRecord] = {}
    with open_input(fixed, what="fixed file") as stream:
        for line in iter_lines(stream):
            if line.is_blank:
                continue  # editors like to leave a trailing empty line
            edit = _read_edit(line, f"{fixed} line {line.number}")
            earlier = edits.get(edit.origin.line)
            if earlier is not None:
                raise InputProblem(
                    f"{fixed} lines {earlier.fixed_line} and {line.number} both claim source "
                    f"line {edit.origin.line}.",
                    hint="Keep one of the two records and delete the other.",
                )
            edits[edit.origin.line] = edit
    return edits


def _read_edit(line: Line, where: str) -> EditedRecord:
    parsed = parse_line(line)
    if parsed.record is None:
        raise InputProblem(
            f"{where} is not a JSON object ({parsed.defect}).",
            hint="Keep every record on one line as extract wrote it: LDJSON has no "
            "pretty-printed (multi-line) records.",
        )
    record = dict(parsed.record)
    origin = read_origin(record, where=where)
    del record[ORIGIN_KEY]
    if RAW_KEY in record:
        raw = record.pop(RAW_KEY)
        if record or not isinstance(raw, str):
            raise InputProblem(
                f"{where} mixes {RAW_KEY} with other fields.",
                hint=f"Either repair the text in {RAW_KEY}, or replace {RAW_KEY} by the fields.",
            )
        return EditedRecord(line.number, origin, None, raw)
    return EditedRecord(line.number, origin, record, None)


def merge_fixed(
    path: SourcePath, fixed: SourcePath, out: str | Path, *, only_corrected: bool = False
) -> MergeResult:
    """Write ``path`` with the records of ``fixed`` put back (or only those, re-serialised)."""
    refuse_overwrite(path, out)
    edits = read_fixed(fixed)
    corrected = unchanged = 0

    def change(line: Line) -> Replacement:
        nonlocal corrected, unchanged
        new = _replacement(line, edits[line.number], path, fixed)
        if new is None:
            unchanged += 1
            return KEEP
        corrected += 1
        return new

    with open_input(path) as stream, atomic_output(out) as sink:
        shape = write_replaced(stream, sink, change, wanted=edits, only_changed=only_corrected)
        _refuse_missing(shape, edits, path, fixed)
    return MergeResult(corrected, unchanged, shape.lines - corrected - unchanged, shape.lines)


def _replacement(
    line: Line, edit: EditedRecord, path: SourcePath, fixed: SourcePath
) -> bytes | None:
    """The new bytes for ``line``, or None when the edit leaves it as it was."""
    if line_digest(line.content) != edit.origin.sha256:
        raise InputProblem(
            f"line {line.number} of {path} is not the line extracted to {fixed} line "
            f"{edit.fixed_line} (its content differs).",
            hint="Merge into the same file you extracted from.",
        )
    record = edit.record
    if edit.raw is not None:
        if edit.raw == line.content.decode("utf-8", errors="replace"):
            return None
        record = _repaired(edit, fixed)
    assert record is not None  # an EditedRecord holds fields or raw text
    original = parse_line(line).record
    if original is not None and _canonical(original) == _canonical(record):
        return None  # keys reordered or re-spaced only: keep the source bytes
    if not record:  # every field deleted: more likely a slip than a wish to send {}
        raise InputProblem(
            f"{fixed} line {edit.fixed_line} holds no fields besides {ORIGIN_KEY}.",
            hint="Delete the whole line to keep the source line as it is.",
        )
    return orjson.dumps(record)


def _repaired(edit: EditedRecord, fixed: SourcePath) -> dict[str, Any]:
    assert edit.raw is not None
    try:
        value = orjson.loads(edit.raw)
    except orjson.JSONDecodeError as exc:
        value = exc
    if not isinstance(value, dict):
        raise InputProblem(
            f"{fixed} line {edit.fixed_line}: {RAW_KEY} is still not a JSON object.",
            hint=f"Repair the text in {RAW_KEY}, or delete the line to keep the source line.",
        )
    return value


def _canonical(record: dict[str, Any]) -> bytes:
    # Sorted keys make key order irrelevant; orjson keeps 1, 1.0 and true apart.
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def _refuse_missing(
    shape: Shape, edits: dict[int, EditedRecord], path: SourcePath, fixed: SourcePath
) -> None:
    if shape.missing:
        edit = edits[shape.missing[0]]
        raise InputProblem(
            f"{fixed} line {edit.fixed_line} claims line {edit.origin.line} of {path}, which "
            f"has only {shape.lines:,} lines.",
            hint="Merge into the same file you extracted from.",
        )
