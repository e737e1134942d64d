"""Fixing at the terminal: a person sees each failing record with its error and decides.

:class:`InteractiveFixer` is a :class:`~ldjfix.fixing.fixer.Fixer`. For each record it shows
"record i of n", the errors (with how many reported records share each defect) and the record
with the offending fields marked (``>>``), and offers the rules file's words: set a field, drop
a field, set it for every record with this defect (after saying what that will do), edit the
record in ``$EDITOR`` (text that is not valid JSON is kept and reopened, never lost),
quarantine the record, skip it, or quit and save. Rules (when given) are tried first, so the
person only sees what they do not cover. A line that is not JSON is shown with a caret under
the failing character.

Skip means the same in ``fix`` and ``run``: the record is left as it is, neither fixed nor
quarantined, and asked about again next time (``fix``: it stays unchanged in OUT; ``run``: it
goes in the next round unchanged). Every other answer is appended to a progress file the caller
names, so a later run resumes where the person stopped and says so. Input and output are
functions passed in (no terminal needed in tests).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ldjfix.colour import paint
from ldjfix.errors import DefectsRemain
from ldjfix.fixing import answers_file as saved
from ldjfix.fixing import views
from ldjfix.fixing.editor import diff, run_editor
from ldjfix.fixing.fixer import Fix, Outcome
from ldjfix.fixing.known import KnownFix
from ldjfix.fixing.rules import Rules
from ldjfix.fixing.rules_fixer import RulesFixer
from ldjfix.fixing.typed_values import describe, field_types, hint, typed_value
from ldjfix.gong.descriptions import defect_kind
from ldjfix.gong.status import LineError
from ldjfix.ldjson.serial import dump_json
from ldjfix.validation.shapes import Known
from ldjfix.validation.validator import ERROR, Validator

SKIPPED = "skipped at the terminal"
QUARANTINED = "quarantined at the terminal"
Ask = Callable[[str], str]
Say = Callable[[str], None]
Edit = Callable[[str], str | None]
__all__ = ["InteractiveFixer", "QuitRequested", "diff", "run_editor"]


class QuitRequested(DefectsRemain):
    """The person chose quit-and-save; a later run resumes from the progress file."""


class InteractiveFixer:
    """A :class:`~ldjfix.fixing.fixer.Fixer` that asks a person, record by record."""

    counts_ahead = True  # "(6 records have this defect)" needs every error first
    known: KnownFix | None = None  # a person's "for all" answers are checked on every record

    def __init__(
        self,
        *,
        rules: Rules | None = None,
        validator: Validator | None = None,
        ask: Ask = views.ask_on_stderr,
        say: Say = views.say_on_stderr,
        edit: Edit = run_editor,
        progress: str | Path | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.validator = validator
        self.rules = RulesFixer(rules, validator=validator, now=now) if rules else None
        self.ask, self.say, self.edit, self.now = ask, say, edit, now
        self.progress = saved.Progress(progress)
        self.counts: dict[tuple[str | None, str], set[int]] = {}
        self.lines: list[int] = []  # the reported lines, in the order they are asked
        self.decided: set[int] = set()
        self.drafts: dict[int, str] = {}  # a line's last edited text that was not valid JSON
        self.replayed = 0
        self._resumed_said = False

    def expect(self, errors: Sequence[LineError]) -> None:
        """Tell the fixer every error it will see: "record i of n" and "N records have this"."""
        self.counts = {}
        for error in errors:
            key = (error.field, defect_kind(error.description))
            self.counts.setdefault(key, set()).add(error.line)
        self.lines = sorted({e.line for e in errors})
        self.decided = set()

    def fix(self, source_line: int, record: dict[str, Any], errors: Sequence[LineError]) -> Outcome:
        """Replay a saved answer, try the rules and remembered answers, else ask."""
        key = saved.key(source_line, record, errors)
        outcome = self._replay(key)
        if outcome is None:
            outcome = self._automatic(source_line, record, errors)
        if outcome is None:
            self._say_resuming(source_line)
            outcome = self._ask_about(source_line, record, list(errors))
        return self._decided(source_line, key, outcome)

    def fix_text(self, source_line: int, content: bytes, errors: Sequence[LineError]) -> Outcome:
        """A line that holds no JSON object: edit its text, quarantine it, skip it, or quit."""
        key = saved.key(source_line, {}, errors)
        outcome = self._replay(key)
        if outcome is None:
            self._say_resuming(source_line)
            outcome = self._ask_about_text(source_line, content, errors)
        return self._decided(source_line, key, outcome)

    def _replay(self, key: str) -> Outcome | None:
        known = self.progress.answer(key)
        if known is not None:
            self.replayed += 1
        return known

    def _decided(self, line: int, key: str, outcome: Outcome) -> Outcome:
        self.decided.add(line)
        if not outcome.undecided and self.progress.answer(key) is None:
            self.progress.save(key, outcome)  # a skip is not saved: it is asked again
        return outcome

    def _say_resuming(self, line: int) -> None:
        if self.replayed and not self._resumed_said:
            self._resumed_said = True
            where = f"record {self._position(line)} of {len(self.lines)}" if self.lines else ""
            self.say(
                f"\nresuming at {where or f'line {line}'}: {self.replayed} earlier "
                f"answer(s) replayed from {self.progress.path}"
            )

    def _position(self, line: int) -> int | None:
        try:
            return self.lines.index(line) + 1
        except ValueError:
            return None

    # -- a line that is not JSON --------------------------------------------------------------

    def _ask_about_text(self, line: int, content: bytes, errors: Sequence[LineError]) -> Outcome:
        text = content.decode("utf-8", "replace")
        again, show = False, True
        while True:
            if show:
                self._show_text(line, text, errors, again=again)
            choice = views.choice(self.ask(f"{views.TEXT_MENU}? "))
            show = True
            if choice in ("t", "k", "q"):
                return self._stop(line, choice, errors)
            if choice != "e":
                self.say("unknown choice; type one of the letters in [ ]")
                show = False  # the same question again, without the whole line again
                continue
            record = self._edited(line, self.drafts.get(line, text + "\n"))
            if record is not None:
                oid = record.get("objectId")
                fix = Fix(line, oid if isinstance(oid, str) else None, None, text, record, "edited")
                return Outcome(record, (fix,))
            again = True

    def _show_text(self, line: int, text: str, errors: Sequence[LineError], *, again: bool) -> None:
        head = views.header(
            line, None, position=self._position(line), total=len(self.lines), again=again
        )
        self.say(f"\n{paint(head.replace('objectId (missing)', 'not a JSON object'), 'strong')}")
        self.say(f"  {paint('error:', 'error')} {views.printable(errors[0].description)}")
        position = views.failing_position(text, errors[0].description)
        self.say("   " + views.caret(text, position).replace("\n", "\n   "))
        if line in self.drafts:
            self.say("  your last edit (not yet valid JSON) is kept: [e]dit reopens it")

    def _edited(self, line: int, text: str) -> dict[str, Any] | None:
        """Open ``text`` in the editor; the object it now holds, else None (the text is kept)."""
        saved_text = self.edit(text)
        if saved_text is None:
            self.say(
                "the editor did not start or did not save (it is $VISUAL, else $EDITOR, else vi); "
                "nothing changed"
            )
            return None
        try:
            value = orjson.loads(saved_text)
        except orjson.JSONDecodeError as exc:
            self.drafts[line] = saved_text
            self.say(f"not valid JSON ({exc.msg} at character {exc.pos + 1}); [e]dit reopens it")
            return None
        if not isinstance(value, dict):
            self.drafts[line] = saved_text
            self.say("not a JSON object ({...}); [e]dit reopens your text")
            return None
        self.drafts.pop(line, None)
        return value

    def _stop(self, line: int, choice: str, errors: Sequence[LineError]) -> Outcome:
        if choice == "q":
            raise QuitRequested(self._quit_message(line))
        if choice == "k":
            return Outcome(None, (), f"{SKIPPED}: {errors[0].description}", undecided=True)
        return Outcome(None, (), f"{QUARANTINED}: {errors[0].description}")

    def _quit_message(self, line: int) -> str:
        position = self._position(line)
        open_lines = [n for n in self.lines if n not in self.decided] or [line]
        where = (
            f"record {position} of {len(self.lines)} (line {line})" if position else f"line {line}"
        )
        shown = ", ".join(str(n) for n in open_lines[:10])
        more = f" and {len(open_lines) - 10:,} more" if len(open_lines) > 10 else ""
        return (
            f"stopped at the terminal at {where}; {len(open_lines):,} reported record(s) still "
            f"undecided (line {shown}{more}); {self.progress.where()}"
        )

    # -- records --------------------------------------------------------------------------

    def propagate(
        self, source_line: int, record: dict[str, Any], passed: object = None
    ) -> Outcome | None:
        """Apply "for all" answers (and learned rules) to a record nobody reported."""
        outcome = self.rules.propagate(source_line, record, passed) if self.rules else None
        if outcome is not None and not outcome.quarantined:
            record = outcome.record or record
        work, fixes = copy.deepcopy(record), list(outcome.fixes if outcome else ())
        for answer in self.progress.for_all:
            if saved.has_defect(answer, work, self._local(source_line, work)):
                fixes.append(self._set(source_line, work, answer.field, answer.value, "for all"))
        if not fixes:
            return None
        return Outcome(work, tuple(fixes))

    def fix_known(
        self, source_line: int, record: dict[str, Any], text: str, shape: Known | None
    ) -> Outcome | None:
        """No shortcut: a person sees every reported record (:meth:`fix`)."""
        return None

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
        again, show = False, True
        while True:
            if show:
                self._show(line, work, errors, again=again)
            choice = views.choice(self.ask(f"{views.MENU}? "))
            show = True
            if choice in ("t", "k", "q"):
                return self._stop(line, choice, errors)
            if choice in ("s", "a"):
                fixes += self._set_answer(line, work, errors, for_all=choice == "a")
            elif choice == "d":
                fixes += self._drop_answer(line, work, errors)
            elif choice == "e":
                fixes += self._edit(line, work)
            else:
                self.say("unknown choice; type one of the letters in [ ]")
                show = False  # the same question again, without the whole record again
                continue
            errors = self._remaining(line, record, work, errors)
            if not errors:
                return Outcome(work, tuple(fixes))
            again = True

    def _field(self, errors: list[LineError]) -> str:
        default = errors[0].field or ""
        name = self.ask(f"field [{default}]: ").strip() or default
        if not name:
            self.say("no field named")
        return name

    def _set_answer(
        self, line: int, work: dict[str, Any], errors: list[LineError], *, for_all: bool
    ) -> list[Fix]:
        name = self._field(errors)
        if not name:
            return []
        schema = self.validator.schemas.hard if self.validator else None
        types = field_types(schema, name)
        kind = hint(schema, name)
        typed = self.ask(f"new value for {name} ({kind + '; ' if kind else ''}or now, null): ")
        value = typed_value(typed, types, self.now, work.get(name))
        if for_all and self._confirm_for_all(name, value, errors):
            match = next((e for e in errors if e.field == name), errors[0])
            self.progress.remember(match, work, name, value)
        return [self._set(line, work, name, value, "at the terminal")]

    def _confirm_for_all(self, name: str, value: Any, errors: list[LineError]) -> bool:
        match = next((e for e in errors if e.field == name), errors[0])
        count = len(self.counts.get((match.field, defect_kind(match.description)), ()))
        also = f"{count:,} reported records and " if count > 1 else ""
        answer = self.ask(
            f"this sets {name} to the same value, {describe(value)}, on {also}every other\n"
            "record in the file with this defect. Go ahead? [y/N] "
        )
        if answer.strip().lower() in ("y", "yes"):
            return True
        self.say(f"set on this record only; {name} is asked again on the others")
        return False

    def _drop_answer(self, line: int, work: dict[str, Any], errors: list[LineError]) -> list[Fix]:
        name = self._field(errors)
        if not name:
            return []
        if name not in work:
            self.say(f"the record has no field {name}; nothing dropped")
            return []
        oid = work.get("objectId")
        old = work.pop(name)
        return [
            Fix(
                line,
                oid if isinstance(oid, str) else None,
                name,
                old,
                None,
                "dropped at the terminal",
            )
        ]

    def _edit(self, line: int, work: dict[str, Any]) -> list[Fix]:
        text = dump_json(work, indent=True).decode() + "\n"
        edited = self._edited(line, self.drafts.get(line, text))
        if edited is None:
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
        local = self._local(line, work)
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
        if self.validator is None:
            return []
        found = self.validator.check_record(line, work)
        return [LineError(line, f.description) for f in found if f.severity == ERROR]

    def _show(
        self, line: int, work: dict[str, Any], errors: list[LineError], *, again: bool
    ) -> None:
        position = self._position(line)
        head = views.header(
            line, work.get("objectId"), position=position, total=len(self.lines), again=again
        )
        self.say(f"\n{paint(head, 'strong')}")
        for error in errors:
            count = len(self.counts.get((error.field, defect_kind(error.description)), ()))
            also = f"\n         ({count:,} reported records have this defect)" if count > 1 else ""
            self.say(f"  {paint('error:', 'error')} {views.printable(error.description)}{also}")
        if line in self.drafts:
            self.say("  your last edit (not yet valid JSON) is kept: [e]dit reopens it")
        view = views.marked(work, {e.field for e in errors if e.field}).splitlines()
        self.say("\n".join(paint(t, "mark") if t.startswith(">>") else t for t in view))
