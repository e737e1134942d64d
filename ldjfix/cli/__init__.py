"""The ``ldjfix`` command line: options in, one library call, a reporter, an exit code.

Kept thin on purpose: one module per command group (``mapping``, ``validate``, ``fixing``,
``upload``, ``run``, ``sandbox``, ``completion``, ``integrations``, ``schema``, ``rules``),
shared options declared once in :mod:`ldjfix.cli.options`, library modules imported inside each
command so that ``ldjfix --help`` starts fast, and every :class:`~ldjfix.errors.LdjfixError` becomes
``Error: …`` on stderr with its exit code in exactly one place
(:class:`~ldjfix.cli.app.LdjfixGroup`).
"""

from ldjfix.cli import (
    completion,
    fixing,
    integrations,
    mapping,
    rules,
    run,
    sandbox,
    schema,
    upload,
    validate,
)
from ldjfix.cli.app import cli
from ldjfix.cli.completion import attach_completion

__all__ = ["cli", "main"]
_COMMANDS = (  # imported to register them
    *(completion, fixing, integrations, mapping, rules, run),
    *(sandbox, schema, upload, validate),
)
attach_completion(cli)  # after every command is registered: object types, paths


def main() -> None:
    """Entry point of the ``ldjfix`` command."""
    cli.main(prog_name="ldjfix")
