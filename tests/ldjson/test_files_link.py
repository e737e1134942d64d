"""link_output: a finished file under a second name, or nothing changed when links cannot be."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ldjfix.ldjson.files import atomic_output, copy_output, link_output, remove_stale_temps


def test_link_output_is_a_second_name_that_a_replaced_first_name_leaves_alone(
    tmp_path: Path,
) -> None:
    """The target is the same file; replacing either name later (as every writer here does)
    leaves the other with what it held; no temporary file is left."""
    first, second = tmp_path / "draft.ldjson", tmp_path / "set.ldjson"
    first.write_bytes(b'{"a":1}\n')
    second.write_bytes(b"old\n")
    assert link_output(first, second)
    assert os.stat(first).st_ino == os.stat(second).st_ino
    with atomic_output(first) as out:
        out.write(b'{"a":2}\n')
    assert second.read_bytes() == b'{"a":1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["draft.ldjson", "set.ldjson"]
    assert remove_stale_temps(tmp_path) == []


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs a second file system")
def test_link_output_across_file_systems_says_so_and_changes_nothing(tmp_path: Path) -> None:
    """No link across file systems: False, and the target as it was (the caller copies)."""
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:
        if os.stat(other).st_dev == os.stat(tmp_path).st_dev:
            pytest.skip("/dev/shm is on the same file system here")
        first = Path(other) / "draft.ldjson"
        first.write_bytes(b"new\n")
        second = tmp_path / "set.ldjson"
        second.write_bytes(b"old\n")
        assert not link_output(first, second)
        assert second.read_bytes() == b"old\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["set.ldjson"]


def test_copy_output_replaces_the_target_with_a_copy_of_its_own(tmp_path: Path) -> None:
    """A copy, not a second name: the bytes are the same, the files are two."""
    first, second = tmp_path / "corrected.ldjson", tmp_path / "set.ldjson"
    first.write_bytes(b'{"a":1}\n' * 50_000)
    second.write_bytes(b"old\n")
    copy_output(first, second)
    assert second.read_bytes() == first.read_bytes()
    assert os.stat(first).st_ino != os.stat(second).st_ino
    assert remove_stale_temps(tmp_path) == []


def test_copy_output_on_a_full_disk_says_so_and_leaves_the_target(tmp_path: Path) -> None:
    """Past the file-size limit (a full disk, as RLIMIT_FSIZE makes it in a child): a clear
    error naming the file, and the target as it was."""
    first, second = tmp_path / "corrected.ldjson", tmp_path / "set.ldjson"
    first.write_bytes(b'{"a":1}\n' * 50_000)
    second.write_bytes(b"old\n")
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from ldjfix.errors import InputProblem\n"
        "from ldjfix.ldjson.files import copy_output\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
        "try:\n"
        "    copy_output(Path(sys.argv[1]), Path(sys.argv[2]))\n"
        "except InputProblem as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(first), str(second)], capture_output=True, text=True
    )
    assert done.returncode == 3, done.stderr
    assert "set.ldjson" in done.stdout and "File too large" in done.stdout
    assert second.read_bytes() == b"old\n"
    assert remove_stale_temps(tmp_path) == []
