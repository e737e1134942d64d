"""``ldjfix completion bash|zsh|fish``: the shell completion script, and what it completes.

The script is click's own (the ``_LDJFIX_COMPLETE`` protocol): the shell calls ``ldjfix`` back
with the words typed so far. :func:`attach_completion` then gives every command's parameters
their completions by name, so a command added later gets them too: object types (``-t ac`` →
``ACCOUNT``, case-insensitively, and the ``T`` of ``--file FILE:T``), file paths for files,
folders for folders. The rest (flags, choices, subcommands) click completes by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from click.shell_completion import CompletionItem, get_completion_class

from ldjfix.cli.app import cli
from ldjfix.gong.limits import UPLOAD_TYPES as OBJECT_TYPES

PROG = "ldjfix"
COMPLETE_VAR = "_LDJFIX_COMPLETE"
_TYPE_PARAMS = {"object_type", "object_types"}
_FILE_PARAMS = {
    "file", "files", "fixed", "status_file", "rules", "output", "fixes", "fixes_out",
    "rejected", "progress", "schema_file", "manifest", "config", "summary_md",
}  # fmt: skip
_DIR_PARAMS = {"job_dir", "sandbox_dir"}


def complete_object_type(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Object types starting with what was typed, whatever its case."""
    typed = incomplete.upper()
    return [CompletionItem(name) for name in OBJECT_TYPES if name.startswith(typed)]


def complete_file_spec(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``--file FILE:T``: a path, then after the colon an object type."""
    path, colon, kind = incomplete.rpartition(":")
    if not colon:
        return [CompletionItem(incomplete, type="file")]
    typed = kind.upper()
    return [CompletionItem(f"{path}:{name}") for name in OBJECT_TYPES if name.startswith(typed)]


def _complete_as(kind: str) -> Callable[..., list[CompletionItem]]:
    def complete(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return [CompletionItem(incomplete, type=kind)]

    return complete


def attach_completion(command: click.Command) -> None:
    """Give every parameter of ``command`` (and of its subcommands) its completion, by name."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            attach_completion(sub)
    for param in command.params:
        finder = _finder(param)
        if finder is not None and getattr(param, "_custom_shell_complete", None) is None:
            param._custom_shell_complete = finder  # click's own hook for shell_complete=


def _finder(param: click.Parameter) -> Any:
    if isinstance(param.type, click.Choice) or getattr(param, "is_flag", False):
        return None  # click completes these itself
    name = param.name or ""
    if name in _TYPE_PARAMS:
        return complete_object_type
    if name == "file_specs":
        return complete_file_spec
    if name in _FILE_PARAMS:
        return _complete_as("file")
    if name in _DIR_PARAMS:
        return _complete_as("dir")
    return None


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(ldjfix completion bash)"      # in ~/.bashrc
    zsh:   eval "$(ldjfix completion zsh)"       # in ~/.zshrc (after compinit)
    fish:  ldjfix completion fish > ~/.config/fish/completions/ldjfix.fish

    Completes commands, options, object types (-t ac → ACCOUNT) and file paths.
    """
    script = get_completion_class(shell)
    assert script is not None  # the three shells click knows
    click.echo(script(cli, {}, PROG, COMPLETE_VAR).source())
