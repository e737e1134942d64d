"""The README read against the running program: its sample commands, counts and pasted output.

Every ``ldjfix`` line of a ```sh block that touches only ``samples/`` (and the files earlier
lines of its block wrote) is run, block by block in order, as a real process in a copy of the
repository's samples, and must exit with the code its ``# exit N`` comment states; a
samples-only line without one fails, so a new example cannot go untested. The run summary
pasted in the README must be what the first command prints, and the samples table must match
``samples/defects.json``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
_EXIT = re.compile(r"\s+#\s*exit (\d+)\b.*$")
_FILEISH = re.compile(r"[/.](?:ldjson|json|jsonl|toml)$|/")


def fenced(info: str) -> list[str]:
    """The README's fenced blocks whose info string is ``info`` ("" for plain ones)."""
    blocks, current, lang = [], None, ""
    for line in README.splitlines():
        if line.startswith("```"):
            if current is None:
                current, lang = [], line[3:].strip()
            else:
                if lang == info:
                    blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return blocks


@dataclass(frozen=True)
class Step:
    """One README command: its words after ``ldjfix`` and the exit code the README states."""

    words: tuple[str, ...]
    code: int | None
    text: str


def _steps(block: str) -> list[Step]:
    """The ldjfix commands of one block (the part after the last ``&&`` of an install line)."""
    steps = []
    for line in block.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        command = line.split("&& ")[-1]
        if not command.startswith("ldjfix "):
            continue
        code = _EXIT.search(command)
        words = shlex.split(_EXIT.sub("", command), comments=True)[1:]
        steps.append(Step(tuple(words), int(code.group(1)) if code else None, line))
    return steps


def _on_samples(steps: list[Step]) -> list[Step]:
    """The block's commands that name only files under samples/ or written by earlier ones."""
    written: set[str] = set()
    kept = []
    for step in steps:
        words = list(step.words)
        outputs = {words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", "--output")}
        named = [w for w in words if _FILEISH.search(w) and "://" not in w]
        inputs = [w for w in named if w not in outputs]
        if any(w.startswith("samples/") for w in inputs) and all(
            w.startswith("samples/") or w in written for w in inputs
        ):
            kept.append(step)
            written |= outputs
    return kept


def sample_blocks() -> list[list[Step]]:
    """Per README sh block, its commands that touch only samples/ (in the block's order)."""
    return [steps for b in fenced("sh") if (steps := _on_samples(_steps(b)))]


def ldjfix(cwd: Path, words: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """One README command, as a new user runs it (GONG_BASE_URL exported, as in their profile)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GONG_", "LDJFIX_"))}
    env["GONG_BASE_URL"] = "https://us-55616.api.gong.io"
    env["LDJFIX_SANDBOX_DIR"] = str(cwd / ".sandbox")
    return subprocess.run(
        [sys.executable, "-m", "ldjfix", *words],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _workspace(tmp_path: Path) -> Path:
    # without job folders: the README's first line, run in this checkout, leaves one there
    ignore = shutil.ignore_patterns("*.ldjfix-job")
    shutil.copytree(REPO / "samples", tmp_path / "samples", ignore=ignore)
    return tmp_path


def test_readme_has_sample_blocks_and_each_command_states_its_exit_code() -> None:
    """The README shows sample commands, and each one says how it exits."""
    blocks = sample_blocks()
    assert len(blocks) >= 4
    missing = [s.text for steps in blocks for s in steps if s.code is None]
    assert not missing, f"README sample commands without '# exit N': {missing}"
    assert blocks[0][0].words[:2] == ("run", "samples/accounts.ldjson")  # the first line


@pytest.mark.parametrize("index", range(len(sample_blocks())))
def test_readme_sample_block_exits_as_the_readme_says(index: int, tmp_path: Path) -> None:
    """Each command of the block, in order, in a copy of samples/: the stated exit code."""
    cwd = _workspace(tmp_path)
    for step in sample_blocks()[index]:
        done = ldjfix(cwd, step.words)
        assert done.returncode == step.code, f"{step.text}\n{done.stderr}"
        assert "Traceback" not in done.stderr


def _pasted_summary() -> list[str]:
    """The run summary pasted in the README (the plain block of 'ldjfix: QUARANTINED' lines)."""
    for block in fenced(""):
        if block.startswith("ldjfix: QUARANTINED: ") and "job folder: samples/" in block:
            return block.splitlines()
    raise AssertionError("README pastes no run summary of the sample")


def test_readme_run_summary_is_what_the_first_command_prints(tmp_path: Path) -> None:
    """The pasted summary is the first command's real stderr, line for line."""
    cwd = _workspace(tmp_path)
    first = sample_blocks()[0][0]
    done = ldjfix(cwd, first.words)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == _pasted_summary()
    again = ldjfix(cwd, first.words)
    assert again.stderr.splitlines()[0].startswith("ldjfix: already finished: ")
    assert again.stderr.splitlines()[1:] == _pasted_summary()


def test_readme_samples_table_matches_the_answer_key() -> None:
    """Records and bad lines per sample file, as the README's table states them."""
    key = orjson.loads((REPO / "samples" / "defects.json").read_bytes())
    rows = {}
    for match in re.finditer(
        r"^\| `([a-z]+\.ldjson)` \([A-Z_]+\) \| (\d+) \| (\d+) \|", README, re.M
    ):
        rows[match.group(1)] = (int(match.group(2)), int(match.group(3)))
    for name, planted in key.items():
        if name not in rows:
            continue
        records = len((REPO / "samples" / name).read_bytes().splitlines())
        assert rows[name] == (records, len({d["line"] for d in planted})), name
    assert {"accounts.ldjson", "contacts.ldjson", "deals.ldjson"} <= rows.keys()
    kinds = Counter(d["kind"] for d in key["accounts.ldjson"])
    assert sum(kinds.values()) == 22
