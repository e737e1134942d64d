"""Full size with a defect in every record: validate, fix, replay and run as whole processes.

    python bench/bench_scale.py                 # 200 MB ACCOUNT files under bench/data/
    python bench/bench_scale.py --size 30       # iterate at 30 MB
    python bench/bench_scale.py --only validate,fix

Two seeded ACCOUNT files of about ``--size`` MB: one with milliseconds in every
``modifiedDate`` (the commonest real defect), one with a defect in 1% of the records. Each
command runs as a separate process; its CPU time (user + system) and peak RSS come from
``os.wait4``, and its time is a ratio to a plain orjson parse loop of the same file run in the
same script (the median of three). ``run`` goes against ``ldjfix sandbox serve`` in another
process (the ratio and memory are the client's) and with ``--sandbox`` (simulator in-process).
The job folder's size is a ratio to the source's. Budgets are issue 12's; exit 1 when one fails.
The data is made once and kept in bench/data/ (ignored by git). ldjfix's modules are compiled
first, as an installed package's are, so no row pays for compiling them.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from bench_validate import PARSE_LOOP  # noqa: E402  (the one parse loop every bench compares to)

ROOT = HERE.parent
MIB = 1024 * 1024
CREDENTIALS = {"GONG_ACCESS_KEY": "bench", "GONG_ACCESS_KEY_SECRET": "bench"}


@dataclass(frozen=True)
class Run:
    """One finished process: wall and CPU seconds, peak RSS in MiB, exit code."""

    seconds: float
    cpu: float
    peak_mib: float
    code: int


@dataclass(frozen=True)
class Row:
    """One line of the table: what ran, its figures and its budget."""

    name: str
    run: Run
    ratio: float
    budget_ratio: float | None
    budget_mib: float | None
    folder_ratio: float | None = None
    budget_folder: float | None = None

    @property
    def ok(self) -> bool:
        """True when every budget of the row holds."""
        checks = [
            self.budget_ratio is None or self.ratio <= self.budget_ratio,
            self.budget_mib is None or self.run.peak_mib < self.budget_mib,
            self.budget_folder is None
            or (self.folder_ratio is not None and self.folder_ratio <= self.budget_folder),
        ]
        return all(checks)


def measure(
    argv: list[str], *, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0, 1)
) -> Run:
    """Run ``argv`` with output discarded; CPU time and peak RSS of this child from wait4."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {errors.decode()[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(time.perf_counter() - started, cpu, usage.ru_maxrss / 1024, code)


def parse_loop_cpu(path: Path) -> float:
    """CPU seconds of the plain orjson parse loop over ``path``: the median of three runs."""
    return statistics.median(
        measure([sys.executable, "-c", PARSE_LOOP, str(path)]).cpu for _ in range(3)
    )


def ldjfix() -> list[str]:
    """The installed ``ldjfix`` script next to this Python, as a user would run it."""
    script = Path(sys.executable).with_name("ldjfix")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ldjfix"]


def make_every(path: Path, size_mb: float) -> None:
    """A seeded ACCOUNT file of about ``size_mb`` MB, milliseconds in every modifiedDate."""
    from ldjfix.synth.defects import inject
    from ldjfix.synth.generator import records

    probe = sum(len(data) + 1 for data, _ in records("ACCOUNT", 500, seed=7))
    count = max(int(size_mb * 1e6) * 500 // probe, 1)
    rng = random.Random("bench-scale")
    temp = path.with_suffix(".tmp")
    with temp.open("wb") as out:
        for index, (data, _) in enumerate(records("ACCOUNT", count, seed=7)):
            record = orjson.loads(data)
            line, _ = inject("millis_modified_date", record, rng, index + 1, ())
            out.write(line + b"\n")
    temp.replace(path)


def make_one_percent(path: Path, size_mb: float) -> None:
    """A seeded ACCOUNT file of about ``size_mb`` MB with a planted defect in 1% of records."""
    from ldjfix.synth.defects import kinds_for
    from ldjfix.synth.generator import records, write_sized

    probe = sum(len(data) + 1 for data, _ in records("ACCOUNT", 500, seed=8))
    count = max(int(size_mb * 1e6) * 500 // probe, 1)
    write_sized(
        path, "ACCOUNT", int(size_mb * 1e6), seed=8, bad=count // 100, kinds=kinds_for("ACCOUNT")
    )


def data_file(folder: Path, name: str, size_mb: float, make: Callable[[Path, float], None]) -> Path:
    """``folder/name-SIZEmb.ldjson``, made once."""
    path = folder / f"scale-{name}-{size_mb:g}mb.ldjson"
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr, flush=True)
        make(path, size_mb)
    return path


def status_file(path: Path, source: Path) -> Path:
    """A FAILED request status naming the first 20 records, as Gong would list them."""
    from ldjfix.validation.validator import Validator

    validator = Validator("ACCOUNT")
    errors = []
    with source.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            found = validator.check_record(number, orjson.loads(raw))
            errors += [
                {"line": number, "description": f.description}
                for f in found
                if f.severity == "error"
            ]
            if len(errors) >= 20:
                break
    doc = {
        "requestId": "bench",
        "status": "FAILED",
        "errors": errors[:20],
        "totalErrorCount": 10**9,
        "totalSuccessCount": 0,
    }
    path.write_bytes(orjson.dumps(doc))
    return path


def folder_size(path: Path) -> int:
    """Bytes of every file under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Serve:
    """``ldjfix sandbox serve`` in its own process, on a free loopback port."""

    def __init__(self, state: Path) -> None:
        argv = [
            *ldjfix(),
            "sandbox",
            "serve",
            "--port",
            "0",
            "--sandbox-dir",
            str(state),
            "--polls",
            "0",
        ]
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **CREDENTIALS},
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.url = next((w for w in line.split() if w.startswith("http")), "").rstrip(".,")
        if not self.url:
            self.stop()
            raise SystemExit(f"sandbox serve printed no URL: {line!r}")

    def stop(self) -> None:
        """Stop the server (this process only) and wait for it."""
        self.process.terminate()
        self.process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Measure every row, print the table, exit 1 when a budget fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=float, default=200, help="MB per file (default 200)")
    parser.add_argument(
        "--only", help="comma-separated rows: validate,fix,replay,serve,sandbox,one,clean"
    )
    parser.add_argument("--data", type=Path, default=HERE / "data")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    # An installed package comes compiled (pip writes its .pyc files); a source checkout under
    # PYTHONDONTWRITEBYTECODE would recompile ldjfix at every start and bill that to each row.
    compileall.compile_dir(str(ROOT / "ldjfix"), quiet=1)
    args.data.mkdir(parents=True, exist_ok=True)
    every = data_file(args.data, "every", args.size, make_every)
    one = data_file(args.data, "onepct", args.size, make_one_percent)
    work = args.data / f"scale-work-{args.size:g}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    rules = str(ROOT / "samples" / "rules.toml")
    base = {str(path): parse_loop_cpu(path) for path in (every, one)}
    rows: list[Row] = []

    def want(name: str) -> bool:
        return only is None or name in only

    def row(
        name: str,
        cmd: list[str],
        source: Path,
        ratio: float | None,
        mib: float | None,
        **kw: object,
    ) -> Run:
        run = measure(cmd, env=kw.get("env"))  # type: ignore[arg-type]
        folder = kw.get("folder")
        folder_ratio = (
            folder_size(folder) / source.stat().st_size if isinstance(folder, Path) else None
        )
        budget_folder = 2.5 if folder_ratio is not None else None
        rows.append(
            Row(name, run, run.cpu / base[str(source)], ratio, mib, folder_ratio, budget_folder)
        )
        return run

    lj = ldjfix()
    if want("validate"):
        row("validate (text)", [*lj, "validate", str(every), "-t", "ACCOUNT"], every, 3, 64)
        row(
            "validate --json",
            [*lj, "validate", str(every), "-t", "ACCOUNT", "--json"],
            every,
            3,
            64,
        )
    fixed = work / "fixed.ldjson"
    if want("fix") or want("replay"):
        status = status_file(work / "status.json", every)
        cmd = [*lj, "fix", str(every), "-t", "ACCOUNT", "--status-file", str(status)]
        cmd += ["--rules", rules, "-o", str(fixed), "--fixes", str(work / "fixes.jsonl")]
        row("fix --rules", cmd, every, 5, 64)
    if want("replay"):
        cmd = [
            *lj,
            "replay",
            str(every),
            "--fixes",
            str(work / "fixes.jsonl"),
            "-o",
            str(work / "replayed.ldjson"),
        ]
        row("replay", cmd, every, 5, 64)
    if want("serve"):
        serve = Serve(work / "serve-state")
        try:
            job = work / "job-serve"
            cmd = [*lj, "run", str(every), "-t", "ACCOUNT", "--integration-id", "1"]
            cmd += ["--rules", rules, "--job-dir", str(job), "--base-url", serve.url]
            env = {**CREDENTIALS, "GONG_BASE_URL": serve.url}
            row("run --rules vs sandbox serve (client)", cmd, every, 8, 128, env=env, folder=job)
        finally:
            serve.stop()
    if want("sandbox"):
        job = work / "job-sandbox"
        cmd = [*lj, "run", str(every), "-t", "ACCOUNT", "--integration-id", "1", "--rules", rules]
        cmd += ["--job-dir", str(job), "--sandbox", "--sandbox-dir", str(work / "sandbox-state")]
        row("run --sandbox", cmd, every, 12, 256, folder=job)
    if want("one"):
        row("1%: validate", [*lj, "validate", str(one), "-t", "ACCOUNT"], one, 2.5, 64)
        job = work / "job-one"
        cmd = [*lj, "run", str(one), "-t", "ACCOUNT", "--integration-id", "1", "--rules", rules]
        cmd += ["--job-dir", str(job), "--sandbox", "--sandbox-dir", str(work / "sandbox-one")]
        row("1%: run --sandbox", cmd, one, 12, 256, folder=job)
    if want("clean"):
        rows += clean_rows(args.data, max(int(args.size), 1), work)
    print_table(rows, base, every, one)
    failed = [r.name for r in rows if not r.ok]
    print("FAIL: " + ", ".join(failed) if failed else "PASS: every budget holds")
    return 1 if failed else 0


def clean_rows(folder: Path, size_mb: int, work: Path) -> list[Row]:
    """Today's budgets on a clean file: validate vs the parse loop, extract vs awk, merge vs copy.

    The extract and merge pairs are bench_core's (median of three paired wall-time ratios).
    """
    import bench_core

    inputs = bench_core.prepare(folder, size_mb)
    parse = parse_loop_cpu(inputs.data)
    run = measure([*ldjfix(), "validate", str(inputs.data), "-t", "ACCOUNT"])
    rows = [Row("clean: validate", run, run.cpu / parse, 2.5, 64)]
    for name, pair in (("clean: extract vs awk", bench_core.extract_pair),
                       ("clean: merge vs copy loop", bench_core.merge_pair)):  # fmt: skip
        ours, theirs = bench_core.paired(*pair(inputs, work / "out.ldjson"), work / "out", 3)
        worst = max(ours, key=lambda r: r.peak_mib)
        wall = statistics.median(r.seconds for r in ours)
        mine = Run(wall, statistics.median(r.cpu for r in ours), worst.peak_mib, 0)
        rows.append(Row(name, mine, bench_core.median_ratio(ours, theirs), 1.5, 64))
    return rows


def print_table(rows: list[Row], base: dict[str, float], every: Path, one: Path) -> None:
    """The Markdown table the README shows."""
    mb = every.stat().st_size / 1e6
    every_s, one_s = base[str(every)], base[str(one)]
    print(f"\n{mb:.0f} MB ACCOUNT files; parse loop CPU: every {every_s:.2f} s, 1% {one_s:.2f} s\n")
    print("| command | CPU | vs parse loop | budget | peak RSS | budget | job folder | verdict |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        folder = f"{r.folder_ratio:.2f}x (≤ 2.5x)" if r.folder_ratio is not None else ""
        budget = f"≤ {r.budget_ratio:g}x" if r.budget_ratio is not None else ""
        mib = f"< {r.budget_mib:g} MiB" if r.budget_mib is not None else ""
        verdict = "PASS" if r.ok else "FAIL"
        print(
            f"| {r.name} | {r.run.cpu:.2f} s | {r.ratio:.2f}x | {budget} | "
            f"{r.run.peak_mib:.0f} MiB | {mib} | {folder} | {verdict} |"
        )


if __name__ == "__main__":
    sys.exit(main())
