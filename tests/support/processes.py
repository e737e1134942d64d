"""Real ldjfix processes in tests: started with their output in files, watched for a text."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path


def start_logged(
    command: list[str], folder: Path, env: Mapping[str, str]
) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """Start ``command`` with ``env`` over os.environ (GONG_BASE_URL left out unless given),
    stdout and stderr in ``folder``; the process and the two files."""
    out, err = folder / "stdout", folder / "stderr"
    environment = {k: v for k, v in os.environ.items() if k != "GONG_BASE_URL"}
    environment.update(env)
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=environment)
    return process, out, err


def wait_for_text(
    path: Path, text: str, seconds: float, process: subprocess.Popen[bytes] | None = None
) -> float:
    """Seconds until ``text`` is in ``path``; fails after ``seconds``, or when ``process``
    (if given) ends before it appears."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if text in path.read_text(errors="replace"):
            return time.monotonic() - started
        if process is not None and process.poll() is not None:
            raise AssertionError(f"ended before {text!r}: {path.read_text(errors='replace')!r}")
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in {path.name} after {seconds} s: {path.read_text()!r}")
