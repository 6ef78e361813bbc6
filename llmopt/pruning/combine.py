"""Combinators: AnyPruner (stop when any of several says so) and NopPruner (never stop)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from llmopt.errors import StudyError
from llmopt.pruning.base import GO_ON, PartialTrial, Pruner, PruneDecision


class AnyPruner(Pruner):
    """Prune when any member does, with every member's reason joined; e.g. Pareto plus a budget.

    >>> import numpy as np
    >>> from llmopt.pruning.base import PartialTrial
    >>> from llmopt.pruning.budget import BudgetPruner
    >>> trial = PartialTrial(3, {}, 20, 200, complete=False, extras={"cost": np.full(20, 0.5)})
    >>> AnyPruner([NopPruner(), BudgetPruner(max_cost=5.0)]).decide(trial, [], 1, 4).reason
    'spent 10 of the budget 5 at 20/200 examples'
    """

    name: ClassVar[str] = "any"

    def __init__(self, pruners: Sequence[Pruner]) -> None:
        if not pruners or not all(isinstance(p, Pruner) for p in pruners):
            raise StudyError(f"AnyPruner needs a non-empty list of pruners, got {pruners!r}",
                             "e.g. AnyPruner([ParetoPruner(), BudgetPruner(max_cost=2.0)])")
        self.pruners = list(pruners)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name, "pruners": [p.to_dict() for p in self.pruners]}

    def decide(self, current: PartialTrial, others: Sequence[PartialTrial], stage: int, n_stages: int) -> PruneDecision:
        said = [d for d in (p.decide(current, others, stage, n_stages) for p in self.pruners) if d.prune]
        if not said:
            return GO_ON
        return PruneDecision(True, "; ".join(d.reason for d in said), {"pruner": self.name, "decisions": [d.details for d in said]})


class NopPruner(Pruner):
    """Never prunes: stores "no pruning" as a study setting.

    >>> NopPruner().to_dict()
    {'type': 'none'}
    """

    name: ClassVar[str] = "none"

    def decide(self, current: PartialTrial, others: Sequence[PartialTrial], stage: int, n_stages: int) -> PruneDecision:
        return GO_ON
