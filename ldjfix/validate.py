"""Local validation: every defect Gong documents, for every line, in one pass (design section 6).

Two validators read the same JSON Schemas (:mod:`ldjfix.schemas`). jsonschema-rs screens
every record at speed; only a record that fails the screen is explained, by python-jsonschema
(the reference implementation) for error rules and by jsonschema-rs for warning rules (which a
whole file may break, so explaining them must stay fast). Findings carry Gong's wording
(:mod:`ldjfix.descriptions`) so the rest of the tool cannot tell them from Gong's own errors.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema_rs
import orjson

from . import descriptions
from .errors import InputProblem
from .files import open_input, read_input
from .lines import BOM, Line, Parsed, parse_line
from .schemas import SchemaPair, build, check_object_type, custom_fields
from .status import LineError

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    """One defect of one line, worded like Gong's errors."""

    line: int
    object_id: str | None
    field: str | None
    description: str
    severity: str  # "error" | "warning"

    def as_line_error(self) -> LineError:
        """The finding as an entry of Gong's ``errors[]``."""
        return LineError(self.line, self.description)

    def as_json(self) -> dict[str, Any]:
        """The ``validate --json`` form."""
        return {
            "line": self.line,
            "objectId": self.object_id,
            "field": self.field,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What validating a whole file found: counts of good and bad lines, and every finding."""

    valid: int
    invalid: int
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings that Gong is documented to reject."""
        return tuple(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings whose real strictness at Gong is unknown."""
        return tuple(f for f in self.findings if f.severity == WARNING)

    def as_json(self) -> dict[str, Any]:
        """The stable ``validate --json`` document."""
        return {
            "valid": self.valid,
            "invalid": self.invalid,
            "errors": [f.as_json() for f in self.errors],
            "warnings": [f.as_json() for f in self.warnings],
        }


@dataclass(slots=True)
class Tally:
    """Counts kept while a stream is checked: lines holding something, and the bad ones."""

    lines: int = 0
    bad_lines: set[int] = field(default_factory=set)


class Validator:
    """Checks records of one object type against Gong's rules (and an entity schema)."""

    def __init__(
        self,
        object_type: str,
        *,
        entity_schema: dict[str, Any] | None = None,
        strict: bool = False,
        schema_source: str = "the entity schema",
    ) -> None:
        self.object_type = check_object_type(object_type)
        self.strict = strict
        custom = None
        if entity_schema is not None:
            custom = custom_fields(entity_schema, object_type, source=schema_source)
        pair = build(object_type, custom)
        self.schemas: SchemaPair = pair.strict() if strict else pair
        self._rs_hard = _compile(self.schemas.hard)
        self._has_soft = len(self.schemas.soft) > 1
        self._rs_soft = _compile(self.schemas.soft)
        both = {"allOf": [self.schemas.hard, self.schemas.soft]} if self._has_soft else None
        self._screen = _compile(both).is_valid if both else self._rs_hard.is_valid
        self._explainer: Any = None

    def check(self, parsed: Parsed) -> list[Finding]:
        """Every finding for one line (a blank line has none)."""
        if parsed.defect is not None:
            text = descriptions.unparsable(parsed.defect)
            return [Finding(parsed.line.number, None, None, text, ERROR)]
        if parsed.record is None:
            return []
        return self.check_record(parsed.line.number, parsed.record)

    def check_record(self, line: int, record: dict[str, Any]) -> list[Finding]:
        """Every finding for one record on ``line``."""
        if self._screen(record):
            return []
        found: list[Finding] = []
        object_id = record.get("objectId")
        oid = object_id if isinstance(object_id, str) else None
        if not self._rs_hard.is_valid(record):
            errors = self._python_errors(record)
            found += self._findings(line, oid, record, errors, self.schemas.hard, ERROR)
        if self._has_soft and not self._rs_soft.is_valid(record):
            raw = [
                (e.instance_path, e.schema_path, e.instance) for e in _iter(self._rs_soft, record)
            ]
            found += self._findings(line, oid, record, raw, self.schemas.soft, WARNING)
        return _dedupe(found)

    def check_stream(
        self, stream: Iterable[bytes] | BinaryIO, *, tally: Tally | None = None
    ) -> Iterator[Finding]:
        """Every finding of a whole file, line by line, duplicate objectIds where they repeat."""
        tally = tally if tally is not None else Tally()
        loads, screen, bad = orjson.loads, self._screen, tally.bad_lines
        first_seen: dict[int, int] = {}  # hash(objectId) -> first line; hashes keep memory low
        remember = first_seen.setdefault
        records = 0
        for number, raw in enumerate(stream, 1):  # the hot loop: keep it lean
            try:
                record = loads(raw)
            except orjson.JSONDecodeError:
                record = None
            if type(record) is not dict:  # blank, broken, not an object, or a BOM: careful path
                if number == 1 and raw.startswith(BOM):
                    yield from self.check_stream(_Rest(raw[len(BOM) :], stream), tally=tally)
                    return
                findings = self.check(parse_line(_line(number, raw)))
                records += not _is_blank(raw)
                bad.update(f.line for f in findings)
                yield from findings
                continue
            records += 1
            if not screen(record):
                findings = self.check_record(number, record)
                bad.update(f.line for f in findings if f.severity == ERROR)
                yield from findings
            object_id = record.get("objectId")
            if type(object_id) is str and remember(hash(object_id), number) != number:
                finding = self._duplicate(number, object_id, first_seen[hash(object_id)])
                if finding.severity == ERROR:
                    bad.add(number)
                yield finding
        tally.lines += records

    def _duplicate(self, line: int, object_id: str, first: int) -> Finding:
        text = descriptions.duplicate(object_id, first)
        return Finding(line, object_id, "objectId", text, ERROR if self.strict else WARNING)

    def _python_errors(
        self, record: dict[str, Any]
    ) -> list[tuple[Sequence[Any], Sequence[Any], Any]]:
        if self._explainer is None:
            # jsonschema's format extras build an IRI grammar (rfc3987_syntax) at import, ~0.9 s;
            # no rule here uses an IRI format, so keep it from loading (jsonschema skips it).
            sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
            from jsonschema import Draft202012Validator  # slow import: only when explaining

            checker = Draft202012Validator.FORMAT_CHECKER
            self._explainer = Draft202012Validator(self.schemas.hard, format_checker=checker)
        return [
            (list(e.absolute_path), list(e.absolute_schema_path), e.instance)
            for e in self._explainer.iter_errors(record)
        ]

    def _findings(
        self,
        line: int,
        object_id: str | None,
        record: dict[str, Any],
        raw: Iterable[tuple[Sequence[Any], Sequence[Any], Any]],
        schema: dict[str, Any],
        severity: str,
    ) -> list[Finding]:
        mandatory = self.schemas.mandatory_hard | self.schemas.mandatory_soft
        found = []
        for path, schema_path, instance in raw:
            for name, text in explain(path, schema_path, instance, schema, record, mandatory):
                found.append(Finding(line, object_id, name, text, severity))
        return found


def explain(
    path: Sequence[Any],
    schema_path: Sequence[Any],
    instance: Any,
    schema: dict[str, Any],
    record: dict[str, Any],
    mandatory: frozenset[str],
) -> list[tuple[str | None, str]]:
    """Turn one JSON Schema failure into (field, Gong-style description) pairs."""
    keyword = schema_path[-1]
    where = _walk(schema, schema_path[:-1])
    if keyword == "required":
        return [(n, descriptions.mandatory(n)) for n in where["required"] if n not in instance]
    if "propertyNames" in schema_path:
        at = list(schema_path).index("propertyNames")
        allowed = _walk(schema, schema_path[: at + 1]).get("enum", [])
        # python-jsonschema reports the name, jsonschema-rs the whole object
        names = [instance] if isinstance(instance, str) else [k for k in record if k not in allowed]
        text = "not a standard field and not in Gong's entity schema, so Gong will not show it"
        return [(name, descriptions.invalid(name, text)) for name in names]
    name = str(path[0]) if path else None
    if name is None:
        return [(None, descriptions.invalid("record", f"failed rule {keyword!r}"))]
    if name in mandatory and record.get(name) in (None, "", []):
        return [(name, descriptions.mandatory(name))]
    if keyword == "maxLength":
        return [(name, descriptions.too_long(name, int(where["maxLength"])))]
    detail = where.get("description", f"failed rule {keyword!r}")
    return [(name, descriptions.invalid(name, detail))]


def validate_file(
    path: str | Path,
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
        findings = tuple(validator.check_stream(stream, tally=tally))
    invalid = len(tally.bad_lines)
    return ValidationReport(tally.lines - invalid, invalid, findings)


def load_entity_schema(path: str | Path) -> dict[str, Any]:
    """Read a saved ``GET /v2/crm/entity-schema`` response (or a bare list of fields)."""
    data = read_input(path, what="schema file")
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputProblem(
            f"schema file {path} is not JSON ({exc.msg} at character {exc.pos + 1}).",
            hint="Save the body of GET /v2/crm/entity-schema?integrationId=..&objectType=.. .",
        ) from None
    if isinstance(doc, list):
        return {"objectTypeToSelectedFields": {"*": doc}}  # a POST body: fields of any type
    if not isinstance(doc, dict):
        raise InputProblem(f"schema file {path} is not an entity schema (not a JSON object).")
    return doc


def render_text(report: ValidationReport, name: str) -> str:
    """The report for people: one line per error, warnings grouped, then the counts."""
    out = [_error_line(name, f) for f in report.errors]
    groups: dict[str, list[int]] = {}
    for finding in report.warnings:
        groups.setdefault(finding.description, []).append(finding.line)
    for text, lines in groups.items():
        where = f"line {lines[0]}" if len(lines) == 1 else f"{len(lines)} lines, first {lines[0]}"
        out.append(f"warning: {text} ({where})")
    out.append(
        f"{report.valid} valid, {report.invalid} invalid; "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    )
    return "\n".join(out) + "\n"


def _error_line(name: str, finding: Finding) -> str:
    oid = f" objectId={finding.object_id}" if finding.object_id is not None else ""
    return f"{name}:{finding.line}:{oid} {finding.description}"


def _compile(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def _iter(validator: Any, record: dict[str, Any]) -> Iterator[Any]:
    return iter(validator.iter_errors(record))


def _walk(schema: Any, keys: Sequence[Any]) -> dict[str, Any]:
    for key in keys:
        schema = schema[key]
    return dict(schema)


def _dedupe(found: list[Finding]) -> list[Finding]:
    """Drop repeats, and warnings that say what an error already says."""
    errors = {(f.field, f.description) for f in found if f.severity == ERROR}
    seen: set[tuple[str | None, str, str]] = set()
    kept = []
    for f in found:
        key = (f.field, f.description, f.severity)
        if key in seen or (f.severity == WARNING and (f.field, f.description) in errors):
            continue
        seen.add(key)
        kept.append(f)
    return kept


def _line(number: int, raw: bytes) -> Line:
    for ending in (b"\r\n", b"\n"):
        if raw.endswith(ending):
            return Line(number, raw[: -len(ending)], ending)
    return Line(number, raw, b"")


class _Rest:
    """A stream whose first line is given apart (line 1 without its BOM), then the rest."""

    def __init__(self, first: bytes, rest: Iterable[bytes]) -> None:
        self.first, self.rest = first, rest

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        yield from self.rest


def _is_blank(raw: bytes) -> bool:
    return not raw.strip(b" \t\r\n")
