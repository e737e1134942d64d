"""Rounds and API calls to DONE: ``ldjfix run`` vs Gong's documented workflow, same file.

    python bench/bench_rounds.py                     # 100,000 accounts, 1,500 bad, six kinds
    python bench/bench_rounds.py --records 20000 --bad 300
    python bench/bench_rounds.py --no-rules          # nothing fixed: shards find every failure

Both workflows run against the built-in sandbox (in-process, fresh state each) on the same
generated file, with the same rules (samples/rules.toml) deciding every fix, so the only
difference is the workflow:

* **Gong's documented workflow** (reference 1.3): upload the whole file, read the (at most 20)
  listed errors, fix those lines, upload the whole file again, until DONE. A line no rule can
  fix is deleted from the file, as a person would.
* **ldjfix run**: local validation first, lineage, propagation of every fix, shards past the
  20-error cap.

The sandbox answers on the first status poll in the main run (``polls=0``), so the benchmark
finishes fast. Gong takes real time to process an upload, and every status poll counts against
the day's quota, so each workflow runs a second time under a sandbox that answers PENDING,
IN_PROGRESS... for ``--polls`` polls (default 3) before the outcome: the "API calls (polls=N)"
column. That run's client sleeps on a manual clock (the sandbox counts polls, not seconds), so it
costs no wall time. API calls are what the client made (uploads + status polls, retries
included); "per 1,000 server-only" divides them by the failures only the server finds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from ldjfix.clock import ManualClock
from ldjfix.fixing.fixer import Fixer, QuarantineFixer
from ldjfix.fixing.rules import load_rules
from ldjfix.fixing.rules_fixer import RulesFixer
from ldjfix.gong.client import GongClient
from ldjfix.gong.connection import Connection
from ldjfix.jobs.remote import open_client
from ldjfix.loop.rounds import JobSpec, run_job
from ldjfix.synth import generator as synth
from ldjfix.validation.validator import Validator

KINDS = (
    "millis_modified_date",
    "missing_modified_date",
    "is_deleted_as_string",
    "domains_not_array",
    "domain_is_url",  # only the server (sandbox) detects these two
    "name_too_long",
)
RULES = Path(__file__).resolve().parent.parent / "samples" / "rules.toml"

SERVER_ONLY = ("domain_is_url", "name_too_long")


@dataclass(frozen=True)
class Tally:
    """How one workflow went."""

    name: str
    outcome: str
    rounds: int
    uploads: int
    api_calls: int
    records_sent: int
    left_out: int  # records dropped (Gong's workflow) or quarantined (ldjfix)
    seconds: float


def _client(state: Path, polls: int = 0) -> GongClient:
    knobs = {"LDJFIX_SANDBOX_KNOBS": f'{{"polls": {polls}, "calls_per_second": 1000}}'}
    conn = Connection(sandbox=True, sandbox_dir=state, calls_per_second=1000)
    if not polls:
        return open_client(conn, env=knobs)
    clock = ManualClock()  # the sandbox counts polls, not time: nobody needs to wait
    return open_client(conn, env=knobs, sleep=clock.sleep, clock=clock.now)


def _fixer(rules: bool, validator: Validator) -> Fixer:
    """The sample rules, or (``--no-rules``) none: every reported record is dropped."""
    return RulesFixer(load_rules(RULES), validator=validator) if rules else QuarantineFixer()


def gong_workflow(source: Path, work: Path, max_rounds: int, rules: bool, polls: int = 0) -> Tally:
    """Whole file up, fix the listed lines, whole file up again, until DONE."""
    started = time.perf_counter()
    lines = [x for x in source.read_bytes().split(b"\n") if x.strip()]
    total = len(lines)
    fixer = _fixer(rules, Validator("ACCOUNT"))
    rounds = sent = 0
    outcome = "PENDING"
    with _client(work / f"sandbox-gong-{polls}", polls) as client:
        while rounds < max_rounds:
            rounds += 1
            upload = work / f"gong-{rounds}.ldjson"
            upload.write_bytes(b"".join(x + b"\n" for x in lines))
            sent += len(lines)
            crid = f"gong-doc-{rounds}"
            client.upload(upload, object_type="ACCOUNT", integration_id=1, client_request_id=crid)
            status = client.wait_for_status(integration_id=1, client_request_id=crid)
            if status.status == "DONE":
                outcome = "DONE"
                break
            lines = _fix_listed(lines, status.line_errors, fixer)
        calls = client.calls
    return Tally(
        "Gong's documented workflow",
        outcome,
        rounds,
        rounds,
        calls,
        sent,
        total - len(lines),
        time.perf_counter() - started,
    )


def _fix_listed(lines: list[bytes], errors: tuple, fixer: Fixer) -> list[bytes]:  # type: ignore[type-arg]
    """Fix the listed lines (by the rules); delete those no rule fixes."""
    by_line: dict[int, list] = {}  # type: ignore[type-arg]
    for error in errors:
        by_line.setdefault(error.line, []).append(error)
    dropped: set[int] = set()
    for number, found in by_line.items():
        try:
            record = orjson.loads(lines[number - 1])
        except orjson.JSONDecodeError:
            dropped.add(number)
            continue
        outcome = fixer.fix(number, record, found)
        if outcome.record is None:
            dropped.add(number)
        else:
            lines[number - 1] = orjson.dumps(outcome.record)
    return [x for n, x in enumerate(lines, 1) if n not in dropped]


def ldjfix_workflow(
    source: Path, work: Path, max_rounds: int, rules: bool, polls: int = 0
) -> Tally:
    """``ldjfix run`` with the same rules."""
    started = time.perf_counter()
    validator = Validator("ACCOUNT")
    fixer = _fixer(rules, validator)
    spec = JobSpec(source, "ACCOUNT", 1, work / f"job-{polls}", max_rounds=max_rounds)
    with _client(work / f"sandbox-ldjfix-{polls}", polls) as client:
        report = run_job(spec, client=client, fixer=fixer, validator=validator)
    sent = sum(u["records"] for r in report.doc["perRound"] for u in r["uploads"])
    return Tally(
        "ldjfix run",
        report.outcome,
        report.rounds,
        report.uploads,
        report.api_calls,
        sent,
        report.counts.quarantined,
        time.perf_counter() - started,
    )


def main() -> None:
    """Generate the file, run both workflows, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--bad", type=int, default=1_500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--max-rounds", type=int, default=200)
    parser.add_argument(
        "--no-rules", action="store_true", help="no rules: every reported record is dropped"
    )
    parser.add_argument("--polls", type=int, default=3, help="polls before an outcome (column 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rounds-") as tmp:
        work = Path(tmp)
        source = work / "accounts.ldjson"
        synth.write_file(
            source, "ACCOUNT", args.records, seed=args.seed, defects=synth.spread(args.bad, KINDS)
        )
        rules = not args.no_rules
        print(
            f"{args.records:,} ACCOUNT records, {args.bad:,} bad ({len(KINDS)} kinds, "
            f"2 server-only), rules: {'samples/rules.toml' if rules else 'none'}, "
            "sandbox in-process\n"
        )
        tallies = [
            gong_workflow(source, work, args.max_rounds, rules),
            ldjfix_workflow(source, work, args.max_rounds, rules),
        ]
        slow = [
            gong_workflow(source, work, args.max_rounds, rules, args.polls),
            ldjfix_workflow(source, work, args.max_rounds, rules, args.polls),
        ]
    server_only = sum(synth.spread(args.bad, KINDS)[k] for k in SERVER_ONLY)
    print(
        f"| workflow | outcome | rounds | uploads | API calls | API calls (polls={args.polls}) "
        f"| per 1,000 server-only (polls={args.polls}) | records uploaded | left out | seconds |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for t, s in zip(tallies, slow, strict=True):
        per = s.api_calls * 1000 / max(server_only, 1)
        print(
            f"| {t.name} | {t.outcome} | {t.rounds} | {t.uploads} | {t.api_calls} | "
            f"{s.api_calls} | {per:.0f} | {t.records_sent:,} | {t.left_out:,} | {t.seconds:.1f} |"
        )
    base, ours = tallies
    print(
        f"\nratio (Gong's workflow / ldjfix): rounds {base.rounds / max(ours.rounds, 1):.1f}x, "
        f"API calls {base.api_calls / max(ours.api_calls, 1):.1f}x, "
        f"records uploaded {base.records_sent / max(ours.records_sent, 1):.1f}x"
    )


if __name__ == "__main__":
    main()
