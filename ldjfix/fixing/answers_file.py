"""The decisions a person made at the terminal, kept in a progress file so a later run resumes.

One JSON object per line, appended and fsynced as each answer is given (a crash loses at most
the answer being typed):

* ``{"key": ..., "record": {...} | null, "fixes": [...], "reason": ...}``: the outcome for one
  record, found again by its line, objectId and errors;
* ``{"forAll": {"field", "kind", "value", "offending", "description"}}``: a value the person
  chose for every record with this defect.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from ldjfix.errors import InputProblem
from ldjfix.fixing.fixer import Fix, Outcome
from ldjfix.gong.descriptions import defect_kind
from ldjfix.gong.status import LineError

_EMPTY: tuple[Any, ...] = (None, "", [])
_OLD_SKIP = "skipped at the terminal"
_FIX_KEYS = frozenset({"line", "objectId", "field", "old", "new", "why"})


@dataclass(frozen=True)
class ForAll:
    """ "Set ``field`` to ``value`` on every record with this defect"."""

    field: str
    kind: str
    value: Any
    offending: Any  # for dangling references: the value that was not found
    description: str


def key(line: int, record: dict[str, Any], errors: Sequence[LineError]) -> str:
    """What identifies one question: the line, its objectId and the errors shown."""
    texts = sorted(e.description for e in errors)
    return orjson.dumps([line, record.get("objectId"), texts]).decode()


def has_defect(answer: ForAll, work: dict[str, Any], local: Sequence[LineError]) -> bool:
    """True when ``work`` has the defect ``answer`` was given for."""
    value = work.get(answer.field)
    if answer.kind == "missing":
        return value in _EMPTY
    if answer.kind == "dangling":
        return answer.offending is not None and value == answer.offending
    return any(e.field == answer.field and defect_kind(e.description) == answer.kind for e in local)


class Progress:
    """Answers so far, read from and appended to ``path`` (None: kept in memory only)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self.answers: dict[str, Outcome] = {}
        self.for_all: list[ForAll] = []
        if self.path is not None and self.path.exists():
            self._load(self.path)

    def _load(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputProblem(f"cannot read the answers file {path}: {exc.strerror}.") from None
        for number, raw in enumerate(data.splitlines(), 1):
            try:
                item = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue  # a line cut short by a crash: that answer is asked again
            if not _is_answer(item):
                raise InputProblem(
                    f"answers file {path} line {number} is not an answer ldjfix wrote.",
                    hint="Delete that line (its question is asked again), or the whole file.",
                )
            if "forAll" in item:
                self.for_all.append(ForAll(**item["forAll"]))
            elif "key" in item:
                if str(item.get("reason") or "").startswith(_OLD_SKIP):
                    continue  # a skip saved by an older ldjfix: skipped means "ask me again"
                fixes = tuple(_fix(f) for f in item.get("fixes", []))
                self.answers[item["key"]] = Outcome(item.get("record"), fixes, item.get("reason"))

    def answer(self, question: str) -> Outcome | None:
        """The saved outcome for a question, if it was answered before."""
        return self.answers.get(question)

    def save(self, question: str, outcome: Outcome) -> None:
        """Keep one outcome (and append it to the file)."""
        self.answers[question] = outcome
        fixes = [f.as_json() for f in outcome.fixes]
        self._append(
            {
                "key": question,
                "record": outcome.record,
                "fixes": fixes,
                "reason": outcome.quarantine_reason,
            }
        )

    def remember(self, error: LineError, work: dict[str, Any], name: str, value: Any) -> None:
        """Keep a "for all records with this defect" answer."""
        kind = defect_kind(error.description)
        offending = work.get(name) if kind == "dangling" else None
        answer = ForAll(name, kind, value, offending, error.description)
        self.for_all.append(answer)
        self._append({"forAll": asdict(answer)})

    def for_all_matching(self, error: LineError, work: dict[str, Any]) -> ForAll | None:
        """A "for all" answer given for the same defect as ``error``, if any."""
        kind = defect_kind(error.description)
        for answer in self.for_all:
            if answer.field != error.field or answer.kind != kind:
                continue
            if kind != "dangling" or work.get(answer.field) == answer.offending:
                return answer
        return None

    def where(self) -> str:
        """Where the answers are, for the quit message."""
        if self.path is None:
            return "no progress file was named, so the answers were not saved."
        if not self.path.exists():
            return "no answer was given yet; run the same command again to start over."
        return f"answers so far are saved in {self.path}; run the same command again to resume."

    def _append(self, item: dict[str, Any]) -> None:
        if self.path is None:
            return
        with open(self.path, "ab") as stream:
            stream.write(orjson.dumps(item) + b"\n")
            stream.flush()
            os.fsync(stream.fileno())


def _is_answer(item: object) -> bool:
    """True for a line :meth:`Progress.save` or :meth:`Progress.remember` could have written."""
    if not isinstance(item, dict):
        return False
    if "forAll" in item:
        answer = item["forAll"]
        return (
            isinstance(answer, dict)
            and set(answer) == {"field", "kind", "value", "offending", "description"}
            and all(isinstance(answer[k], str) for k in ("field", "kind", "description"))
        )
    return (
        isinstance(item.get("key"), str)
        and (item.get("record") is None or isinstance(item.get("record"), dict))
        and (item.get("reason") is None or isinstance(item.get("reason"), str))
        and isinstance(item.get("fixes", []), list)
        and all(_is_fix(f) for f in item.get("fixes", []))
    )


def _is_fix(item: object) -> bool:
    if not isinstance(item, dict) or not {"line", "objectId", "field", "old", "new", "why"} <= set(
        item
    ):
        return False
    line = item["line"]
    return (
        isinstance(line, int)
        and not isinstance(line, bool)
        and isinstance(item["why"], str)
        and (item["field"] is None or isinstance(item["field"], str))
        and (item["objectId"] is None or isinstance(item["objectId"], str))
    )


def _fix(item: dict[str, Any]) -> Fix:
    return Fix(item["line"], item["objectId"], item["field"], item["old"], item["new"], item["why"])
