"""The parts of one ``ldjfix run`` job from the choices made: its validator and its fixer.

Kept apart from :mod:`ldjfix.loop.rounds` so the loop takes only ready-made parts; the runner
(:mod:`ldjfix.jobs.runner`) builds them with these for every job, one file or many.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ldjfix.fixing.fixer import Fixer, QuarantineFixer
from ldjfix.loop.folder import JobFolder

if TYPE_CHECKING:
    from ldjfix.fixing.rules import Rules
    from ldjfix.jobs.settings import Settings
    from ldjfix.validation.validator import Validator


@dataclass(frozen=True, slots=True)
class FixChoice:
    """How reported records get fixed: a rules file, a person at the terminal, or neither."""

    rules: Path | None = None
    interactive: bool = False


def make_validator(
    object_type: str, schema_file: Path | None = None, *, strict: bool = False
) -> Validator:
    """The local validator for ``object_type`` (custom fields from a saved schema; --strict)."""
    from ldjfix.validation.validator import Validator, load_entity_schema

    schema = load_entity_schema(schema_file) if schema_file is not None else None
    source = f"schema file {schema_file}" if schema_file is not None else "the entity schema"
    return Validator(object_type, entity_schema=schema, strict=strict, schema_source=source)


@dataclass(frozen=True, slots=True)
class Checks:
    """How a job checks records and keeps history: --schema-file, --strict, --keep-history."""

    schema_file: Path | None = None
    strict: bool = False
    keep_history: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> Checks:
        """From the settings in force (unset keep_history: the default)."""
        keep = settings.keep_history
        return cls(settings.schema_file, settings.strict, 10 if keep is None else keep)


def make_fixer(choice: FixChoice, validator: Validator, job_dir: Path | None = None) -> Fixer:
    """The fixer for ``choice``: rules, interactive, or quarantine everything reported.

    Interactive answers are kept in the job folder, so quit-and-save (or a crash) followed by
    the same command replays them and asks only what is still open.
    """
    if choice.interactive:
        from ldjfix.fixing.interactive import InteractiveFixer

        return InteractiveFixer(
            rules=_rules(choice.rules),
            validator=validator,
            progress=JobFolder(job_dir).answers if job_dir is not None else None,
        )
    rules = _rules(choice.rules)
    if rules is not None:
        from ldjfix.fixing.rules_fixer import RulesFixer

        return RulesFixer(rules, validator=validator)
    return QuarantineFixer()


def _rules(path: Path | None) -> Rules | None:
    if path is None:
        return None
    from ldjfix.fixing.rules import load_rules

    return load_rules(path)
