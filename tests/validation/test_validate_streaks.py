"""The writers' streak shortcut writes exactly what the general path (one Finding each) writes."""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import replace
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldjfix.validation.findings import Finding, Tally
from ldjfix.validation.stream import open_writer, write_findings
from ldjfix.validation.validator import Validator
from ldjfix.validation.wholefile import validate_to

GOOD = {
    "objectId": "a-1",
    "modifiedDate": "2024-01-01T10:00:00Z",
    "name": "A",
    "domains": ["a.com"],
}
FORMS = [(form, summary) for form in ("text", "json", "jsonl") for summary in (False, True)]


def _line(n: int, **changes: Any) -> bytes:
    record = {**GOOD, "objectId": f"a-{n}", **changes}
    return orjson.dumps({k: v for k, v in record.items() if v is not _DROP})


_DROP = object()


def _millis(n: int) -> str:
    return f"2024-01-01T10:00:00.{n % 1000:03d}Z"


# Lines that keep a streak going, break it, or take the careful path: every fallback case.
POOL = [
    lambda n: _line(n, modifiedDate=_millis(n)),  # the streak: milliseconds
    lambda n: _line(n, modifiedDate=_millis(n)),
    lambda n: _line(n, modifiedDate="03/04/2025"),  # same field, not milliseconds
    lambda n: _line(n, modifiedDate="\u0662\u0660\u0662\u0664" + _millis(n)[4:]),  # other digits
    lambda n: _line(n, modifiedDate="x\x00" + _millis(n)),  # a NUL, then milliseconds
    lambda n: _line(n, modifiedDate=""),  # mandatory and empty: another text
    lambda n: _line(n, modifiedDate=None),
    lambda n: _line(n, modifiedDate=_millis(n), objectId=_DROP),  # no objectId
    lambda n: _line(n, modifiedDate=_millis(n), objectId=7),  # not a string
    lambda n: _line(n, objectId=None),  # one finding, no objectId to name
    lambda n: _line(n, objectId=f'q"\\{n}'),  # one finding; JSON escapes the objectId
    lambda n: _line(n, objectId=f"\x1b[2J\x7f{n}"),  # one finding; the text escapes it
    lambda n: _line(n, objectId=n),
    lambda n: _line(n, modifiedDate=_millis(n), objectId=f"\x1b]0;t\x07{n}"),  # unsafe text
    lambda n: _line(n, modifiedDate=_millis(n), objectId=f"é-\u202e{n}"),
    lambda n: _line(n, modifiedDate=_millis(n), objectId="a-1"),  # a repeated objectId
    lambda n: _line(n, objectId=f"a_{n}"),  # a warning (an error when strict)
    lambda n: _line(n, objectId=f"a_{n}", modifiedDate=_millis(n)),  # failing two ways
    lambda n: _line(n, modifiedDate=_millis(n), url="htp//crm"),
    lambda n: _line(n),  # clean
    lambda n: _line(n, domains="a.com"),
    lambda n: _line(n, modifiedDate=_millis(n)).replace(b'"modifiedDate"', b'"modified\\u0044ate"'),
    lambda n: _line(n, modifiedDate=_millis(n)).replace(b"{", b'{"modifiedDate":"2024",', 1),
    lambda n: _line(n, modifiedDate=_millis(n)) + b"\r",  # CRLF
    lambda n: b"",  # blank
    lambda n: b"{broken",
    lambda n: b"[1]",
    lambda n: b'"' + b"x" * 300 + b'"',
]


def _file(runs: list[tuple[int, int]], newline_at_end: bool = True) -> bytes:
    """Runs of lines: ``length`` lines made by ``POOL[pick]``, numbered through the file."""
    makers = [POOL[pick] for pick, length in runs for _ in range(length)]
    lines = [make(n) for n, make in enumerate(makers, 1)]
    return b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")


def _outputs(data: bytes, form: str, summary: bool, strict: bool) -> tuple[bytes, bytes, int]:
    """(shortcut output, general output, exit code) of validating ``data``."""
    validator = Validator("ACCOUNT", strict=strict)
    handle, path = tempfile.mkstemp(suffix=".ldjson")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        fast = io.BytesIO()
        result = validate_to(fast, path, validator, form=form, summary_only=summary, name=path)
        tally, general = Tally(), io.BytesIO()
        with open(path, "rb") as stream:
            findings = validator.check_stream(stream, tally=tally)  # no streaks: one Finding each
            slow = write_findings(
                findings, tally, general, name=path, form=form, summary_only=summary
            )
        assert (result.errors, result.warnings, result.invalid) == (
            slow.errors, slow.warnings, slow.invalid
        )  # fmt: skip
        return fast.getvalue(), general.getvalue(), result.exit_code
    finally:
        os.unlink(path)


@pytest.mark.parametrize(("form", "summary"), FORMS)
@pytest.mark.parametrize("strict", [False, True])
def test_validate_streaks_every_fallback_case(form: str, summary: bool, strict: bool) -> None:
    """Streaks broken by every kind of line (BOM first) give the general path's bytes."""
    runs = [(0, 2100)]  # longer than a batch holds
    runs += [(pick, length) for length in (1, 3, 8) for pick in range(len(POOL))] * 2
    data = b"\xef\xbb\xbf" + _file(runs)
    fast, general, code = _outputs(data, form, summary, strict)
    assert fast == general and code == 1
    assert fast  # something was written


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(POOL) - 1), st.integers(1, 9)), max_size=30),
    st.sampled_from(FORMS),
    st.booleans(),
    st.booleans(),
)
def test_validate_streaks_random_files(
    runs: list[tuple[int, int]], form: tuple[str, bool], strict: bool, newline_at_end: bool
) -> None:
    """Any runs of lines, in any form: the shortcut writes what the general path writes."""
    data = _file(runs, newline_at_end)
    fast, general, _ = _outputs(data, *form, strict)
    assert fast == general


def test_validate_streaks_go_to_the_writer_not_the_iterator() -> None:
    """With a writer as ``streaks``, a run of records failing one way yields one Finding only."""
    data = b"\n".join(_line(n, modifiedDate=_millis(n)) for n in range(1, 51)) + b"\n"
    validator = Validator("ACCOUNT")
    writer = open_writer(io.BytesIO(), name="x", form="jsonl")
    yielded = list(validator.check_stream(io.BytesIO(data), streaks=writer))
    assert len(yielded) == 1 and yielded[0].line == 1
    assert len(list(validator.check_stream(io.BytesIO(data)))) == 50


@pytest.mark.parametrize(("form", "summary"), FORMS)
def test_validate_streaks_shortcut_of_any_object_id_and_value(form: str, summary: bool) -> None:
    """The writer's shortcut fed directly (objectIds JSON or a terminal must escape, values of
    any type, both severities) writes what one Finding each writes."""
    runs = [["a-1", "b-2"], ['q"\\1', "a-2"], ["\x1b[2J", "a"], ["x\x7f", "b"], ["é", "c"]]
    runs += [[None, "a_1"], ["\u202e", "d"], ["\u2028", "e"]]
    values: list[Any] = [_millis(1), "03/04/2025", 5, None, [], _millis(2), "", "x"]
    text = "Invalid value for field [modifiedDate]: expected an ISO-8601 date-time"
    findings = [  # a text of its own per run: each run is a batch of its own
        Finding(0, oids[n % 2], "modifiedDate", f"{text} {i}", severity, values[n % len(values)])
        for severity in ("error", "warning", "error")
        for i, oids in enumerate(runs)
        for n in range(300)
    ]
    findings = [replace(f, line=n) for n, f in enumerate(findings, 1)]
    fast, general = io.BytesIO(), io.BytesIO()
    shortcut = open_writer(fast, name="f\x1b", form=form, summary_only=summary)
    for finding in findings:
        emit = shortcut.streak(finding.field or "", finding.description, finding.severity)
        emit(finding.line, finding.object_id, finding.value)
    tally = Tally()
    shortcut.finish(tally)
    write_findings(findings, tally, general, name="f\x1b", form=form, summary_only=summary)
    assert fast.getvalue() == general.getvalue()
