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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ldjfix.errors import InputProblem
from ldjfix.gong import descriptions
from ldjfix.gong.identifiers import check_object_type
from ldjfix.ldjson.files import read_input
from ldjfix.ldjson.lines import BOM, Line, Parsed, parse_line
from ldjfix.validation.customfields import custom_fields
from ldjfix.validation.explain import explain
from ldjfix.validation.findings import ERROR, WARNING, Finding, Tally, ValidationReport, render_text
from ldjfix.validation.schemas import SchemaPair, build
from ldjfix.validation.shapes import Failure, FlatRule, Known, ShapeCache, compile_schema
from ldjfix.validation.writer import Emit, Streaks

__all__ = [
    "ERROR",
    "WARNING",
    "Finding",
    "Tally",
    "ValidationReport",
    "Validator",
    "explain",
    "load_entity_schema",
    "reference_validator",
    "render_text",
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
        # passes(record): True when it has no finding at all (one compiled check, no findings
        # built); the compiled check itself, called with no Python call around it
        self.passes: Callable[[Any], bool] = (
            _compile(both).is_valid if both else self._rs_hard.is_valid
        )
        self._compiled = [(self._rs_hard, ERROR)]
        parts = [(self.schemas.hard, ERROR)]
        if self._has_soft:
            self._compiled.append((self._rs_soft, WARNING))
            parts.append((self.schemas.soft, WARNING))
        mandatory = self.schemas.mandatory_hard | self.schemas.mandatory_soft
        self._shapes = ShapeCache(parts, mandatory)

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
        if self.passes(record):
            return []
        return self.explain_record(line, record)

    def known_shape(self, record: dict[str, Any]) -> tuple[list[Failure], Known | None] | None:
        """:meth:`known_failures` and the shape that explained them (None: ``record`` passes)."""
        if self.passes(record):
            return [], None
        try:
            found = self._shapes.explain(record)
        except (ValueError, RecursionError):
            return None
        return None if found is None else (found, self._shapes.hit)

    def passes_changed(self, record: dict[str, Any], shape: Known | None, changed: Any) -> bool:
        """:meth:`passes` for a record ``shape`` explained, only fields ``changed`` set since."""
        return self._shapes.passes_changed(record, shape, changed, self.passes)

    def decides_by_field(self, name: str, shape: Known) -> bool:
        """True when a record ``shape`` explained passes, after only ``name`` changed, exactly
        when ``shape``'s field rules pass (see :meth:`passes_changed`)."""
        return self._shapes.by_name_only and name in shape[0]

    def known_failures(self, record: dict[str, Any]) -> list[Failure] | None:
        """(field, text, severity) per finding when ``record``'s failure shape is known already:
        ``[]`` when it passes, None for a new shape (ask :meth:`check_record`)."""
        known = self.known_shape(record)
        return None if known is None else known[0]

    def explain_record(self, line: int, record: dict[str, Any]) -> list[Finding]:
        """The findings of a record known to fail the screen."""
        try:
            return self._explain_record(line, record)
        except (ValueError, RecursionError):  # jsonschema-rs stops at 255 levels of nesting
            object_id = record.get("objectId")
            oid = object_id if isinstance(object_id, str) else None
            return [Finding(line, oid, None, TOO_DEEP, ERROR)]

    def _explain_record(self, line: int, record: dict[str, Any]) -> list[Finding]:
        known = self._shapes.explain(record)
        if known is not None:  # the common case: failing the way an earlier record failed
            return _known(line, record, known)
        object_id = record.get("objectId")
        oid = object_id if isinstance(object_id, str) else None
        errors = [
            (severity, e)
            for validator, severity in self._compiled
            for e in validator.iter_errors(record)
        ]
        fields = {e.instance_path[0] for _, e in errors if e.instance_path}
        if all(e.instance_path for _, e in errors) and fields <= record.keys():
            learned = self._shapes.learn(record, fields)
            if learned is not None:
                return _known(line, record, learned)
        mandatory = self.schemas.mandatory_hard | self.schemas.mandatory_soft
        found = []
        for severity, e in errors:
            schema = self.schemas.hard if severity == ERROR else self.schemas.soft
            path, where = e.instance_path, e.schema_path
            for name, text in explain(path, where, e.instance, schema, record, mandatory):
                value = record.get(name) if name is not None else None
                found.append(Finding(line, oid, name, text, severity, value))
        return _dedupe(found)

    def check_stream(
        self,
        stream: Iterable[bytes] | BinaryIO,
        *,
        tally: Tally | None = None,
        streaks: Streaks | None = None,
    ) -> Iterator[Finding]:
        """Every finding of a whole file in line order, then the repeated objectIds.

        With ``streaks``, a finding of a record failing one rule as the record before it did
        goes to ``streaks``' function for that rule instead of being yielded (a writer's
        shortcut: see :mod:`ldjfix.validation.stream`); the order of findings stays the same.
        """
        tally = tally if tally is not None else Tally()
        hashes: array[int] = array("q")
        names: dict[int, str] = {}
        yield from self.walk(stream, tally, hashes, names, streaks=streaks)
        yield from self.repeats(hashes, names, tally)

    def walk(
        self,
        stream: Iterable[bytes],
        tally: Tally,
        hashes: array[int],
        names: dict[int, str],
        *,
        bom: bool = True,
        streaks: Streaks | None = None,
    ) -> Iterator[Finding]:
        """Findings of every line, in order; repeats are left to :meth:`repeats`.

        Repeats are found in flat memory: each line leaves the hash of its objectId in
        ``hashes`` (8 bytes a line, 0 for none) and a mark in a fixed table; an objectId whose
        mark was already set (a repeat, or a rare clash in the table) goes to ``names``.
        ``bom``: the stream starts at line 1 of a file, where a UTF-8 BOM is not content.
        """
        loads, screen, mark = orjson.loads, self.passes, tally.mark
        bits, room = tally.bits, tally.room(1)
        shapes = self._shapes
        marks, mask = bytearray(_MARK_SLOTS), _MARK_SLOTS - 1
        keep = hashes.append
        number = blank = 0
        # While records keep failing the same way, the shape's relaxed check replaces the
        # screen: one check says "fails only there" instead of two. A clean record ends the
        # streak: the screen alone checks the clean records after it in one call, and the next
        # record failing a known way finds its shape again among the recent ones.
        streak: Known | None = None
        shape: frozenset[str] = frozenset()  # the streak's fields a record may lack (see below)
        required = {n for schema, _ in self._shapes.schemas for n in schema.get("required", ())}
        relaxed: Any = None
        one: FlatRule | None = None
        name, check, text, severity, mandatory = "", relaxed, "", ERROR, False
        emit: Emit | None = None  # the writer's shortcut for the findings of ``one``
        for number, raw in enumerate(stream, 1):  # the hot loop: keep it lean
            try:
                record = loads(raw)
            except orjson.JSONDecodeError:
                record = None
            if type(record) is not dict:  # blank, broken, not an object, or a BOM: careful path
                if number == 1 and bom and raw.startswith(BOM):
                    rest = _Rest(raw[len(BOM) :], stream)
                    yield from self.walk(rest, tally, hashes, names, bom=False, streaks=streaks)
                    return
                keep(0)
                findings = self.check(parse_line(_line(number, raw)))
                blank += _is_blank(raw)
                if findings:
                    mark(number)
                yield from findings
                continue
            object_id = record.get("objectId")
            if streak is not None and (not shape or record.keys() >= shape) and relaxed(record):
                if one is not None:  # one rule can fail: its finding, inlined (the hot case)
                    value = record[name]
                    if not check(value):
                        oid = object_id if type(object_id) is str else None
                        if severity == ERROR:
                            if number >= room:
                                room = tally.room(number)
                            bits[number >> 3] |= 1 << (number & 7)
                        if mandatory and value in _EMPTY:
                            yield Finding(
                                number, oid, name, descriptions.mandatory(name), severity, value
                            )
                        elif emit is not None:
                            emit(number, oid, value)
                        else:
                            yield Finding(number, oid, name, text, severity, value)
                    else:
                        streak = None  # a clean record ends the streak (see above)
                else:
                    known = ShapeCache.findings(record, streak[1])
                    if len(known) == 1 and streaks is not None:  # the writer's shortcut again
                        name_, text_, severity_ = known[0]
                        if severity_ == ERROR:
                            mark(number)
                        oid = object_id if type(object_id) is str else None
                        streaks.streak(name_, text_, severity_)(number, oid, record[name_])
                    elif known:
                        for finding in _known(number, record, known):
                            if finding.severity == ERROR:
                                mark(number)
                            yield finding
                    else:
                        streak = None  # a clean record ends the streak (see above)
            elif not screen(record):
                shapes.hit = None
                findings = self.explain_record(number, record)
                streak = shapes.hit
                if streak is not None:
                    # a field every record must have is there when the relaxed check passes
                    shape, relaxed = streak[0] - required, streak[2]
                    one = streak[1][0] if len(streak[1]) == 1 else None
                    if one is not None:
                        name, check, text, severity, mandatory = one
                        emit = streaks.streak(name, text, severity) if streaks is not None else None
                for finding in findings:
                    if finding.severity == ERROR:
                        mark(number)
                    yield finding
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

    def repeats(self, hashes: array[int], names: dict[int, str], tally: Tally) -> Iterator[Finding]:
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
                    tally.mark(number)
                yield finding

    def _duplicate(self, line: int, object_id: str, first: int) -> Finding:
        text = descriptions.duplicate(object_id, first)
        return Finding(line, object_id, "objectId", text, ERROR if self.strict else WARNING)


def reference_validator(schema: dict[str, Any]) -> Any:
    """python-jsonschema (the reference implementation) for ``schema``, formats checked.

    ldjfix itself explains failures with jsonschema-rs, once per failure shape; the tests hold
    its findings to this reference.
    """
    # jsonschema's format extras build an IRI grammar (rfc3987_syntax) at import, ~0.9 s;
    # no rule here uses an IRI format, so keep it from loading (jsonschema skips it).
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    from jsonschema import Draft202012Validator  # slow import: only for the reference

    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


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


_EMPTY: tuple[Any, ...] = (None, "", [])
_MARK_SLOTS = 1 << 23  # 8 MiB of marks: about 1 record in 25 clashes at 200 MB of records


def _compile(schema: dict[str, Any]) -> Any:
    return compile_schema(schema)


TOO_DEEP = (
    "Record nests arrays or objects too deeply to be checked (more than 250 levels); "
    "no CRM field is that deep: flatten or remove the nested value"
)


def _known(line: int, record: dict[str, Any], known: list[tuple[str, str, str]]) -> list[Finding]:
    """Findings from a shape's (field, text, severity) triples."""
    object_id = record.get("objectId")
    oid = object_id if isinstance(object_id, str) else None
    found = [Finding(line, oid, name, text, sev, record[name]) for name, text, sev in known]
    return found if len(found) == 1 else _dedupe(found)


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
