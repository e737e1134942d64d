"""Suggested rules as a TOML rules file a person can read, edit and keep (``rules suggest -o``).

Every rule is preceded by comments: the field, how many records have the defect, an example
line and value (shown escaped, cut short), the description, and what the rule does with it.
The text is parsed back with the rules loader before it is returned, so a suggested file always
loads.
"""

from __future__ import annotations

import json
import textwrap
import tomllib
from typing import Any

from ldjfix.fixing.rules import parse_rules
from ldjfix.fixing.suggest import Defect, Suggested, Suggestion

_WIDTH = 60
_KEY_ORDER = ("field", "kind", "pattern", "action")


def render(suggested: Suggested, *, source: str, object_type: str) -> str:
    """The rules file for ``suggested`` (checked to load)."""
    items = suggested.suggestions
    fixed = sum(s.defect.count for s in items if s.fixes)
    kept = sum(s.defect.count for s in items if not s.fixes)
    out = [
        f"# ldjfix rules for {_comment(source)} ({object_type}), by `ldjfix rules suggest`",
        f"# from {' and '.join(_comment(s) for s in suggested.sources)}.",
        f"# {len(items)} kind(s) of defect: {fixed} record defect(s) fixed mechanically, "
        f"{kept} quarantined for a person to decide.",
        "# Review every rule before relying on it. The first rule matching a defect wins; after a",
        "# fix the record is validated again, and a record still defective is quarantined.",
        '# See "Rules files" in the README for every action and option.',
    ]
    if not items:
        out.append("# No defect found: nothing to fix. (Gong may still find some: run this again")
        out.append("# with --status-file S, S a saved request status of an upload of this file.)")
    for suggestion in items:
        out += ["", *_rule_text(suggestion)]
    out += _leftovers(suggested)
    text = "\n".join(out) + "\n"
    parse_rules(tomllib.loads(text), source="suggested rules")  # never hand out a broken file
    return text


def _rule_text(suggestion: Suggestion) -> list[str]:
    defect = suggestion.defect
    where = defect.field or "whole line"
    records = "1 record" if defect.count == 1 else f"{defect.count} records"
    seen = (
        "Gong"
        if defect.sources == {"Gong"}
        else "local"
        if defect.sources == {"local"}
        else "local+Gong"
    )
    lines = [f"# {where}: {records} ({seen}), e.g. line {_lines(defect)}{_example(defect)}"]
    lines += _wrapped(defect.description, "#   ")
    for note in suggestion.notes:
        lines += _wrapped(note, "#   -> ", "#      ")
    lines.append("[[rule]]")
    rule = suggestion.rule
    for key in (*_KEY_ORDER, *(k for k in rule if k not in _KEY_ORDER)):
        if key in rule and rule[key] is not None:
            lines.append(f"{key} = {_value(rule[key])}")
    return lines


def _wrapped(text: str, first: str, rest: str | None = None) -> list[str]:
    """A comment cut into lines of at most 96 characters."""
    return textwrap.wrap(
        _comment(text), 96, initial_indent=first, subsequent_indent=rest or first,
        break_long_words=False, break_on_hyphens=False,
    ) or [first.rstrip()]  # fmt: skip


def _lines(defect: Defect) -> str:
    return ", ".join(map(str, sorted(defect.examples)[:3]))


def _example(defect: Defect) -> str:
    if not defect.values:
        return ""
    return f": {_comment(_short(json.dumps(defect.values[0], ensure_ascii=True)))}"


def _leftovers(suggested: Suggested) -> list[str]:
    out: list[str] = []
    if suggested.warnings:
        out += ["", "# Warnings `run` does not act on (Gong's strictness here is unknown; see",
                "# `ldjfix validate --strict`):"]  # fmt: skip
        for defect in suggested.warnings:
            out.append(f"#   {defect.count} x {_comment(_short(defect.description, 90))}")
    if suggested.general:
        out += ["", "# File-level errors in the status (line 0): no rule fixes these:"]
        out += [f"#   {_comment(_short(text, 90))}" for text in suggested.general]
    if suggested.unmapped:
        out += ["", f"# {suggested.unmapped} status error(s) name lines past the end of the file;",
                "# is the status about this file?"]  # fmt: skip
    return out


def _value(value: Any) -> str:
    """A TOML value: basic strings via JSON escapes (TOML accepts them), inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{_string(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    return _string(str(value))


def _string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _short(text: str, width: int = _WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _comment(text: str) -> str:
    """Text safe inside a TOML comment: one line, no control characters."""
    return "".join(ch if ch >= " " and ch != "\x7f" else f"\\x{ord(ch):02x}" for ch in text)
