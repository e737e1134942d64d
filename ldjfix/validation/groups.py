"""Defects grouped for people: per field and kind, a count, the first lines and one example value.

A file bad everywhere in the same way gives hundreds of thousands of identical findings; the
summary that ends ``validate``, ``fix`` and ``run`` (and ``summary.md`` and ``rejected.csv``) reads
them as one line: ``modifiedDate: milliseconds — 371,457 records (lines 1, 2, 3, …)``. Groups are
keyed by the record's field and the defect's kind, never by text that carries a value, a line or a
character offset, so their number stays small; past :data:`GROUPS_KEPT` the rest is counted, not
kept, and the summary says how many it leaves out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ldjfix.gong.descriptions import defect_kind
from ldjfix.gong.status import field_named_in

GROUPS_KEPT = 500
FIRST_LINES = 5
NO_VALUE: Any = object()  # "no example": distinct from a null value
_MILLIS = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d[.,]\d+")
_MILLIS_EACH = re.compile(
    "(?:^|\x00)" + _MILLIS.pattern[1:]
)  # at the start of each NUL-joined value
_OFFSETS = re.compile(r" at (?:character|byte|position|column|line) \d+(?: of the line)?")
_DIGITS = re.compile(r"\d+")
_EXAMPLE_LIMIT = 60
_KEYS_KEPT = 4096
_HELD = 1024  # findings held by add_held before they are counted
Key = tuple[str, str | None, str, str]  # severity (or outcome), field, kind, detail
_RANKS = {"error": 0, "warning": 1, "quarantined": 2, "fixed": 3}
_NONE: tuple[Key, Key | None] = (("", None, "", ""), None)


def defect_of(name: str | None, description: str, value: Any = NO_VALUE) -> tuple[str, str]:
    """(kind, detail) of a defect: what it is, without the values, lines or offsets it quotes.

    ``milliseconds`` is told apart from other invalid dates because it is the commonest real
    defect (most CRMs export them) and has its own fix.
    """
    kind = defect_kind(description)
    if kind == "invalid":
        if isinstance(value, str) and _MILLIS.match(value):
            return "milliseconds", ""
        detail = description.split("]: ", 1)[1] if "]: " in description else ""
        if not detail and not description.startswith("Invalid value for field ["):
            detail = description  # a text nobody catalogued: it is the detail
        return kind, _DIGITS.sub("N", detail) if name is None else detail
    if kind == "unparsable":
        detail = description.split(": ", 1)[-1]
        return kind, _OFFSETS.sub("", detail)
    if kind == "other":
        return kind, _DIGITS.sub("N", description)[:120]
    return kind, ""


@dataclass(slots=True)
class DefectGroup:
    """Every finding of one defect: how many, on which lines first, and one value it had."""

    name: str | None
    kind: str
    detail: str
    severity: str
    count: int = 0
    lines: list[int] = field(default_factory=list)
    example: Any = NO_VALUE

    @property
    def label(self) -> str:
        """``field: kind``, with the detail when the kind alone does not say it."""
        text = f"{self.name or 'line'}: {self.kind}"
        return f"{text} ({self.detail})" if self.detail else text

    def where(self) -> str:
        """``lines 1, 2, 3, …`` (an ellipsis when there are more than are shown)."""
        shown = ", ".join(str(n) for n in self.lines)
        more = ", …" if self.count > len(self.lines) else ""
        return f"line{'s' if self.count > 1 else ''} {shown}{more}"

    def text(self) -> str:
        """One line for people: label, count, first lines and an example value."""
        noun = "record" if self.count == 1 else "records"
        line = f"{self.label} — {self.count:,} {noun} ({self.where()})"
        if self.example is not NO_VALUE:
            line += f", e.g. {example_text(self.example)}"
        return line

    def as_json(self) -> dict[str, Any]:
        """The JSON form: field, kind, detail, severity, count, first lines, example."""
        return {
            "field": self.name,
            "kind": self.kind,
            "detail": self.detail or None,
            "severity": self.severity,
            "count": self.count,
            "lines": list(self.lines),
            "example": None if self.example is NO_VALUE else self.example,
        }


class DefectGroups:
    """Findings (or quarantined records) grouped by field and kind, in flat memory."""

    def __init__(self, kept: int = GROUPS_KEPT) -> None:
        self.kept = kept
        self.groups: dict[Key, DefectGroup] = {}
        self.unlisted = 0  # findings of groups past ``kept``
        self._keys: dict[tuple[str, str | None, str], tuple[Key, Key | None]] = {}
        self._last: tuple[str, str | None, str, tuple[Key, Key | None]] = ("", None, "", _NONE)
        self._held: tuple[str, str, str] = ("", "", "")  # what the held findings are
        self._held_lines: list[int] = []
        self._held_values: list[Any] = []

    def add_held(self, line: int, name: str, description: str, severity: str, value: Any) -> None:
        """:meth:`add`, held to be counted with the next findings of the same field and text in
        one batch (:meth:`adder`): the shortcut of a streak of records fixed the same way. Every
        other method counts what is held first, so the groups never see lines out of order."""
        held = self._held
        if description is not held[1] or name != held[0] or severity != held[2]:
            self._count_held()
            self._held = (name, description, severity)
        elif len(self._held_lines) >= _HELD:
            self._count_held()
        self._held_lines.append(line)
        self._held_values.append(value)

    def _count_held(self) -> None:
        if self._held_lines:
            lines, values = self._held_lines, self._held_values
            self._held_lines, self._held_values = [], []
            self.adder(*self._held)(lines, values)

    def add(
        self,
        line: int,
        name: str | None,
        description: str,
        severity: str = "error",
        value: Any = NO_VALUE,
    ) -> None:
        """Count one finding; ``name`` is the record's field (read from the text when None)."""
        if self._held_lines:
            self._count_held()
        last = self._last
        if description is last[2] and severity == last[0] and (name is None or name == last[1]):
            memo = last[3]  # the same text as the finding before (the same object, even)
        else:
            if name is None:
                name = field_named_in(description)
            found = self._keys.get((severity, name, description))
            # most findings repeat a text: work its groups out once
            memo = found if found is not None else self._remember(severity, name, description)
            self._last = (severity, name, description, memo)
        plain, millis = memo
        if millis is not None and type(value) is str and _MILLIS.match(value):
            plain = millis
        group = self.groups.get(plain)
        if group is None:
            if len(self.groups) >= self.kept:
                self.unlisted += 1
                return
            group = self.groups[plain] = DefectGroup(*plain[1:], severity=severity)
        if group.lines and group.lines[-1] == line:
            return  # one record, one count
        group.count += 1
        if len(group.lines) < FIRST_LINES:
            group.lines.append(line)
        if group.example is NO_VALUE and value is not NO_VALUE:
            group.example = value

    def adder(
        self, name: str, description: str, severity: str
    ) -> Callable[[list[int], list[Any]], None]:
        """:meth:`add` for a batch of findings of one field and text: ``adder(...)(lines, values)``.

        The shortcut of a streak of records failing the same way (``lines`` in order, one
        finding each): once the batch's groups hold their first lines and an example, counting
        the batch is all :meth:`add` would do; else each finding goes through :meth:`add`.
        """
        self._count_held()
        found = self._keys.get((severity, name, description))
        plain, millis = found if found is not None else self._remember(severity, name, description)
        groups = self.groups

        def add_all(lines: list[int], values: list[Any]) -> None:
            matched = _with_millis(values) if millis else 0
            if matched >= 0:
                split = ((plain, len(lines) - matched), (millis, matched))
                wanted = [(groups.get(key), n) for key, n in split if n and key is not None]
                if all(_full(group, lines[0]) for group, _ in wanted):
                    for group, n in wanted:
                        group.count += n  # type: ignore[union-attr]  # _full: not None
                    return
            for line, value in zip(lines, values, strict=True):
                self.add(line, name, description, severity, value)

        return add_all

    def _remember(
        self, severity: str, name: str | None, description: str
    ) -> tuple[Key, Key | None]:
        """The group of a finding with this text: by kind and detail, and by its milliseconds."""
        kind, detail = defect_of(name, description)
        plain = (severity, name, kind, detail)
        millis = (severity, name, "milliseconds", "") if kind == "invalid" else None
        if len(self._keys) > _KEYS_KEPT:
            self._keys.clear()
        memo = self._keys[(severity, name, description)] = (plain, millis)
        return memo

    def ordered(self, severity: str | None = None) -> list[DefectGroup]:
        """Groups of ``severity`` (all when None), errors first, the biggest first."""
        self._count_held()
        chosen = [g for g in self.groups.values() if severity in (None, g.severity)]
        return sorted(chosen, key=lambda g: (_RANKS.get(g.severity, 9), -g.count, g.label))

    def render(self, *, limit: int = 20, indent: str = "  ") -> list[str]:
        """The summary lines, at most ``limit`` groups, with "and N more" when cut."""
        out = []
        for severity in dict.fromkeys(g.severity for g in self.ordered()):
            groups = self.ordered(severity)
            out.append(
                f"{severity} by defect:" if severity.endswith("ed") else f"{severity}s by defect:"
            )
            out += [f"{indent}{g.text()}" for g in groups[:limit]]
            out += more_line(groups[limit:], indent)
        if self.unlisted:
            out.append(f"{indent}… and {self.unlisted:,} findings of other defects not grouped")
        return out

    def as_json(self) -> list[dict[str, Any]]:
        """Every group in its JSON form, errors first, the biggest first."""
        return [g.as_json() for g in self.ordered()]

    def merge_json(self, items: Iterable[dict[str, Any]]) -> None:
        """Add groups read back from :meth:`as_json` (another round's, say) to these."""
        self._count_held()
        for item in items:
            key = (item["severity"], item["field"], item["kind"], item["detail"] or "")
            group = self.groups.get(key)
            if group is None:
                if len(self.groups) >= self.kept:
                    self.unlisted += int(item["count"])
                    continue
                group = self.groups[key] = DefectGroup(*key[1:], severity=key[0])
            group.count += int(item["count"])
            group.lines = sorted({*group.lines, *item["lines"]})[:FIRST_LINES]
            if group.example is NO_VALUE and item.get("example") is not None:
                group.example = item["example"]


def _with_millis(values: list[Any]) -> int:
    """How many ``values`` :data:`_MILLIS` matches; -1 when one is not a string.

    One search over the values joined by NUL (which no part of the pattern matches) instead of a
    match per value, unless a value holds a NUL itself.
    """
    try:
        joined = "\x00".join(values)
    except TypeError:
        return -1
    if joined.count("\x00") != len(values) - 1:
        return len(list(filter(None, map(_MILLIS.match, values))))
    return len(_MILLIS_EACH.findall(joined))


def _full(group: DefectGroup | None, line: int) -> bool:
    """True when ``group`` holds its first lines and an example, all before ``line``."""
    return (
        group is not None
        and group.example is not NO_VALUE
        and len(group.lines) >= FIRST_LINES
        and group.lines[-1] < line
    )


def more_line(rest: Iterable[DefectGroup], indent: str = "") -> list[str]:
    """``… and N more defects (M records)`` for the groups a summary leaves out, if any."""
    rest = list(rest)
    if not rest:
        return []
    records = sum(g.count for g in rest)
    noun = "defect" if len(rest) == 1 else "defects"
    held = "1 record" if records == 1 else f"{records:,} records"
    return [f"{indent}… and {len(rest):,} more {noun} ({held})"]


def example_text(value: Any) -> str:
    """A value as JSON, cut to a few dozen characters, safe to show on a terminal."""
    try:
        text = orjson.dumps(value).decode("utf-8")
    except TypeError:
        text = repr(value)
    if len(text) > _EXAMPLE_LIMIT:
        text = text[: _EXAMPLE_LIMIT - 1] + "…"
    return "".join(_visible(c) for c in text)


def _visible(char: str) -> str:
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
        return f"\\u{ord(char):04x}"
    return char
