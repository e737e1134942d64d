"""Round 0 of a job: one pass over the source that counts its records and validates them.

Every non-blank line is a source record (a line that is not a JSON object is a record too: it
is quarantined with its defect, never dropped silently). On a new job the local validator
checks each record and its errors go through the fixing path like Gong's, so most defects
never reach Gong; on a resumed job the pass only rebuilds the ledger's record list.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any, Protocol

from ldjfix.errors import InputProblem
from ldjfix.gong import descriptions
from ldjfix.gong.status import LineError
from ldjfix.ldjson.files import open_input
from ldjfix.ldjson.lines import Parsed, iter_lines, parse_line
from ldjfix.ldjson.origin import ORIGIN_KEY
from ldjfix.ldjson.sources import SourcePath
from ldjfix.loop.ledger import Ledger, Settlement, object_key
from ldjfix.loop.settling import Decisions


class Checker(Protocol):
    """The local validator (``ldjfix.validation.validator.Validator``): findings for a line."""

    def check(self, parsed: Parsed) -> list[Any]:
        """Findings for ``parsed`` (each with ``severity`` and ``as_line_error()``)."""
        ...


@dataclass(slots=True)
class Survey:
    """The ledger of a source, and (when validated) its records with local errors."""

    ledger: Ledger
    reported: dict[int, list[LineError]] = field(default_factory=dict)
    records: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    texts: dict[int, bytes] = field(default_factory=dict)  # lines that are not JSON objects


def survey(source: SourcePath, checker: Checker | None, *, validate: bool) -> Survey:
    """Walk the source once: its records, and with ``validate`` every local error."""
    numbers = array("l")
    keys = array("I")
    sizes = array("I")
    found = Survey(Ledger(0))
    last = 0
    with open_input(source, what="source file") as stream:
        for line in iter_lines(stream):
            last = line.number
            parsed = parse_line(line)
            if parsed.record is None and parsed.defect is None:
                continue  # a blank line: it keeps its number but holds no record
            numbers.append(line.number)
            keys.append(object_key(parsed.object_id))
            sizes.append(min(len(line.content) + 1, 2**32 - 1))
            if parsed.record is not None and ORIGIN_KEY in parsed.record:
                raise InputProblem(
                    f"{source} line {line.number} still carries extract bookkeeping "
                    f"({ORIGIN_KEY}).",
                    hint="Merge the edited records back with `ldjfix merge` first.",
                )
            errors = _errors(parsed, checker) if validate else []
            if errors:
                found.reported[line.number] = errors
                found.records[line.number] = parsed.record
                if parsed.record is None:
                    found.texts[line.number] = line.content
    found.ledger = Ledger(last)
    found.ledger.add_records(numbers, keys, sizes)
    return found


def _errors(parsed: Parsed, checker: Checker | None) -> list[LineError]:
    if parsed.defect is not None:
        return [LineError(parsed.line.number, descriptions.unparsable(parsed.defect))]
    if checker is None:
        return []
    return [f.as_line_error() for f in checker.check(parsed) if f.severity == "error"]


def local_settlement(findings: int, fixed: int, decisions: Decisions) -> Settlement:
    """Round 0's settlement: what the fixer made of the local findings."""
    notes = {
        "round": 0,
        "findings": findings,
        "fixed": fixed,
        "quarantined": len(decisions.quarantined),
    }
    return Settlement(
        0,
        (),
        tuple(sorted(decisions.quarantined.items())),
        tuple(sorted(decisions.fixed.items())),
        tuple(decisions.fixes),
        {},
        notes,
    )
