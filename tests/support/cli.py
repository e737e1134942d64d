"""Running ``python -m ldjfix`` as a user would: against ``--sandbox`` or ``sandbox serve``."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ldjfix.sandbox.app import Knobs
from ldjfix.sandbox.server import RunningSandbox, serving

REMOTES = ("sandbox", "serve")  # --sandbox in-process, and a real loopback server
CREDENTIALS = {"GONG_ACCESS_KEY": "api-key", "GONG_ACCESS_KEY_SECRET": "api-secret"}
FAST = '{"polls": 0, "calls_per_second": 100}'


@dataclass
class Remote:
    """How a subprocess reaches the sandbox: extra arguments and environment."""

    args: list[str]
    env: dict[str, str]
    state: Path
    server: RunningSandbox | None = None
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    def ldjfix(
        self, *args: str, stdin: str | None = None, cwd: Path | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m ldjfix ARGS`` (remote options added at the end of the command)."""
        done = subprocess.run(
            [sys.executable, "-m", "ldjfix", *args, *self.args],
            env=self.env,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
        )
        self.runs.append(done)
        return done


@contextlib.contextmanager
def remote(kind: str, tmp_path: Path, *, knobs: str = FAST) -> Iterator[Remote]:
    """A sandbox of the given kind with its state under ``tmp_path``."""
    state = tmp_path / f"{kind}-state"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    env |= {"LDJFIX_SANDBOX_KNOBS": knobs, **CREDENTIALS}
    if kind == "sandbox":
        yield Remote(["--sandbox", "--sandbox-dir", str(state)], env, state)
        return
    with serving(state, Knobs.from_json(knobs)) as server:
        yield Remote([], {**env, "GONG_BASE_URL": server.url}, state, server)
