"""ParetoPruner: stop a trial only when another trial is, with confidence, at least as good on every objective.

Why it is sound. A configuration on the front (no configuration is at least as good everywhere
and better somewhere) beats every other trial f strictly on some objective j(f). Pruning it via
f needs the comparison on j(f) to be wrong, so the error budget is split over objectives (m)
and, where a bound depends on the witness, over the K complete trials that could be witnesses:

- population=True: the target is the front on the task's example distribution. The
  trial's own best-case bounds are anytime-valid at alpha / (2m) each (any number of looks);
  each complete witness's worst-case bounds (fixed sample) take alpha / (2mK).
- population=False (default): the target is the front on this evaluation set (what the study
  would report without pruning). Complete witnesses' values are then exact, so the trial's own
  bounds (sampling without replacement, anytime) take alpha / m each and nothing else is needed.
- paired=True compares bounded means example by example with each witness at alpha / (mK).
Before any trial is complete, running trials that have scored at least as many examples serve
as witnesses through paired bounds only.

"Better on one" means better by more than the objective's indifference margin (see
`indifference`): by default 10% of the witness's value for latency, 2% for cost and tokens, so
two equivalent configurations never prune each other over milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from llmopt.errors import StudyError
from llmopt.pareto import non_dominated_mask
from llmopt.pruning.base import GO_ON, ObjectiveSeries, PartialTrial, Pruner, PruneDecision, check_alpha, check_count
from llmopt.pruning.bounds import best_case, interval, paired_gain_bound, worst_case
from llmopt.pruning.indifference import Indifference, check_indifference, margin
from llmopt.pruning.report import dominance_decision
from llmopt.pruning.stages import Stages


class ParetoPruner(Pruner):
    """Prune when some trial is at least as good on every objective and better on one, at level alpha.

    With one objective the witness is the best trial: "significantly worse than the best".
    `min_examples` is the floor below which nothing is pruned. `indifference` is the relative
    margin a witness must beat the trial by to count as better: one number for every objective,
    or {objective name: margin}; objectives left out get the default (10% for latency, 2% for
    cost and tokens, 0 for objectives with a finite range such as accuracy).

    >>> import numpy as np
    >>> from llmopt.pruning.base import ObjectiveSeries, PartialTrial
    >>> def trial(number, right, n):
    ...     acc = ObjectiveSeries("accuracy", "maximize", np.array(right[:n], float), bounded=(0.0, 1.0))
    ...     return PartialTrial(number, {"accuracy": acc}, n, len(right), complete=n == len(right))
    >>> best = trial(0, [1, 1, 1, 0] * 50, 200)
    >>> ParetoPruner().decide(trial(1, [1, 0, 0, 0] * 50, 40), [best], stage=2, n_stages=5).reason
    'dominated by trial 0 at 40/200 examples: accuracy 0.25 (at best 0.44...) vs 0.75 (alpha=0.05)'
    """

    name: ClassVar[str] = "pareto"
    #: Its bounds hold at every look, so looking often costs no error budget, only the look itself.
    default_stages: ClassVar[Stages] = Stages.every(10)

    def __init__(self, alpha: float = 0.05, min_examples: int = 10, population: bool = False, paired: bool = False,
                 indifference: Indifference = None) -> None:
        self.alpha = check_alpha("ParetoPruner", alpha)
        self.min_examples = check_count("ParetoPruner", "min_examples", min_examples, 1)
        for field_name, flag in (("population", population), ("paired", paired)):
            if not isinstance(flag, bool):
                raise StudyError(f"ParetoPruner: {field_name} must be True or False, got {flag!r}", f"e.g. {field_name}=True")
        self.population, self.paired = population, paired
        self.indifference = check_indifference("ParetoPruner", indifference)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name, "alpha": self.alpha, "min_examples": self.min_examples,
                "population": self.population, "paired": self.paired,
                "indifference": dict(self.indifference) if isinstance(self.indifference, dict) else self.indifference}

    def decide(self, current: PartialTrial, others: Sequence[PartialTrial], stage: int, n_stages: int) -> PruneDecision:
        n = current.n_scored
        if current.complete or n < self.min_examples:
            return GO_ON
        check_compatible(current, others)
        witnesses, exact, pool = self._witnesses(current, others)
        if not witnesses:
            return GO_ON
        levels = self.levels(len(current.series), pool, exact)
        own: dict[str, tuple[float, bool]] = {}
        for witness in witnesses:
            rows = self._compare(current, witness, exact, levels, own)
            if rows is not None and all(r["at_least"] for r in rows.values()) and any(r["strict"] for r in rows.values()):
                intervals = {name: interval(current.series[name], current.n_total, levels["own"], self.population)
                             for name in rows}
                return dominance_decision(self, current, witness, rows, intervals, levels, pool)
        return GO_ON

    def levels(self, m: int, pool: int, exact: bool) -> dict[str, float]:
        """The error level of each kind of bound (see the module docstring)."""
        if self.population:
            return {"own": self.alpha / (2 * m), "witness": self.alpha / (2 * m * pool), "paired": self.alpha / (m * pool)}
        return {"own": self.alpha / m, "witness": 0.0, "paired": self.alpha / (m * pool)}

    def _witnesses(self, current: PartialTrial, others: Sequence[PartialTrial]) -> tuple[list[PartialTrial], bool, int]:
        """(front of the complete trials, True, their count), else of running trials as far along, paired only."""
        pool = [o for o in others if o.complete and o.number != current.number]
        exact = bool(pool)
        if not exact:
            if not self.paired:
                return [], False, 0
            pool = [o for o in others if not o.pruned and o.n_scored >= current.n_scored and o.number != current.number]
        if not pool:
            return [], exact, 0
        names = list(current.series)
        points = np.array([[-o.value(k) if o.series[k].maximize else o.value(k) for k in names] for o in pool])
        return [o for o, keep in zip(pool, non_dominated_mask(points)) if keep], exact, len(pool)

    def _compare(self, current: PartialTrial, witness: PartialTrial, exact: bool, levels: dict[str, float],
                 own: dict[str, tuple[float, bool]]) -> dict[str, dict[str, Any]] | None:
        """Per objective: the current trial's best case and whether the witness (at its worst) matches or beats it."""
        n, n_total = current.n_scored, current.n_total
        rows: dict[str, dict[str, Any]] = {}
        for name, mine in current.series.items():
            theirs = witness.series[name]
            sign = 1.0 if mine.maximize else -1.0
            value = witness.value(name)
            if mine.aggregate != "quantile" and ((self.paired and _two_sided(mine)) or not exact):
                gain, approximate = paired_gain_bound(mine, theirs, n, n_total, levels["paired"], self.population)
                best, reference, paired = (value + sign * gain if exact else None), value, True
            elif exact:
                if name not in own:
                    own[name] = best_case(mine, n_total, levels["own"], self.population)
                best, approximate = own[name]
                reference, approx_witness = (worst_case(theirs, n_total, levels["witness"], True, anytime=False)
                                             if self.population else (value, False))
                gain, paired, approximate = sign * (best - reference), False, approximate or approx_witness
            else:
                return None  # a running witness gives no value to hold a quantile against
            rows[name] = {"estimate": current.value(name), "best_case": best, "witness": value,
                          "witness_worst": reference, "paired": paired, "approximate": approximate,
                          "at_least": gain <= 0, "strict": gain < -margin(mine, self.indifference, value)}
        return rows


def _two_sided(series: ObjectiveSeries) -> bool:
    """Paired differences get exact bounds only when the values have a finite range on both sides."""
    return series.bounded is not None and all(math.isfinite(b) for b in series.bounded)


def check_compatible(current: PartialTrial, others: Sequence[PartialTrial]) -> None:
    """Trials can only be compared on the same evaluation set and the same objectives."""
    for other in others:
        if other.n_total != current.n_total or set(other.series) != set(current.series):
            raise StudyError(
                f"trial {other.number} has {other.n_total} examples and objectives {sorted(other.series)}, "
                f"trial {current.number} has {current.n_total} and {sorted(current.series)}",
                "compare only trials of one study on one evaluation set",
            )
