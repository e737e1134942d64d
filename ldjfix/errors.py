"""The one error tree: every failure that stops a command, each with its exit code.

Exit codes (README "At a glance"): 0 success; 1 data still has defects / job ended with
quarantined records; 2 usage; 3 local input problem; 4 remote problem after retries.
The CLI turns any of these into ``Error: <message>`` on stderr and the class's code.
"""

from __future__ import annotations


class LdjfixError(Exception):
    """Base of every error ldjfix raises on purpose."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class DefectsRemain(LdjfixError):
    """The data still has defects, or a job ended with quarantined records."""

    exit_code = 1


class UsageProblem(LdjfixError):
    """The command line itself is wrong (conflicting or missing options)."""

    exit_code = 2


class InputProblem(LdjfixError):
    """A local input cannot be used: missing or unreadable file, bad status, rules or schema."""

    exit_code = 3


class RemoteProblem(LdjfixError):
    """Gong (or the sandbox) could not be used after retries: auth, network, timeout, 4xx/5xx."""

    exit_code = 4


class JobStopped(LdjfixError):
    """A job that could not reach its end; it carries the exit code of what stopped it."""

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
