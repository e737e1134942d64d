"""``$EDITOR`` for the interactive fixer: open text, get the saved text back.

The editor is ``$VISUAL``, else ``$EDITOR``, else ``vi``, split like a shell would (so
``EDITOR="code --wait"`` works), run on a temporary ``.json`` file that is always removed.
:func:`diff` turns an edit into the changes it made, one :class:`~ldjfix.fixing.fixer.Fix` per
field.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ldjfix.fixing.fixer import Fix


def run_editor(text: str) -> str | None:
    """Open ``text`` in the editor; the saved text, or None when it failed or did not start."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix="ldjfix-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        try:
            done = subprocess.run([*shlex.split(editor), name], check=False)
        except (OSError, ValueError):  # not found, or an unbalanced quote in $EDITOR
            return None
        if done.returncode != 0:
            return None
        # the editor may have removed or replaced the file (EDITOR=rm)
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def diff(line: int, before: dict[str, Any], after: dict[str, Any], why: str) -> list[Fix]:
    """One :class:`Fix` per field that an edit added, changed or removed."""
    oid = before.get("objectId")
    object_id = oid if isinstance(oid, str) else None
    fixes = []
    for name in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(name), after.get(name)
        if name not in after or name not in before or old != new:
            fixes.append(Fix(line, object_id, name, old, new, why))
    return fixes
