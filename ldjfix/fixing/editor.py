"""``$EDITOR`` for the interactive fixer: open text, get the saved text back.

The editor is ``$VISUAL``, else ``$EDITOR``, else ``vi``, split like a shell would (so
``EDITOR="code --wait"`` works), run on a temporary ``.json`` file that is always removed.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path


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
        return Path(name).read_text(encoding="utf-8", errors="replace")
    finally:
        os.unlink(name)
