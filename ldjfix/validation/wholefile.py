"""A whole file validated: in memory as one report, or streamed to an output as found."""

from __future__ import annotations

from typing import Any, BinaryIO

from ldjfix.ldjson.files import open_input
from ldjfix.ldjson.sources import SourcePath
from ldjfix.validation.findings import Finding, Tally, ValidationReport
from ldjfix.validation.stream import open_writer
from ldjfix.validation.validator import Validator
from ldjfix.validation.writer import StreamResult


def validate_file(
    path: SourcePath,
    object_type: str,
    *,
    entity_schema: dict[str, Any] | None = None,
    strict: bool = False,
    schema_source: str = "the entity schema",
) -> ValidationReport:
    """Validate every line of ``path`` (``-`` is stdin) and count good and bad lines."""
    validator = Validator(
        object_type, entity_schema=entity_schema, strict=strict, schema_source=schema_source
    )
    tally = Tally()
    with open_input(path) as stream:
        findings = tuple(sorted(validator.check_stream(stream, tally=tally), key=_by_line))
    return ValidationReport(tally.lines - tally.invalid, tally.invalid, findings)


def validate_to(
    out: BinaryIO,
    path: SourcePath,
    validator: Validator,
    *,
    form: str = "text",
    summary_only: bool = False,
    name: str | None = None,
) -> StreamResult:
    """Validate every line of ``path`` (``-`` is stdin), writing findings to ``out`` as found.

    The writer takes each streak of records failing one rule the same way by its shortcut
    (:meth:`~ldjfix.validation.stream.FindingWriter.streak`), the rest one Finding at a time.
    """
    tally = Tally()
    if name is None:
        name = "stdin" if str(path) == "-" else str(path)
    writer = open_writer(out, name=name, form=form, summary_only=summary_only)
    with open_input(path) as stream:
        for finding in validator.check_stream(stream, tally=tally, streaks=writer):
            writer.finding(finding)
    return writer.finish(tally)


def _by_line(finding: Finding) -> int:
    return finding.line
