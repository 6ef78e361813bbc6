"""SuccessiveHalvingPruner: at each stage boundary (a rung), only the best 1/eta of the trials that reached it go on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from llmopt.errors import StudyError
from llmopt.pruning.base import GO_ON, PartialTrial, Pruner, PruneDecision, check_count, pick_objective, signed_estimate


class SuccessiveHalvingPruner(Pruner):
    """Asynchronous successive halving on one objective; no error control.

    At a rung of n examples the trial is ranked with every other trial that reached n examples
    (on their first n); it goes on if its rank is within ceil(count / eta), so the first
    trials to reach a rung always go on. Rungs are the stage boundaries from `min_examples` on.

    >>> import numpy as np
    >>> from llmopt.pruning.base import ObjectiveSeries, PartialTrial
    >>> def trial(number, accuracy):
    ...     s = ObjectiveSeries("accuracy", "maximize", np.full(20, accuracy))
    ...     return PartialTrial(number, {"accuracy": s}, 20, 100, complete=False)
    >>> others = [trial(i, a) for i, a in enumerate([0.9, 0.8, 0.7, 0.6, 0.5])]
    >>> halving = SuccessiveHalvingPruner(eta=3)
    >>> halving.decide(trial(9, 0.85), others, 1, 4).prune, halving.decide(trial(9, 0.75), others, 1, 4).reason
    (False, 'accuracy 0.75 ranks 3 of 6 at the rung of 20/100 examples; only the best 2 go on (eta=3)')
    """

    name: ClassVar[str] = "halving"

    def __init__(self, objective: str | None = None, eta: int = 3, min_examples: int = 10) -> None:
        if not isinstance(eta, int) or isinstance(eta, bool) or eta < 2:
            raise StudyError(f"SuccessiveHalvingPruner: eta must be an integer >= 2, got {eta!r}", "e.g. eta=3 keeps the best third")
        self.objective, self.eta = objective, eta
        self.min_examples = check_count("SuccessiveHalvingPruner", "min_examples", min_examples, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name, "objective": self.objective, "eta": self.eta, "min_examples": self.min_examples}

    def decide(self, current: PartialTrial, others: Sequence[PartialTrial], stage: int, n_stages: int) -> PruneDecision:
        n = current.n_scored
        name = pick_objective("SuccessiveHalvingPruner", current, self.objective)
        if current.complete or n < self.min_examples:
            return GO_ON
        peers = [signed_estimate(o, name, n) for o in others if o.n_scored >= n and o.number != current.number]
        mine = signed_estimate(current, name, n)
        keep = math.ceil((len(peers) + 1) / self.eta)
        rank = 1 + sum(p > mine for p in peers)
        if rank <= keep:
            return GO_ON
        value = mine if current.series[name].maximize else -mine
        reason = (f"{name} {value:.4g} ranks {rank} of {len(peers) + 1} at the rung of {n}/{current.n_total} examples; "
                  f"only the best {keep} go on (eta={self.eta})")
        return PruneDecision(True, reason, {"pruner": self.name, "objective": name, "estimate": value, "rank": rank,
                                            "keep": keep, "reached": len(peers) + 1, "examples": n, "n_total": current.n_total})
