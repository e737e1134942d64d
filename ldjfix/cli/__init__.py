"""The ``ldjfix`` command line: options in, one library call, a reporter, an exit code.

Kept thin on purpose: one module per command group (``mapping``, ``validate``, ``fixing``,
``upload``, ``run``, ``sandbox``, ``completion``, ``integrations``, ``schema``, ``rules``), each
imported only when one of its commands is asked for (and library modules imported inside each
command), so that a command starts fast; shared options declared once in
:mod:`ldjfix.cli.options`; every :class:`~ldjfix.errors.LdjfixError` becomes ``Error: …`` on
stderr with its exit code in exactly one place (:class:`~ldjfix.cli.app.LdjfixGroup`).
"""

from ldjfix.cli.app import cli
from ldjfix.cli.completion import attach_completion

__all__ = ["cli", "main"]
_COMMANDS = {  # each command and the module that registers it, imported when it is asked for
    **dict.fromkeys(("annotate", "extract", "merge"), "ldjfix.cli.mapping"),
    **dict.fromkeys(("fix", "replay"), "ldjfix.cli.fixing"),
    **dict.fromkeys(("upload", "status"), "ldjfix.cli.upload"),
    **{name: f"ldjfix.cli.{name}" for name in ("integrations", "rules", "run", "sandbox")},
    **{name: f"ldjfix.cli.{name}" for name in ("schema", "validate")},
}
cli.load_lazily(_COMMANDS, prepare=attach_completion)  # object types and paths completed
attach_completion(cli)  # the commands loaded already (completion itself)


def main() -> None:
    """Entry point of the ``ldjfix`` command."""
    cli.main(prog_name="ldjfix")
