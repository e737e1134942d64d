"""map_errors (the library function) and the record excerpt shown beside each error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ldjfix.gong.status import LineError, status_from_dict
from ldjfix.ldjson.excerpt import excerpt, field_span
from ldjfix.mapping.annotate import MappedError, annotation_json, map_errors, render_text

LINES = Path(__file__).parents[1] / "cases" / "lines"


def failed(*errors: tuple[int, str], **extra: Any) -> Any:
    """A FAILED status listing ``errors`` as (line, description)."""
    doc = {"status": "FAILED", "errors": [{"line": n, "description": d} for n, d in errors]}
    return status_from_dict({**doc, **extra}, source="test status")


def test_annotate_map_errors_puts_each_error_beside_its_line() -> None:
    """Each error gets its line's record, objectId, field and raw content."""
    status = failed((3, "Mandatory field [name] is missing or empty"), (1, "Bad [objectId]"))
    annotation = map_errors(LINES / "lf.ldjson", status)
    assert annotation.errors == (
        MappedError(
            line=1,
            description="Bad [objectId]",
            field="objectId",
            object_id="a1",
            record={"objectId": "a1", "name": "One"},
            content=b'{"objectId":"a1","name":"One"}',
            defect=None,
        ),
        MappedError(
            line=3,
            description="Mandatory field [name] is missing or empty",
            field="name",
            object_id="a3",
            record={"objectId": "a3", "name": "Three"},
            content=b'{"objectId":"a3","name":"Three"}',
            defect=None,
        ),
    )
    assert annotation.unmapped == () and annotation.general == () and annotation.warnings == ()


def test_annotate_map_errors_keeps_several_errors_on_one_line() -> None:
    """Two errors on the same line are both kept, in Gong's order."""
    status = failed((2, "first [name]"), (2, "second [objectId]"))
    annotation = map_errors(LINES / "lf.ldjson", status)
    assert [(e.line, e.field) for e in annotation.errors] == [(2, "name"), (2, "objectId")]


def test_annotate_map_errors_defect_lines_have_no_record() -> None:
    """A line that is not a JSON object is mapped with its defect and a null record."""
    annotation = map_errors(LINES / "non_object.ldjson", failed((2, "Unable to parse")))
    (error,) = annotation.errors
    assert error.record is None and error.object_id is None and error.content == b"[1,2]"
    assert error.defect == "line holds a JSON array, not an object"


def test_annotate_map_errors_past_the_end_and_line_zero() -> None:
    """Lines past the end are unmapped with a question; line 0 is a file-level error."""
    status = failed((0, "File cannot be read"), (7, "x"), (3, "y"), totalErrorCount=3)
    annotation = map_errors(LINES / "lf.ldjson", status)
    assert annotation.general == (LineError(0, "File cannot be read"),)
    assert annotation.unmapped == (LineError(7, "x"),)
    assert [e.line for e in annotation.errors] == [3]
    assert annotation.warnings == (
        f"the status names line(s) 7 but {LINES / 'lf.ldjson'} has only 3 lines: "
        "is this the file that was uploaded?",
    )


def test_annotate_map_errors_warns_when_more_failed_than_listed() -> None:
    """When totalErrorCount exceeds the lines listed, a warning says the rest are unnamed."""
    annotation = map_errors(LINES / "lf.ldjson", failed((1, "x"), totalErrorCount=57))
    assert annotation.warnings == (
        "Gong listed errors for 1 line(s) but says 57 records failed (it lists at most 20); "
        "the others are not named by this status.",
    )


def test_annotate_json_document_shape() -> None:
    """annotation_json has exactly the keys of README "At a glance"."""
    status = failed((1, "Bad [name]"), (0, "general"), (9, "far"))
    document = annotation_json(map_errors(LINES / "blank.ldjson", status))
    assert set(document) == {"errors", "unmapped", "general", "warnings"}
    assert document["errors"] == [
        {
            "line": 1,
            "objectId": "a1",
            "description": "Bad [name]",
            "field": "name",
            "record": {"objectId": "a1"},
        }
    ]
    assert document["unmapped"] == [{"line": 9, "description": "far", "field": None}]
    assert document["general"] == [{"line": 0, "description": "general", "field": None}]
    assert "blank lines" in document["warnings"][0]
    assert orjson.loads(orjson.dumps(document)) == document


def test_annotate_render_text_groups_errors_of_one_line() -> None:
    """The text report names the line once and lists each of its errors with the record."""
    status = failed((2, "first [name]"), (2, "second [objectId]"))
    text = render_text(map_errors(LINES / "lf.ldjson", status), "lf.ldjson")
    assert text == (
        "lf.ldjson: 2 error(s) on 1 of 3 line(s)\n"
        "\n"
        "line 2  objectId a2\n"
        "  first [name]\n"
        '  {"objectId":"a2",»"name":"Two"«}\n'
        "\n"
        "  second [objectId]\n"
        '  {»"objectId":"a2"«,"name":"Two"}\n'
    )


def test_annotate_excerpt_cuts_long_lines_around_the_field() -> None:
    """A long line is cut to the limit around the marked field, with … where text was cut."""
    record = {"objectId": "a1", "notes": "n" * 500, "name": "", "tail": "t" * 500}
    shown = excerpt(orjson.dumps(record), "name", limit=120)
    assert '»"name":""«' in shown
    assert shown.startswith("…") and shown.endswith("…")
    assert len(shown) <= 120 + 4  # the limit, two markers and two ellipses


def test_annotate_excerpt_shortens_a_huge_value_itself() -> None:
    """A marked value longer than half the limit is shortened inside the markers."""
    shown = excerpt(orjson.dumps({"name": "x" * 1000}), "name", limit=100)
    assert shown.startswith('{»"name":"xxx') and "…«" in shown and len(shown) < 110


def test_annotate_excerpt_escapes_line_breaks_and_controls() -> None:
    """Lone \\r, U+2028 and form feeds are shown escaped so they cannot scramble a terminal."""
    shown = excerpt('{"name":"a\rb\u2028c\x0cd"}'.encode(), None)
    assert shown == '{"name":"a\\rb\\u2028c\\fd"}'


def test_annotate_excerpt_field_absent_or_line_broken() -> None:
    """No marker when the field is absent; only the key is marked when the value is broken."""
    assert field_span('{"a":1}', "name") is None
    assert excerpt(b'{"name": tru', "name") == '{»"name": «tru'
    assert excerpt(b"\xff\xfe", None) == "\ufffd\ufffd"


def test_annotate_map_errors_warnings_name_everything_risky(tmp_path: Path) -> None:
    """A BOM, blank lines and \\r\\n are named in one warning; many lines past the end are cut."""
    path = tmp_path / "risky.ldjson"
    path.write_bytes(b'\xef\xbb\xbf{"objectId":"a1"}\r\n\r\n{"objectId":"a3"}\r\n')
    status = failed(*((n, "x") for n in range(3, 16)))
    annotation = map_errors(path, status)
    assert [e.line for e in annotation.errors] == [3]
    assert annotation.warnings == (
        f"{path} has a UTF-8 byte order mark, blank lines and \\r\\n line endings; Gong has not "
        "said how it numbers lines in such a file, so errors were mapped by physical line "
        "(count of \\n) and the mapping is unverified.",
        f"the status names line(s) 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 and more but {path} has "
        "only 3 lines: is this the file that was uploaded?",
    )
