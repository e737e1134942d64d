"""Regular expressions from the user's rules file, run in time linear in the text.

A rules pattern runs against every description Gong sends and every value a rule rewrites;
with Python's backtracking ``re`` one careless pattern such as ``(a+)+$`` hangs ``run`` on a
long value, and not even Ctrl-C stops it (the C matcher never lets go). Rules patterns are
therefore compiled with RE2 (google-re2), which matches in linear time; what RE2 cannot do in
linear time (lookaround, backreferences) is refused when the rules file is loaded. Replacement
templates (``with``) are parsed at load time too, so ``\\9`` for a pattern with one group is a
rules-file error, not a crash half-way through a job.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the reason goes into our one Error: line, not a log on stderr
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "b": "\b"}
_ESCAPES.update({"\\": "\\"})
_GROUP = re.compile(r"\\g<([^>]*)>|\\([0-9]{1,2})|\\(.?)", re.S)


class PatternError(ValueError):
    """A pattern or replacement the rules file cannot use; the message says why."""


@dataclass(frozen=True, slots=True)
class UserPattern:
    """A compiled rules-file pattern: search, split and replace, all in linear time."""

    pattern: str
    compiled: Any  # re2._Regexp (google-re2 ships no type stubs)

    def search(self, text: str) -> bool:
        """True when the pattern occurs in ``text``."""
        return self.compiled.search(text) is not None

    def split(self, text: str) -> list[str]:
        """``text`` cut at every match (groups are not kept)."""
        pieces: list[str] = []
        end = 0
        for match in self.compiled.finditer(text):
            pieces.append(text[end : match.start()])
            end = match.end()
        pieces.append(text[end:])
        return pieces

    def replacer(self, template: str) -> Callable[[str], str]:
        """A function replacing every match in a text by ``template`` (checked now)."""
        pieces = parse_template(template, self.compiled.groups, self.compiled.groupindex)

        def expand(match: Any) -> str:
            return "".join(p if isinstance(p, str) else (match.group(p) or "") for p in pieces)

        def replace(text: str) -> str:
            out: list[str] = []
            end = 0
            for match in self.compiled.finditer(text):
                out.append(text[end : match.start()])
                out.append(expand(match))
                end = match.end()
            out.append(text[end:])
            return "".join(out)

        return replace


def compile_pattern(text: str) -> UserPattern:
    """Compile a rules-file pattern with RE2, or raise :class:`PatternError` saying why not."""
    try:
        return UserPattern(text, re2.compile(text, _OPTIONS))
    except re2.error as exc:
        raw = exc.args[0] if exc.args else ""
        reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        extra = ""
        if "perl operator" in reason or "escape sequence" in reason:
            extra = " (lookaround and backreferences are not supported: they cannot run in "
            extra += "bounded time)"
        raise PatternError(f"{reason}{extra}") from None


def parse_template(template: str, groups: int, names: dict[str, int]) -> list[str | int]:
    """Split a replacement into literal text and group numbers, as Python's ``re.sub`` reads it.

    ``\\1``-``\\99`` and ``\\g<1>``/``\\g<name>`` are groups; ``\\n``, ``\\t`` and friends are
    characters; any other escape, or a group the pattern does not have, is refused.
    """
    pieces: list[str | int] = []
    end = 0
    for found in _GROUP.finditer(template):
        pieces.append(template[end : found.start()])
        end = found.end()
        named, number, other = found.groups()
        if named is not None:
            pieces.append(_group(named, groups, names))
        elif number is not None:
            pieces.append(_group(number, groups, names))
        elif other in _ESCAPES:
            pieces.append(_ESCAPES[other])
        else:
            raise PatternError(
                f"bad escape \\{other} in the replacement" if other else "a lone \\ at its end"
            )
    pieces.append(template[end:])
    return [p for p in pieces if p != ""]


def _group(name: str, groups: int, names: dict[str, int]) -> int:
    if name.isdigit() and name.isascii():
        number = int(name)
        if number > groups:
            has = f"has {groups} group" + ("" if groups == 1 else "s")
            raise PatternError(f"the replacement refers to group {number}, but the pattern {has}")
        return number
    if name in names:
        return names[name]
    raise PatternError(f"the replacement refers to group {name!r}, which the pattern lacks")
