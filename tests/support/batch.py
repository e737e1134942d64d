"""Helpers for the batch tests: six generated files that agree, and the checks on a sandbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from ldjfix.jobs.manifest import BatchJob
from ldjfix.sandbox.server import RunningSandbox
from ldjfix.synth.generator import write_file
from ldjfix.synth.universe import Universe

CREDENTIALS = {"GONG_ACCESS_KEY": "batch-key", "GONG_ACCESS_KEY_SECRET": "batch-secret"}
RATE = 8.0  # calls per second, for the client's limiter and the sandbox alike
UNIVERSE = Universe(seed=11, accounts=200, users=10, stages=8)
# (object type, records, defects): server-only defects past 20 force shards (more calls)
FILES: tuple[tuple[str, int, dict[str, int]], ...] = (
    ("ACCOUNT", 200, {"name_too_long": 30}),
    ("CONTACT", 50, {}),
    ("DEAL", 40, {"bad_status_enum": 2}),
    ("LEAD", 30, {}),
    ("BUSINESS_USER", 10, {}),
    ("STAGE", 8, {"name_too_long": 1}),
)
ORDER = {  # parent type -> types that must be uploaded after it (reference 3.7, 3.9)
    "ACCOUNT": ("CONTACT", "DEAL", "LEAD"),
    "BUSINESS_USER": ("DEAL",),
    "STAGE": ("DEAL",),
    "CONTACT": ("LEAD",),
    "DEAL": ("LEAD",),
}


def make_files(folder: Path) -> list[BatchJob]:
    """Write the six files (one universe, so references resolve); one job per file."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for kind, count, defects in FILES:
        path = folder / f"{kind.lower()}s.ldjson"
        write_file(path, kind, count, seed=11, defects=defects, universe=UNIVERSE)
        jobs.append(BatchJob(path, kind, None, folder / "jobs" / kind.lower()))
    return jobs


def manifest_text(jobs: Sequence[BatchJob]) -> str:
    """A job manifest listing the jobs (absolute paths)."""
    parts = [
        f'[[job]]\nfile = "{j.file}"\nobject_type = "{j.object_type}"\njob_dir = "{j.job_dir}"\n'
        for j in jobs
    ]
    return "\n".join(parts)


class Arrivals:
    """Wraps a running sandbox's WSGI app to note when each call arrives (its clock).

    The sandbox stamps a call when it has answered, after the work; the limit is about when
    calls arrive, so the test notes that itself.
    """

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.times: list[float] = []
        self._app = sandbox.app
        self._lock = threading.Lock()
        sandbox.server.set_app(self)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            self.times.append(time.monotonic())
        return self._app(environ, start_response)

    def max_in_a_second(self) -> int:
        """The most calls that arrived within any one-second window."""
        times = sorted(self.times)
        best, start = 0, 0
        for end, now in enumerate(times):
            while times[start] <= now - 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best


def assert_documented_order(uploads: Sequence[dict[str, Any]]) -> None:
    """Every upload of a parent type came before every upload of the types that point at it."""
    times: dict[str, list[float]] = {}
    for entry in uploads:
        times.setdefault(entry["objectType"], []).append(entry["time"])
    assert set(times) == {kind for kind, _, _ in FILES}
    for parent, children in ORDER.items():
        for child in children:
            assert max(times[parent]) < min(times[child]), f"{child} uploaded before {parent}"


def assert_summary_matches_reports(summary: dict[str, Any]) -> None:
    """Each file's entry of the JSON summary says what its job folder's report.json says."""
    keys = ("outcome", "exitCode", "rounds", "uploads", "apiCalls", "accepted")
    keys += ("quarantined", "pending", "jobDir")
    for entry in summary["files"]:
        report = orjson.loads((Path(entry["jobDir"]) / "report.json").read_bytes())
        assert {k: entry[k] for k in keys} == {k: report[k] for k in keys}
        assert entry["objectType"] == report["objectType"]
        total = report["accepted"] + report["quarantined"] + report["pending"]
        assert total == report["records"]


def outcomes(summary: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Per object type: the end state a batch reached (outcome and counts)."""
    return {
        e["objectType"]: (
            e["outcome"],
            e["exitCode"],
            e["accepted"],
            e["quarantined"],
            e["pending"],
        )
        for e in summary["files"]
    }
