"""The `sandbox serve` banner: its `export` lines, pasted into a shell, make ldjfix use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

STAGES = Path(__file__).parents[2] / "samples" / "stages.ldjson"


def test_sandbox_banner_export_lines_work_when_pasted_into_a_shell(tmp_path: Path) -> None:
    """Copy the banner's export lines into a fresh shell with no GONG_*: upload --wait is DONE."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ldjfix",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--polls",
            "0",
            "--sandbox-dir",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean,
    )
    try:
        assert serve.stdout is not None and serve.stderr is not None
        url = serve.stdout.readline().strip()
        banner = [serve.stderr.readline().rstrip("\n") for _ in range(6)]
        assert banner[-1] == "Stop with Ctrl-C.", banner
        exports = [line.strip() for line in banner if line.strip().startswith(("export", "unset"))]
        assert f"export GONG_BASE_URL={url}" in exports
        assert any("GONG_ACCESS_KEY_SECRET=" in line for line in exports)
        upload = f"{sys.executable} -m ldjfix upload {STAGES} -t stage --integration-id 7 --wait"
        script = "\n".join([*exports, upload])
        done = subprocess.run(
            ["sh", "-c", script], env=clean, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "DONE" in done.stderr
    finally:
        serve.terminate()
        serve.wait(timeout=10)
