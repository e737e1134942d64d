"""Colour only on a terminal (NO_COLOR, --no-color); shell completion by click's protocol."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.pty_screen import Screen

RED_ERROR = b"\x1b[1;31mError:\x1b[0m"
MISSING = ["validate", "no-such-file.ldjson", "-t", "ACCOUNT"]


def _ldjfix(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def _on_a_terminal(tmp_path: Path, args: list[str], env: dict[str, str]) -> bytes:
    clean = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    screen = Screen([sys.executable, "-m", "ldjfix", *args], env={**clean, "TERM": "xterm", **env},
                    cwd=tmp_path)  # fmt: skip
    try:
        assert screen.finish() == 3
    finally:
        screen.kill()
    return bytes(screen.raw)


def test_colour_on_a_terminal_only(tmp_path: Path) -> None:
    """A terminal gets a red "Error:"; a pipe gets the same words with no escape codes."""
    shown = _on_a_terminal(tmp_path, MISSING, {})
    assert RED_ERROR in shown and b"no-such-file.ldjson" in shown
    piped = _ldjfix(*MISSING)
    assert piped.returncode == 3
    assert piped.stderr.startswith("Error: ") and "\x1b[" not in piped.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [(MISSING, {"NO_COLOR": ""}), (MISSING, {"NO_COLOR": "1"}), (["--no-color", *MISSING], {})],
    ids=["NO_COLOR-empty", "NO_COLOR-1", "--no-color"],
)
def test_colour_turned_off(tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    """NO_COLOR with any value, or --no-color, keeps a terminal free of colour."""
    shown = _on_a_terminal(tmp_path, args, env)
    assert b"Error: " in shown and b"\x1b[" not in shown


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_is_printed(shell: str) -> None:
    """``ldjfix completion SHELL`` prints click's script for that shell, calling ldjfix back."""
    done = _ldjfix("completion", shell)
    assert done.returncode == 0, done.stderr
    assert f"_LDJFIX_COMPLETE={shell}_complete" in done.stdout
    if shell == "bash":
        assert "complete -o nosort -F _ldjfix_completion ldjfix" in done.stdout


def test_completion_refuses_an_unknown_shell() -> None:
    """An unknown shell is a usage error (exit 2) naming the shells there are."""
    done = _ldjfix("completion", "tcsh")
    assert done.returncode == 2
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in done.stderr


def _complete(words: str, env: dict[str, str] | None = None) -> list[str]:
    """What bash completion offers for the last word of ``words`` (click's env protocol)."""
    parts = words.split(" ")
    done = _ldjfix(env={"COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1),
                        "_LDJFIX_COMPLETE": "bash_complete", **(env or {})})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_completion_of_object_types_is_case_insensitive() -> None:
    """``-t ac`` offers ACCOUNT; ``--object-type bu`` BUSINESS_USER; ``--file x:de`` x:DEAL."""
    assert _complete("ldjfix validate x.ldjson -t ac") == ["plain,ACCOUNT"]
    assert _complete("ldjfix run x.ldjson --object-type bu") == ["plain,BUSINESS_USER"]
    assert _complete("ldjfix run -t C") == ["plain,CONTACT"]
    assert _complete("ldjfix run --file x.ldjson:de") == ["plain,x.ldjson:DEAL"]


def test_completion_of_paths_and_commands() -> None:
    """Files and folders are left to the shell's path completion; commands come from click."""
    assert _complete("ldjfix fix sam") == ["file,sam"]
    assert _complete("ldjfix fix x --rules sam") == ["file,sam"]
    assert _complete("ldjfix run x --job-dir jo") == ["dir,jo"]
    assert "plain,completion" in _complete("ldjfix comp")
