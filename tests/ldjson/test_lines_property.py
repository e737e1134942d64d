"""Property tests: for any bytes, both line readers agree with a plain split on \\n."""

from __future__ import annotations

import io
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from ldjfix.ldjson import lines
from ldjfix.ldjson.lines import BOM, Line, Shape, iter_lines, scan

# Bytes rich in what matters: newlines, carriage returns, blanks, BOM pieces, U+2028.
PIECES = st.sampled_from(
    [b"\n", b"\r", b"\r\n", b" ", b"\t", b"{}", b'{"a":1}', BOM, b"\xe2\x80\xa8", b"\x85", b"x"]
)
DATA = st.one_of(
    st.binary(max_size=200),
    st.lists(PIECES, max_size=60).map(b"".join),
    st.lists(PIECES, max_size=30).map(lambda parts: BOM + b"".join(parts)),
)


def reference_lines(data: bytes) -> list[tuple[bytes, bytes]]:
    """(content, ending) of every line, by the definition: split on \\n, BOM off line 1."""
    body = data[len(BOM) :] if data.startswith(BOM) else data
    segments = body.split(b"\n")
    raw = [s + b"\n" for s in segments[:-1]] + ([segments[-1]] if segments[-1] else [])
    if data.startswith(BOM) and not body:
        raw = [b""]  # a file holding only a BOM has one blank line
    result = []
    for item in raw:
        if item.endswith(b"\r\n"):
            result.append((item[:-2], b"\r\n"))
        elif item.endswith(b"\n"):
            result.append((item[:-1], b"\n"))
        else:
            result.append((item, b""))
    return result


def run_scan(
    data: bytes, wanted: list[int], chunk: int, *, copy: bool = True
) -> tuple[list[bytes | Line], Shape]:
    """scan over ``data`` with a small chunk size, so chunk edges fall everywhere."""
    shape = Shape()
    with mock.patch.object(lines, "CHUNK_SIZE", chunk):
        items = list(scan(io.BytesIO(data), wanted, shape, copy=copy))
    return items, shape


@settings(max_examples=400, deadline=None)
@given(DATA)
def test_lines_iter_lines_is_split_on_newline(data: bytes) -> None:
    """iter_lines line N is exactly the N-th \\n-separated segment (minus \\r\\n and BOM)."""
    got = [(line.content, line.ending) for line in iter_lines(io.BytesIO(data))]
    assert got == reference_lines(data)


@settings(max_examples=400, deadline=None)
@given(DATA, st.sets(st.integers(1, 40), max_size=12), st.sampled_from([1, 2, 3, 5, 9, 1 << 20]))
def test_lines_scan_is_split_on_newline(data: bytes, wanted: set[int], chunk: int) -> None:
    """scan's Line N is the N-th segment, its bytes give the input back, its shape is right."""
    expected = reference_lines(data)
    items, shape = run_scan(data, sorted(wanted), chunk)
    assert b"".join(i if isinstance(i, bytes) else i.content + i.ending for i in items) == data
    found = {i.number: (i.content, i.ending) for i in items if isinstance(i, Line)}
    assert found == {n: expected[n - 1] for n in wanted if n <= len(expected)}
    assert shape.lines == len(expected)
    assert shape.missing == sorted(n for n in wanted if n > len(expected))
    assert shape.bom == data.startswith(BOM)
    assert shape.crlf == any(ending == b"\r\n" for _, ending in expected)
    assert shape.blank_lines == any(not c.strip(b" \t\r\n") for c, _ in expected)
    assert shape.ends_with_newline == (not expected or expected[-1][1] != b"")
    lines_only, same_shape = run_scan(data, sorted(wanted), chunk, copy=False)
    assert [i for i in items if isinstance(i, Line)] == lines_only and same_shape == shape
