"""Pull the records a status names out of a file, each marked with where it came from.

The output is LDJSON a person edits and hands to ``ldjfix merge``: one line per failing
source line, in source order, each starting with ``{"_ldjfix": {"line": N, "sha256": …,
"errors": [...]}, …the record as it was…}``. A line that is not a JSON object is written as
``{"_ldjfix": {…}, "_raw": "<its text>"}`` so it can be repaired (see :mod:`ldjfix.ldjson.origin`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ldjfix.errors import InputProblem
from ldjfix.gong.status import Status
from ldjfix.ldjson.files import atomic_output, refuse_overwrite
from ldjfix.ldjson.origin import ORIGIN_KEY, marked_record
from ldjfix.ldjson.sources import SourcePath
from ldjfix.mapping.annotate import Annotation, MappedError, map_errors


@dataclass(frozen=True, slots=True)
class Extraction:
    """What ``extract`` wrote: how many records, how many of them as raw text, and the map."""

    records: int
    raw: int
    annotation: Annotation


def extract_failing(path: SourcePath, status: Status, out: str | Path) -> Extraction:
    """Write every line of ``path`` that ``status`` names to ``out``, marked for merging."""
    refuse_overwrite(path, out)
    annotation = map_errors(path, status)
    if annotation.unmapped:
        first = annotation.unmapped[0].line
        raise InputProblem(
            f"the status names line {first} but {path} has only {annotation.shape.lines} "
            "lines: is this the file that was uploaded?",
            hint="Extract from the exact file the status belongs to.",
        )
    by_line: dict[int, list[MappedError]] = {}
    for error in annotation.errors:
        by_line.setdefault(error.line, []).append(error)
    raw = 0
    with atomic_output(out) as stream:
        for number in sorted(by_line):
            errors = by_line[number]
            first_error = errors[0]
            if first_error.record is not None and ORIGIN_KEY in first_error.record:
                raise InputProblem(
                    f"line {number} of {path} already carries {ORIGIN_KEY} bookkeeping: "
                    "it is an extracted file, not a source file.",
                    hint="Extract from the file that was uploaded.",
                )
            raw += first_error.record is None
            descriptions = [e.description for e in errors]
            stream.write(
                marked_record(number, first_error.content, first_error.record, descriptions) + b"\n"
            )
    return Extraction(records=len(by_line), raw=raw, annotation=annotation)
