"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases"
SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.fixture
def cases() -> Path:
    """The folder of small tricky input files."""
    return CASES
