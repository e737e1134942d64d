"""When and how long to wait before trying an API call again (the stamina recipe).

Retried: transport errors (connection refused or dropped, timeouts), 429 and 5xx. Never any
other 4xx: a 400, 401 or 409 means the same request will fail the same way. Waits grow
exponentially with random jitter, capped; a 429's ``Retry-After`` is honoured as given.
"Still IN_PROGRESS" is not a failure and never comes here: that is polling (client.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


def is_retryable_status(code: int) -> bool:
    """True for the HTTP status codes worth another try: 429 and 5xx."""
    return code in RETRYABLE_STATUS or 500 <= code <= 599


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (Gong sends whole seconds); None when unusable."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP-date: Gong documents seconds, so fall back to backoff
    return seconds if seconds >= 0 else None


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a call gets and how long to wait between them."""

    attempts: int = 6
    initial: float = 0.5
    multiplier: float = 2.0
    maximum: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 300.0  # a longer Retry-After ends the call (e.g. daily quota)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 = the first retry)."""
        base = min(self.maximum, self.initial * self.multiplier ** (retry - 1))
        return base + self.rng.uniform(0, self.jitter)

    def delay(self, retry: int, retry_after: float | None) -> float:
        """The wait before retry ``retry``: ``Retry-After`` when the server sent one."""
        return self.backoff(retry) if retry_after is None else retry_after
