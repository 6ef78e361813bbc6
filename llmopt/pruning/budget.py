"""BudgetPruner: stop a trial whose projected cost over the whole evaluation set passes a per-trial budget."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from llmopt.errors import StudyError
from llmopt.pruning.base import GO_ON, ObjectiveSeries, PartialTrial, Pruner, PruneDecision, check_alpha, check_count
from llmopt.pruning.bounds import interval

MODES = ("surely", "projected", "possibly")


class BudgetPruner(Pruner):
    """Stop when the trial has spent `max_cost`, or its cost over all examples would pass it.

    The projection is the mean cost per example so far x n_total, with anytime-valid bounds at
    `alpha`. `when` says how sure to be: "surely" (the lower bound passes the budget: an
    affordable trial is stopped with chance <= alpha), "projected" (the estimate passes it) or
    "possibly" (the upper bound passes it: fewest overruns, most false stops). The per-example
    costs are the series or extra meter named `meter`.

    >>> import numpy as np
    >>> from llmopt.pruning.base import PartialTrial
    >>> trial = PartialTrial(3, {}, 20, 200, complete=False, extras={"cost": np.full(20, 0.02)})
    >>> BudgetPruner(max_cost=1.0).decide(trial, [], 1, 4).reason
    'projected cost 4 (at least 3...) over 200 examples passes the budget 1 at 20/200 examples'
    """

    name: ClassVar[str] = "budget"

    def __init__(self, max_cost: float, meter: str = "cost", when: str = "projected", alpha: float = 0.05,
                 min_examples: int = 10) -> None:
        if not isinstance(max_cost, (int, float)) or not max_cost > 0 or not math.isfinite(max_cost):
            raise StudyError(f"BudgetPruner: max_cost must be a positive number, got {max_cost!r}", "e.g. max_cost=2.0 (dollars per trial)")
        if when not in MODES:
            raise StudyError(f"BudgetPruner: when must be one of {MODES}, got {when!r}", "e.g. when='projected'")
        self.max_cost, self.meter, self.when = float(max_cost), meter, when
        self.alpha = check_alpha("BudgetPruner", alpha)
        self.min_examples = check_count("BudgetPruner", "min_examples", min_examples, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name, "max_cost": self.max_cost, "meter": self.meter, "when": self.when,
                "alpha": self.alpha, "min_examples": self.min_examples}

    def _costs(self, trial: PartialTrial) -> np.ndarray:
        if self.meter in trial.series:
            return trial.series[self.meter].values
        if self.meter in trial.extras:
            return np.asarray(trial.extras[self.meter], dtype=float)
        raise StudyError(f"BudgetPruner: trial {trial.number} has no per-example {self.meter!r} values",
                         f"pass them as an objective series or in PartialTrial.extras[{self.meter!r}]")

    def decide(self, current: PartialTrial, others: Sequence[PartialTrial], stage: int, n_stages: int) -> PruneDecision:
        costs = self._costs(current)
        n, n_total = current.n_scored, current.n_total
        spent = float(costs.sum())
        base = {"pruner": self.name, "meter": self.meter, "max_cost": self.max_cost, "spent": spent, "examples": n,
                "n_total": n_total}
        if spent >= self.max_cost and not current.complete:
            return PruneDecision(True, f"spent {spent:.4g} of the budget {self.max_cost:.4g} at {n}/{n_total} examples", base)
        if current.complete or n < self.min_examples:
            return GO_ON
        series = ObjectiveSeries(self.meter, "minimize", costs, aggregate="sum", bounded=(0.0, math.inf))
        projected = series.estimate(n_total=n_total)
        low, high, approximate = interval(series, n_total, self.alpha)
        judged = {"surely": low, "projected": projected, "possibly": high}[self.when]
        if judged <= self.max_cost:
            return GO_ON
        label = {"surely": f"at least {low:.4g}", "projected": f"at least {low:.4g}", "possibly": f"perhaps {high:.4g}"}[self.when]
        reason = (f"projected {self.meter} {projected:.4g} ({label}) over {n_total} examples passes the budget "
                  f"{self.max_cost:.4g} at {n}/{n_total} examples")
        details = {**base, "projected": projected, "lower": low, "upper": high if math.isfinite(high) else None,
                   "approximate": approximate, "when": self.when}
        return PruneDecision(True, reason, details)
