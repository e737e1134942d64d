"""What the interactive fixer shows: a header, the record marked, a broken line with a caret.

Plain functions from data to text, so every screen of the fixer can be tested without a
terminal, and the default way it talks (stderr, stdin; on a terminal a progress line the loop
left on the cursor's line is cleared first). Data from the file is escaped (control characters,
bidi overrides, line separators) before it reaches the terminal, and text that is cut says so
with an ellipsis.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import orjson

from ldjfix.ldjson.printable import safe
from ldjfix.ldjson.serial import dump_json

ELLIPSIS = "…"
WINDOW = 72  # characters of a broken line shown around the failing position
LONG_LINE = 150  # a record's line longer than this is cut in the view (the record is not)
MENU = (  # two lines, each under 80 columns
    "[s]et a field · [d]rop a field · [a]ll: set on every record with this defect\n"
    "[e]dit in $EDITOR · quaran[t]ine the record · s[k]ip · [q]uit and save"
)
TEXT_MENU = "[e]dit in $EDITOR · quaran[t]ine the line · s[k]ip · [q]uit and save"
# what a person may type, by the first letter the menu shows or the word the rules file uses
WORDS = {
    "set": "s", "drop": "d", "all": "a", "edit": "e", "quarantine": "t", "skip": "k",
    "quit": "q",
}  # fmt: skip
_KEY = re.compile(r'^  ("(?:[^"\\]|\\.)*"):')
_CHARACTER = re.compile(r"\bcharacter (\d+)\b")


def choice(answer: str) -> str:
    """The menu letter a typed answer means (``drop`` and ``d`` alike); "" when it means none."""
    word = answer.strip().lower()
    if word in WORDS:
        return WORDS[word]
    return word if len(word) == 1 else ""


def header(
    line: int, object_id: Any, *, position: int | None, total: int, again: bool = False
) -> str:
    """``record 3 of 16 · line 7 · objectId "d-3"`` (or ``objectId (missing)``)."""
    parts = []
    if position is not None and total:
        parts.append(f"record {position:,} of {total:,}")
    parts.append(f"line {line:,}")
    parts.append(f"objectId {_object_id(object_id)}")
    text = " · ".join(parts)
    if again:
        text += " · shown again: still invalid after your change"
    return text


def _object_id(value: Any) -> str:
    if value is None or value == "":
        return "(missing)"
    if isinstance(value, str):
        return printable(dump_json(value).decode())
    return f"{printable(dump_json(value).decode())} (not a string)"


def marked(record: dict[str, Any], fields: set[str]) -> str:
    """The record as indented JSON, each line of an offending field marked with ``>>``."""
    out = []
    current = None
    for text in dump_json(record, indent=True).decode().splitlines():
        if text.startswith('  "') and not text.startswith("   "):
            key = _KEY.match(text)  # the key itself may hold ':' (a custom field name)
            current = orjson.loads(key.group(1)) if key else None
        elif text in ("{", "}"):
            current = None
        out.append((">> " if current in fields else "   ") + _cut(printable(text)))
    for name in sorted(fields - set(record)):
        out.insert(1, f">>   {printable(orjson.dumps(name).decode())}: (missing)")
    return "\n".join(out)


def _cut(text: str) -> str:
    if len(text) <= LONG_LINE:
        return text
    return f"{text[: LONG_LINE - 1]}{ELLIPSIS} (cut here: {len(text):,} characters in all)"


def failing_position(text: str, description: str) -> int | None:
    """Where (0-based) a line stops being JSON: "character N" in the error, else parsing it."""
    said = _CHARACTER.search(description)
    if said is not None:
        return max(0, int(said.group(1)) - 1)
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return min(exc.pos, len(text))
    return None


def caret(text: str, position: int | None, *, window: int = WINDOW) -> str:
    """The line (cut around ``position`` with ellipses) and a ``^`` under the failing character."""
    if position is None:
        shown = printable(text[:window]) + (ELLIPSIS if len(text) > window else "")
        return shown
    start = max(0, min(position - window // 2, len(text) - window))
    end = min(len(text), start + window)
    left = ELLIPSIS if start > 0 else ""
    right = ELLIPSIS if end < len(text) else ""
    before = printable(text[start:position])
    shown = left + before + printable(text[position:end]) + right
    if position >= len(text):
        shown += " (end of line)"
    return f"{shown}\n{' ' * len(left + before)}^ character {position + 1:,}"


def printable(text: str) -> str:
    """``text`` with control, format and line-separator characters escaped (the one printer)."""
    return safe(text)


def _clear_line() -> str:
    """On a terminal, what clears a progress line the loop may have left on the cursor's line."""
    return "\r\x1b[2K" if sys.stderr.isatty() else ""


def ask_on_stderr(prompt: str) -> str:
    """Ask on stderr, read a line from stdin; the end of input means quit-and-save."""
    sys.stderr.write(_clear_line() + prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else "q"  # end of input: quit and save


def say_on_stderr(text: str) -> None:
    """Say ``text`` on stderr."""
    print(_clear_line() + text, file=sys.stderr)
