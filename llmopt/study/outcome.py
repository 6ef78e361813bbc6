"""Outcome constraints: bounds on what a trial measured (cost per example <= $0.002, p95 latency <= 2 s).

A trial that breaks one keeps its values but never enters the Pareto front, and samplers
steer away from it through `TrialRecord.constraint_violation`.

>>> c = OutcomeConstraint.parse("cost <= 0.002")
>>> c, c.violation(0.003), c.violation(0.001)
(OutcomeConstraint(name='cost', op='<=', bound=0.002), 0.5, 0.0)
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from llmopt.errors import StudyError

_FORM = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class OutcomeConstraint:
    """`name op bound`, where name is an objective or a stored measure and op is <= or >=."""

    name: str
    op: str
    bound: float

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise StudyError(f"outcome constraint {self.name!r}: op must be '<=' or '>=', got {self.op!r}", "e.g. 'cost <= 0.002'")
        if not math.isfinite(self.bound):
            raise StudyError(f"outcome constraint {self.name!r}: bound must be finite, got {self.bound!r}", "give a number")

    @classmethod
    def parse(cls, spec: str | OutcomeConstraint | Mapping[str, Any]) -> OutcomeConstraint:
        if isinstance(spec, OutcomeConstraint):
            return spec
        if isinstance(spec, Mapping):
            return cls(str(spec["name"]), str(spec["op"]), float(spec["bound"]))
        match = _FORM.match(str(spec))
        if not match:
            raise StudyError(f"cannot read outcome constraint {spec!r}", "write 'name <= number' or 'name >= number', e.g. 'cost <= 0.002'")
        try:
            bound = float(match.group(3))
        except ValueError:
            raise StudyError(f"outcome constraint {spec!r}: {match.group(3)!r} is not a number", "e.g. 'cost <= 0.002'") from None
        return cls(match.group(1), match.group(2), bound)

    def violation(self, value: float) -> float:
        """0 when it holds, else the excess relative to the bound (absolute when the bound is 0)."""
        excess = value - self.bound if self.op == "<=" else self.bound - value
        if excess <= 0:
            return 0.0
        return excess / abs(self.bound) if self.bound else excess

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "bound": self.bound}


def parse_constraints(specs: Iterable[Any] | None) -> tuple[OutcomeConstraint, ...]:
    return tuple(OutcomeConstraint.parse(s) for s in (specs or ()))


def check_constraint_names(
    constraints: Iterable[OutcomeConstraint], objectives: Sequence[str], measures: Sequence[str] | None
) -> None:
    """Refuse a constraint on a name nothing measures: it would make every trial infeasible.

    `measures` are the names a run will store; None (at creation, before the evaluation is
    known) refuses only near-misses of an objective or a built-in measure ("costt").
    """
    from llmopt.evaluation.measures import MEASURES

    known = [*objectives, *(measures if measures is not None else MEASURES)]
    for constraint in constraints:
        if constraint.name in known:
            continue
        close = difflib.get_close_matches(constraint.name, known, n=1, cutoff=0.75)
        if measures is None and not close:
            continue  # may be a custom measure of the evaluation: checked when optimize starts
        hint = f"did you mean {close[0]!r}?" if close else "constrain an objective or a measure the evaluation stores"
        raise StudyError(
            f"outcome constraint {constraint.name!r} names nothing this study measures (known: {sorted(set(known))})", hint
        )


def violation_of(constraints: Iterable[OutcomeConstraint], values: Mapping[str, float] | None,
                 measures: Mapping[str, float] | None) -> float | None:
    """Sum of relative violations; None when a constrained quantity is unknown (e.g. a FAILED trial)."""
    known = {**(measures or {}), **(values or {})}
    total = 0.0
    for constraint in constraints:
        value = known.get(constraint.name)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        total += constraint.violation(float(value))
    return total
