"""``rules suggest``: a starting rules file from the defects a file has, one rule per kind.

The local validator's findings (and, if given, the errors of a saved Gong status) are grouped by
field and kind of defect. Each group gets the mechanical fix when one is safe — a datetime
rewritten without milliseconds, a date cut from a datetime, ``"1,200.50"`` read as a number,
``"false"`` as a boolean, ``"Won"`` mapped to ``WON`` by case, a comma list split into an array,
a URL in ``domains`` cut to the bare domain — and ``quarantine`` where only a person can decide
(an ``objectId``, a line that is not JSON, a reference to an object Gong lacks). Rendering the
rules as TOML is :mod:`ldjfix.fixing.rulewriter`'s job.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ldjfix.fixing import conversions as convert
from ldjfix.gong import descriptions
from ldjfix.gong.descriptions import defect_kind
from ldjfix.gong.status import Status
from ldjfix.ldjson.files import open_input
from ldjfix.ldjson.lines import BOM
from ldjfix.validation.findings import WARNING
from ldjfix.validation.validator import Validator

NAME_LIMIT = 255  # Gong publishes no limit for name; the sandbox (and the sample data) use this
_KEPT_VALUES = 200
_KEPT_LINES = 5
_LIMIT = re.compile(r"maximum length of (\d+)")
_SLASH_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/\d{2,4}")
DOMAIN_REGEX = r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:www\.)?([^/:?#\s]+).*$"


@dataclass
class Defect:
    """One kind of defect found: where, how often, and example values."""

    field: str | None
    kind: str  # a class below, e.g. "datetime", "enum", "object_id"
    description: str
    lines: set[int] = dataclasses.field(default_factory=set)
    examples: list[int] = dataclasses.field(default_factory=list)
    values: list[Any] = dataclasses.field(default_factory=list)
    sources: set[str] = dataclasses.field(default_factory=set)

    @property
    def count(self) -> int:
        """Distinct lines with this defect."""
        return len(self.lines)

    def add(self, line: int, value: Any, source: str) -> None:
        """Count one more line (once per line) and keep its value as an example."""
        self.sources.add(source)
        if line in self.lines:
            return
        self.lines.add(line)
        if len(self.examples) < _KEPT_LINES:
            self.examples.append(line)
        if len(self.values) < _KEPT_VALUES and value is not _ABSENT:
            self.values.append(value)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The rule chosen for one defect (None: nothing to write) and what to tell the reader."""

    defect: Defect
    rule: dict[str, Any]
    notes: tuple[str, ...]

    @property
    def fixes(self) -> bool:
        """True when the rule fixes the defect (not quarantine)."""
        return bool(self.rule["action"] != "quarantine")


@dataclass(frozen=True, slots=True)
class Suggested:
    """Everything ``rules suggest`` found: one suggestion per defect, and what it left aside."""

    suggestions: tuple[Suggestion, ...]
    warnings: tuple[Defect, ...]  # findings run does not act on (Gong's strictness unknown)
    general: tuple[str, ...]  # file-level errors of the status: no rule fixes them
    unmapped: int  # status errors past the end of the file
    sources: tuple[str, ...]


_ABSENT = object()


def suggest(
    path: str | Path,
    object_type: str,
    *,
    status: Status | None = None,
    entity_schema: dict[str, Any] | None = None,
    status_source: str = "the status",
) -> Suggested:
    """Group the defects of ``path`` (and of ``status``) and choose a rule for each kind."""
    validator = Validator(object_type, entity_schema=entity_schema)
    properties: Mapping[str, Any] = validator.schemas.hard["properties"]
    groups: dict[tuple[str | None, str], Defect] = {}
    warnings: dict[tuple[str | None, str], Defect] = {}

    def add(line: int, name: str | None, text: str, value: Any, source: str, soft: bool) -> None:
        kind = classify(name, text, properties.get(name or ""))
        into = warnings if soft and kind != "domain_url" else groups
        into.setdefault((name, kind), Defect(name, kind, text)).add(line, value, source)

    reported = [e for e in status.line_errors if not e.is_general] if status else []
    with open_input(path) as stream:  # read once: a pipe or FIFO cannot be read again
        tap = _Tap(stream, {e.line: e.field for e in reported})
        for finding in validator.check_stream(tap):
            value = tap.value(finding.line, finding.field)
            add(finding.line, finding.field, finding.description, value, "local",
                finding.severity == WARNING)  # fmt: skip
        for line, name in tap.long_names:
            add(line, "name", descriptions.too_long("name", NAME_LIMIT), name, "local", False)
    general: list[str] = []
    unmapped = 0
    sources = ["the local validator"]
    if status is not None:
        sources.append(status_source)
        general = [e.description for e in status.line_errors if e.is_general]
        for error in reported:
            if error.line > tap.number:
                unmapped += 1
                continue
            value = tap.reported.get(error.line, _ABSENT)
            add(error.line, error.field, error.description, value, "Gong", False)
    chosen = [choose(d, properties) for d in groups.values()]
    chosen.sort(
        key=lambda s: (s.defect.field != "objectId", "pattern" not in s.rule, -s.defect.count)
    )
    _disambiguate(chosen)
    return Suggested(
        tuple(chosen), tuple(warnings.values()), tuple(general), unmapped, tuple(sources)
    )


def classify(name: str | None, description: str, prop: Mapping[str, Any] | None) -> str:
    """The class of a defect: what a fix has to do (or that only a person can decide)."""
    kind = defect_kind(description)
    if name == "objectId":
        return "object_id"
    if kind in ("unparsable", "dangling", "too_long"):
        return kind
    if kind == "missing":
        return "missing_date" if name in ("modifiedDate", "lastModified") else "missing"
    if kind != "invalid" or prop is None:
        return "other"
    if name == "domains" and "bare domain" in description:
        return "domain_url"
    formats = {"date-time": "datetime", "date": "date", "uri": "url"}
    if prop.get("format") in formats:
        return formats[prop["format"]]
    if "enum" in prop:
        return "enum"
    types = prop.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    for wanted in ("array", "boolean", "integer", "number", "string"):
        if wanted in types:
            return "range" if "minimum" in prop and wanted == "number" else wanted
    return "other"


def choose(defect: Defect, properties: Mapping[str, Any]) -> Suggestion:
    """The rule for one defect, with notes on what it does and what it cannot do."""
    name, kind = defect.field, defect.kind
    base: dict[str, Any] = {"field": name, "kind": defect_kind(defect.description)}
    rule: dict[str, Any]
    if kind == "object_id":
        rule = {"field": "objectId", "kind": "any", "action": "quarantine"}
        return _say(defect, rule, "objectId is how Gong upserts: only a person may change it.")
    if kind == "unparsable":
        rule = {"pattern": "^Unable to parse the line", "action": "quarantine"}
        return _say(defect, rule, "Not one JSON object: rewrite it with `ldjfix fix "
                    "--interactive` ($EDITOR), or fix the export.")  # fmt: skip
    if kind == "dangling":
        rule = {**base, "action": "quarantine"}
        return _say(defect, rule, "Gong lacks the object this refers to: upload it first "
                    "(`ldjfix run` with all the files sends accounts, users and stages "
                    "before contacts and deals).")  # fmt: skip
    if kind == "missing_date":
        rule = {**base, "action": "fill", "value": "now"}
        return _say(defect, rule, "Filled with the time of the upload (Gong's own advice).")
    if kind == "too_long":
        found = _LIMIT.search(defect.description)
        limit = int(found.group(1)) if found else NAME_LIMIT
        rule = {**base, "action": "truncate", "length": limit}
        return _say(defect, rule, f"Cut to {limit} characters.")
    if kind == "url":
        rule = {**base, "action": "drop"}
        return _say(defect, rule, "A broken CRM link is worse than none: the field is dropped.")
    maker = _MECHANICAL.get(kind)
    if maker is None:
        rule = {**base, "action": "quarantine"}
        return _say(defect, rule, "No safe mechanical fix is known: a person decides.")
    return maker(defect, base, properties.get(name or "", {}))


def _say(defect: Defect, rule: dict[str, Any], note: str) -> Suggestion:
    return Suggestion(defect, rule, (note,))


def _datetime(defect: Defect, base: dict[str, Any], prop: Mapping[str, Any]) -> Suggestion:
    to_date = defect.kind == "date"
    rule = {**base, "action": "reformat_datetime"} | ({"to": "date"} if to_date else {})
    days = [tuple(map(int, m.groups())) for v in defect.values if isinstance(v, str)
            if (m := _SLASH_DATE.match(v))]  # fmt: skip
    notes = ["Rewritten as YYYY-MM-DD." if to_date else
             "Rewritten as UTC without milliseconds; a value without a zone is read as UTC "
             '(add timezone = "Europe/Berlin" if your CRM writes local time).']  # fmt: skip
    if any(a > 12 >= b for a, b in days):
        rule["day_first"] = True
        notes.append("Slash dates read as day/month: some have a first number over 12.")
    elif days:
        notes.append("Slash dates read as month/day (US); add day_first = true if not.")
    convert_one = convert.to_gong_date if to_date else convert.to_gong_datetime
    return _checked(
        defect, rule, notes, lambda v: convert_one(v, day_first=rule.get("day_first", False))
    )


def _coercion(to: str) -> Maker:
    def make(defect: Defect, base: dict[str, Any], prop: Mapping[str, Any]) -> Suggestion:
        rule = {**base, "action": "coerce", "to": to}
        notes = [f"Converted to a {to}."]
        if to == "array":
            rule["pattern"] = "array of strings"
            notes = [
                'Split at commas, semicolons and spaces: "a.com, b.com" -> ["a.com", "b.com"].'
            ]
            return _checked(defect, rule, notes, convert.to_array)
        return _checked(defect, rule, notes, convert.CONVERTERS[to])

    return make


def _enum(defect: Defect, base: dict[str, Any], prop: Mapping[str, Any]) -> Suggestion:
    allowed = [v for v in prop.get("enum", []) if isinstance(v, str)]
    folded = {v.casefold(): v for v in allowed}
    # every allowed value once (case is ignored when looking up), then the odd ones seen
    table = {v.title(): v for v in allowed}
    lost: list[str] = []
    for value in defect.values:
        if isinstance(value, str) and value.casefold() in folded:
            if value.casefold() not in {k.casefold() for k in table}:
                table[value] = folded[value.casefold()]
        elif _short(value) not in lost:
            lost.append(_short(value))
    if len(lost) == len(defect.values) and defect.values:
        rule = {**base, "action": "quarantine"}
        return _say(defect, rule, f"No value matches {', '.join(allowed)} by case.")
    notes = [f'Mapped to {", ".join(allowed)} whatever the case ("Won" -> "WON").']
    if lost:
        shown = ", ".join(lost[:5])
        notes.append(f"Not mapped (quarantined unless you add them to values): {shown}.")
    return Suggestion(defect, {**base, "action": "map", "values": table}, tuple(notes))


def _domain(defect: Defect, base: dict[str, Any], prop: Mapping[str, Any]) -> Suggestion:
    rule = {**base, "pattern": "bare domain", "action": "replace", "regex": DOMAIN_REGEX,
            "with": "\\1"}  # fmt: skip
    return Suggestion(defect, rule, ('Cut to the bare domain: "https://www.acme.com/about" -> '
                                     '"acme.com" (Gong matches email domains).',))  # fmt: skip


Maker = Callable[[Defect, dict[str, Any], Mapping[str, Any]], Suggestion]
_MECHANICAL: dict[str, Maker] = {
    "datetime": _datetime,
    "date": _datetime,
    "number": _coercion("number"),
    "integer": _coercion("integer"),
    "boolean": _coercion("boolean"),
    "string": _coercion("string"),
    "array": _coercion("array"),
    "enum": _enum,
    "domain_url": _domain,
}


def _checked(defect: Defect, rule: dict[str, Any], notes: list[str], conv: Any) -> Suggestion:
    """Try the conversion on the examples; a value it cannot read is named (and quarantined)."""
    bad, shown = [], None
    for value in defect.values:
        try:
            new = conv(value)
        except (convert.ConversionError, ValueError, TypeError, OverflowError):
            bad.append(value)
        else:
            shown = shown or f"e.g. {_short(value)} -> {_short(new)}."
    if shown:
        notes.append(shown)
    if bad:
        named = ", ".join(_short(v) for v in bad[:3])
        notes.append(f"{len(bad)} value(s) cannot be converted and will be quarantined: {named}.")
    return Suggestion(defect, rule, tuple(notes))


def _disambiguate(chosen: list[Suggestion]) -> None:
    """Two rules for the same field and kind without a pattern: tell them apart by description."""
    seen: dict[tuple[Any, Any], int] = {}
    for suggestion in chosen:
        rule = suggestion.rule
        key = (rule.get("field"), rule.get("kind"))
        if "pattern" in rule or rule.get("field") is None:
            continue
        seen[key] = seen.get(key, 0) + 1
    for suggestion in chosen:
        rule = suggestion.rule
        key = (rule.get("field"), rule.get("kind"))
        if seen.get(key, 0) > 1 and "pattern" not in rule:
            rule["pattern"] = re.escape(suggestion.defect.description.split("]: ", 1)[-1])


def _short(value: Any) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


class _Tap:
    """The file's lines on their way to the validator, so a finding's value can be read back."""

    def __init__(self, stream: Iterable[bytes], wanted: Mapping[int, str | None]) -> None:
        self._stream = stream
        self._wanted = wanted
        self.reported: dict[int, Any] = {}  # line -> value of the field a status error names
        self.number = 0
        self._raw = b""
        self._parsed: tuple[int, Any] = (0, None)
        self.long_names: list[tuple[int, str]] = []

    def __iter__(self) -> Iterator[bytes]:
        for raw in self._stream:
            self.number += 1
            self._raw = raw
            if len(raw) > NAME_LIMIT and b'"name"' in raw:
                name = self._record().get("name") if isinstance(self._record(), dict) else None
                if isinstance(name, str) and len(name) > NAME_LIMIT:
                    self.long_names.append((self.number, name))
            if self.number in self._wanted:
                self.reported[self.number] = self.value(self.number, self._wanted[self.number])
            yield raw

    def _record(self) -> Any:
        if self._parsed[0] != self.number:
            raw = self._raw.removeprefix(BOM) if self.number == 1 else self._raw
            try:
                self._parsed = (self.number, orjson.loads(raw))
            except orjson.JSONDecodeError:
                self._parsed = (self.number, None)
        return self._parsed[1]

    def value(self, line: int, name: str | None) -> Any:
        """The value of ``name`` on ``line`` if that is the line just read (else absent)."""
        if line != self.number or name is None:
            return _ABSENT
        record = self._record()
        return record.get(name, _ABSENT) if isinstance(record, dict) else _ABSENT
