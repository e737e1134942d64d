"""Commands load when asked for: each is reachable, and one command imports only its own group."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys

import ldjfix.cli
from ldjfix.cli import _COMMANDS, cli


def test_lazy_commands_table_names_every_command_of_every_module() -> None:
    """Importing every cli module registers exactly the commands the table names, and completion."""
    for module in pkgutil.iter_modules(ldjfix.cli.__path__):
        importlib.import_module(f"ldjfix.cli.{module.name}")
    assert set(cli.commands) == {*_COMMANDS, "completion"}
    for name, module in _COMMANDS.items():
        callback = cli.commands[name].callback
        assert callback is not None and callback.__module__ == module, name


def test_lazy_commands_extract_imports_no_other_command_group() -> None:
    """``ldjfix extract --help`` loads the mapping commands only; ``--help`` lists them all."""
    code = (
        "import sys\n"
        "from ldjfix.cli import cli\n"
        "cli.main(['extract', '--help'], prog_name='ldjfix', standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.startswith('ldjfix.cli.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(done.stdout.splitlines()[-1])
    assert "ldjfix.cli.mapping" in loaded
    assert not {"ldjfix.cli.run", "ldjfix.cli.upload", "ldjfix.cli.sandbox"} & set(loaded)
    listed = subprocess.run(
        [sys.executable, "-m", "ldjfix", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert all(f"  {name} " in listed for name in [*_COMMANDS, "completion"])


def test_lazy_commands_complete_object_types_of_a_lazy_command() -> None:
    """Completion reaches a command loaded lazily: ``validate -t ac`` completes ``ACCOUNT``."""
    env = {
        "_LDJFIX_COMPLETE": "bash_complete",
        "COMP_WORDS": "ldjfix validate -t ac",
        "COMP_CWORD": "3",
    }
    done = subprocess.run(
        [sys.executable, "-m", "ldjfix"], capture_output=True, text=True, env=env, check=False
    )
    assert "ACCOUNT" in done.stdout
