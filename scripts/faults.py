"""Fault injection for ``ldjfix run``: seeded runs against a faulty sandbox, checked for losses.

Each seed draws a small ACCOUNT file with local and server-only defects, a mix of sandbox
faults (429 storms with ``Retry-After``, 5xx bursts, slow PENDING, connections dropped before,
during and after an upload or status call, truncated and flapping status answers) and kill
points, then runs the job against ``sandbox serve`` on a real loopback socket until it ends,
resuming after every kill. Then it checks what the design promises:

* accepted + quarantined + pending = records of the source (counted here, independently);
* every accepted record is in the sandbox with the content of ``corrected.ldjson``, accepted
  by exactly one round, and no source line rode in two uploads of one round;
* no ``clientRequestId`` was used for two uploads (the sandbox's upload log);
* the source file is unchanged (SHA-256);
* on some in-process seeds the source is rewritten, truncated, replaced or deleted mid-run (the
  exporter's next file landing while a round polls): the job must stop with ``SourceChanged``
  (exit 3) before it reads the changed file, write no outputs from it, and — the original put
  back — resume to an end that passes every check above.

Three modes: *in-process* (the loop with a manual clock, so backoff and polling never sleep; a
kill raises out of the loop's crash hook) and *subprocess* (a real ``ldjfix run`` process,
SIGKILLed at a random step or a random moment, resumed with the same command); and *batch*
(one ``ldjfix run`` of the five sample files, whose contacts and deals refer to the accounts,
users and stages, SIGKILLed at random moments and resumed; every file's job is checked).

    python scripts/faults.py --seeds 500        # prints the tally; exit 1 on any violation
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ldjfix.clock import ManualClock
from ldjfix.errors import RemoteProblem
from ldjfix.gong.connection import Connection
from ldjfix.gong.retry import RetryPolicy
from ldjfix.jobs.parts import FixChoice, make_fixer, make_validator
from ldjfix.jobs.remote import open_client
from ldjfix.ldjson.sources import SourceChanged
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.loop.runs import unpack
from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving
from ldjfix.sandbox.store import SandboxStore
from ldjfix.synth import generator as synth

INTEGRATION_ID = 7
OBJECT_TYPE = "ACCOUNT"
KEY, SECRET = "fault-key-8f3a", "fault-secret-b71c"
CREDENTIALS = {"GONG_ACCESS_KEY": KEY, "GONG_ACCESS_KEY_SECRET": SECRET}
LOCAL_KINDS = (
    "millis_modified_date",
    "bad_datetime",
    "domains_not_array",
    "is_deleted_as_string",
    "bad_url",
    "missing_object_id",
    "invalid_json",
)
SERVER_KINDS = ("domain_is_url", "name_too_long")
STEPS = ("journal", "survey", "plan", "upload", "poll", "settle", "outputs", "report")
MAX_STARTS = 25  # a job needing more starts than this is itself a violation

RULES = b"""
[[rule]]
field = "modifiedDate"
kind = "invalid"
action = "reformat_datetime"

[[rule]]
field = "isDeleted"
kind = "invalid"
action = "coerce"
to = "boolean"

[[rule]]
field = "domains"
kind = "invalid"
pattern = "array of strings"
action = "coerce"
to = "array"

[[rule]]
field = "domains"
kind = "invalid"
action = "replace"
regex = '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:www\\.)?([^/:?#\\s]+).*$'
with = '\\1'

[[rule]]
field = "name"
kind = "too_long"
action = "truncate"
length = 255
"""


class Killed(BaseException):
    """The in-process stand-in for SIGKILL: raised from the loop's crash hook."""


@dataclass(frozen=True)
class Plan:
    """Everything one seed decides: the file, the faults, the kills."""

    seed: int
    records: int
    defects: dict[str, int]
    knobs: dict[str, Any]  # Knobs fields; faults the sandbox lacks are dropped by knobs_of
    kills: int
    rules: bool
    max_rounds: int
    subprocess: bool


def plan_for(seed: int, *, subprocess_mode: bool = False) -> Plan:
    """Draw a seed's file, faults and kills."""
    rng = random.Random(f"faults:{seed}")
    records = rng.randint(60, 320)
    kinds = [*rng.sample(LOCAL_KINDS, rng.randint(1, 4)), *SERVER_KINDS]
    bad = rng.randint(5, records // 3)
    defects = synth.spread(bad, kinds)
    storm = ("429",) * rng.randint(0, 5)
    burst = tuple(rng.choice(("500", "503")) for _ in range(rng.randint(0, 3)))
    script = storm + burst if rng.random() < 0.5 else burst + storm
    if subprocess_mode:
        # real processes really sleep: 429s with Retry-After 0, and a few faults that back off
        shares = {"429": rng.uniform(0, 0.2), rng.choice(("lost", "truncate", "cut")): 0.06}
        knobs = dict(
            polls=0, calls_per_second=0, retry_after=0, script=storm, shares=shares, seed=seed
        )
    else:
        shares = {
            fault: rng.uniform(0, 0.06)
            for fault in ("429", "500", "503", "drop", "lost", "cut", "truncate", "flap")
            if rng.random() < 0.6
        }
        knobs = dict(
            polls=rng.randint(0, 4),
            calls_per_second=rng.choice((0, 3, 5)),
            retry_after=rng.randint(0, 3),
            script=script,
            shares=shares,
            seed=seed,
        )
    return Plan(
        seed,
        records,
        defects,
        knobs,
        kills=rng.choice((0, 1, 1, 2, 3, 5)),
        rules=rng.random() < 0.8,
        max_rounds=rng.randint(3, 10),
        subprocess=subprocess_mode,
    )


SOURCE_CHANGES = ("rewrite", "truncate", "replace", "delete")
CHANGE_STEPS = ("journal", "survey", "plan", "upload", "poll", "settle")


def change_for(seed: int) -> tuple[str, str, int] | None:
    """On about one seed in four: how the source changes mid-run, and at which step."""
    rng = random.Random(f"change:{seed}")
    if rng.random() >= 0.25:
        return None
    return rng.choice(SOURCE_CHANGES), rng.choice(CHANGE_STEPS), rng.randint(1, 4)


def change_source(source: Path, how: str) -> None:
    """Do to the source what a careless exporter would, mid-run."""
    if how == "rewrite":
        data = source.read_bytes()
        source.write_bytes(data.replace(b'"name":"', b'"name":"Z', 5) + b'{"objectId":"new"}\n')
    elif how == "truncate":
        with open(source, "r+b") as stream:
            stream.truncate(source.stat().st_size // 3)
    elif how == "replace":
        temp = source.with_name("next-export.ldjson")
        temp.write_bytes(source.read_bytes()[::-1])
        os.replace(temp, source)
    else:
        source.unlink()


def knobs_of(plan: Plan) -> Knobs:
    """The plan's sandbox knobs, without faults this sandbox does not know."""
    from ldjfix.sandbox.app import FAULTS

    shares = {k: v for k, v in plan.knobs["shares"].items() if k in FAULTS}
    script = tuple(f for f in plan.knobs["script"] if f in FAULTS)
    return Knobs(**{**plan.knobs, "shares": shares, "script": script})


@dataclass
class Outcome:
    """What one seed did and which promises it broke."""

    seed: int
    violations: list[tuple[str, str]] = field(default_factory=list)
    starts: int = 0
    kills: int = 0
    changes: int = 0  # times the source changed mid-run and the job stopped for it
    gave_up: int = 0  # starts that ended with exit 4 (remote problem after retries)
    remote: list[str] = field(default_factory=list)  # their messages
    outcome: str = ""
    faults: collections.Counter[str] = field(default_factory=collections.Counter)

    def broke(self, kind: str, detail: str) -> None:
        """Record a violation."""
        self.violations.append((kind, detail))


def sha256(path: Path) -> str:
    """The SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_source(plan: Plan, folder: Path) -> Path:
    """Write the seed's source file (and its rules file beside it)."""
    source = folder / "accounts.ldjson"
    synth.write_file(source, OBJECT_TYPE, plan.records, seed=plan.seed, defects=plan.defects)
    rng = random.Random(f"shape:{plan.seed}")
    lines = _with_duplicates(source.read_bytes().split(b"\n")[:-1], rng)
    shape = rng.choice(("plain", "plain", "crlf", "blank", "bom"))
    if shape == "crlf":
        lines = [line + b"\r" for line in lines]
    elif shape == "blank":
        for _ in range(rng.randint(1, 5)):
            lines.insert(rng.randint(0, len(lines)), rng.choice((b"", b"  ", b"\t")))
    data = b"\n".join(lines) + (b"\n" if rng.random() < 0.8 else b"")
    source.write_bytes(b"\xef\xbb\xbf" + data if shape == "bom" else data)
    (folder / "rules.toml").write_bytes(RULES)
    return source


def _with_duplicates(lines: list[bytes], rng: random.Random) -> list[bytes]:
    """Give a few later records the objectId of an earlier one (a newer version of it)."""
    if rng.random() < 0.5:
        return lines
    for _ in range(rng.randint(1, 4)):
        first, later = sorted(rng.sample(range(len(lines)), 2))
        earlier_id = object_id_of(lines[first])
        try:
            record = orjson.loads(lines[later])
        except orjson.JSONDecodeError:
            continue
        if earlier_id is None or not isinstance(record, dict) or "objectId" not in record:
            continue
        record["objectId"] = earlier_id
        record["name"] = f"newer version of line {first + 1}"
        lines[later] = orjson.dumps(record)
    return lines


def run_seed(seed: int, workdir: Path, *, subprocess_mode: bool = False) -> Outcome:
    """Run one seed in ``workdir`` (a fresh folder) and check the result."""
    plan = plan_for(seed, subprocess_mode=subprocess_mode)
    outcome = Outcome(seed)
    source = make_source(plan, workdir)
    before = sha256(source)
    clock = ManualClock()
    app_options: dict[str, Any] = (
        {} if subprocess_mode else {"clock": clock.now, "sleep": clock.sleep}
    )
    with serving(workdir / "sandbox", knobs_of(plan), **app_options) as sandbox:
        try:
            if subprocess_mode:
                _drive_subprocess(plan, source, workdir, sandbox, outcome)
            else:
                _drive_in_process(plan, source, workdir, sandbox, clock, outcome)
        except Exception:  # a crash of ldjfix itself: the worst violation
            outcome.broke("crash", traceback.format_exc(limit=8))
        outcome.faults.update(call.fault for call in sandbox.app.calls if call.fault != "ok")
    if not source.exists() or sha256(source) != before:
        outcome.broke("source_changed", f"{source} is gone or not as it was")
    if not outcome.violations:
        check_job(source, workdir / "job", SandboxStore(workdir / "sandbox"), outcome)
    return outcome


SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BATCH = (
    ("users.ldjson", "BUSINESS_USER"),
    ("stages.ldjson", "STAGE"),
    ("accounts.ldjson", "ACCOUNT"),
    ("contacts.ldjson", "CONTACT"),
    ("deals.ldjson", "DEAL"),
)


def run_batch_seed(seed: int, workdir: Path) -> Outcome:
    """A batch ``ldjfix run`` of the five sample files (references across them), SIGKILLed at
    random moments and resumed; every file's job is checked like a single one."""
    rng = random.Random(f"batch:{seed}")
    outcome = Outcome(seed)
    for name, _ in BATCH:
        shutil.copy(SAMPLES / name, workdir / name)
    (workdir / "rules.toml").write_bytes(RULES)
    before = {name: sha256(workdir / name) for name, _ in BATCH}
    fault = rng.choice(("lost", "truncate", "cut", "drop"))
    knobs = Knobs(
        polls=0,
        calls_per_second=0,
        retry_after=0,
        seed=seed,
        shares={"429": rng.uniform(0, 0.2), fault: 0.04},
    )
    with serving(workdir / "sandbox", knobs) as sandbox:
        command = [
            sys.executable,
            "-m",
            "ldjfix",
            "run",
            "--job-dir",
            str(workdir / "jobs"),
            "--integration-id",
            str(INTEGRATION_ID),
            "--rules",
            "rules.toml",
            "--base-url",
            sandbox.url,
            "--calls-per-second",
            "200",
        ]
        for name, kind in BATCH:
            command += ["--file", f"{name}:{kind}"]
        try:
            _drive_processes(command, workdir, rng, outcome)
        except Exception:
            outcome.broke("crash", traceback.format_exc(limit=8))
        outcome.faults.update(call.fault for call in sandbox.app.calls if call.fault != "ok")
    for name, kind in BATCH:
        if sha256(workdir / name) != before[name]:
            outcome.broke("source_changed", name)
        job = workdir / "jobs" / f"{name}.ldjfix-job"
        if not outcome.violations:
            check_job(workdir / name, job, SandboxStore(workdir / "sandbox"), outcome, kind)
    outcome.outcome = outcome.outcome or "BATCH"
    return outcome


def _drive_processes(command: list[str], cwd: Path, rng: random.Random, outcome: Outcome) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    env.update(CREDENTIALS)
    while outcome.starts < MAX_STARTS:
        outcome.starts += 1
        kill = rng.uniform(0.3, 1.2) if outcome.kills < 3 and rng.random() < 0.8 else None
        code = _run_once(command, env, kill, cwd=cwd)
        if code == -signal.SIGKILL:
            outcome.kills += 1
        elif code == 4:
            outcome.gave_up += 1
        elif code in (0, 1):
            outcome.outcome = "BATCH"
            return
        else:
            outcome.broke("exit_code", f"ldjfix run exited {code}")
            return
    outcome.broke("no_end", f"not finished after {MAX_STARTS} starts")


def _kill_steps(plan: Plan) -> list[tuple[str, int]]:
    rng = random.Random(f"kills:{plan.seed}")
    return [(rng.choice(STEPS), rng.randint(1, 6)) for _ in range(plan.kills)]


def _drive_in_process(
    plan: Plan,
    source: Path,
    workdir: Path,
    sandbox: RunningSandbox,
    clock: ManualClock,
    outcome: Outcome,
) -> None:
    kills = _kill_steps(plan)
    change = change_for(plan.seed)
    original = source.read_bytes()
    rng = random.Random(f"retry:{plan.seed}")
    validator = make_validator(OBJECT_TYPE)
    choice = FixChoice(workdir / "rules.toml" if plan.rules else None)
    spec = JobSpec(source, OBJECT_TYPE, INTEGRATION_ID, workdir / "job", plan.max_rounds)
    while outcome.starts < MAX_STARTS:
        outcome.starts += 1
        kill = kills.pop(0) if kills else None
        fixer = make_fixer(choice, validator, workdir / "job")
        client = open_client(
            Connection(base_url=sandbox.url, calls_per_second=3.0),
            env=CREDENTIALS,
            sleep=clock.sleep,
            clock=clock.now,
            policy=RetryPolicy(rng=rng),
        )
        hook = _raising_hook(kill, change if not outcome.changes else None, source)
        try:
            with client:
                run_job(
                    spec,
                    client=client,
                    fixer=fixer,
                    validator=validator,
                    clock=clock.now,
                    crash_hook=hook,
                )
            if hook.changed_before_outputs:
                outcome.broke("change_unnoticed", f"{change}: the job read on and finished")
            source.write_bytes(original)  # changed after its last read: harmless, put back
            outcome.outcome = _read_outcome(workdir / "job")
            return
        except SourceChanged:
            if not hook.changed:
                outcome.broke("changed_wrongly", "SourceChanged with the source untouched")
            outcome.changes += 1
            if (workdir / "job" / "report.json").exists():
                outcome.broke("outputs_from_changed", "report.json written from a changed source")
            source.write_bytes(original)  # the exporter's mistake undone: resume
        except Killed:
            outcome.kills += 1
        except RemoteProblem as exc:
            outcome.gave_up += 1
            outcome.remote.append(str(exc))
        if hook.changed:
            source.write_bytes(original)
    outcome.broke("no_end", f"not finished after {MAX_STARTS} starts")


class _Hook:
    """The loop's crash hook: raises :class:`Killed` at a kill step, changes the source at
    another."""

    def __init__(
        self, kill: tuple[str, int] | None, change: tuple[str, str, int] | None, source: Path
    ) -> None:
        self.kill, self.change, self.source = kill, change, source
        self.seen: collections.Counter[str] = collections.Counter()
        self.changed = False
        self.changed_before_outputs = False

    def __call__(self, step: str) -> None:
        self.seen[step] += 1
        if self.change is not None and not self.changed:
            how, at, count = self.change
            if step == at and self.seen[step] == count:
                change_source(self.source, how)
                self.changed = True
                self.changed_before_outputs = not self.seen["outputs"]
        if self.kill is not None and step == self.kill[0] and self.seen[step] == self.kill[1]:
            raise Killed(f"{step}:{self.kill[1]}")


def _raising_hook(
    kill: tuple[str, int] | None,
    change: tuple[str, str, int] | None = None,
    source: Path | None = None,
) -> _Hook:
    return _Hook(kill, change, source or Path())


def _drive_subprocess(
    plan: Plan, source: Path, workdir: Path, sandbox: RunningSandbox, outcome: Outcome
) -> None:
    rng = random.Random(f"sigkill:{plan.seed}")
    kills = _kill_steps(plan)
    command = [
        sys.executable,
        "-m",
        "ldjfix",
        "run",
        str(source),
        "--object-type",
        OBJECT_TYPE,
        "--integration-id",
        str(INTEGRATION_ID),
        "--job-dir",
        str(workdir / "job"),
        "--max-rounds",
        str(plan.max_rounds),
        "--calls-per-second",
        "200",
        "--base-url",
        sandbox.url,
    ]
    if plan.rules:
        command += ["--rules", str(workdir / "rules.toml")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    env.update(CREDENTIALS)
    while outcome.starts < MAX_STARTS:
        outcome.starts += 1
        run_env = dict(env)
        timed = None
        if kills:
            step, n = kills.pop(0)
            if rng.random() < 0.7:
                run_env["LDJFIX_CRASH_AT"] = f"{step}:{n}"
            else:
                timed = rng.uniform(0.2, 1.5)  # a kill at a moment no hook chose
        code = _run_once(command, run_env, timed)
        if code == -signal.SIGKILL:
            outcome.kills += 1
            continue
        if code == 4:
            outcome.gave_up += 1
            continue
        if code not in (0, 1):
            outcome.broke("exit_code", f"ldjfix run exited {code}")
            return
        outcome.outcome = _read_outcome(workdir / "job")
        return
    outcome.broke("no_end", f"not finished after {MAX_STARTS} starts")


def _run_once(
    command: list[str], env: dict[str, str], kill_after: float | None, cwd: Path | None = None
) -> int:
    with subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        try:
            _, err = process.communicate(timeout=kill_after if kill_after else 120)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.communicate()
            return -signal.SIGKILL
    if b"Traceback" in err:
        raise AssertionError("ldjfix run printed a traceback:\n" + err.decode(errors="replace"))
    return process.returncode


def _read_outcome(job: Path) -> str:
    return str(orjson.loads((job / "report.json").read_bytes())["outcome"])


# --- the checks -----------------------------------------------------------------------------


def source_lines(source: Path) -> list[bytes]:
    """Physical lines of the source (split at ``\\n`` only), without their endings."""
    data = source.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def record_lines(lines: list[bytes]) -> list[int]:
    """1-based numbers of the lines that hold something (blank lines hold no record)."""
    return [n for n, line in enumerate(lines, 1) if line.strip()]


def _settlements(job: Path, journal: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for name in journal["settled"]:
        yield orjson.loads((job / "rounds" / name).read_bytes())


def check_job(
    source: Path,
    job: Path,
    store: SandboxStore,
    outcome: Outcome,
    object_type: str = OBJECT_TYPE,
) -> None:
    """Check a finished job against the source and the sandbox; record every violation."""
    report = orjson.loads((job / "report.json").read_bytes())
    journal = orjson.loads((job / "journal.json").read_bytes())
    lines = source_lines(source)
    records = record_lines(lines)
    counts = {k: report[k] for k in ("accepted", "quarantined", "pending", "records")}
    if counts["records"] != len(records) or (
        counts["accepted"] + counts["quarantined"] + counts["pending"] != len(records)
    ):
        outcome.broke("invariant", f"{counts} for {len(records)} source records")
    accepted, quarantined = _settled_lines(job, journal, outcome)
    if len(accepted) != counts["accepted"] or len(quarantined) != counts["quarantined"]:
        outcome.broke(
            "report_counts",
            f"settlements say {len(accepted)} accepted, "
            f"{len(quarantined)} quarantined; report says {counts}",
        )
    _check_rounds(job, journal, outcome)
    corrected = _corrected_by_line(job, lines, quarantined, outcome)
    by_number = dict(enumerate(lines, 1))
    _check_sandbox(store, accepted, quarantined, corrected, by_number, outcome, object_type)
    _check_request_ids(store, journal, outcome)
    rejected = (job / "rejected.ldjson").read_bytes().splitlines()
    if len(rejected) != len(quarantined):
        outcome.broke("rejected_file", f"{len(rejected)} lines for {len(quarantined)} quarantined")


def _settled_lines(
    job: Path, journal: Mapping[str, Any], outcome: Outcome
) -> tuple[set[int], set[int]]:
    accepted: set[int] = set()
    quarantined: set[int] = set()
    for doc in _settlements(job, journal):
        for line in unpack(doc["accepted"]):
            if line in accepted or line in quarantined:
                outcome.broke("settled_twice", f"line {line} again in round {doc['round']}")
            accepted.add(line)
        for item in doc["quarantined"]:
            if item["line"] in accepted or item["line"] in quarantined:
                outcome.broke("settled_twice", f"line {item['line']} again in {doc['round']}")
            quarantined.add(item["line"])
    return accepted, quarantined


def _check_rounds(job: Path, journal: Mapping[str, Any], outcome: Outcome) -> None:
    """No source line rides in two uploads of the same round."""
    by_round: dict[int, set[int]] = collections.defaultdict(set)
    for name, entry in journal["uploads"].items():
        lineage = unpack(orjson.loads((job / "rounds" / f"{name}.lineage.json").read_bytes()))
        seen = by_round[entry["round"]]
        twice = seen.intersection(lineage)
        if twice or len(set(lineage)) != len(lineage):
            outcome.broke("uploaded_twice", f"round {entry['round']}: lines {sorted(twice)[:5]}")
        seen.update(lineage)


def _corrected_by_line(
    job: Path, lines: list[bytes], quarantined: set[int], outcome: Outcome
) -> dict[int, bytes]:
    """Source line number -> its line in corrected.ldjson (quarantined lines are left out)."""
    corrected = source_lines(job / "corrected.ldjson")
    kept = [n for n in range(1, len(lines) + 1) if n not in quarantined]
    if len(corrected) != len(kept):
        outcome.broke("corrected_file", f"{len(corrected)} lines, expected {len(kept)}")
        return {}
    return dict(zip(kept, corrected, strict=True))


def object_id_of(line: bytes | None) -> str | None:
    """The objectId of a record line, or None."""
    try:
        record = orjson.loads((line or b"").removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError:
        return None
    found = record.get("objectId") if isinstance(record, dict) else None
    return found if isinstance(found, str) else None


def _check_sandbox(
    store: SandboxStore,
    accepted: set[int],
    quarantined: set[int],
    corrected: Mapping[int, bytes],
    source_records: Mapping[int, bytes],
    outcome: Outcome,
    object_type: str = OBJECT_TYPE,
) -> None:
    """Gong holds, for every accepted objectId, the newest accepted version (the last line)."""
    held = store.records(INTEGRATION_ID, object_type)
    newest: dict[str, tuple[int, dict[str, Any]]] = {}
    for line in sorted(accepted):
        if line not in corrected:
            continue  # already reported as a corrected_file violation
        record = orjson.loads(corrected[line].removeprefix(b"\xef\xbb\xbf"))
        newest[record["objectId"]] = (line, record)  # a later line is a newer version
    for object_id, (line, record) in newest.items():
        if record.get("isDeleted") is True:  # an accepted deletion leaves nothing behind
            if object_id in held:
                outcome.broke("deletion_kept", f"line {line} ({object_id})")
        elif object_id not in held:
            outcome.broke("accepted_not_in_sandbox", f"line {line} ({object_id})")
        elif held[object_id] != record:
            outcome.broke(
                "content_differs", f"line {line} ({object_id}): Gong holds another version"
            )
    for line in sorted(quarantined):
        key = object_id_of(source_records.get(line))
        if key is not None and key in held and key not in newest:
            outcome.broke("quarantined_in_sandbox", f"line {line} ({key})")


def _check_request_ids(store: SandboxStore, journal: Mapping[str, Any], outcome: Outcome) -> None:
    logged = collections.Counter(entry["clientRequestId"] for entry in store.uploads())
    for crid, n in logged.items():
        if n > 1:
            outcome.broke("crid_reused", f"{crid} used for {n} uploads")
    for name, entry in journal["uploads"].items():
        if entry["state"] == "polled" and logged[entry["clientRequestId"]] != 1:
            outcome.broke(
                "upload_lost",
                f"{name} polled but the sandbox logged "
                f"{logged[entry['clientRequestId']]} uploads of it",
            )


# --- the runner -----------------------------------------------------------------------------


def run_seeds(
    seeds: range, *, every_subprocess: int = 0, every_batch: int = 0, report: Any = None
) -> list[Outcome]:
    """Run ``seeds``; every ``every_subprocess``-th one as real processes, every
    ``every_batch``-th one as a batch of the five sample files (0 = never)."""
    outcomes = []
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix=f"ldjfix-faults-{seed}-") as tmp:
            sub = bool(every_subprocess) and seed % every_subprocess == 0
            if every_batch and seed % every_batch == every_batch - 1:
                outcome = run_batch_seed(seed, Path(tmp))
            else:
                outcome = run_seed(seed, Path(tmp), subprocess_mode=sub)
        outcomes.append(outcome)
        if report is not None:
            report(outcome)
    return outcomes


def tally(outcomes: list[Outcome]) -> str:
    """The summary: seeds, outcomes, faults injected, kills, and violations by kind."""
    violations = collections.Counter(kind for o in outcomes for kind, _ in o.violations)
    ends = collections.Counter(o.outcome or "none" for o in outcomes)
    faults: collections.Counter[str] = collections.Counter()
    for o in outcomes:
        faults.update(o.faults)
    rows = [
        f"seeds: {len(outcomes)}",
        "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(ends.items())),
        "faults injected: " + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())),
        f"kills: {sum(o.kills for o in outcomes)}; starts: {sum(o.starts for o in outcomes)}; "
        f"gave up (exit 4, resumed): {sum(o.gave_up for o in outcomes)}; "
        f"source changed mid-run (exit 3, restored, resumed): {sum(o.changes for o in outcomes)}",
        "violations: "
        + (", ".join(f"{k} {v}" for k, v in sorted(violations.items())) if violations else "0"),
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """``--seeds N [--first S] [--every-subprocess K] [--every-batch B]``; 1 on violations."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds to run")
    parser.add_argument("--first", type=int, default=0, help="the first seed")
    parser.add_argument(
        "--every-subprocess",
        type=int,
        default=10,
        metavar="K",
        help="run every K-th seed as real SIGKILLed processes (0 = never)",
    )
    parser.add_argument(
        "--every-batch",
        type=int,
        default=20,
        metavar="B",
        help="run every B-th seed as a SIGKILLed batch of the five sample files (0 = never)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per seed")
    args = parser.parse_args(argv)
    started = time.monotonic()

    def show(o: Outcome) -> None:
        if args.verbose or o.violations:
            print(
                f"seed {o.seed}: {o.outcome} starts={o.starts} kills={o.kills} "
                f"violations={o.violations}",
                file=sys.stderr,
                flush=True,
            )

    outcomes = run_seeds(
        range(args.first, args.first + args.seeds),
        every_subprocess=args.every_subprocess,
        every_batch=args.every_batch,
        report=show,
    )
    print(tally(outcomes))
    print(f"time: {time.monotonic() - started:.0f} s")
    return 1 if any(o.violations for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
