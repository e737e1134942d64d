"""The sandbox's own CPU: ``ldjfix sandbox serve`` accepting one upload of a clean file.

    python bench/bench_sandbox.py               # a 200 MB clean ACCOUNT file under bench/data/
    python bench/bench_sandbox.py --size 20     # iterate at 20 MB

A seeded ACCOUNT file of about ``--size`` MB in which every record is valid (all of it is
accepted, so the sandbox judges and stores every line). ``ldjfix sandbox serve`` runs in its own
process on a fresh state folder; ``ldjfix upload --wait`` sends the file to it; the server is
then stopped and its CPU time (user + system) and peak RSS come from ``os.wait4``. The CPU is a
ratio to a plain orjson parse loop of the same file run in the same script (the median of
three), and so is the CPU of an idle server (start, one status call, stop) to show start-up.
Accepting an upload should cost about a parse, one check per record and writing the record
log: the budget is 4x. Exit 1 when it fails. The file is made once and kept in bench/data/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench_scale import CREDENTIALS, Run, Serve, ldjfix, parse_loop_cpu  # noqa: E402

BUDGET_RATIO = 4.0
BUDGET_MIB = 128.0


def make_clean(path: Path, size_mb: float) -> None:
    """A seeded ACCOUNT file of about ``size_mb`` MB in which every record is valid."""
    from ldjfix.synth.generator import write_sized

    temp = path.with_suffix(".tmp")
    write_sized(temp, "ACCOUNT", int(size_mb * 1e6), seed=12, bad=0, kinds=())
    temp.replace(path)


def served(state: Path, upload: Path | None) -> Run:
    """CPU and peak RSS of one ``sandbox serve`` process that takes ``upload`` (or nothing)."""
    serve = Serve(state)
    env = {**os.environ, **CREDENTIALS, "GONG_BASE_URL": serve.url}
    try:
        if upload is None:  # one call, so the server is known to be up and answering
            argv = [*ldjfix(), "integrations", "list", "--base-url", serve.url]
        else:
            argv = [*ldjfix(), "upload", str(upload), "-t", "ACCOUNT", "--integration-id", "1"]
            argv += ["--base-url", serve.url, "--wait", "--json"]
        done = subprocess.run(argv, env=env, capture_output=True, check=False)
        if done.returncode != 0 or (upload is not None and b'"DONE"' not in done.stdout):
            raise SystemExit(f"{' '.join(argv)} failed: {done.stdout!r} {done.stderr!r}")
    finally:
        serve.process.terminate()
    _, status, usage = os.wait4(serve.process.pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(0.0, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def main(argv: list[str] | None = None) -> int:
    """Measure the served sandbox against the parse loop; exit 1 when the budget fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=float, default=200, help="MB of the file (default 200)")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    clean = args.data / f"sandbox-clean-{args.size:g}mb.ldjson"
    if not clean.exists():
        print(f"generating {clean} ...", file=sys.stderr, flush=True)
        make_clean(clean, args.size)
    work = args.data / f"sandbox-work-{args.size:g}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    parse = parse_loop_cpu(clean)
    idle = served(work / "idle-state", None)
    busy = served(work / "upload-state", clean)
    ratio = busy.cpu / parse
    ok = ratio <= BUDGET_RATIO and busy.peak_mib < BUDGET_MIB
    mb = clean.stat().st_size / 1e6
    print(f"\n{mb:.0f} MB clean ACCOUNT file; parse loop CPU {parse:.2f} s\n")
    print("| sandbox serve process | CPU | vs parse loop | budget | peak RSS | budget | verdict |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    verdict = "PASS" if ok else "FAIL"
    rows = [
        ("idle (start-up, one call)", idle, "", ""),
        ("accepts the upload", busy, f"≤ {BUDGET_RATIO:g}x", f"< {BUDGET_MIB:g} MiB"),
    ]
    for name, run, budget, mib in rows:
        shown = verdict if budget else ""
        print(
            f"| {name} | {run.cpu:.2f} s | {run.cpu / parse:.2f}x | {budget} | "
            f"{run.peak_mib:.0f} MiB | {mib} | {shown} |"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
