"""Fixing at the terminal: a person sees each failing record with its error and decides.

:class:`InteractiveFixer` is a :class:`~ldjfix.fixing.fixer.Fixer`. For each record it shows the
errors and the record with the offending fields marked (``>>``), and offers: set a field,
set it and apply the same value to every record with this defect, edit the record in
``$EDITOR``, drop it (quarantine), skip it, or quit and save. Rules (when given) are tried
first, so the person only sees what they do not cover.

Every answer is appended to a progress file the caller names, so a later run resumes where
the person stopped. Input and output are functions passed in (no terminal needed in tests).
"""

from __future__ import annotations

import copy
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ldjfix.errors import DefectsRemain
from ldjfix.fixing import decisions as saved
from ldjfix.fixing.conversions import gong_now
from ldjfix.fixing.fixer import Fix, Outcome
from ldjfix.fixing.rules import Rules, defect_kind
from ldjfix.fixing.rules_fixer import RulesFixer
from ldjfix.gong.status import LineError
from ldjfix.validation.validator import ERROR, Validator

SKIPPED = "skipped at the terminal"
DROPPED = "dropped at the terminal"
MENU = (
    "[s]et a field, set for [a]ll records with this defect, [e]dit in $EDITOR, "
    "[d]rop, s[k]ip, [q]uit and save"
)
Ask = Callable[[str], str]
Say = Callable[[str], None]
Edit = Callable[[str], str | None]


class QuitRequested(DefectsRemain):
    """The person chose quit-and-save; a later run resumes from the progress file."""


def _ask(prompt: str) -> str:
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else "q"  # end of input: quit and save


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def run_editor(text: str) -> str | None:
    """Open ``text`` in ``$VISUAL``/``$EDITOR`` (a temp .json file); the saved text, or None."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix="ldjfix-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        try:
            done = subprocess.run([*shlex.split(editor), name], check=False)
        except OSError:
            return None
        if done.returncode != 0:
            return None
        return Path(name).read_text(encoding="utf-8")
    finally:
        os.unlink(name)


class InteractiveFixer:
    """A :class:`~ldjfix.fixing.fixer.Fixer` that asks a person, record by record."""

    def __init__(
        self,
        *,
        rules: Rules | None = None,
        validator: Validator | None = None,
        ask: Ask = _ask,
        say: Say = _say,
        edit: Edit = run_editor,
        progress: str | Path | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.validator = validator
        self.rules = RulesFixer(rules, validator=validator, now=now) if rules else None
        self.ask, self.say, self.edit, self.now = ask, say, edit, now
        self.progress = saved.Progress(progress)
        self.counts: dict[tuple[str | None, str], int] = {}

    def expect(self, errors: Sequence[LineError]) -> None:
        """Tell the fixer every error it will see, so it can say how many share a defect."""
        for error in errors:
            key = (error.field, defect_kind(error.description))
            self.counts[key] = self.counts.get(key, 0) + 1

    def fix(self, source_line: int, record: dict[str, Any], errors: Sequence[LineError]) -> Outcome:
        """Replay a saved answer, try the rules and remembered answers, else ask."""
        key = saved.key(source_line, record, errors)
        known = self.progress.answer(key)
        if known is not None:
            return known
        outcome = self._automatic(source_line, record, errors)
        if outcome is None:
            outcome = self._ask_about(source_line, record, list(errors))
        self.progress.save(key, outcome)
        return outcome

    def fix_text(self, source_line: int, content: bytes, errors: Sequence[LineError]) -> Outcome:
        """A line that holds no JSON object: edit its text, drop it, skip it, or quit."""
        question = saved.key(source_line, {}, errors)
        known = self.progress.answer(question)
        if known is not None:
            return known
        text = content.decode("utf-8", "replace")
        outcome = None
        while outcome is None:
            self.say(f"\nline {source_line}: {errors[0].description}\n   {text[:500]}")
            choice = self.ask("[e]dit in $EDITOR, [d]rop, s[k]ip, [q]uit and save? ").strip()[:1]
            outcome = self._text_choice(source_line, text, choice.lower(), errors)
        self.progress.save(question, outcome)
        return outcome

    def _text_choice(
        self, line: int, text: str, choice: str, errors: Sequence[LineError]
    ) -> Outcome | None:
        if choice in ("d", "k", "q"):
            return self._stop(line, choice, errors)
        if choice != "e":
            self.say(f"unknown choice {choice!r}")
            return None
        edited = self.edit(text + "\n")
        try:
            record = orjson.loads(edited or "")
        except orjson.JSONDecodeError as exc:
            self.say(f"still not JSON ({exc.msg} at character {exc.pos + 1})")
            return None
        if not isinstance(record, dict):
            self.say("still not a JSON object")
            return None
        oid = record.get("objectId")
        fix = Fix(line, oid if isinstance(oid, str) else None, None, text, record, "edited")
        return Outcome(record, (fix,))

    def _stop(self, line: int, choice: str, errors: Sequence[LineError]) -> Outcome:
        if choice == "q":
            raise QuitRequested(f"stopped at the terminal at line {line}; {self.progress.where()}")
        reason = DROPPED if choice == "d" else SKIPPED
        return Outcome(None, (), f"{reason}: {errors[0].description}")

    def propagate(self, source_line: int, record: dict[str, Any]) -> Outcome | None:
        """Apply "for all" answers (and learned rules) to a record nobody reported."""
        outcome = self.rules.propagate(source_line, record) if self.rules else None
        if outcome is not None and not outcome.quarantined:
            record = outcome.record or record
        work, fixes = copy.deepcopy(record), list(outcome.fixes if outcome else ())
        for answer in self.progress.for_all:
            if saved.has_defect(answer, work, self._local(source_line, work)):
                fixes.append(self._set(source_line, work, answer.field, answer.value, "for all"))
        if not fixes:
            return None
        return Outcome(work, tuple(fixes))

    def _automatic(
        self, line: int, record: dict[str, Any], errors: Sequence[LineError]
    ) -> Outcome | None:
        if self.rules is not None:
            outcome = self.rules.fix(line, record, errors)
            if not outcome.quarantined:
                return outcome
        work, fixes, left = copy.deepcopy(record), [], []
        for error in errors:
            answer = self.progress.for_all_matching(error, work)
            if answer is None:
                left.append(error)
            else:
                fixes.append(self._set(line, work, answer.field, answer.value, "for all"))
        if left or not fixes or self._local(line, work):
            return None
        return Outcome(work, tuple(fixes))

    def _ask_about(self, line: int, record: dict[str, Any], errors: list[LineError]) -> Outcome:
        work: dict[str, Any] = copy.deepcopy(record)
        fixes: list[Fix] = []
        while True:
            self._show(line, work, errors)
            choice = self.ask(f"{MENU}? ").strip().lower()[:1]
            if choice in ("d", "k", "q"):
                return self._stop(line, choice, errors)
            if choice in ("s", "a"):
                fixes += self._set_answer(line, work, errors, remember=choice == "a")
            elif choice == "e":
                fixes += self._edit(line, work)
            else:
                self.say(f"unknown choice {choice!r}")
                continue
            errors = self._remaining(line, record, work, errors)
            if not errors:
                return Outcome(work, tuple(fixes))

    def _set_answer(
        self, line: int, work: dict[str, Any], errors: list[LineError], *, remember: bool
    ) -> list[Fix]:
        default = errors[0].field or ""
        name = self.ask(f"field [{default}]: ").strip() or default
        if not name:
            self.say("no field named")
            return []
        value = parse_answer(self.ask(f"new value for {name} (JSON, text, or now): "), self.now)
        if remember:
            match = next((e for e in errors if e.field == name), errors[0])
            self.progress.remember(match, work, name, value)
        return [self._set(line, work, name, value, "at the terminal")]

    def _edit(self, line: int, work: dict[str, Any]) -> list[Fix]:
        text = self.edit(orjson.dumps(work, option=orjson.OPT_INDENT_2).decode() + "\n")
        if text is None:
            self.say("the editor did not save; nothing changed")
            return []
        try:
            edited = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            self.say(f"not JSON ({exc.msg} at character {exc.pos + 1}); nothing changed")
            return []
        if not isinstance(edited, dict):
            self.say("not a JSON object; nothing changed")
            return []
        fixes = diff(line, work, edited, "edited at the terminal")
        work.clear()
        work.update(edited)
        return fixes

    def _set(self, line: int, work: dict[str, Any], name: str, value: Any, how: str) -> Fix:
        oid = work.get("objectId")
        old = work.get(name)
        work[name] = value
        return Fix(line, oid if isinstance(oid, str) else None, name, old, value, f"set {how}")

    def _remaining(
        self, line: int, before: dict[str, Any], work: dict[str, Any], errors: list[LineError]
    ) -> list[LineError]:
        """Errors still there: local findings, and reported ones whose field did not change."""
        local = [LineError(line, f.description) for f in self._findings(line, work)]
        local_texts = {e.description for e in local}
        kept = [
            e
            for e in errors
            if e.field
            and before.get(e.field) == work.get(e.field)
            and e.description not in local_texts
        ]
        return local + kept

    def _local(self, line: int, work: dict[str, Any]) -> list[LineError]:
        return [LineError(line, f.description) for f in self._findings(line, work)]

    def _findings(self, line: int, work: dict[str, Any]) -> list[Any]:
        if self.validator is None:
            return []
        return [f for f in self.validator.check_record(line, work) if f.severity == ERROR]

    def _show(self, line: int, work: dict[str, Any], errors: list[LineError]) -> None:
        self.say(f"\nline {line}, objectId {work.get('objectId')!r}:")
        for error in errors:
            count = self.counts.get((error.field, defect_kind(error.description)), 0)
            also = f"  ({count} records have this defect)" if count > 1 else ""
            self.say(f"  error: {error.description}{also}")
        self.say(marked(work, {e.field for e in errors if e.field}))


_KEY = re.compile(r'^  ("(?:[^"\\]|\\.)*"):')


def marked(record: dict[str, Any], fields: set[str]) -> str:
    """The record as indented JSON, each line of an offending field marked with ``>>``."""
    out = []
    current = None
    for text in orjson.dumps(record, option=orjson.OPT_INDENT_2).decode().splitlines():
        if text.startswith('  "') and not text.startswith("   "):
            key = _KEY.match(text)  # the key itself may hold ':' (a custom field name)
            current = orjson.loads(key.group(1)) if key else None
        elif text in ("{", "}"):
            current = None
        out.append((">> " if current in fields else "   ") + text)
    for name in sorted(fields - set(record)):
        out.insert(1, f'>>   "{name}": (missing)')
    return "\n".join(out)


def parse_answer(text: str, now: Callable[[], datetime]) -> Any:
    """A typed answer: JSON when it parses (``12``, ``true``, ``["a"]``), ``now``, else text."""
    text = text.strip()
    if text == "now":
        return gong_now(now())
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def diff(line: int, before: dict[str, Any], after: dict[str, Any], why: str) -> list[Fix]:
    """One :class:`Fix` per field that an edit added, changed or removed."""
    oid = before.get("objectId")
    object_id = oid if isinstance(oid, str) else None
    fixes = []
    for name in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(name), after.get(name)
        if name not in after or name not in before or old != new:
            fixes.append(Fix(line, object_id, name, old, new, why))
    return fixes
