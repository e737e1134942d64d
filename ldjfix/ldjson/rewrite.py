"""The one writer of "the source with some lines replaced", for every command that writes one.

``run``'s corrected.ldjson, ``merge``, ``fix`` and ``replay`` all copy a source and change a few
of its lines. :func:`write_replaced` is that copy, so every output keeps the same promises
(README, "Line semantics"): unchanged lines — blank lines, the BOM, ``\\r\\n`` endings, a last
line without a newline — are copied byte for byte; a replaced line is the new record
re-serialised (compact) with the original line's ending; a dropped line is left out.

The caller's ``change`` function says, per line, :data:`KEEP`, :data:`DROP`, a new record, or
new bytes. A caller that can decide most lines from their bytes alone (``fix`` propagating one
defect to every record) gives ``quick`` too: it sees each plain line (``\\n``-ended, past line
1) first and returns the line to write (for a record only), or None to hand it to ``change``.

With ``wanted`` (a few line numbers) only those lines are offered and the rest of the file is
copied in large chunks (:func:`~ldjfix.ldjson.lines.scan`), so replacing 2,000 lines of a 200 MB
file costs about a plain copy; without it every line is offered (propagating a fix to every
record, replaying fixes by objectId).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

import orjson

from ldjfix.ldjson.lines import BOM, Line, Shape, make_line, scan
from ldjfix.ldjson.serial import dump_json


class Keep(enum.Enum):
    """What ``change`` returns for a line that stays as it is, or that is left out."""

    KEEP = "keep"
    DROP = "drop"


KEEP = Keep.KEEP
DROP = Keep.DROP
Replacement = Keep | dict[str, Any] | bytes  # a record is re-serialised; bytes are the new content
Quick = Callable[[int, bytes], bytes | None]  # (number, line with its \n) -> the line to write


def write_replaced(
    source: BinaryIO,
    out: BinaryIO,
    change: Callable[[Line], Replacement],
    *,
    wanted: Iterable[int] | None = None,
    only_changed: bool = False,
    quick: Quick | None = None,
) -> Shape:
    """Copy ``source`` to ``out`` with each line ``change`` replaces replaced; its shape.

    ``only_changed`` writes the replaced lines alone, each ending in ``\\n`` (merge's
    ``--only-corrected``). The returned :class:`~ldjfix.ldjson.lines.Shape` counts the lines
    and lists the wanted line numbers past the end of the file.
    """
    if wanted is None:
        return _every_line(source, out, change, only_changed, quick)
    shape = Shape()
    for item in scan(source, wanted, shape):
        if isinstance(item, bytes):
            if not only_changed:
                out.write(item)
        else:
            _put(out, item, change(item), only_changed)
    return shape


def _every_line(
    source: BinaryIO,
    out: BinaryIO,
    change: Callable[[Line], Replacement],
    only_changed: bool,
    quick: Quick | None,
) -> Shape:
    shape = Shape()
    head = source.peek(len(BOM))[: len(BOM)] if hasattr(source, "peek") else b""
    if head == BOM:
        shape.bom = True
        if not only_changed:
            out.write(BOM)  # iter_lines takes it off line 1; it is not part of the record
    number = 0
    for number, raw in enumerate(source, 1):  # binary iteration splits on b"\n" only
        if quick is not None and number > 1 and raw[-1:] == b"\n" and raw[-2:-1] != b"\r":
            new = quick(number, raw)
            if new is not None:
                if new is not raw or not only_changed:
                    out.write(new)
                continue  # a record (not blank) ending in \n: nothing to add to the shape
        line = make_line(number, raw[len(BOM) :] if number == 1 and head == BOM else raw)
        shape.crlf = shape.crlf or line.ending == b"\r\n"
        shape.blank_lines = shape.blank_lines or line.is_blank
        shape.ends_with_newline = bool(line.ending)
        _put(out, line, change(line), only_changed)
    shape.lines = number
    return shape


def _put(out: BinaryIO, line: Line, new: Replacement, only_changed: bool) -> None:
    if new is KEEP:
        if not only_changed:
            out.write(line.content + line.ending)
    elif new is not DROP:
        if type(new) is dict:  # the common case, one call: dump_json copes with deep records
            try:
                content = orjson.dumps(new)
            except TypeError:
                content = dump_json(new)
        else:
            content = new if isinstance(new, bytes) else dump_json(new)
        out.write(content + (b"\n" if only_changed else line.ending))
