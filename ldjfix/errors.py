"""The one error tree: every failure that stops a command, each with its exit code.

Exit codes (README "At a glance"): 0 success; 1 data still has defects / job ended with
quarantined records; 2 usage; 3 local input problem; 4 remote problem after retries;
130 interrupted. :class:`ExitCode` names them.
The CLI turns any of these into ``Error: <message>`` on stderr and the class's code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit code ldjfix documents; results and errors map to these and nothing else."""

    OK = 0  # valid / DONE / nothing left to fix
    DEFECTS = 1  # data still has defects, or the job ended with quarantined records
    USAGE = 2  # the command line is wrong
    INPUT = 3  # a local input cannot be used
    REMOTE = 4  # Gong could not be used after retries
    INTERRUPTED = 130  # Ctrl-C: everything consistent and resumable


class LdjfixError(Exception):
    """Base of every error ldjfix raises on purpose."""

    exit_code = ExitCode.INPUT

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class DefectsRemain(LdjfixError):
    """The data still has defects, or a job ended with quarantined records."""

    exit_code = ExitCode.DEFECTS


class UsageProblem(LdjfixError):
    """The command line itself is wrong (conflicting or missing options)."""

    exit_code = ExitCode.USAGE


class InputProblem(LdjfixError):
    """A local input cannot be used: missing or unreadable file, bad status, rules or schema."""

    exit_code = ExitCode.INPUT


class RemoteProblem(LdjfixError):
    """Gong (or the sandbox) could not be used after retries: auth, network, timeout, 4xx/5xx."""

    exit_code = ExitCode.REMOTE


class JobStopped(LdjfixError):
    """A job that could not reach its end; it carries the exit code of what stopped it."""

    def __init__(self, message: str, *, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code
