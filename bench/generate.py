"""Generate realistic CRM LDJSON files with planted defects (and rebuild ``samples/``).

    python bench/generate.py --type ACCOUNT --size-mb 200 --bad 2000 --seed 1 \\
        -o bench/data/accounts-200mb.ldjson
    python bench/generate.py --type DEAL --count 5000 --bad 300 \\
        --kinds dangling_stage_ref,bad_status_enum -o bench/data/deals.ldjson
    python bench/generate.py --samples samples

The manifest of planted defects goes next to the output as ``<out>.defects.json``:
``{"<file name>": [{"line", "kind", "field", "objectId"}]}``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ldjfix.ldjson.files import write_bytes_atomic
from ldjfix.synth.defects import KINDS, kinds_for
from ldjfix.synth.generator import (
    OBJECT_TYPES,
    Universe,
    manifest_json,
    spread,
    write_file,
    write_sized,
)
from ldjfix.synth.samples import make_samples


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", metavar="DIR", help="rebuild the sample folder and stop")
    parser.add_argument("--type", choices=OBJECT_TYPES, help="object type of the records")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--size-mb", type=float, help="about this many MB (10**6 bytes)")
    size.add_argument("--count", type=int, help="exactly this many records")
    parser.add_argument("--bad", type=int, default=0, help="how many lines get a defect")
    parser.add_argument(
        "--kinds", help=f"comma-separated defect kinds (default: all for the type): {list(KINDS)}"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--accounts", type=int, default=300, help="accounts that exist")
    parser.add_argument("--users", type=int, default=20, help="business users that exist")
    parser.add_argument("--stages", type=int, default=8, help="deal stages that exist")
    parser.add_argument("-o", "--output", help="the LDJSON file to write")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the options, write the file and its manifest, report on stderr."""
    parser = _parser()
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.samples:
        by_file = make_samples(args.samples)
        bad = sum(len(items) for items in by_file.values())
        print(f"wrote {args.samples}: {len(by_file)} data files, {bad} defects", file=sys.stderr)
        return 0
    if not args.type or not args.output or (args.size_mb is None and args.count is None):
        parser.error("give --type, -o and one of --size-mb/--count (or --samples DIR)")
    kinds = args.kinds.split(",") if args.kinds else kinds_for(args.type)
    universe = Universe(args.seed, accounts=args.accounts, users=args.users, stages=args.stages)
    try:
        if args.count is not None:
            universe = universe.resized(args.type, args.count)
            defects = spread(args.bad, kinds)
            planted = write_file(
                args.output,
                args.type,
                args.count,
                seed=args.seed,
                defects=defects,
                universe=universe,
            )
        else:
            size = int(args.size_mb * 1_000_000)
            planted = write_sized(
                args.output,
                args.type,
                size,
                seed=args.seed,
                bad=args.bad,
                kinds=kinds,
                universe=universe,
            )
    except ValueError as exc:
        parser.error(str(exc))
    out = Path(args.output)
    with out.open("rb") as stream:
        records = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    write_bytes_atomic(f"{out}.defects.json", manifest_json({out.name: planted}))
    took = time.perf_counter() - started
    print(
        f"wrote {out} ({records:,} records, {out.stat().st_size:,} bytes, "
        f"{len(planted)} defects) in {took:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
