"""The ``ldjfix`` group itself: -v, the version, and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import click

from ldjfix import __version__
from ldjfix.colour import disable, paint
from ldjfix.errors import ExitCode, LdjfixError
from ldjfix.ldjson.printable import safe


class LdjfixGroup(click.Group):
    """A click group that turns ldjfix's errors into a message and the documented exit code.

    Commands are imported when first asked for (:meth:`load_lazily`): ``ldjfix extract`` starts
    without importing the modules of ``run``, ``upload`` or ``sandbox``; ``--help`` and shell
    completion ask for every command, so they see them all.
    """

    lazy: dict[str, str]  # command name -> the module whose import registers it
    prepare: Callable[[click.Command], None]

    def load_lazily(self, lazy: dict[str, str], prepare: Callable[[click.Command], None]) -> None:
        """Register ``lazy`` commands by module; ``prepare`` each one when it is loaded."""
        self.lazy, self.prepare = lazy, prepare

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *getattr(self, "lazy", {})})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = getattr(self, "lazy", {}).get(cmd_name)
        if cmd_name not in self.commands and module is not None:
            importlib.import_module(module)  # its decorators add it to self.commands
            self.prepare(self.commands[cmd_name])
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        take_sigterm_as_ctrl_c()
        try:
            return super().invoke(ctx)
        except LdjfixError as exc:
            click.echo(f"{paint('Error:', 'error')} {safe(str(exc))}", err=True)  # quotes data
            raise click.exceptions.Exit(exc.exit_code) from None
        except OSError as exc:  # a file-system failure no layer named: still one line, exit 3
            from ldjfix.ldjson.files import write_failure

            problem = write_failure(exc.filename or "a file", exc)
            click.echo(f"Error: {problem}", err=True)
            raise click.exceptions.Exit(problem.exit_code) from None
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing half-written was left behind.", err=True)
            raise click.exceptions.Exit(ExitCode.INTERRUPTED) from None


def take_sigterm_as_ctrl_c() -> None:
    """SIGTERM (a cron timeout, ``kill``, a container stopping) stops a command as Ctrl-C does.

    Every command then ends the same way for both: outputs not half-written, the message of
    the command's own interrupt path, exit 130. ``run`` installs its own orderly handler
    (:mod:`ldjfix.jobs.interrupts`) while its jobs work.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.group(cls=LdjfixGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ldjfix")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for HTTP traffic).")
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour on the terminal (also: NO_COLOR set to any value). Pipes never get colour.",
)
def cli(verbose: int, no_color: bool) -> None:
    """Get rejected CRM LDJSON files into Gong.

    Maps every error of a Gong request status onto your file, pulls out the failing records,
    fixes them by rules or at the terminal, and resubmits until Gong says DONE.
    Exit codes: 0 success, 1 defects remain, 2 usage, 3 local input problem, 4 remote problem,
    130 interrupted (Ctrl-C).
    """
    show_detail(verbose)
    if no_color:
        disable()


def show_detail(verbose: int) -> None:
    """-v shows retries and waits on stderr; -vv also each HTTP request (never credentials)."""
    if not verbose:
        return  # logging is imported only when asked for: extract and --help start faster
    import logging

    if verbose:
        logging.basicConfig(format="%(name)s: %(message)s")  # stderr
        logging.getLogger("ldjfix").setLevel(logging.INFO)
    if verbose > 1:
        logging.getLogger("httpx").setLevel(logging.INFO)
