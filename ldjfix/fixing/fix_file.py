"""``ldjfix fix``: fix the records a request status reports, offline, and write the whole file.

The reported lines go to a fixer (rules or a person) one by one; then one pass over the file
applies what was learned to every other record with the same defect (propagation) and writes
the corrected file: unchanged lines byte for byte, fixed lines re-serialised, quarantined
lines left out (they go to the rejected file with their errors). Every change goes to
``fixes.jsonl``, replayable on the next export (:mod:`ldjfix.fixing.replay`).
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ldjfix.errors import ExitCode, UsageProblem
from ldjfix.fixing.fixer import Fix, Fixer, defect_of
from ldjfix.fixing.fixlog import LogWriter
from ldjfix.fixing.interactive import QuitRequested
from ldjfix.fixing.known import CLEAN, MISS, KnownFix
from ldjfix.fixing.policy import decide_reported, decide_unreported
from ldjfix.gong.status import LineError, Status
from ldjfix.ldjson.files import STDIO, atomic_output, open_input, refuse_same_files
from ldjfix.ldjson.lines import Line
from ldjfix.ldjson.printable import safe
from ldjfix.ldjson.rewrite import DROP, KEEP, Replacement, write_replaced
from ldjfix.ldjson.serial import dump_json
from ldjfix.ldjson.sources import SourcePath
from ldjfix.mapping.annotate import MappedError, map_errors
from ldjfix.validation.groups import NO_VALUE, DefectGroups

FIXED = "fixed"
QUARANTINED = "quarantined"


@dataclass
class FixReport:
    """What ``fix`` did: counts, the files it wrote, and why it stopped early if it did."""

    reported: int = 0
    fixed: int = 0
    quarantined: int = 0
    skipped: int = 0
    propagated: int = 0
    fixes: int = 0
    unmapped: int = 0
    general: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    quit: str | None = None
    written: list[str] = field(default_factory=list)
    output: str = ""
    groups: DefectGroups = field(default_factory=DefectGroups)

    @property
    def exit_code(self) -> ExitCode:
        """0 when every reported record was fixed, else 1 (defects remain)."""
        clean = self.fixed == self.reported and not (self.unmapped or self.general or self.quit)
        return ExitCode.OK if clean else ExitCode.DEFECTS

    def summary(self) -> str:
        """One paragraph for stderr."""
        if self.quit:
            decided = self.fixed + self.quarantined + self.skipped
            return (
                f"{decided} of {self.reported} reported records decided before quitting; "
                f"{self.output or 'OUT'} was not written (it would not be complete)."
            )
        text = (
            f"{self.reported:,} reported records: {self.fixed:,} fixed, {self.quarantined:,} "
            f"quarantined, {self.skipped:,} skipped (left unchanged, asked again next time); "
            f"{self.propagated:,} more records fixed the same way; {self.fixes:,} changes."
        )
        if self.unmapped:
            text += f" {self.unmapped:,} errors name lines past the end of the file."
        for general in self.general:
            text += f"\nfile-level error (line 0), not fixable record by record: {safe(general)}"
        lines = [text, *(safe(line) for line in self.groups.render())]
        return "\n".join([*lines, *(f"wrote {name}" for name in self.written)])


@dataclass
class _Decisions:
    """Per reported line: the new record, or None to leave the line out; plus rejects and fixes.

    Only reported lines (at most a status's worth) are held; records fixed by propagation are
    written as the pass meets them, and every change goes to fixes.jsonl in line order, so a
    file bad everywhere costs no more memory than a clean one.
    """

    records: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    fixes: dict[int, tuple[Fix, ...]] = field(default_factory=dict)  # of reported lines
    log_out: BinaryIO | None = None  # fixes.jsonl being written (None: no log wanted)
    log: LogWriter = field(default_factory=LogWriter)
    logged: int = 0
    propagated: dict[str, Any] | None = None  # the line just fixed by propagation, if any


def fix_file(
    path: SourcePath,
    status: Status,
    fixer: Fixer,
    *,
    output: str | Path,
    fixes_out: str | Path | None,
    rejected_out: str | Path | None,
) -> FixReport:
    """Fix the records ``status`` reports in ``path``; write the corrected file and the logs."""
    if isinstance(path, str) and path == STDIO:  # an opened Source has spooled stdin already
        raise UsageProblem("fix reads FILE twice, so it needs a file, not - (stdin).")
    refuse_same_files([path], [output, fixes_out, rejected_out])
    _refuse_shared_outputs(output, fixes_out, rejected_out)
    annotation = map_errors(path, status)
    report = FixReport(
        unmapped=len(annotation.unmapped),
        general=[e.description for e in annotation.general],
        warnings=list(annotation.warnings),
        output=str(output),
    )
    by_line = _group(annotation.errors)
    report.reported = len(by_line)
    if fixer.counts_ahead:
        fixer.expect([LineError(e.line, e.description) for e in annotation.errors])
    decisions = _Decisions()
    try:
        for line, errors in by_line.items():
            _decide(fixer, line, errors, decisions, report)
    except QuitRequested as stop:
        report.quit = str(stop)
        return report  # nothing written: an OUT without the undecided records would look done
    with _log_output(fixes_out) as log:  # written in line order as the pass meets each fix
        decisions.log_out = log
        _write(path, output, fixer, decisions, report, propagate=True)
    report.fixes = decisions.logged
    if fixes_out is not None:
        report.written.append(str(fixes_out))
    _write_rejected(decisions, report, rejected_out)
    return report


def _refuse_shared_outputs(*outputs: str | Path | None) -> None:
    """Refuse two outputs in one place: one would replace the other, or their lines would mix
    (fixes.jsonl is written with the pass, between the records on a shared stdout)."""
    seen: dict[str, str | Path] = {}
    for out in outputs:
        if out is None or (os.path.exists(out) and not os.path.isfile(out)):
            continue  # /dev/null and other devices are written through: the user's choice
        key = STDIO if os.fspath(out) == STDIO else os.path.realpath(out)
        if key in seen:
            where = "stdout (-)" if key == STDIO else f"one file ({seen[key]} and {out})"
            raise UsageProblem(
                f"two of -o, --fixes and --rejected go to {where}: each needs its own.",
                hint="Give each output its own path (at most one of them -).",
            )
        seen[key] = out


def _group(errors: tuple[MappedError, ...]) -> dict[int, list[MappedError]]:
    grouped: dict[int, list[MappedError]] = {}
    for error in errors:
        grouped.setdefault(error.line, []).append(error)
    return dict(sorted(grouped.items()))


def _decide(
    fixer: Fixer, line: int, errors: list[MappedError], decisions: _Decisions, report: FixReport
) -> None:
    first = errors[0]
    line_errors = [LineError(line, e.description) for e in errors]
    content = first.content if first.record is None else None
    decision = decide_reported(fixer, line, first.record, line_errors, content)
    if decision.skipped:
        report.skipped += 1  # left in the output unchanged, to be decided later
        return
    if decision.record is not None:
        decisions.records[line] = decision.record
        decisions.fixes[line] = decision.fixes
        report.fixed += 1
        for error in line_errors:
            report.groups.add(line, error.field, error.description, FIXED, _value(first, error))
        return
    report.quarantined += 1
    decisions.records[line] = None
    for error in line_errors:
        report.groups.add(line, error.field, error.description, QUARANTINED, _value(first, error))
    decisions.rejected.append(
        {
            "line": line,
            "objectId": first.object_id,
            "reason": "; ".join(decision.reasons[len(line_errors) :]) or "quarantined",
            "errors": [e.description for e in errors],
            "record": first.record,
            **(
                {"content": first.content.decode("utf-8", "replace")}
                if first.record is None
                else {}
            ),
        }
    )


def _write(
    path: SourcePath,
    output: str | Path,
    fixer: Fixer,
    decisions: _Decisions,
    report: FixReport,
    *,
    propagate: bool,
) -> None:
    def change(line: Line) -> Replacement:
        if line.number not in decisions.records:
            decisions.propagated = None
            if propagate:
                _propagate(fixer, line, decisions, report)
            return KEEP if decisions.propagated is None else decisions.propagated
        record = decisions.records[line.number]
        if record is None:
            return DROP
        _log(decisions, decisions.fixes[line.number])  # in line order with the propagated
        return record

    def quick(number: int, raw: bytes) -> bytes | None:
        """A record nobody reported, fixed by the known defect (or clean), from its bytes."""
        if fixer.known is None or number in decisions.records:
            return None
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if type(record) is not dict:
            return None
        done = _by_known(fixer, number, record, decisions, report)
        if done is MISS or done is CLEAN:
            return None if done is MISS else raw
        try:
            return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # too deep for orjson: as _put writes it
            return dump_json(record) + b"\n"

    with open_input(path) as source, atomic_output(output) as out:
        write_replaced(source, out, change, quick=quick if propagate else None)
    report.written.append(str(output))


def _propagate(fixer: Fixer, line: Line, decisions: _Decisions, report: FixReport) -> None:
    """Fix an unreported line the way reported ones were; its changes go to fixes.jsonl."""
    try:
        record = orjson.loads(line.content)
    except orjson.JSONDecodeError:
        return
    if type(record) is not dict:
        return
    done = _by_known(fixer, line.number, record, decisions, report)
    if done is not MISS:
        decisions.propagated = None if done is CLEAN else record
        return
    decision = decide_unreported(fixer, line.number, record)
    if decision is None:
        return  # a record nobody reported is never dropped on a guess
    _log(decisions, decision.fixes)
    report.propagated += 1
    for fix in decision.fixes:
        report.groups.add(line.number, fix.field, defect_of(fix.why), FIXED, fix.old)
    decisions.propagated = decision.record


def _value(error: MappedError, line_error: LineError) -> Any:
    """The value of the field an error names, for the summary's example (NO_VALUE if none)."""
    name = line_error.field
    if error.record is None or name is None or name not in error.record:
        return NO_VALUE
    return error.record[name]


def _log(decisions: _Decisions, fixes: tuple[Fix, ...]) -> None:
    decisions.logged += len(fixes)
    if decisions.log_out is not None:
        decisions.log_out.write(decisions.log.encode(fixes))


def _by_known(
    fixer: Fixer, line: int, record: dict[str, Any], decisions: _Decisions, report: FixReport
) -> object:
    """Fix a record nobody reported by the defect the fixer fixed last (:attr:`Fixer.known`),
    as :func:`_propagate` would; CLEAN when it has no defect, MISS for the general path."""
    known = fixer.known
    if known is None:
        return MISS
    object_id = record.get("objectId")  # the id before the fix, as the general path logs it
    old = known.apply(record)
    if old is MISS or old is CLEAN:
        return old
    oid = object_id if type(object_id) is str else None
    _log_change(decisions, line, oid, known, old, record[known.field])
    report.propagated += 1
    report.groups.add_held(line, known.field, known.defect, FIXED, old)
    return record


def _log_change(
    decisions: _Decisions, line: int, oid: str | None, known: KnownFix, old: Any, new: Any
) -> None:
    """:func:`_log` for one change made by ``known`` (no :class:`Fix` built)."""
    decisions.logged += 1
    if decisions.log_out is not None:
        decisions.log_out.write(decisions.log.change(line, oid, known.field, known.why, old, new))


def _log_output(fixes_out: str | Path | None) -> AbstractContextManager[BinaryIO | None]:
    """fixes.jsonl, written atomically with the pass (nothing when no log is wanted)."""
    return nullcontext() if fixes_out is None else atomic_output(fixes_out)


def _write_rejected(
    decisions: _Decisions, report: FixReport, rejected_out: str | Path | None
) -> None:
    if rejected_out is not None and decisions.rejected:
        with atomic_output(rejected_out) as out:
            out.writelines(dump_json(item) + b"\n" for item in decisions.rejected)
        report.written.append(str(rejected_out))


def build_fixer(
    *,
    rules: str | Path | None,
    interactive: bool,
    validator: Any,
    progress: str | Path | None = None,
    ask: Any = None,
    say: Any = None,
) -> Fixer:
    """The fixer for ``fix``: rules, a person (with rules tried first), or a usage error."""
    from ldjfix.fixing.rules import load_rules

    loaded = load_rules(rules) if rules is not None else None
    if interactive:
        from ldjfix.fixing.interactive import InteractiveFixer

        io = {k: v for k, v in (("ask", ask), ("say", say)) if v is not None}
        return InteractiveFixer(rules=loaded, validator=validator, progress=progress, **io)
    if loaded is None:
        raise UsageProblem("say how to fix: --rules R (a rules file) or --interactive.")
    from ldjfix.fixing.rules_fixer import RulesFixer

    return RulesFixer(loaded, validator=validator)


def default_paths(output: str) -> dict[str, Path | None]:
    """Where ``fix`` writes its logs when not told: beside OUT (nowhere when OUT is stdout)."""
    if output == STDIO:
        return {"fixes": None, "rejected": None, "progress": None}
    out = Path(output)
    return {
        "fixes": out.with_name(f"{out.stem}.fixes.jsonl"),  # two fixes in one folder: two logs
        "rejected": out.with_name(f"{out.stem}.rejected.ldjson"),
        "progress": out.with_name(f"{out.name}.answers.jsonl"),
    }
