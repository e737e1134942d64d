"""Benchmark the offline core against plain baselines, in one run, as whole processes.

    python bench/bench_core.py            # 200 MB and 20 MB ACCOUNT files under bench/data/
    python bench/bench_core.py --reps 7

Budgets (README "Benchmarks"), each a paired ratio measured here:

* ``ldjfix extract`` of 2,000 scattered lines <= 1.5x awk extracting the same lines;
* ``ldjfix merge`` with 2,000 lines replaced <= 1.5x a plain Python copy loop of the file;
* peak RSS of extract and merge < 64 MiB, and flat from a 20 MB to a 200 MB input.

Each repetition runs the ldjfix command and its baseline back to back (order alternating), so
the ratio compares like with like; the table shows medians. The input files are made once by
the seeded generator (``ldjfix.synth.generator``) and kept in bench/data/ (ignored by git).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

HERE = Path(__file__).parent
LINES = 2000
MIB = 1024 * 1024
BUDGET_RATIO = 1.5
BUDGET_PEAK_MIB = 64.0
FLAT_MIB = 8.0  # "flat": the 200 MB peak may exceed the 20 MB peak by at most this
COPY_LOOP = (
    "import sys\n"
    "with open(sys.argv[1], 'rb') as f, open(sys.argv[2], 'wb') as out:\n"
    "    for line in f:\n"
    "        out.write(line)\n"
)
AWK = "NR==FNR{w[$1];next} FNR in w"


@dataclass(frozen=True)
class Run:
    """One finished process: wall time, CPU time (user + system) and peak RSS in MiB."""

    seconds: float
    cpu: float
    peak_mib: float


def measure(argv: list[str], stdout: Path | None = None) -> Run:
    """Run ``argv`` as a process; its wall time and peak RSS (from wait4, this child only)."""
    sink = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    try:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    finally:
        if stdout:
            sink.close()  # type: ignore[union-attr]
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read() if process.stderr else b""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}): {errors.decode()}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def ldjfix_command() -> list[str]:
    """The installed ``ldjfix`` script next to this Python, as a user would run it."""
    script = Path(sys.executable).with_name("ldjfix")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ldjfix"]


@dataclass(frozen=True)
class Inputs:
    """A data file and the status, line list and edited records for 2,000 of its lines."""

    data: Path
    status: Path
    wanted: Path
    fixed: Path


def make_data(path: Path, size_mb: int) -> None:
    """Write a seeded realistic ACCOUNT file of about ``size_mb`` MB, once."""
    if path.exists():
        return
    from ldjfix.synth.generator import write_sized

    print(f"generating {path} ...", file=sys.stderr)
    write_sized(path, "ACCOUNT", size_mb * 1_000_000, seed=1, bad=0, kinds=[])


def prepare(folder: Path, size_mb: int) -> Inputs:
    """The data file plus a status naming 2,000 scattered lines and their edited records."""
    data = folder / f"accounts-{size_mb}mb.ldjson"
    make_data(data, size_mb)
    with open(data, "rb") as stream:
        count = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    lines = sorted(random.Random(size_mb).sample(range(1, count + 1), LINES))
    status = folder / f"status-{size_mb}mb.json"
    errors = [
        {"line": n, "description": "Mandatory field [name] is missing or empty"} for n in lines
    ]
    status.write_bytes(orjson.dumps({"status": "FAILED", "errors": errors}))
    wanted = folder / f"lines-{size_mb}mb.txt"
    wanted.write_text("".join(f"{n}\n" for n in lines))
    failing = folder / f"failing-{size_mb}mb.ldjson"
    measure(
        [*ldjfix_command(), "extract", str(data), "--status-file", str(status), "-o", str(failing)]
    )
    fixed = folder / f"fixed-{size_mb}mb.ldjson"
    with open(failing, "rb") as source, open(fixed, "wb") as out:
        for line in source:
            record = orjson.loads(line)
            if "_raw" not in record:  # a line that is not a JSON object stays as it was
                record["name"] = f"{record.get('name', '')} (fixed)"
            out.write(orjson.dumps(record) + b"\n")
    return Inputs(data, status, wanted, fixed)


def extract_pair(inputs: Inputs, out: Path) -> tuple[list[str], list[str]]:
    """ldjfix extract and awk extracting the same lines."""
    ours = [*ldjfix_command(), "extract", str(inputs.data), "--status-file", str(inputs.status)]
    awk = shutil.which("mawk") or shutil.which("awk") or "awk"
    return [*ours, "-o", str(out)], [awk, AWK, str(inputs.wanted), str(inputs.data)]


def merge_pair(inputs: Inputs, out: Path) -> tuple[list[str], list[str]]:
    """ldjfix merge and a plain Python copy loop of the file."""
    ours = [*ldjfix_command(), "merge", str(inputs.data), str(inputs.fixed), "-o", str(out)]
    return ours, [sys.executable, "-c", COPY_LOOP, str(inputs.data), str(out)]


def paired(ours: list[str], base: list[str], out: Path, reps: int) -> tuple[list[Run], list[Run]]:
    """Run both ``reps`` times back to back, alternating which goes first."""
    mine: list[Run] = []
    theirs: list[Run] = []
    base_out = out.with_suffix(".baseline")
    for rep in range(reps):
        if rep % 2:
            theirs.append(measure(base, base_out))
            mine.append(measure(ours))
        else:
            mine.append(measure(ours))
            theirs.append(measure(base, base_out))
    return mine, theirs


def median_ratio(mine: list[Run], theirs: list[Run], *, cpu: bool = False) -> float:
    """Median of the per-repetition ratios of wall time (or of CPU time)."""
    pairs = zip(mine, theirs, strict=True)
    if cpu:
        return statistics.median(a.cpu / max(b.cpu, 1e-3) for a, b in pairs)
    return statistics.median(a.seconds / b.seconds for a, b in pairs)


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, exit 1 when a budget fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions per measurement")
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    big, small = prepare(args.data_dir, 200), prepare(args.data_dir, 20)
    out = args.data_dir / "out.ldjson"
    rows = []
    peaks: dict[str, list[float]] = {"extract": [], "merge": []}
    for inputs in (small, big):
        for name, pair, base in (
            ("extract", extract_pair, "awk"),
            ("merge", merge_pair, "copy loop"),
        ):
            mine, theirs = paired(*pair(inputs, out), out, args.reps)
            ratio = median_ratio(mine, theirs)
            peak = max(r.peak_mib for r in mine)
            peaks[name].append(peak)
            rows.append(
                f"| {name} 2,000 lines | {inputs.data.stat().st_size / 1e6:.0f} MB "
                f"| {statistics.median(r.seconds for r in mine):.3f} s | {base} "
                f"| {statistics.median(r.seconds for r in theirs):.3f} s | {ratio:.2f}x "
                f"| {median_ratio(mine, theirs, cpu=True):.2f}x "
                f"| {verdict(ratio <= BUDGET_RATIO) if inputs is big else '-'} "
                f"| {peak:.1f} MiB |"
            )
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"ldjfix core benchmark: {args.reps} paired repetitions, medians, whole processes; "
        f"{os.cpu_count()} CPUs, load average {load}\n"
    )
    print(
        "| kernel | file | ldjfix | baseline | baseline time | ratio (wall) | ratio (CPU) "
        "| <= 1.5x (wall) | peak RSS |"
    )
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | :---: | ---: |")
    print("\n".join(rows))
    failed = [row for row in rows if "FAIL" in row]
    print()
    for name, (small_peak, big_peak) in peaks.items():
        ok = big_peak < BUDGET_PEAK_MIB and big_peak - small_peak <= FLAT_MIB
        failed += [] if ok else [name]
        print(
            f"peak RSS {name}: {small_peak:.1f} MiB at 20 MB, {big_peak:.1f} MiB at 200 MB "
            f"(< {BUDGET_PEAK_MIB:.0f} MiB and flat within {FLAT_MIB:.0f} MiB): {verdict(ok)}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
