"""One ``ldjfix run`` job from command-line choices: its validator, fixer and client, then the loop.

Kept apart from :mod:`ldjfix.loop.rounds` so the loop takes only ready-made parts (and a batch
can build them its own way), and apart from the CLI so the command stays a few lines.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldjfix.errors import UsageProblem
from ldjfix.fixing.fixer import Fixer, QuarantineFixer
from ldjfix.ldjson.files import STDIO
from ldjfix.loop.outputs import JobReport


@dataclass(frozen=True, slots=True)
class FixChoice:
    """How reported records get fixed: a rules file, a person at the terminal, or neither."""

    rules: Path | None = None
    interactive: bool = False


def make_validator(object_type: str, schema_file: Path | None = None) -> Any:
    """The local validator for ``object_type`` (with custom fields from a saved schema)."""
    from ldjfix.validation.validator import Validator

    schema = None
    if schema_file is not None:
        import orjson

        from ldjfix.ldjson.files import read_input

        schema = orjson.loads(read_input(schema_file, what="schema file"))
    return Validator(object_type, entity_schema=schema)


ANSWERS = "interactive-answers.jsonl"


def make_fixer(choice: FixChoice, validator: Any, job_dir: Path | None = None) -> Fixer:
    """The fixer for ``choice``: rules, interactive, or quarantine everything reported.

    Interactive answers are kept in the job folder, so quit-and-save (or a crash) followed by
    the same command replays them and asks only what is still open.
    """
    if choice.interactive:
        from ldjfix.fixing.interactive import InteractiveFixer

        return InteractiveFixer(
            rules=_rules(choice.rules),
            validator=validator,
            progress=job_dir / ANSWERS if job_dir is not None else None,
        )
    if choice.rules is not None:
        from ldjfix.fixing.rules_fixer import RulesFixer

        return RulesFixer(_rules(choice.rules), validator=validator)
    return QuarantineFixer()


def _rules(path: Path | None) -> Any:
    if path is None:
        return None
    from ldjfix.fixing.rules import load_rules

    return load_rules(path)


def check_source(path: Path) -> None:
    """``run`` needs a real file it can read again on resume: not stdin."""
    if str(path) == STDIO:
        raise UsageProblem("run needs a file, not - (stdin): it reads the source again on resume.")


def run_one(
    source: Path,
    *,
    object_type: str,
    integration_id: int,
    choice: FixChoice,
    connection: Any,
    job_dir: Path | None = None,
    max_rounds: int = 10,
    on_event: Callable[..., None] | None = None,
    env: Mapping[str, str] | None = None,
) -> JobReport:
    """Build the parts of one job and run it to its end state."""
    from ldjfix.jobs.remote import open_client
    from ldjfix.loop.journal import crash_hook_from_env
    from ldjfix.loop.rounds import JobSpec, run_job

    check_source(source)
    env = os.environ if env is None else env
    validator = make_validator(object_type)
    spec = JobSpec(source, object_type, integration_id, job_dir, max_rounds)
    fixer = make_fixer(choice, validator, spec.folder)
    with open_client(connection, env=env) as client:
        return run_job(
            spec,
            client=client,
            fixer=fixer,
            validator=validator,
            on_event=on_event,
            crash_hook=crash_hook_from_env(env),
        )
