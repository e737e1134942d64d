"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases"
SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.fixture
def cases() -> Path:
    """The folder of small tricky input files."""
    return CASES


def pytest_configure(config: pytest.Config) -> None:
    """Run hermetic: GONG_*/LDJFIX_* from the developer's shell never reach a test.

    The README's second line is run by people who keep GONG_BASE_URL (or credentials) in their
    shell profile; every test, and every process a test starts from ``os.environ``, sees only
    the variables the test itself sets.
    """
    for name in [n for n in os.environ if n.startswith(("GONG_", "LDJFIX_"))]:
        del os.environ[name]
