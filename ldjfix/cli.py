"""The ``ldjfix`` command line: options in, one library call, a reporter, an exit code.

Kept thin on purpose: library modules are imported inside each command so that
``ldjfix --help`` starts fast, and every :class:`~ldjfix.errors.LdjfixError` becomes
``Error: …`` on stderr with its exit code in exactly one place (:class:`LdjfixGroup`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import __version__
from .errors import LdjfixError

F = TypeVar("F", bound=Callable[..., Any])


class LdjfixGroup(click.Group):
    """A click group that turns ldjfix's errors into a message and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LdjfixError as exc:
            click.echo(f"Error: {exc}", err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing half-written was left behind.", err=True)
            raise click.exceptions.Exit(130) from None


@click.group(cls=LdjfixGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ldjfix")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for HTTP traffic).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Get rejected CRM LDJSON files into Gong.

    Maps every error of a Gong request status onto your file, pulls out the failing records,
    fixes them by rules or at the terminal, and resubmits until Gong says DONE.
    Exit codes: 0 success, 1 defects remain, 2 usage, 3 local input problem, 4 remote problem.
    """
    ctx.obj = {"verbose": verbose}


def main() -> None:
    """Entry point of the ``ldjfix`` command."""
    cli.main(prog_name="ldjfix")


if __name__ == "__main__":  # pragma: no cover
    main()
