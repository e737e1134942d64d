"""A defect fixed before, compiled into one check and one change per record.

A file bad everywhere is bad the same way in every record: milliseconds in each
``modifiedDate``, fixed by one rule. The general path works each such record out from scratch:
the whole-schema screen, the failure explained by its shape, the plan looked up, the action
run on a copy, a :class:`~ldjfix.fixing.fixer.Fix`, an ``Outcome`` and a ``Decision`` built,
the changed field checked again. :class:`KnownFix` makes the same decisions for a record
failing the way the last one did, with no object per record: the shape's relaxed check (the
schema without the shape's fields), the shape's field rules (the one finding the plan fixed),
the value change, and the field rules again on the new value.

It is the general path's own answer, not a guess: a record it does not fit is left untouched
and goes the general path, which says why (a differential test holds the two together on files
of mixed defects, byte for byte).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ldjfix.fixing.actions import CannotApply, same_json
from ldjfix.fixing.conversions import ConversionError
from ldjfix.validation.shapes import Check, Failure, Known, ShapeCache

MISS: Final = object()  # what apply() returns for a record this fix is not for
CLEAN: Final = object()  # what apply() returns for a record with no defect at all
_findings = ShapeCache.findings
_EMPTY: Final[tuple[Any, ...]] = (None, "", [])  # a mandatory field so is explained as missing


@dataclass(slots=True, eq=False)
class KnownFix:
    """One defect (``finding``) fixed by setting ``field`` to ``change(old value)``."""

    finding: Failure  # (field, text, severity): the record's one finding, as the shape gives it
    field: str  # the field the change sets (there before, there after)
    why: str  # the reason fixes.jsonl gives the change
    defect: str  # the defect the summary groups it under
    shape: Known  # the failure shape that explained it (fields, their rules, relaxed check)
    change: Callable[[Any], Any]  # old value -> new; raises CannotApply or ConversionError
    validator: Any  # the local validator whose shape it is (its passes() when by_field is not)
    by_field: bool  # no rule reads a value but by name: the shape's field rules decide
    # a shape of one rule, of ``field``: that rule, whether the field is mandatory, and
    # whether the rule failing is ``finding`` (then the findings need not be built)
    _rule: Check | None = dataclasses.field(init=False)
    _mandatory: bool = dataclasses.field(init=False)
    _is_finding: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        flat = self.shape[1]
        self._rule = flat[0][1] if len(flat) == 1 and flat[0][0] == self.field else None
        self._mandatory = len(flat) == 1 and flat[0][4]
        self._is_finding = len(flat) == 1 and (flat[0][0], flat[0][2], flat[0][3]) == self.finding

    def apply(self, record: dict[str, Any]) -> Any:
        """Fix ``record`` in place and return the value it had. :data:`CLEAN` when ``record``
        has no defect at all (the shape's relaxed check and field rules are the whole schema);
        :data:`MISS` (``record`` as it was) when its failure is not this one, or the change
        does not fit or leaves a defect."""
        keys, flat, relaxed = self.shape
        name = self.field
        rule = self._rule  # a shape of one rule, of this field: the findings are that rule's
        try:
            if not (record.keys() >= keys and name in record and relaxed(record)):
                return MISS
            old = record[name]
            if rule is not None:
                if rule(old):
                    return CLEAN
                if not self._is_finding or (self._mandatory and old in _EMPTY):
                    return MISS  # another text (a mandatory field left empty, say)
            else:
                found = _findings(record, flat)
                if len(found) != 1 or found[0] != self.finding:
                    return MISS if found else CLEAN
            new = self.change(old)
        except (CannotApply, ConversionError, ValueError, RecursionError):
            return MISS  # deep records, values the action cannot read: the general path says why
        if type(new) is str and type(old) is str:  # the common case, compared without a call
            if new == old:
                return MISS
        elif same_json(new, old):
            return MISS
        record[name] = new
        try:
            if not self.by_field:
                passed = self.validator.passes(record)
            else:
                passed = rule(new) if rule is not None else not _findings(record, flat)
        except (ValueError, RecursionError):
            passed = False
        if passed:
            return old
        record[name] = old  # a defect is left: the general path says which
        return MISS
