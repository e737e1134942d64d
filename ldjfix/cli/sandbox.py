"""sandbox serve: the Gong simulator on a loopback socket."""

from __future__ import annotations

from typing import Any

import click

from ldjfix.cli.app import cli


@cli.group()
def sandbox() -> None:
    """The built-in Gong simulator (use --sandbox on any command, or serve it on a socket)."""


@sandbox.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address to listen on (never another interface).",
)
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one (the URL is printed).",
)
@click.option(
    "--sandbox-dir",
    envvar="LDJFIX_SANDBOX_DIR",
    metavar="D",
    help="State folder (env LDJFIX_SANDBOX_DIR; default ~/.local/state/ldjfix/sandbox).",
)
@click.option(
    "--knobs",
    envvar="LDJFIX_SANDBOX_KNOBS",
    metavar="JSON",
    help='Fault knobs as JSON, e.g. \'{"polls": 0, "shares": {"500": 0.1}}\'.',
)
@click.option("--polls", type=click.IntRange(min=0), help="Polls before an upload is finished.")
@click.option(
    "--calls-per-second",
    type=click.FloatRange(min=0),
    help="Answer 429 above this many calls a second (0 = no limit).",
)
@click.option(
    "--fault",
    "script",
    multiple=True,
    metavar="F",
    help="Fault for the next call, in order "
    "(429, 500, 503, drop, lost, stall, cut, truncate, flap, ok).",
)
@click.option("--seed", type=int, help="Seed for the random faults of --knobs shares.")
@click.option(
    "--require-auth",
    is_flag=True,
    help="Accept only the credentials in this process's GONG_* variables.",
)
def serve(host: str, port: int, **options: Any) -> None:
    """Serve the sandbox on a loopback socket until Ctrl-C; prints its URL on stdout."""
    from ldjfix.sandbox.server import serve_forever, settings_from_options

    app_settings = settings_from_options(**options)  # the state, knobs and auth options
    serve_forever(
        app_settings,
        host=host,
        port=port,
        announce=click.echo,
        note=lambda line: click.echo(line, err=True),
    )
