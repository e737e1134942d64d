"""Benchmark ``ldjfix validate`` against a plain orjson parse loop, in one run, as whole processes.

    python bench/bench_validate.py            # 200 MB ACCOUNT file with 2,000 planted defects
    python bench/bench_validate.py --reps 7 --size-mb 20

Budgets (README "Benchmarks"), each measured here:

* ``ldjfix validate`` of every record <= 2.5x a Python loop that parses every line with orjson
  (paired ratio, median of the repetitions);
* ``ldjfix --help`` starts in under 0.3 s (median).

Each repetition runs ``ldjfix validate`` and the parse loop back to back, alternating which goes
first, so the ratio compares like with like. Both are single-threaded, so their CPU time (user +
system) equals their wall time on an idle machine; on a shared one the wall time swings with
the neighbours' load while the CPU time does not, so the verdict uses the CPU-time ratio and the
table shows both. The input is made once by ``bench/generate.py`` (seeded) and kept in
bench/data/ (ignored by git). Prints a table and PASS/FAIL; exit 1 on FAIL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
BUDGET_RATIO = 2.5
BUDGET_HELP_SECONDS = 0.3
PARSE_LOOP = (
    "import sys, orjson\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    for line in f:\n"
    "        try:\n"
    "            orjson.loads(line)\n"
    "        except orjson.JSONDecodeError:\n"
    "            pass\n"
)


@dataclass(frozen=True)
class Run:
    """One finished process: wall and CPU time in seconds, peak resident memory in MiB."""

    seconds: float
    cpu: float
    peak_mib: float


def measure(argv: list[str], ok_codes: tuple[int, ...] = (0,)) -> Run:
    """Run ``argv`` with output discarded; its wall time and peak RSS (wait4, this child only)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in ok_codes:
        errors = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {errors}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def ldjfix_command() -> list[str]:
    """The installed ``ldjfix`` script next to this Python, as a user would run it."""
    script = Path(sys.executable).with_name("ldjfix")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ldjfix"]


def make_data(folder: Path, size_mb: int) -> Path:
    """A seeded ACCOUNT file of about ``size_mb`` MB with 1% planted defects, made once."""
    path = folder / f"validate-accounts-{size_mb}mb.ldjson"
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        bad = str(size_mb * 10)
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), "--type", "ACCOUNT", "--size-mb",
             str(size_mb), "--bad", bad, "--seed", "1", "-o", str(path)],
            check=True,
        )  # fmt: skip
    return path


def paired(ours: list[str], base: list[str], reps: int) -> tuple[list[Run], list[Run]]:
    """Run both ``reps`` times back to back, alternating which goes first."""
    mine: list[Run] = []
    theirs: list[Run] = []
    for rep in range(reps):
        if rep % 2:
            theirs.append(measure(base))
            mine.append(measure(ours, (0, 1)))
        else:
            mine.append(measure(ours, (0, 1)))
            theirs.append(measure(base))
    return mine, theirs


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, exit 1 when a budget fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions per measurement")
    parser.add_argument("--size-mb", type=int, default=200, help="size of the input file")
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    data = make_data(args.data_dir, args.size_mb)
    base = [sys.executable, "-c", PARSE_LOOP, str(data)]
    rows, failed = [], False
    for label, extra in (
        ("validate --json", ["--json"]),
        ("validate --strict --json", ["--strict", "--json"]),
    ):
        ours = [*ldjfix_command(), "validate", str(data), "-t", "ACCOUNT", *extra]
        mine, theirs = paired(ours, base, args.reps)
        cpu = statistics.median(a.cpu / b.cpu for a, b in zip(mine, theirs, strict=True))
        wall = statistics.median(a.seconds / b.seconds for a, b in zip(mine, theirs, strict=True))
        ok = cpu <= BUDGET_RATIO
        main_row = label == "validate --json"
        failed |= not ok and main_row
        rows.append(
            f"| ldjfix {label} | {statistics.median(r.cpu for r in mine):.3f} s "
            f"| {statistics.median(r.cpu for r in theirs):.3f} s | {cpu:.2f}x | {wall:.2f}x "
            f"| {verdict(ok) if main_row else '(info) ' + verdict(ok)} "
            f"| {max(r.peak_mib for r in mine):.1f} MiB |"
        )
    helps = [measure([*ldjfix_command(), "--help"]).seconds for _ in range(args.reps)]
    help_ok = statistics.median(helps) < BUDGET_HELP_SECONDS
    size = data.stat().st_size / 1e6
    print(
        f"ldjfix validate benchmark: {size:.0f} MB ACCOUNT file, "
        f"{args.reps} paired repetitions, medians\n"
    )
    print("| kernel | ldjfix CPU | parse loop CPU | CPU ratio | wall ratio | <= 2.5x | peak RSS |")
    print("| --- | ---: | ---: | ---: | ---: | :---: | ---: |")
    print("\n".join(rows))
    print(
        f"\nldjfix --help: {statistics.median(helps):.3f} s (< {BUDGET_HELP_SECONDS} s): "
        f"{verdict(help_ok)}"
    )
    return 1 if failed or not help_ok else 0


if __name__ == "__main__":
    sys.exit(main())
