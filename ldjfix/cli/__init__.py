"""The ``ldjfix`` command line: options in, one library call, a reporter, an exit code.

Kept thin on purpose: one module per command group (``mapping``, ``validate``, ``fixing``,
``upload``, ``run``, ``sandbox``), shared options declared once in :mod:`ldjfix.cli.options`,
library modules imported inside each command so that ``ldjfix --help`` starts fast, and every
:class:`~ldjfix.errors.LdjfixError` becomes ``Error: …`` on stderr with its exit code in exactly
one place (:class:`~ldjfix.cli.app.LdjfixGroup`).
"""

from ldjfix.cli import fixing, mapping, run, sandbox, upload, validate
from ldjfix.cli.app import cli

__all__ = ["cli", "main"]
_COMMANDS = (fixing, mapping, run, sandbox, upload, validate)  # imported to register them


def main() -> None:
    """Entry point of the ``ldjfix`` command."""
    cli.main(prog_name="ldjfix")
