"""The line reader on the tricky inputs of README "Line numbers", one small file each."""

from __future__ import annotations

import io
from pathlib import Path

from ldjfix.ldjson.lines import Line, Shape, iter_lines, parse_line, read_lines, scan

LINES = Path(__file__).parents[1] / "cases" / "lines"


def every_line(name: str) -> list[Line]:
    """All lines of a case file through iter_lines."""
    with open(LINES / name, "rb") as stream:
        return list(iter_lines(stream))


def scanned(name: str, wanted: list[int]) -> tuple[dict[int, Line], Shape]:
    """The wanted lines of a case file through the chunked scan."""
    with open(LINES / name, "rb") as stream:
        return read_lines(stream, wanted)


def both_agree(name: str) -> tuple[list[Line], Shape]:
    """Lines from both readers, asserting that they agree line by line."""
    lines = every_line(name)
    found, shape = scanned(name, [line.number for line in lines])
    assert found == {line.number: line for line in lines}
    assert shape.lines == len(lines)
    return lines, shape


def test_lines_lf_numbering() -> None:
    """Lines end at \\n and are numbered from 1."""
    lines, shape = both_agree("lf.ldjson")
    assert [line.number for line in lines] == [1, 2, 3]
    assert [parse_line(line).object_id for line in lines] == ["a1", "a2", "a3"]
    assert all(line.ending == b"\n" for line in lines)
    assert (shape.crlf, shape.bom, shape.blank_lines, shape.risky) == (False, False, False, [])


def test_lines_crlf_is_one_ending() -> None:
    """\\r\\n is one line ending, kept apart from the content, and flagged as risky."""
    lines, shape = both_agree("crlf.ldjson")
    assert len(lines) == 3
    assert all(line.ending == b"\r\n" and not line.content.endswith(b"\r") for line in lines)
    assert parse_line(lines[2]).record == {"objectId": "a3", "name": "Three"}
    assert shape.crlf and shape.risky == ["\\r\\n line endings"]


def test_lines_inner_breaks_stay_in_their_line() -> None:
    """A lone \\r, U+2028, U+2029, U+0085 and a form feed inside a string do not end a line."""
    lines, shape = both_agree("inner_breaks.ldjson")
    assert len(lines) == 6 and not shape.crlf
    names = [parse_line(line).record for line in lines]
    assert names[0] == {"objectId": "a1", "name": "line\u2028sep"}
    assert names[1] == {"objectId": "a2", "name": "para\u2029sep"}
    assert names[2] == {"objectId": "a3", "name": "next\u0085line"}
    # Raw control characters are not allowed in JSON strings: a defect of that line only.
    assert b"lone\rcr" in lines[3].content and parse_line(lines[3]).defect is not None
    assert b"form\x0cfeed" in lines[4].content and parse_line(lines[4]).defect is not None
    assert parse_line(lines[5]).object_id == "a6"


def test_lines_bom_is_not_part_of_line_one() -> None:
    """A UTF-8 BOM is stripped from line 1, reported in the shape, and flagged as risky."""
    lines, shape = both_agree("bom.ldjson")
    assert lines[0].content == b'{"objectId":"a1","name":"One"}'
    assert parse_line(lines[0]).object_id == "a1"
    assert shape.bom and shape.risky == ["a UTF-8 byte order mark"]


def test_lines_blank_lines_keep_their_numbers() -> None:
    """Blank and whitespace-only lines are lines that hold no record and no defect."""
    lines, shape = both_agree("blank.ldjson")
    assert len(lines) == 7
    blank = [line.number for line in lines if line.is_blank]
    assert blank == [2, 4, 6]
    assert all(parse_line(lines[n - 1]).record is None for n in blank)
    assert all(parse_line(lines[n - 1]).defect is None for n in blank)
    assert parse_line(lines[6]).object_id == "a7"
    assert shape.blank_lines and shape.crlf  # line 6 is " \r\n"


def test_lines_last_line_without_newline() -> None:
    """A final line without \\n is still a line, with an empty ending."""
    lines, shape = both_agree("no_final_newline.ldjson")
    assert [(line.number, line.ending) for line in lines] == [(1, b"\n"), (2, b"")]
    assert parse_line(lines[1]).object_id == "a2"
    assert not shape.ends_with_newline


def test_lines_invalid_utf8_is_a_defect_of_its_line() -> None:
    """Invalid UTF-8 makes a defect of that line only, naming the byte."""
    lines, _ = both_agree("invalid_utf8.ldjson")
    parsed = [parse_line(line) for line in lines]
    assert parsed[1].record is None
    bad_byte = lines[1].content.index(b"\xe9") + 1
    assert parsed[1].defect == f"invalid UTF-8 at byte {bad_byte} of the line"
    assert [p.object_id for p in parsed] == ["a1", None, "a3"]


def test_lines_invalid_json_is_a_defect_of_its_line() -> None:
    """A trailing comma or an unclosed object is a defect of its line, not of its neighbours."""
    lines, _ = both_agree("invalid_json.ldjson")
    parsed = [parse_line(line) for line in lines]
    assert [p.defect is None for p in parsed] == [True, False, False, True]
    assert parsed[1].defect is not None and parsed[1].defect.startswith("invalid JSON")
    assert parsed[3].object_id == "a4"


def test_lines_non_object_json_is_a_defect() -> None:
    """JSON that is not an object (array, string, number, null, boolean) is a defect."""
    lines, _ = both_agree("non_object.ldjson")
    defects = [parse_line(line).defect for line in lines]
    assert defects[1:6] == [
        "line holds a JSON array, not an object",
        "line holds a JSON string, not an object",
        "line holds a JSON number, not an object",
        "line holds a JSON null, not an object",
        "line holds a JSON boolean, not an object",
    ]
    assert defects[0] is None and defects[6] is None


def test_lines_empty_file_has_no_lines() -> None:
    """An empty file has no lines; any wanted line is past its end."""
    assert every_line("empty.ldjson") == []
    found, shape = scanned("empty.ldjson", [1, 2])
    assert found == {} and shape.lines == 0 and shape.missing == [1, 2]


def test_lines_wanted_past_the_end_are_missing() -> None:
    """Wanted lines past the end are listed as missing, never mapped to another line."""
    found, shape = scanned("lf.ldjson", [2, 4, 9])
    assert list(found) == [2] and shape.missing == [4, 9] and shape.lines == 3


def test_lines_ten_megabyte_single_line(tmp_path: Path) -> None:
    """A 10 MB single line is one line, read whole by both readers, between two small ones."""
    name = "x" * (10 * 1024 * 1024)
    big = b'{"objectId":"big","name":"' + name.encode() + b'"}'
    path = tmp_path / "big.ldjson"
    path.write_bytes(b'{"objectId":"a1"}\n' + big + b'\n{"objectId":"a3"}\n')
    with open(path, "rb") as stream:
        found, shape = read_lines(stream, [2, 3])
    assert found[2].content == big and shape.lines == 3
    assert parse_line(found[2]).object_id == "big"
    assert parse_line(found[3]).object_id == "a3"
    with open(path, "rb") as stream:
        copied = b"".join(
            item if isinstance(item, bytes) else item.content + item.ending
            for item in scan(stream, [2], Shape())
        )
    assert copied == path.read_bytes()


def test_lines_scan_of_stdin_like_stream() -> None:
    """scan works on any binary stream, e.g. a pipe, not just on seekable files."""
    data = (LINES / "crlf.ldjson").read_bytes()
    found, shape = read_lines(io.BufferedReader(io.BytesIO(data)), [3])  # type: ignore[arg-type]
    assert parse_line(found[3]).object_id == "a3" and shape.lines == 3
