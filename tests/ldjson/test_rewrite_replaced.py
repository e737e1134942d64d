"""The one "source with lines replaced" writer: bytes kept, BOM and endings kept, both modes."""

from __future__ import annotations

import io

import pytest

from ldjfix.ldjson.rewrite import DROP, KEEP, Replacement, write_replaced

CASES = {
    "plain": b'{"a":1}\n{"a":2}\n{"a":3}\n',
    "bom crlf": b'\xef\xbb\xbf{"a":1}\r\n{"a":2}\r\n{"a":3}\r\n',
    "blank and no final newline": b'{"a":1}\n\n  \n{"a":2}\n{"a":3}',
    "lone cr and u2028 inside": b'{"a":"x\ry"}\n{"a":"\xe2\x80\xa8"}\n{"a":3}\n',
}


def _write(
    data: bytes, change: dict[int, Replacement], *, sparse: bool, only: bool = False
) -> bytes:
    out = io.BytesIO()
    wanted = change if sparse else None
    write_replaced(
        io.BufferedReader(io.BytesIO(data)),  # type: ignore[arg-type]
        out,
        lambda line: change.get(line.number, KEEP),
        wanted=wanted,
        only_changed=only,
    )
    return out.getvalue()


@pytest.mark.parametrize("sparse", [True, False], ids=["scan", "every line"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_rewrite_nothing_replaced_is_a_byte_copy(name: str, sparse: bool) -> None:
    """KEEP everywhere gives the source back byte for byte, in both modes."""
    data = CASES[name]
    assert _write(data, {1: KEEP, 3: KEEP}, sparse=sparse) == data


@pytest.mark.parametrize("sparse", [True, False], ids=["scan", "every line"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_rewrite_replaces_and_drops_keeping_endings(name: str, sparse: bool) -> None:
    """A record is re-serialised with its line's ending; DROP leaves the line out; BOM stays."""
    data = CASES[name]
    out = _write(data, {1: {"b": 1}, 2: DROP}, sparse=sparse)
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    first, _second, rest = data[len(bom) :].split(b"\n", 2)
    ending = b"\r\n" if first.endswith(b"\r") else b"\n"
    assert out == bom + b'{"b":1}' + ending + rest


def test_rewrite_only_changed_writes_the_new_lines_alone() -> None:
    """only_changed: just the replaced records, each ending in \\n (merge --only-corrected)."""
    out = _write(CASES["bom crlf"], {2: {"z": 2}, 3: KEEP}, sparse=True, only=True)
    assert out == b'{"z":2}\n'


def test_rewrite_reports_wanted_lines_past_the_end() -> None:
    """The shape lists wanted lines the file does not have (merge refuses them)."""
    out = io.BytesIO()
    shape = write_replaced(io.BytesIO(CASES["plain"]), out, lambda line: KEEP, wanted=[2, 9])
    assert (shape.lines, shape.missing) == (3, [9])
