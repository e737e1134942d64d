"""Which lines reached a function: the real function still runs, each call's line is noted."""

from __future__ import annotations

from typing import Any

import pytest


def lines_reaching(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[int]:
    """Wrap ``owner.name`` (a function whose second argument is a line number) so that every
    call's line is appended to the list returned, and the call goes on as it was."""
    real = getattr(owner, name)
    lines: list[int] = []

    def noted(first: Any, line: int, *args: Any, **kwargs: Any) -> Any:
        lines.append(line)
        return real(first, line, *args, **kwargs)

    monkeypatch.setattr(owner, name, noted)
    return lines
