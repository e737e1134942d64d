"""Upload sets and lineage: clean files for Gong, and its line numbers mapped back exactly."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ldjfix.fixing.fixer import QuarantineFixer
from ldjfix.gong.status import status_from_dict
from ldjfix.ldjson.lines import BOM
from ldjfix.loop.lineage import Draft, map_status, write_upload_sets
from ldjfix.loop.rounds import JobSpec, run_job
from tests.support.loop import gong_answering

# BOM, CRLF, a blank line, a whitespace-only line, U+2028 inside a record, no final newline
TRICKY = (
    b'\xef\xbb\xbf{"objectId":"a","n":1}\r\n'
    b"\n"
    b'{"objectId":"b","t":"x\xe2\x80\xa8y"}\n'
    b"   \t\n"
    b'{"objectId":"c"}\r\n'
    b'{"objectId":"d"}'
)


def test_loop_upload_sets_have_no_bom_cr_or_blank_lines(tmp_path: Path) -> None:
    """Each shard holds its records with \\n endings only; fixed records are re-serialised."""
    source = tmp_path / "src.ldjson"
    source.write_bytes(TRICKY)
    paths = {"s1": tmp_path / "s1.ldjson", "s2": tmp_path / "s2.ldjson"}
    fixed = {5: {"objectId": "c", "fixed": True}}
    write_upload_sets(source, {"s1": [1, 6], "s2": [3, 5]}, fixed, paths)
    assert paths["s1"].read_bytes() == b'{"objectId":"a","n":1}\n{"objectId":"d"}\n'
    assert paths["s2"].read_bytes() == (
        b'{"objectId":"b","t":"x\xe2\x80\xa8y"}\n' + orjson.dumps(fixed[5]) + b"\n"
    )


@pytest.mark.parametrize("dropped", [(), (1,), (6,), (1, 3)])
def test_loop_upload_sets_with_draft_keep_every_byte_but_the_dropped_lines(
    tmp_path: Path, dropped: tuple[int, ...]
) -> None:
    """The draft is the source byte for byte (BOM, blank lines, endings) with fixed records in
    place and dropped lines left out, even line 1 after the BOM; sets as without a draft."""
    source = tmp_path / "src.ldjson"
    source.write_bytes(TRICKY + b"\n" + b'{"objectId":"e"}\n')
    fixed = {5: {"objectId": "c", "fixed": True}, 7: {"objectId": "e", "fixed": 1}}
    owned = [n for n in (1, 3, 5, 6, 7) if n not in dropped]
    paths = {"s1": tmp_path / "s1.ldjson"}
    draft = Draft(tmp_path / "draft.ldjson", set(dropped))
    facts = write_upload_sets(source, {"s1": owned}, fixed, paths, draft)
    lines = source.read_bytes().removeprefix(BOM).splitlines(keepends=True)
    ending = [raw[len(raw.rstrip(b"\r\n")) :] for raw in lines]
    content = {
        n: orjson.dumps(fixed[n]) if n in fixed else raw.rstrip(b"\r\n")
        for n, raw in enumerate(lines, 1)
    }
    expected_set = b"".join(content[n] + b"\n" for n in owned)
    expected_draft = BOM + b"".join(
        content[n] + ending[n - 1] for n in range(1, len(lines) + 1) if n not in dropped
    )
    assert paths["s1"].read_bytes() == expected_set
    assert facts["s1"].lines == len(owned) and facts["s1"].bytes == len(expected_set)
    assert draft.path.read_bytes() == expected_draft


def test_loop_lineage_done_accepts_every_record() -> None:
    """DONE: every record of the upload is accepted."""
    verdict = map_status("u", status_from_dict({"status": "DONE"}, source="t"), [3, 5, 9])
    assert verdict.accepted == (3, 5, 9) and not verdict.failed and not verdict.unknown


def test_loop_lineage_all_failures_listed_accepts_the_rest() -> None:
    """totalErrorCount equals the number listed: the unreported records are accepted."""
    status = status_from_dict(
        {
            "status": "FAILED",
            "totalErrorCount": 2,
            "totalSuccessCount": 2,
            "errors": [{"line": 2, "description": "x [name]"}, {"line": 4, "description": "y"}],
        },
        source="t",
    )
    verdict = map_status("u", status, [10, 20, 30, 40])
    assert set(verdict.failed) == {20, 40}
    assert verdict.failed[20][0].description == "x [name]"
    assert verdict.accepted == (10, 30) and verdict.unknown == ()
    assert verdict.unseen_failures == 0


def test_loop_lineage_more_failed_than_listed_leaves_the_rest_unknown() -> None:
    """Gong counted 5 failures but listed 2: the others are unknown, 3 failures unseen."""
    status = status_from_dict(
        {
            "status": "FAILED",
            "totalErrorCount": 5,
            "errors": [{"line": 1, "description": "x"}, {"line": 3, "description": "y"}],
        },
        source="t",
    )
    verdict = map_status("u", status, [7, 8, 9, 10, 11, 12])
    assert set(verdict.failed) == {7, 9}
    assert verdict.accepted == () and verdict.unknown == (8, 10, 11, 12)
    assert verdict.unseen_failures == 3


def test_loop_lineage_line_past_the_end_is_unmapped_never_guessed() -> None:
    """An error naming line 9 of a 3-line upload maps to nothing, and settles nothing."""
    status = status_from_dict(
        {"status": "FAILED", "totalErrorCount": 1, "errors": [{"line": 9, "description": "z"}]},
        source="t",
    )
    verdict = map_status("u", status, [1, 2, 3])
    assert verdict.failed == {} and verdict.accepted == ()
    assert [e.line for e in verdict.unmapped] == [9]
    assert verdict.unknown == (1, 2, 3)


def test_loop_lineage_line_zero_is_a_file_level_error() -> None:
    """line 0: a general error; no record is settled by it."""
    status = status_from_dict(
        {
            "status": "FAILED",
            "totalErrorCount": 1,
            "errors": [{"line": 0, "description": "The file is not valid UTF-8 (line 2)"}],
        },
        source="t",
    )
    verdict = map_status("u", status, [1, 2])
    assert verdict.general == ("The file is not valid UTF-8 (line 2)",)
    assert verdict.accepted == () and verdict.failed == {}


def test_loop_failed_status_naming_no_line_accepts_nothing(tmp_path: Path) -> None:
    """FAILED with no error listed and totalErrorCount 0: records stay pending, never DONE."""
    source = tmp_path / "accounts.ldjson"
    source.write_bytes(b'{"objectId":"A1","modifiedDate":"2025-01-01T00:00:00Z"}\n')
    status = {"status": "FAILED", "totalErrorCount": 0, "totalSuccessCount": 0, "errors": []}
    with gong_answering(status) as client:
        spec = JobSpec(source, "ACCOUNT", 1, first_poll=0.0)
        result = run_job(spec, client=client, fixer=QuarantineFixer())
    assert (result.outcome, result.exit_code) == ("PENDING", 1)
    assert (result.counts.accepted, result.counts.pending) == (0, 1)
    assert "all 1 records accepted" not in result.message


@pytest.mark.parametrize("special", [(), (1,), (1024, 1025, 2049), (2, 2500), (3000,)])
def test_loop_draft_copies_long_stretches_between_fixed_and_dropped_lines(
    tmp_path: Path, special: tuple[int, ...]
) -> None:
    """Stretches of plain lines longer than a batch, before, between and after the lines the
    draft changes (every other one dropped, the rest fixed), come out byte for byte."""
    source = tmp_path / "src.ldjson"
    lines = [orjson.dumps({"objectId": f"a{n}", "n": n}) + b"\n" for n in range(1, 2501)]
    source.write_bytes(b"".join(lines))
    dropped = {n for i, n in enumerate(special) if i % 2}
    fixed = {n: {"objectId": f"a{n}", "fixed": True} for n in special if n not in dropped}
    owned = [n for n in range(1, 2501) if n not in dropped]
    paths = {"s1": tmp_path / "s1.ldjson"}
    draft = Draft(tmp_path / "draft.ldjson", dropped)
    facts = write_upload_sets(source, {"s1": owned}, fixed, paths, draft)
    expected = b"".join(
        orjson.dumps(fixed[n]) + b"\n" if n in fixed else lines[n - 1]
        for n in range(1, 2501)
        if n not in dropped
    )
    assert draft.path.read_bytes() == expected
    assert paths["s1"].read_bytes() == expected
    assert (facts["s1"].lines, facts["s1"].bytes) == (len(owned), len(expected))
