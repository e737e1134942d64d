"""Local validation: every defect Gong documents, for every line, in one pass (README "Validate").

Two validators read the same JSON Schemas (:mod:`ldjfix.validation.schemas`). jsonschema-rs screens
every record at speed; only a record that fails the screen is explained, by python-jsonschema
(the reference implementation) for error rules and by jsonschema-rs for warning rules (which a
whole file may break, so explaining them must stay fast). Findings carry Gong's wording
(:mod:`ldjfix.gong.descriptions`) so the rest of the tool cannot tell them from Gong's own errors.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema_rs
import orjson

from ldjfix.errors import InputProblem
from ldjfix.gong import descriptions
from ldjfix.gong.identifiers import check_object_type
from ldjfix.ldjson.files import open_input, read_input
from ldjfix.ldjson.lines import BOM, Line, Parsed, parse_line
from ldjfix.ldjson.sources import SourcePath
from ldjfix.validation.customfields import custom_fields
from ldjfix.validation.explain import at, explain, failure_shape
from ldjfix.validation.findings import ERROR, WARNING, Finding, Tally, ValidationReport, render_text
from ldjfix.validation.schemas import SchemaPair, build

__all__ = [
    "ERROR",
    "WARNING",
    "Finding",
    "Tally",
    "ValidationReport",
    "Validator",
    "explain",
    "load_entity_schema",
    "render_text",
    "validate_file",
]


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
        self._explained: dict[tuple[Any, ...], list[tuple[list[Any], list[Any]]]] = {}

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
        try:
            return self._check_record(line, record)
        except (ValueError, RecursionError):  # jsonschema-rs stops at 255 levels of nesting
            object_id = record.get("objectId")
            oid = object_id if isinstance(object_id, str) else None
            return [Finding(line, oid, None, TOO_DEEP, ERROR)]

    def _check_record(self, line: int, record: dict[str, Any]) -> list[Finding]:
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
        """Every finding of a whole file in line order, then the repeated objectIds."""
        tally = tally if tally is not None else Tally()
        hashes: array[int] = array("q")
        names: dict[int, str] = {}
        yield from self.walk(stream, tally, hashes, names)
        yield from self.repeats(hashes, names, tally.bad_lines)

    def walk(
        self,
        stream: Iterable[bytes],
        tally: Tally,
        hashes: array[int],
        names: dict[int, str],
        *,
        bom: bool = True,
    ) -> Iterator[Finding]:
        """Findings of every line, in order; repeats are left to :meth:`repeats`.

        Repeats are found in flat memory: each line leaves the hash of its objectId in
        ``hashes`` (8 bytes a line, 0 for none) and a mark in a fixed table; an objectId whose
        mark was already set (a repeat, or a rare clash in the table) goes to ``names``.
        ``bom``: the stream starts at line 1 of a file, where a UTF-8 BOM is not content.
        """
        loads, screen, bad = orjson.loads, self._screen, tally.bad_lines
        marks, mask = bytearray(_MARK_SLOTS), _MARK_SLOTS - 1
        keep = hashes.append
        number = blank = 0
        for number, raw in enumerate(stream, 1):  # the hot loop: keep it lean
            try:
                record = loads(raw)
            except orjson.JSONDecodeError:
                record = None
            if type(record) is not dict:  # blank, broken, not an object, or a BOM: careful path
                if number == 1 and bom and raw.startswith(BOM):
                    rest = _Rest(raw[len(BOM) :], stream)
                    yield from self.walk(rest, tally, hashes, names, bom=False)
                    return
                keep(0)
                findings = self.check(parse_line(_line(number, raw)))
                blank += _is_blank(raw)
                bad.update(f.line for f in findings)
                yield from findings
                continue
            if not screen(record):
                findings = self.check_record(number, record)
                bad.update(f.line for f in findings if f.severity == ERROR)
                yield from findings
            object_id = record.get("objectId")
            if type(object_id) is str and object_id:  # an empty one is missing, not repeated
                key = hash(object_id)
                keep(key)
                slot = key & mask
                if marks[slot]:
                    names[number] = object_id
                else:
                    marks[slot] = 1
            else:
                keep(0)
        tally.lines += number - blank

    def repeats(
        self, hashes: array[int], names: dict[int, str], bad: set[int]
    ) -> Iterator[Finding]:
        """Duplicate objectIds: each line in ``names`` whose hash is on an earlier line."""
        wanted = {hashes[n - 1] for n in names}
        first: dict[int, int] = {}
        for index, key in enumerate(hashes):
            if key in wanted and key not in first:
                first[key] = index + 1  # one hash per line, so the index is the line number
        for number, object_id in names.items():
            earliest = first[hashes[number - 1]]
            if earliest != number:
                finding = self._duplicate(number, object_id, earliest)
                if finding.severity == ERROR:
                    bad.add(number)
                yield finding

    def _duplicate(self, line: int, object_id: str, first: int) -> Finding:
        text = descriptions.duplicate(object_id, first)
        return Finding(line, object_id, "objectId", text, ERROR if self.strict else WARNING)

    def _python_errors(
        self, record: dict[str, Any]
    ) -> list[tuple[Sequence[Any], Sequence[Any], Any]]:
        """python-jsonschema's failures for ``record``, once per shape of failure.

        Records that fail the same rules in the same places (the same jsonschema-rs errors,
        values aside) get the same answer from python-jsonschema, so its answer is kept per
        shape and only the values are read again: a file with thousands of records sharing a
        few defects pays for a few slow explanations, not thousands.
        """
        shape = failure_shape(self._rs_hard, record)
        places = self._explained.get(shape)
        if places is None:
            found: list[tuple[Sequence[Any], Sequence[Any], Any]] = [
                (list(e.absolute_path), list(e.absolute_schema_path), e.instance)
                for e in self._python().iter_errors(record)
            ]
            if len(self._explained) < _SHAPES_KEPT:
                self._explained[shape] = [(list(p), list(w)) for p, w, _ in found]
            return found
        return [(path, where, at(record, path)) for path, where in places]

    def _python(self) -> Any:
        if self._explainer is None:
            # jsonschema's format extras build an IRI grammar (rfc3987_syntax) at import, ~0.9 s;
            # no rule here uses an IRI format, so keep it from loading (jsonschema skips it).
            sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
            from jsonschema import Draft202012Validator  # slow import: only when explaining

            checker = Draft202012Validator.FORMAT_CHECKER
            self._explainer = Draft202012Validator(self.schemas.hard, format_checker=checker)
        return self._explainer

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


_SHAPES_KEPT = 10_000
_MARK_SLOTS = 1 << 23  # 8 MiB of marks: about 1 record in 25 clashes at 200 MB of records


def _by_line(finding: Finding) -> int:
    return finding.line


def _compile(schema: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for(schema, validate_formats=True)


TOO_DEEP = (
    "Record nests arrays or objects too deeply to be checked (more than 250 levels); "
    "no CRM field is that deep: flatten or remove the nested value"
)


def _iter(validator: Any, record: dict[str, Any]) -> Iterator[Any]:
    return iter(validator.iter_errors(record))


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
