"""The shape of every file in a job folder, as types, and the check each one passes on read.

A job folder is ldjfix's own, but it sits on the user's disk: hand edits, a disk that filled
mid-write on another tool's watch, or a file copied in from another job can leave any of its
files damaged. Each file is therefore checked on read against the shape declared here; a
damaged one stops the command with exit 3 naming the file and saying what to do, never a
traceback half-way through a round.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NotRequired, Protocol, Required, TypedDict, Unpack, cast

import orjson

from ldjfix.errors import ExitCode, InputProblem
from ldjfix.loop.jsonchecks import (
    Check,
    count,
    is_dict,
    is_none,
    list_of,
    map_of,
    number,
    obj,
    one_of,
    text,
)
from ldjfix.loop.runs import Runs, is_runs, is_span, unpack

JOURNAL_VERSION = 1
Phase = Literal["new", "settled", "planned", "sent", "finished"]
UploadState = Literal["planned", "uploaded", "polled"]
PHASES: tuple[Phase, ...] = ("new", "settled", "planned", "sent", "finished")
STATES: tuple[UploadState, ...] = ("planned", "uploaded", "polled")
FRESH_START = "Remove the job folder to start the job afresh, or pass another --job-dir."


class UploadEntry(TypedDict, total=False):
    """One upload in the journal: its round, id, state and what its set must be."""

    round: Required[int]
    clientRequestId: Required[str]
    state: Required[UploadState]
    records: int
    bytes: int
    sha256: str
    lineageSha256: str
    requestId: str | None
    status: str
    unused: bool


class JobEnd(TypedDict):
    """How a finished job ended."""

    outcome: str
    reason: str


class JobStop(TypedDict):
    """Why the loop stopped early: Gong's file-level errors, or too many failures."""

    general: list[str]
    failureRate: NotRequired[dict[str, Any]]  # --max-failure-rate (loop.failrate)


class JobIdentity(TypedDict):
    """What a job folder must match to be resumed: the source's content and the options."""

    sourceSha256: str
    objectType: str
    integrationId: int


class JournalDoc(TypedDict, total=False):
    """``journal.json``: the job's state machine, rewritten after every step."""

    version: Required[int]
    jobId: Required[str]
    source: Required[str]
    sourceSize: Required[int]
    sourceSha256: str
    objectType: str
    integrationId: int
    started: str
    phase: Required[Phase]
    round: Required[int]
    settled: Required[list[str]]
    uploads: Required[dict[str, UploadEntry]]
    apiCalls: int
    apiCallsBefore: int
    digests: dict[str, str]
    timings: dict[str, float]
    end: JobEnd
    stop: JobStop | None
    verify: dict[str, Any]  # --verify's read-back (loop.verify)
    previousJob: Mapping[str, Any]  # loop.history.PreviousJob


class QuarantinedDoc(TypedDict):
    """A quarantined line of a settlement, with its errors."""

    line: int
    errors: list[str]


class SettlementDoc(TypedDict):
    """``rNN-settled.json``: what one round (round 0: local validation) settled.

    Line lists are runs (:mod:`ldjfix.loop.runs`). ``fixed`` lists line numbers, their records
    in ``rounds/fixed.jsonl`` between the offsets ``fixedIn`` (an older folder: ``fixedAt``, each
    one's offset); the changes are in ``fixes.jsonl`` (``fixCount``, the log ``fixesEnd`` long).
    """

    round: int
    accepted: Runs
    quarantined: list[QuarantinedDoc]
    fixed: Runs
    fixedIn: NotRequired[list[int]]
    fixedAt: NotRequired[Sequence[int]]
    fixCount: int
    fixesEnd: int
    expected: dict[str, int]
    notes: dict[str, Any]  # the round's summary, copied into report.json's perRound


class ReportDoc(TypedDict, total=False):
    """``report.json``: the job's contract with pipelines (README)."""

    source: str
    jobId: str
    jobDir: Required[str]
    objectType: str
    integrationId: int
    outcome: Required[str]
    exitCode: Required[int]
    reason: str
    message: Required[str]
    records: Required[int]
    accepted: Required[int]
    quarantined: Required[int]
    pending: Required[int]
    invariant: str
    invariantHolds: bool
    rounds: Required[int]
    uploads: Required[int]
    apiCalls: Required[int]
    fixes: int
    defects: list[dict[str, Any]]  # fixed and quarantined, grouped by field and kind
    local: dict[str, Any]
    perRound: list[dict[str, Any]]
    generalErrors: list[str]
    timings: dict[str, float]
    outputs: dict[str, str]
    failureRate: dict[str, Any]  # after a --max-failure-rate stop
    verify: dict[str, Any]  # with --verify N
    previousJob: Mapping[str, Any] | None  # loop.history.PreviousJob


class RejectedDoc(TypedDict, total=False):
    """One line of ``rejected.ldjson``: a quarantined record with its errors."""

    line: Required[int]
    objectId: Required[str | None]
    errors: Required[list[str]]
    record: Required[dict[str, Any] | None]
    text: str


JobEventName = Literal[
    "job_start",
    "job_archived",
    "job_resume",
    "validated",
    "round_start",
    "upload_status",
    "upload_done",
    "round_end",
    "job_end",
]


class JobEvent(TypedDict, total=False):
    """The fields of an event a job reports (``on_event``); every event has the first seven."""

    file: str
    round: int
    records: int
    accepted: int
    quarantined: int
    pending: int
    apiCalls: int
    findings: int  # validated
    uploads: int  # round_start, upload_done
    sent: int  # round_start: records going out
    upload: str  # upload_status, upload_done
    status: str
    uploadsDone: int
    failed: int  # round_end
    fixed: int
    propagated: int
    outcome: str  # job_end
    reason: str
    history: str  # job_archived: where the finished job went, its id and how it ended
    previousJobId: str | None
    previousOutcome: str | None


class JobEventSink(Protocol):
    """Takes a job's events: the event's name and its fields."""

    def __call__(self, event: JobEventName, /, **fields: Unpack[JobEvent]) -> None:
        """Take one event."""
        ...


_DEFECT_GROUP = obj(  # one group of the summary (DefectGroup.as_json), read back to print it
    {
        "field": one_of(text, is_none),
        "kind": text,
        "detail": one_of(text, is_none),
        "severity": text,
        "count": count,
        "lines": list_of(count),
    },
    {"example": lambda value: True},
)
UPLOAD = obj(
    {"round": count, "clientRequestId": text, "state": lambda v: v in STATES},
    {
        "records": count,
        "bytes": count,
        "sha256": text,
        "lineageSha256": text,
        "requestId": one_of(text, is_none),
        "status": text,
        "unused": lambda v: isinstance(v, bool),
    },
)
JOURNAL = obj(
    {
        "jobId": lambda v: isinstance(v, str) and bool(v),
        "source": text,
        "sourceSize": count,
        "phase": lambda v: v in PHASES,
        "round": count,
        "settled": list_of(text),
        "uploads": map_of(UPLOAD),
    },
    {
        "apiCalls": count,
        "apiCallsBefore": count,
        "digests": map_of(text),
        "timings": map_of(number),
        "end": obj({"outcome": text, "reason": text}),
        "stop": one_of(is_none, obj({"general": list_of(text)}, {"failureRate": is_dict})),
        "verify": is_dict,
        "previousJob": lambda v: isinstance(v, dict),
    },
)
SETTLEMENT = obj(
    {
        "round": count,
        "accepted": is_runs,
        "quarantined": list_of(obj({"line": count, "errors": list_of(text)})),
        "fixed": is_runs,
        "fixCount": count,
        "fixesEnd": count,
        "expected": map_of(count),
        "notes": obj({}, {"defects": list_of(_DEFECT_GROUP)}),
    },
    {"fixedIn": is_span, "fixedAt": list_of(count)},
)
_ROUND_KEYS = ("round", "accepted", "failed", "fixed", "propagated", "quarantined")
_ROUND_ENTRY = obj({"uploads": list_of(is_dict), **dict.fromkeys(_ROUND_KEYS, count)})
REPORT = obj(
    {
        "jobDir": text,
        "outcome": text,
        "exitCode": lambda v: count(v) and v in ExitCode.__members__.values(),
        "message": text,
        **{k: count for k in ("records", "accepted", "quarantined", "pending")},
        **{k: count for k in ("rounds", "uploads", "apiCalls")},
    },
    {
        "perRound": list_of(_ROUND_ENTRY),
        "generalErrors": list_of(text),
        "fixes": count,
        "local": obj({}, {"findings": count, "fixed": count}),
        "defects": list_of(_DEFECT_GROUP),
    },
)
REJECTED = obj(
    {
        "line": count,
        "objectId": one_of(text, is_none),
        "errors": list_of(text),
        "record": one_of(is_none, lambda v: isinstance(v, dict)),
    },
    {"text": text},
)
LINEAGE = is_runs


def damaged(path: Path, why: str, *, hint: str = FRESH_START) -> InputProblem:
    """The error for a job file that cannot be used."""
    return InputProblem(f"job file {path} is damaged ({why}).", hint=hint)


def load(path: Path, *, hint: str = FRESH_START, sha256: str | None = None) -> object:
    """Parse a JSON job file; unreadable, not JSON, or not the bytes noted is a damaged file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise damaged(path, "it is missing", hint=hint) from None
    except OSError as exc:
        raise damaged(path, f"cannot read it: {exc.strerror}", hint=hint) from None
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise damaged(path, "it changed since ldjfix wrote it", hint=hint)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise damaged(path, f"not JSON: {exc.msg}", hint=hint) from None


def checked(doc: object, check: Check, path: Path, what: str, *, hint: str = FRESH_START) -> Any:
    """``doc`` when it passes ``check``; otherwise a damaged-file error naming ``what`` it is."""
    if not check(doc):
        raise damaged(path, f"not {what} ldjfix wrote", hint=hint)
    return doc


def read_lineage(path: Path, sha256: str | None = None) -> array[int]:
    """A lineage file: source line numbers (as runs), one per line of its upload set.

    With ``sha256`` (what the journal noted when the lineage was written) the file must be
    exactly what was written: a lineage that maps Gong's lines to the wrong source lines would
    settle the wrong records.
    """
    return unpack(checked(load(path, sha256=sha256), LINEAGE, path, "a lineage"))


def read_settlement(path: Path, sha256: str | None = None) -> SettlementDoc:
    """A round's settlement file (exactly as written, when ``sha256`` is given)."""
    doc = load(path, sha256=sha256)
    return cast(SettlementDoc, checked(doc, SETTLEMENT, path, "a settlement"))


def check_report(doc: object, path: Path, *, hint: str) -> ReportDoc:
    """report.json as the loop wrote it."""
    return cast(ReportDoc, checked(doc, REPORT, path, "a job report", hint=hint))


def check_rejected(raw: bytes, path: Path, number: int, *, hint: str) -> RejectedDoc:
    """One line of rejected.ldjson."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise damaged(path, f"line {number} is not JSON: {exc.msg}", hint=hint) from None
    if not REJECTED(doc):
        raise damaged(path, f"line {number} is not a quarantined record", hint=hint)
    return cast(RejectedDoc, doc)
