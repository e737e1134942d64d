"""Map the errors of a request status onto the lines of a file (README "Line numbers").

:func:`map_errors` is the one place where Gong's ``errors[].line`` meets a file: annotate,
extract, the fixer and the loop all build on it. It walks the file once in chunks
(:func:`ldjfix.ldjson.lines.read_lines`), so a few thousand errors in a 200 MB file cost
about as much as reading it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ldjfix.gong.status import LineError, Status
from ldjfix.ldjson.files import STDIO, open_input
from ldjfix.ldjson.lines import Line, Shape, parse_line, read_lines
from ldjfix.ldjson.printable import safe
from ldjfix.ldjson.sources import SourcePath


@dataclass(frozen=True, slots=True)
class MappedError:
    """One error beside its line: what the line holds, or why it holds no record."""

    line: int
    description: str
    field: str | None
    object_id: str | None
    record: dict[str, Any] | None
    content: bytes  # the line as it is in the file, without ending (and without a BOM)
    defect: str | None  # why the line holds no record (invalid UTF-8/JSON, not an object)


@dataclass(frozen=True, slots=True)
class Annotation:
    """Every error of a status, sorted into mapped, past the end of the file, and file-level."""

    errors: tuple[MappedError, ...]
    unmapped: tuple[LineError, ...]
    general: tuple[LineError, ...]
    warnings: tuple[str, ...]
    shape: Shape

    @property
    def has_errors(self) -> bool:
        """True when the status lists any error at all (the data still has defects)."""
        return bool(self.errors or self.unmapped or self.general)


def map_errors(path: SourcePath, status: Status) -> Annotation:
    """Put each error of ``status`` beside the line of ``path`` it names (``-`` is stdin)."""
    line_errors = status.line_errors
    with open_input(path) as stream:
        found, shape = read_lines(stream, {e.line for e in line_errors})
    mapped = []
    unmapped = []
    # Source order (stable, so Gong's order within a line); several errors on a line all stay.
    for error in sorted(line_errors, key=lambda e: e.line):
        line = found.get(error.line)
        if line is None:
            unmapped.append(error)
        else:
            mapped.append(_map_one(error, line))
    return Annotation(
        errors=tuple(mapped),
        unmapped=tuple(unmapped),
        general=status.general_errors,
        warnings=tuple(_warnings(_name(path), status, shape, unmapped)),
        shape=shape,
    )


def _map_one(error: LineError, line: Line) -> MappedError:
    parsed = parse_line(line)
    return MappedError(
        line=error.line,
        description=error.description,
        field=error.field,
        object_id=parsed.object_id,
        record=parsed.record,
        content=line.content,
        defect=parsed.defect,
    )


def _name(path: SourcePath) -> str:
    return "stdin" if str(path) == STDIO else str(path)


def _warnings(name: str, status: Status, shape: Shape, unmapped: list[LineError]) -> list[str]:
    found = []
    if shape.risky:
        found.append(
            f"{name} has {_joined(shape.risky)}; Gong has not said how it numbers lines "
            "in such a file, so errors were mapped by physical line (count of \\n) and the "
            "mapping is unverified."
        )
    if unmapped:
        lines = sorted({e.line for e in unmapped})
        past = _joined([str(n) for n in lines[:10]] + (["more"] if len(lines) > 10 else []))
        found.append(
            f"the status names line(s) {past} but {name} has only {shape.lines:,} lines: "
            "is this the file that was uploaded?"
        )
    if not status.errors and status.status != "FAILED":
        found.append(f"the request status is {status.status}: it lists no errors to map.")
    listed = len({e.line for e in status.errors})  # whether line 0 counts is unknown
    total = status.total_error_count
    if total is not None and total > listed and status.line_errors:
        found.append(
            f"Gong listed errors for {listed:,} line(s) but says {total:,} records failed "
            "(it lists at most 20); the others are not named by this status."
        )
    return found


def _joined(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def annotation_json(annotation: Annotation) -> dict[str, Any]:
    """The ``annotate --format json`` document (README "At a glance"), a stable contract."""
    return {
        "errors": [
            {
                "line": e.line,
                "objectId": e.object_id,
                "description": e.description,
                "field": e.field,
                "record": e.record,
            }
            for e in annotation.errors
        ],
        "unmapped": [_error_json(e) for e in annotation.unmapped],
        "general": [_error_json(e) for e in annotation.general],
        "warnings": list(annotation.warnings),
    }


def _error_json(error: LineError) -> dict[str, Any]:
    return {"line": error.line, "description": error.description, "field": error.field}


def render_text(annotation: Annotation, name: str) -> str:
    """The human report: each error beside its line number, objectId and record."""
    from ldjfix.ldjson.excerpt import (
        excerpt,  # only people need excerpts; keeps extract's start-up short
    )

    shape = annotation.shape
    lines = {e.line for e in annotation.errors}
    out = [
        f"{safe(name)}: {len(annotation.errors):,} error(s) on {len(lines):,} of "
        f"{shape.lines:,} line(s)"
        f"{_counted(annotation.general, 'file-level error')}"
        f"{_counted(annotation.unmapped, 'error past the end of the file')}"
    ]
    previous = None
    for error in annotation.errors:
        out += [""] if error.line == previous else ["", _heading(error)]
        out.append(f"  {safe(error.description)}")
        previous = error.line
        if error.defect:
            out.append(f"  (no record: {safe(error.defect)})")
        out.append(f"  {excerpt(error.content, error.field)}")
    for general in annotation.general:
        out += ["", f"file-level error (line 0): {safe(general.description)}"]
    for past in annotation.unmapped:
        out += [
            "",
            f"line {past.line}: past the end of {safe(name)}",
            f"  {safe(past.description)}",
        ]
    return "\n".join(out) + "\n"


def _heading(error: MappedError) -> str:
    who = f"objectId {safe(error.object_id)}" if error.object_id is not None else "no objectId"
    return f"line {error.line}  {who}"


def _counted(items: tuple[LineError, ...], what: str) -> str:
    return f"; {len(items)} {what}{'s' if len(items) != 1 else ''}" if items else ""
