"""The edges matrix: every command × every kind of input, every writer × every kind of target.

Each cell is a real ``python -m ldjfix`` process. A source handed over as ``-``, ``/dev/stdin``,
an anonymous pipe (``/dev/fd/N``, what ``<(...)`` gives), a FIFO or a symlink gives exactly the
result the regular file gives; a missing path or a folder is exit 3 with one ``Error:`` line.
An output that is an input (by another path or a hard link) is exit 2; a device or a symlink to
one is written through and survives; a folder, a read-only folder or a full disk is exit 3
with the old file (or none) left. The source is never changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

from ldjfix.synth import generator as synth
from tests.support.edges import ldjfix, one_error_line

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
FAST = {"LDJFIX_SANDBOX_KNOBS": '{"polls": 0, "calls_per_second": 50}'}
LONG_NAME = "Field [name] exceeds the maximum length of 255 characters"


@dataclass
class Kit:
    """The small files every cell works from, made once for the module."""

    root: Path
    source: bytes = b""
    status: Path = field(default_factory=Path)
    fixed: Path = field(default_factory=Path)
    fixes: Path = field(default_factory=Path)
    rules: Path = SAMPLES / "rules.toml"
    quarantine: Path = field(default_factory=Path)  # rules that fix nothing of the status


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    """40 ACCOUNTs (3 names too long), a status naming them, an edited extract and a fixes log."""
    root = tmp_path_factory.mktemp("edges-kit")
    src = root / "src.ldjson"
    synth.write_file(src, "ACCOUNT", 40, seed=4, defects={"name_too_long": 3})
    long_lines = [
        number
        for number, raw in enumerate(src.read_bytes().splitlines(), 1)
        if len(orjson.loads(raw).get("name", "")) > 255
    ]
    status = {
        "requestId": "r1",
        "status": "FAILED",
        "totalErrorCount": len(long_lines),
        "totalSuccessCount": 40 - len(long_lines),
        "errors": [{"line": n, "description": LONG_NAME} for n in long_lines],
    }
    kit = Kit(root, src.read_bytes(), root / "status.json", root / "fixed.ldjson")
    kit.status.write_bytes(orjson.dumps(status))
    made = ldjfix(
        ["extract", str(src), "--status-file", str(kit.status), "-o", "fixed.ldjson"], cwd=root
    )
    assert made.returncode == 0, made.stderr
    edited = [orjson.loads(raw) for raw in kit.fixed.read_bytes().splitlines()]
    for record in edited:
        record["name"] = record["name"][:10]
    kit.fixed.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in edited))
    kit.quarantine = root / "quarantine.toml"
    kit.quarantine.write_bytes(
        b'[[rule]]\nfield = "closeDate"\nkind = "invalid"\naction = "drop"\n'
    )
    kit.fixes = root / "fixed-all.fixes.jsonl"  # fix names its log after OUT
    fixed = ldjfix(
        [
            "fix",
            str(src),
            "--status-file",
            str(kit.status),
            "-t",
            "ACCOUNT",
            "--rules",
            str(kit.rules),
            "-o",
            "fixed-all.ldjson",
        ],
        cwd=root,
    )
    assert fixed.returncode == 0, fixed.stderr
    return kit


# -- readers ---------------------------------------------------------------------------------

Args = Callable[[str, Kit], list[str]]
READERS: dict[str, Args] = {
    "validate": lambda f, k: ["validate", f, "-t", "ACCOUNT", "--json"],
    "annotate": lambda f, k: ["annotate", f, "--status-file", str(k.status), "--format", "json"],
    "extract": lambda f, k: ["extract", f, "--status-file", str(k.status), "-o", "out.ldjson"],
    "merge": lambda f, k: ["merge", f, str(k.fixed), "-o", "out.ldjson"],
    "fix": lambda f, k: [
        "fix",
        f,
        "--status-file",
        str(k.status),
        "-t",
        "ACCOUNT",
        "--rules",
        str(k.rules),
        "-o",
        "out.ldjson",
    ],
    "replay": lambda f, k: ["replay", f, "--fixes", str(k.fixes), "-o", "out.ldjson"],
    "upload": lambda f, k: [
        "upload",
        f,
        "-t",
        "ACCOUNT",
        "--integration-id",
        "1",
        "--sandbox",
        "--sandbox-dir",
        "sb",
    ],
    "run": lambda f, k: [
        "run",
        f,
        "-t",
        "ACCOUNT",
        "--integration-id",
        "1",
        "--rules",
        str(k.rules),
        "--job-dir",
        "job",
        "--sandbox",
        "--sandbox-dir",
        "sb",
        "--calls-per-second",
        "50",
    ],
}
# what an empty source gives: nothing to validate, replay or upload; errors past its end
EMPTY_EXIT = {
    "validate": 0,
    "annotate": 1,
    "extract": 3,
    "merge": 3,
    "fix": 1,
    "replay": 0,
    "upload": 0,
    "run": 0,
}


def _outcome(command: str, cwd: Path, code: int, out: bytes) -> tuple[object, ...]:
    """What a reader produced, free of the name its input went by."""
    if command == "run":
        report = orjson.loads((cwd / "job" / "report.json").read_bytes())
        counts = tuple(report[k] for k in ("records", "accepted", "quarantined", "pending"))
        return code, counts, (cwd / "job" / "corrected.ldjson").read_bytes()
    if command == "upload":
        return code, len(out.strip()) > 0
    if command == "annotate":
        doc = orjson.loads(out)
        return code, doc["errors"], doc["unmapped"]
    written = cwd / "out.ldjson"
    return code, out, written.read_bytes() if written.exists() else None


class Feed:
    """Hands ``data`` to the child through a pipe or a FIFO from a thread, and cleans up."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.fifos: list[Path] = []
        self.fds: list[int] = []

    def pipe(self, data: bytes) -> int:
        read, write = os.pipe()
        self.fds.append(read)
        self._start(lambda: _write_fd(write, data))
        return read

    def fifo(self, path: Path, data: bytes) -> None:
        os.mkfifo(path)
        self.fifos.append(path)
        self._start(lambda: _write_fd(os.open(path, os.O_WRONLY), data))

    def _start(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        self.threads.append(thread)

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        for fifo in self.fifos:  # a writer still waiting for a reader: give it one
            if any(t.is_alive() for t in self.threads):
                try:
                    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
                except OSError:
                    continue
                for thread in self.threads:
                    thread.join(timeout=2)
                os.close(reader)


def _write_fd(fd: int, data: bytes) -> None:
    try:
        with open(fd, "wb") as stream:
            stream.write(data)
    except BrokenPipeError:
        pass  # the child refused the input before reading it all


@pytest.fixture
def feed() -> Iterator[Feed]:
    """Pipes and FIFOs for one cell, closed afterwards."""
    feeding = Feed()
    yield feeding
    feeding.close()


def _reader_cell(
    command: str, kind: str, kit: Kit, cwd: Path, feed: Feed
) -> tuple[int, bytes, bytes]:
    """Run ``command`` with its FILE handed over as ``kind``."""
    stdin: bytes | None = None
    pass_fds: tuple[int, ...] = ()
    regular = cwd / "src.ldjson"
    regular.write_bytes(b"" if kind == "empty" else kit.source)
    name = str(regular)
    if kind in ("-", "/dev/stdin"):
        name, stdin = kind, kit.source
    elif kind == "pipe":
        fd = feed.pipe(kit.source)
        name, pass_fds = f"/dev/fd/{fd}", (fd,)
    elif kind == "fifo":
        feed.fifo(cwd / "feed.fifo", kit.source)
        name = str(cwd / "feed.fifo")
    elif kind == "symlink":
        (cwd / "link.ldjson").symlink_to(regular)
        name = str(cwd / "link.ldjson")
    elif kind == "missing":
        name = str(cwd / "nope.ldjson")
    elif kind == "folder":
        (cwd / "folder").mkdir()
        name = str(cwd / "folder")
    done = ldjfix(READERS[command](name, kit), cwd=cwd, stdin=stdin, env=FAST, pass_fds=pass_fds)
    assert regular.read_bytes() == (b"" if kind == "empty" else kit.source)  # never touched
    return done.returncode, done.stdout, done.stderr


_BASELINE: dict[str, tuple[object, ...]] = {}


def _baseline(
    command: str, kit: Kit, tmp_path_factory: pytest.TempPathFactory
) -> tuple[object, ...]:
    if command not in _BASELINE:
        cwd = tmp_path_factory.mktemp(f"base-{command}")
        code, out, err = _reader_cell(command, "regular", kit, cwd, Feed())
        assert code in (0, 1), err
        _BASELINE[command] = _outcome(command, cwd, code, out)
    return _BASELINE[command]


STREAMS = ("-", "/dev/stdin", "pipe", "fifo", "symlink")


@pytest.mark.parametrize("kind", STREAMS)
@pytest.mark.parametrize("command", sorted(READERS))
def test_edges_reader_streams_give_the_regular_result(
    command: str,
    kind: str,
    kit: Kit,
    tmp_path: Path,
    feed: Feed,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """FILE as -, /dev/stdin, a pipe, a FIFO or a symlink: the same result as the file itself."""
    code, out, err = _reader_cell(command, kind, kit, tmp_path, feed)
    assert b"Traceback" not in err
    assert _outcome(command, tmp_path, code, out) == _baseline(command, kit, tmp_path_factory)


@pytest.mark.parametrize("command", sorted(READERS))
def test_edges_reader_missing_folder_and_empty(
    command: str, kit: Kit, tmp_path: Path, feed: Feed
) -> None:
    """A missing FILE or a folder: exit 3 saying so; an empty FILE: its documented result."""
    for kind, words in (("missing", "does not exist"), ("folder", "is a folder")):
        cell = tmp_path / kind
        cell.mkdir()
        code, _, err = _reader_cell(command, kind, kit, cell, feed)
        assert code == 3, err
        assert words in one_error_line(err)
        assert not (cell / "out.ldjson").exists()
    cell = tmp_path / "empty"
    cell.mkdir()
    code, _, err = _reader_cell(command, "empty", kit, cell, feed)
    assert code == EMPTY_EXIT[command], err
    assert b"Traceback" not in err


def test_edges_reader_fix_stdin_writes_the_whole_file(kit: Kit, tmp_path: Path) -> None:
    """`cat x | ldjfix fix /dev/stdin ... -o out`: out holds every record, none lost."""
    done = ldjfix(READERS["fix"]("/dev/stdin", kit), cwd=tmp_path, stdin=kit.source)
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "out.ldjson").read_bytes().splitlines()) == 40


def test_edges_reader_terminal_and_device_are_refused(kit: Kit, tmp_path: Path) -> None:
    """A device as FILE (e.g. /dev/zero) is exit 2 with a hint, never read forever."""
    done = ldjfix(["validate", "/dev/zero", "-t", "ACCOUNT"], cwd=tmp_path)
    assert done.returncode == 2
    assert "is a device, not a file" in one_error_line(done.stderr)


def test_edges_reader_run_stream_needs_a_job_dir(kit: Kit, tmp_path: Path) -> None:
    """run - with no --job-dir: exit 2 saying to pass one (its copy of stdin lives there)."""
    args = READERS["run"]("-", kit)
    del args[args.index("--job-dir") : args.index("--job-dir") + 2]
    done = ldjfix(args, cwd=tmp_path, stdin=kit.source, env=FAST)
    assert done.returncode == 2
    assert "Pass --job-dir D" in one_error_line(done.stderr)


def test_edges_reader_run_stream_resumes_from_its_spool(kit: Kit, tmp_path: Path) -> None:
    """A job fed by a pipe keeps the copy as source.ldjson; naming that file resumes the job."""
    done = ldjfix(READERS["run"]("-", kit), cwd=tmp_path, stdin=kit.source, env=FAST)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "job" / "source.ldjson").read_bytes() == kit.source
    again = ldjfix(READERS["run"]("job/source.ldjson", kit), cwd=tmp_path, env=FAST)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "job" / "source.ldjson").read_bytes() == kit.source


# -- writers ---------------------------------------------------------------------------------

WRITERS: dict[str, Callable[[str, Kit], list[str]]] = {
    "extract -o": lambda o, k: ["extract", "src.ldjson", "--status-file", str(k.status), "-o", o],
    "merge -o": lambda o, k: ["merge", "src.ldjson", str(k.fixed), "-o", o],
    "fix -o": lambda o, k: [
        "fix",
        "src.ldjson",
        "--status-file",
        str(k.status),
        "-t",
        "ACCOUNT",
        "--rules",
        str(k.rules),
        "-o",
        o,
        "--fixes",
        "f.jsonl",
        "--rejected",
        "r.ldjson",
    ],
    "fix --fixes": lambda o, k: [
        "fix",
        "src.ldjson",
        "--status-file",
        str(k.status),
        "-t",
        "ACCOUNT",
        "--rules",
        str(k.rules),
        "-o",
        "o.ldjson",
        "--fixes",
        o,
        "--rejected",
        "r.ldjson",
    ],
    "fix --rejected": lambda o, k: [
        "fix",
        "src.ldjson",
        "--status-file",
        str(k.status),
        "-t",
        "ACCOUNT",
        "-o",
        "o.ldjson",
        "--fixes",
        "f.jsonl",
        "--rules",
        str(k.quarantine),
        "--rejected",
        o,
    ],
    "replay -o": lambda o, k: ["replay", "src.ldjson", "--fixes", str(k.fixes), "-o", o],
}
OLD = b"the old content\n"


def _target(kind: str, cwd: Path) -> str:
    """The output path for a target of ``kind``, prepared in ``cwd``."""
    if kind == "existing":
        (cwd / "out.txt").write_bytes(OLD)
    elif kind == "other path":
        (cwd / "sub").mkdir()
        return "sub/../src.ldjson"
    elif kind == "hard link":
        os.link(cwd / "src.ldjson", cwd / "out.txt")
    elif kind == "device":
        return "/dev/null"
    elif kind == "symlink to device":
        (cwd / "out.txt").symlink_to("/dev/null")
    elif kind == "folder":
        (cwd / "out.txt").mkdir()
    elif kind == "read-only folder":
        (cwd / "ro").mkdir()
        (cwd / "ro" / "out.txt").write_bytes(OLD)
        return "ro/out.txt"
    elif kind == "full disk":
        (cwd / "out.txt").write_bytes(OLD)
    return "out.txt"


# (exit codes, the Error: line's words or None, what the target holds after)
EXPECT: dict[str, tuple[tuple[int, ...], str | None]] = {
    "new": ((0, 1), None),
    "existing": ((0, 1), None),
    "other path": ((2,), "is an input of this command"),
    "hard link": ((2,), "is an input of this command"),
    "device": ((0, 1), None),
    "symlink to device": ((0, 1), None),
    "folder": ((3,), "is a folder"),
    "read-only folder": ((3,), "Permission denied"),
    "full disk": ((3,), "File too large"),
}


@pytest.mark.parametrize("kind", sorted(EXPECT))
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_edges_writer_targets(writer: str, kind: str, kit: Kit, tmp_path: Path) -> None:
    """Every output × every target: written, refused (exit 2) or one Error: line (exit 3)."""
    (tmp_path / "src.ldjson").write_bytes(kit.source)
    out = _target(kind, tmp_path)
    if kind == "read-only folder":
        (tmp_path / "ro").chmod(0o555)
    try:
        done = ldjfix(
            WRITERS[writer](out, kit),
            cwd=tmp_path,
            file_size=1024 if kind == "full disk" else None,
            read_only=kind == "read-only folder",
        )
    finally:
        if kind == "read-only folder":
            (tmp_path / "ro").chmod(0o755)
    codes, words = EXPECT[kind]
    assert done.returncode in codes, done.stderr
    if words is not None:
        assert words in one_error_line(done.stderr)
    else:
        assert b"Traceback" not in done.stderr
    assert (tmp_path / "src.ldjson").read_bytes() == kit.source
    target = tmp_path / out
    if kind in ("read-only folder", "full disk"):
        assert target.read_bytes() == OLD  # the old file, whole
        assert [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")] == []
    elif kind in ("device", "symlink to device"):
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
        if kind == "symlink to device":
            assert target.is_symlink()
    elif kind in ("new", "existing"):
        assert target.read_bytes() != OLD and target.stat().st_size > 0


@pytest.mark.parametrize(
    "name", ["corrected.ldjson", "fixes.jsonl", "rejected.ldjson", "report.json", "journal.json"]
)
def test_edges_writer_source_inside_job_dir(name: str, kit: Kit, tmp_path: Path) -> None:
    """A source under a job-folder file's name (or a hard link to it there): exit 2, untouched."""
    job = tmp_path / "export"
    job.mkdir()
    (job / name).write_bytes(kit.source)
    os.link(job / name, tmp_path / "linked.ldjson")
    for source in (job / name, tmp_path / "linked.ldjson"):
        args = READERS["run"](str(source), kit)
        args[args.index("job")] = "export"
        done = ldjfix(args, cwd=tmp_path, env=FAST)
        assert done.returncode == 2, done.stderr
        assert "the job would overwrite it" in one_error_line(done.stderr)
        assert (job / name).read_bytes() == kit.source


@pytest.mark.parametrize("kind", ["read-only folder", "full disk", "not a folder"])
def test_edges_writer_job_dir_failures(kind: str, kit: Kit, tmp_path: Path) -> None:
    """A job folder that cannot be written (read-only, disk full, a device): exit 3, one line."""
    (tmp_path / "src.ldjson").write_bytes(kit.source)
    args = READERS["run"]("src.ldjson", kit)
    job = tmp_path / "job"
    if kind == "not a folder":
        args[args.index("job")] = "/dev/null"
    elif kind == "read-only folder":  # an existing job folder, made read-only after a run
        assert ldjfix(args, cwd=tmp_path, env=FAST).returncode == 0
        shutil.rmtree(job / "rounds")
        (job / "journal.json").unlink()
        job.chmod(0o555)
    try:
        done = ldjfix(
            args,
            cwd=tmp_path,
            env=FAST,
            file_size=2048 if kind == "full disk" else None,
            read_only=kind == "read-only folder",
        )
    finally:
        if job.exists():
            job.chmod(0o755)
    assert done.returncode == 3, done.stderr
    one_error_line(done.stderr)
    assert (
        hashlib.sha256((tmp_path / "src.ldjson").read_bytes()).digest()
        == hashlib.sha256(kit.source).digest()
    )
