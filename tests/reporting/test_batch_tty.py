"""The live progress display appears when stderr is a terminal, and only then."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import orjson

from tests.support.batch import make_files

FAST = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 0}'}


def test_batch_progress_on_a_terminal(tmp_path: Path) -> None:
    """With stderr on a pseudo-terminal, per-file rows are redrawn in place; stdout stays JSON."""
    jobs = make_files(tmp_path / "data")
    parent, child = pty.openpty()
    env = {**os.environ, **FAST, "LDJFIX_SANDBOX_DIR": str(tmp_path / "sandbox")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ldjfix", "run", "--file", f"{jobs[4].file}:BUSINESS_USER",
         "--file", f"{jobs[5].file}:STAGE", "--integration-id", "1", "--sandbox",
         "--calls-per-second", "100"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=child,
    )  # fmt: skip
    os.close(child)
    shown = b""
    while True:
        try:
            chunk = os.read(parent, 4096)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        shown += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(parent)
    assert proc.returncode == 1
    assert orjson.loads(out)["totals"]["files"] == 2
    text = shown.decode("utf-8")
    assert "\x1b[2A" in text  # the two rows were redrawn in place
    assert "\r\x1b[2K" in text
    final = text.rsplit("\x1b[2A", 1)[-1]
    assert "business_users.ldjson" in final and "DONE" in final
    assert "stages.ldjson" in final and "QUARANTINED" in final
    assert "started (" not in text  # no text milestones on a terminal


def test_batch_no_progress_in_a_pipe(tmp_path: Path) -> None:
    """With stderr piped, there are no cursor movements: only milestone lines and the table."""
    jobs = make_files(tmp_path / "data")
    env = {**os.environ, **FAST, "LDJFIX_SANDBOX_DIR": str(tmp_path / "sandbox")}
    done = subprocess.run(
        [sys.executable, "-m", "ldjfix", "run", "--file", f"{jobs[5].file}:STAGE", "--json",
         "--integration-id", "1", "--sandbox", "--calls-per-second", "100"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "\x1b[" not in done.stderr
    assert f"ldjfix: {jobs[5].file}: QUARANTINED (exit 1)" in done.stderr
