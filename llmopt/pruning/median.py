"""MedianPruner: stop a trial whose running value is worse than the median of the others at the same example count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from llmopt.pruning.base import GO_ON, PartialTrial, Pruner, PruneDecision, check_count, pick_objective, signed_estimate


class MedianPruner(Pruner):
    """Optuna's classic rule on one objective, over the shared prefix of examples; no error control.

    Waits for `min_examples` scored and `n_startup_trials` other trials that reached as many
    examples (complete, running or pruned); then prunes a trial strictly worse than their median.

    >>> import numpy as np
    >>> from llmopt.pruning.base import ObjectiveSeries, PartialTrial
    >>> def trial(number, accuracy_bits):
    ...     s = ObjectiveSeries("accuracy", "maximize", np.array(accuracy_bits, float))
    ...     return PartialTrial(number, {"accuracy": s}, len(accuracy_bits), 100, complete=False)
    >>> others = [trial(i, [1, 1, 0, 1] * 5) for i in range(3)]
    >>> MedianPruner(n_startup_trials=3, min_examples=20).decide(trial(9, [0, 1] * 10), others, 1, 4).reason
    'accuracy 0.5 is worse than the median 0.75 of 3 trials at 20/100 examples'
    """

    name: ClassVar[str] = "median"

    def __init__(self, objective: str | None = None, n_startup_trials: int = 5, min_examples: int = 10) -> None:
        self.objective = objective
        self.n_startup_trials = check_count("MedianPruner", "n_startup_trials", n_startup_trials, 1)
        self.min_examples = check_count("MedianPruner", "min_examples", min_examples, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name, "objective": self.objective, "n_startup_trials": self.n_startup_trials,
                "min_examples": self.min_examples}

    def decide(self, current: PartialTrial, others: Sequence[PartialTrial], stage: int, n_stages: int) -> PruneDecision:
        n = current.n_scored
        name = pick_objective("MedianPruner", current, self.objective)
        peers = [o for o in others if o.n_scored >= n and o.number != current.number]
        if current.complete or n < self.min_examples or len(peers) < self.n_startup_trials:
            return GO_ON
        mine = signed_estimate(current, name, n)
        median = float(np.median([signed_estimate(p, name, n) for p in peers]))
        if mine >= median:
            return GO_ON
        sign = 1.0 if current.series[name].maximize else -1.0
        value, middle = sign * mine, sign * median
        reason = (f"{name} {value:.4g} is worse than the median {middle:.4g} of {len(peers)} trials "
                  f"at {n}/{current.n_total} examples")
        return PruneDecision(True, reason, {"pruner": self.name, "objective": name, "estimate": value, "median": middle,
                                            "peers": len(peers), "examples": n, "n_total": current.n_total})
