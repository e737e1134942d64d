"""--max-failure-rate reads counts from saved job files: one Gong left out is 0, not a crash."""

from __future__ import annotations

from typing import Any

import pytest

from ldjfix.gong.status import Status, status_from_dict
from ldjfix.loop.failrate import check_failure_rate


def _statuses(name: str) -> Status:
    return status_from_dict({"status": "FAILED", "errors": []}, source=name)


@pytest.mark.parametrize("failed", [None, "12", True, -3, 1.5])
def test_failrate_count_gong_left_out_is_zero(failed: Any) -> None:
    """A totalErrorCount that is null, text, a boolean or negative (a damaged or odd status)
    counts as 0 failed: the job is not stopped on it and nothing raises (it was a TypeError)."""
    settled = {"round": 1, "notes": {"uploads": [{"upload": "r01", "records": 10,
                                                  "totalErrorCount": failed}]}}  # fmt: skip
    assert check_failure_rate(settled, 50.0, _statuses) is None


def test_failrate_counts_that_are_counts_still_stop() -> None:
    """9 of 10 failed is over 50 %: the stop document names the upload and its rate."""
    settled = {"round": 1, "notes": {"uploads": [{"upload": "r01", "records": 10,
                                                  "totalErrorCount": 9}]}}  # fmt: skip
    stop = check_failure_rate(settled, 50.0, _statuses)
    assert stop is not None and stop["uploads"] == [
        {"upload": "r01", "records": 10, "failed": 9, "rate": 90.0}
    ]
