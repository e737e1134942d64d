"""Failures explained once per shape: a file bad everywhere costs little more than a clean one.

A record that fails the screen is usually bad the way the records before it were: milliseconds
in every ``modifiedDate``. The *shape* of a failure is the set of fields whose own rules fail.
For a shape seen before, one check decides whether a record fails that way and no other: the
schema with those fields' property rules taken out (*relaxed*) must pass. The findings then
come from each field's rules alone, split by the text they explain to (the ``maxLength`` rule,
the string type of ``objectId``, the rest of the node, each ``items`` node), each class a compiled
validator: no error objects, no pure-Python validation, the same findings as explaining every
error (the differential tests hold the two together).

A field whose rules sit anywhere but plain ``properties`` (under ``if``/``else``, say) never
joins a shape: records failing there take the general path, every error explained.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from ldjfix.gong import descriptions

Check = Callable[[Any], bool]
FlatRule = tuple[str, Check, str, str, bool]  # field, check, text, severity, mandatory
Known = tuple[frozenset[str], tuple[FlatRule, ...], Check]  # a shape, its rules, relaxed check
Failure = tuple[str, str, str]  # field, text, severity
_EMPTY: tuple[Any, ...] = (None, "", [])
_SHAPES_KEPT = 512  # distinct shapes with a compiled relaxed schema; others take the long path
_RECENT = 8  # shapes tried, most recent first, before a record's shape is worked out again
_PLAIN_KEYWORDS = frozenset(
    {
        "type", "enum", "const", "format", "pattern", "minLength", "maxLength", "minItems",
        "maxItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "uniqueItems", "not", "description", "title", "items",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rule:
    """One class of a field's rules that always explains to the same text."""

    check: Check
    text: str
    severity: str


def compile_schema(schema: dict[str, Any]) -> Any:
    """A jsonschema-rs validator with formats checked, as every ldjfix validator is."""
    return jsonschema_rs.validator_for(schema, validate_formats=True)


class ShapeCache:
    """Findings for records that fail the way earlier records failed, one check per record."""

    def __init__(
        self, schemas: Sequence[tuple[dict[str, Any], str]], mandatory: frozenset[str]
    ) -> None:
        self.schemas = schemas  # (schema, severity), hard first
        self.mandatory = mandatory
        self.rules: dict[str, list[Rule] | None] = {}
        self.relaxed: dict[frozenset[str], Check] = {}
        self.recent: list[Known] = []
        self.hit: Known | None = None  # the shape the last explained record had, if any
        order: dict[str, int] = {}
        for schema, _ in schemas:
            for name in _names_in(schema):
                order.setdefault(name, len(order))
        self.order = order  # findings of a record come in the schema's order of fields
        self.by_name_only = all(reads_values_by_name_only(schema) for schema, _ in schemas)

    def _rank(self, name: str) -> tuple[int, str]:
        return self.order.get(name, len(self.order)), name

    def explain(self, record: dict[str, Any]) -> list[tuple[str, str, str]] | None:
        """(field, text, severity) for each failure of ``record``; None when its shape is new."""
        for recent in self.recent:
            shape, flat, relaxed = recent
            if record.keys() >= shape and relaxed(record):
                self.hit = recent
                return self.findings(record, flat)
        return None

    def learn(self, record: dict[str, Any], fields: set[str]) -> list[tuple[str, str, str]] | None:
        """Remember ``fields`` as a shape (the fields failing in ``record``); its findings."""
        shape = frozenset(fields)
        if not shape or not all(self.field_rules(name) is not None for name in shape):
            return None
        relaxed = self.relaxed.get(shape)
        if relaxed is None:
            if len(self.relaxed) >= _SHAPES_KEPT:
                return None
            relaxed = self.relaxed[shape] = self._compile_relaxed(shape)
        if not relaxed(record):
            return None  # something else fails too: the general path explains it all
        flat = tuple(
            (name, rule.check, rule.text, rule.severity, name in self.mandatory)
            for name in sorted(shape, key=self._rank)
            for rule in self.rules[name] or ()
        )
        self.hit = (shape, flat, relaxed)
        self.recent.insert(0, self.hit)
        del self.recent[_RECENT:]
        return self.findings(record, flat)

    @staticmethod
    def findings(record: dict[str, Any], flat: tuple[FlatRule, ...]) -> list[tuple[str, str, str]]:
        """The findings of ``record``, known to fail only in the rules ``flat`` (of a shape)."""
        found: list[tuple[str, str, str]] = []
        for name, check, text, severity, mandatory in flat:
            value = record[name]
            if not check(value):
                if mandatory and value in _EMPTY:
                    text = descriptions.mandatory(name)
                found.append((name, text, severity))
        if len(found) > 1:
            found.sort(key=_hard_first)
        return found

    def passes_changed(
        self, record: dict[str, Any], shape: Known | None, changed: Any, passes: Check
    ) -> bool:
        """Whether ``record`` passes, it being a record ``shape`` explained with only the values
        of fields ``changed`` (each of the shape, there before and after) replaced since.

        When no rule reads a value but through ``properties`` (:func:`reads_values_by_name_only`)
        the shape's field rules decide, a few checks of single values; else ``passes`` does.
        """
        if shape is None or not self.by_name_only or not record.keys() >= shape[0]:
            return passes(record)
        if not all(name in shape[0] for name in changed):
            return passes(record)
        try:
            return not self.findings(record, shape[1])
        except (ValueError, RecursionError):
            return passes(record)

    def field_rules(self, name: str) -> list[Rule] | None:
        """The rule classes of field ``name`` in every schema; None if it cannot join a shape."""
        if name not in self.rules:
            self.rules[name] = self._rules_of(name)
        return self.rules[name]

    def _rules_of(self, name: str) -> list[Rule] | None:
        rules: list[Rule] = []
        for schema, severity in self.schemas:
            nodes = list(_property_nodes(schema, name))
            if nodes and any(node is None for node in nodes):
                return None
            for node in nodes:
                classes = _classes(name, node)
                if classes is None:
                    return None
                rules += [Rule(compile_schema(s).is_valid, text, severity) for s, text in classes]
        return rules

    def _compile_relaxed(self, shape: frozenset[str]) -> Check:
        parts = [_without(schema, shape) for schema, _ in self.schemas]
        whole = parts[0] if len(parts) == 1 else {"allOf": parts}
        check: Check = compile_schema(whole).is_valid
        return check


_VALUE_READERS = frozenset(
    {
        "patternProperties", "additionalProperties", "unevaluatedProperties", "enum", "const",
        "$ref", "$dynamicRef", "$recursiveRef",
    }
)  # fmt: skip


def reads_values_by_name_only(schema: Any) -> bool:
    """True when no rule of ``schema`` reads a property's value but through ``properties``.

    Then a record explained by a shape, with only the values of the shape's fields replaced
    since, still passes the shape's relaxed schema (it never read those values): whether it
    passes as a whole is up to the shape's field rules alone. Any keyword that could read a
    value otherwise (a pattern or "additional" property rule, a whole-object ``enum``, a
    ``$ref``) answers False, and the record is checked in full.
    """
    if isinstance(schema, list):
        return all(reads_values_by_name_only(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    for key, sub in schema.items():
        if key in _VALUE_READERS:
            return False
        if key == "properties" and isinstance(sub, dict):
            continue  # each applies to its own field's value (or names a field: no shape)
        if key not in ("required", "description", "title") and not reads_values_by_name_only(sub):
            return False
    return True


def _names_in(schema: dict[str, Any]) -> Iterator[str]:
    """Property names of ``schema``'s plain ``properties``, in order."""
    yield from schema.get("properties", {})
    for part in schema.get("allOf", ()):
        yield from _names_in(part)


def _hard_first(found: tuple[str, str, str]) -> int:
    return 0 if found[2] == "error" else 1


def _property_nodes(schema: Any, name: str, plain: bool = True) -> Iterator[dict[str, Any] | None]:
    """Every schema of property ``name``; None for one that is not under plain ``properties``.

    "Plain" means reached from the root through ``allOf`` only, where taking the property's
    rules out cannot change what any other rule says.
    """
    if isinstance(schema, list):
        for item in schema:
            yield from _property_nodes(item, name, plain)
        return
    if not isinstance(schema, dict):
        return
    props = schema.get("properties")
    if isinstance(props, dict) and name in props:
        yield props[name] if plain else None
    required = schema.get("required")
    if not plain and isinstance(required, list) and name in required:
        yield None
    for key, sub in schema.items():
        if key in ("properties", "required", "enum", "const", "description"):
            if key == "properties" and isinstance(sub, dict):
                for other, rule in sub.items():  # nested objects: never plain
                    if other != name:
                        yield from _property_nodes(rule, name, False)
            continue
        yield from _property_nodes(sub, name, plain and key == "allOf")


def _classes(name: str, node: Any) -> list[tuple[dict[str, Any], str]] | None:
    """``node`` split into sub-schemas that each explain to one text; None when it cannot be."""
    if not isinstance(node, dict) or not set(node) <= _PLAIN_KEYWORDS:
        return None
    rest = {k: v for k, v in node.items() if k not in ("items", "maxLength", "description")}
    classes: list[tuple[dict[str, Any], str]] = []
    if "maxLength" in node:
        limit = node["maxLength"]
        classes.append(({"maxLength": limit}, descriptions.too_long(name, int(limit))))
    if node.get("type") == "string":
        classes.append(({"type": "string"}, descriptions.invalid(name, "must be a string")))
        del rest["type"]
    if rest:
        if "description" not in node:
            return None  # the text would name the failing keyword: let the long path say it
        classes.append((rest, descriptions.invalid(name, node["description"])))
    if "items" in node:
        inner = _classes(name, node["items"])
        if inner is None:
            return None
        classes += [({"items": schema}, text) for schema, text in inner]
    return classes


def _without(schema: dict[str, Any], shape: frozenset[str]) -> dict[str, Any]:
    """``schema`` with the property rules of ``shape``'s fields taken out (plain places only)."""
    out = copy.deepcopy(schema)
    _strip(out, shape)
    return out


def _strip(node: Any, shape: frozenset[str]) -> None:
    if not isinstance(node, dict):
        return
    props = node.get("properties")
    if isinstance(props, dict):
        for name in shape:
            props.pop(name, None)
    for part in node.get("allOf", ()):
        _strip(part, shape)
