"""The pruner interface: paired partial views of trials in, a decision with its reason out.

Every trial scores the study's examples in one shuffled order, so value i of one trial's series
and value i of another's are the same example: pruners compare trials on their shared prefix,
and the prefix of a trial is a random sample (without replacement) of its evaluation set.

>>> import numpy as np
>>> acc = ObjectiveSeries("accuracy", "maximize", np.array([1.0, 0.0, 1.0]), bounded=(0.0, 1.0))
>>> cost = ObjectiveSeries("cost", "minimize", np.array([0.002, 0.001, 0.003]), aggregate="sum", bounded=(0.0, math.inf))
>>> trial = PartialTrial(7, {"accuracy": acc, "cost": cost}, n_scored=3, n_total=100, complete=False)
>>> round(acc.estimate(), 3), round(cost.estimate(n_total=100), 3)   # a sum is projected to the full set
(0.667, 0.2)
>>> PruneDecision(False).prune
False
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from llmopt.errors import StudyError
from llmopt.pruning.stages import Stages

AGGREGATES = ("mean", "sum", "quantile")


@dataclass(frozen=True)
class ObjectiveSeries:
    """One objective of one trial: its per-example values so far, in study order, and how they aggregate.

    `aggregate`: "mean" (accuracy, cost per example, error rate), "sum" (a total: mean x n_total)
    or "quantile" (with `q`, e.g. latency p95 = the ceil(q n)-th smallest value). `bounded` is
    the range every value lies in; the finite side(s) make exact, distribution-free bounds
    possible, e.g. (0, 1) for a metric, (0, inf) for cost, tokens and latency. Without a range
    on the side a bound needs, an asymptotic (CLT) bound is used and marked "approximate".
    """

    name: str
    direction: Literal["maximize", "minimize"]
    values: np.ndarray
    aggregate: str = "mean"
    q: float | None = None
    bounded: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        object.__setattr__(self, "values", values)
        where = f"objective {self.name!r}"
        if self.direction not in ("maximize", "minimize"):
            raise StudyError(f"{where}: direction must be 'maximize' or 'minimize', got {self.direction!r}", "fix the direction")
        if self.aggregate not in AGGREGATES:
            raise StudyError(f"{where}: aggregate must be one of {AGGREGATES}, got {self.aggregate!r}", "e.g. aggregate='mean'")
        if self.aggregate == "quantile" and not (self.q is not None and 0 < self.q < 1):
            raise StudyError(f"{where}: a quantile aggregate needs q in (0, 1), got q={self.q!r}", "e.g. q=0.95 for p95")
        if values.ndim != 1 or not np.isfinite(values).all():
            raise StudyError(f"{where}: values must be a 1-D array of finite numbers", "score a failed example, e.g. 0.0")
        if self.bounded is not None:
            lo, hi = self.bounded
            if not lo < hi or math.isnan(lo) or math.isnan(hi):
                raise StudyError(f"{where}: bounded must be (low, high) with low < high, got {self.bounded!r}", "e.g. (0.0, 1.0)")
            if len(values) and (values.min() < lo or values.max() > hi):
                raise StudyError(f"{where}: values leave the declared range {self.bounded}: "
                                 f"min {values.min():.4g}, max {values.max():.4g}", "widen `bounded` or drop it")

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    def estimate(self, n: int | None = None, n_total: int | None = None) -> float:
        """The aggregate on the first `n` values (all by default); a "sum" is scaled to `n_total`."""
        values = self.values if n is None else self.values[:n]
        if len(values) == 0:
            return math.nan
        if self.aggregate == "quantile":
            return float(np.quantile(values, self.q, method="inverted_cdf"))
        mean = float(values.mean())
        return mean * (n_total or len(values)) if self.aggregate == "sum" else mean


@dataclass(frozen=True)
class PartialTrial:
    """A trial as a pruner sees it: a series per objective over the examples scored so far.

    `complete` trials have scored all `n_total` examples, so their values are exact; `pruned`
    ones stopped early (classic pruners rank them at the examples they reached). `extras` holds
    per-example meters that are not objectives, e.g. cost for a budget when only accuracy is
    optimised.
    """

    number: int
    series: Mapping[str, ObjectiveSeries]
    n_scored: int
    n_total: int
    complete: bool
    pruned: bool = False
    extras: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.n_scored <= self.n_total:
            raise StudyError(f"trial {self.number}: need 0 <= n_scored <= n_total, got {self.n_scored}, {self.n_total}",
                             "count the scored prefix of the study's example order")
        if self.complete and self.n_scored != self.n_total:
            raise StudyError(f"trial {self.number} is complete but scored {self.n_scored} of {self.n_total} examples",
                             "mark it complete only when every example is scored")
        for name, s in self.series.items():
            if len(s.values) != self.n_scored:
                raise StudyError(f"trial {self.number}: series {name!r} has {len(s.values)} values, n_scored={self.n_scored}",
                                 "pass exactly the scored prefix")

    def value(self, name: str) -> float:
        """The objective's estimate on the examples scored (its exact study value once complete)."""
        return self.series[name].estimate(n_total=self.n_total)


@dataclass(frozen=True)
class PruneDecision:
    """Stop or go on; `reason` is stored on the trial, `details` (JSON-safe) holds the evidence."""

    prune: bool
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)


GO_ON = PruneDecision(False)


class Pruner(ABC):
    """Decides at each stage boundary whether a trial should stop; pure, so any worker may call it."""

    #: Name under which the pruner is stored with the study (see `llmopt.pruning.PRUNERS`).
    name: ClassVar[str]
    #: When to ask, if the study does not say: rungs that double suit rank-based pruners.
    default_stages: ClassVar[Stages] = Stages.geometric(10, 2)

    @abstractmethod
    def decide(self, current: PartialTrial, others: Sequence[PartialTrial], stage: int, n_stages: int) -> PruneDecision:
        """Judge `current` after stage `stage` (0-based index into the boundaries, `n_stages` of them).

        `others` are the study's other trials with examples (complete, running or pruned).
        """

    def to_dict(self) -> dict[str, Any]:
        """Settings to store with the study, so `pruner_from_dict` rebuilds the same pruner."""
        return {"type": self.name}


def check_alpha(owner: str, alpha: float) -> float:
    """Validate an error level, naming the owner in the message."""
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise StudyError(f"{owner}: alpha must be in (0, 1), got {alpha!r}", "e.g. alpha=0.05 (5% chance of a wrong prune)")
    return float(alpha)


def check_count(owner: str, field_name: str, value: int, low: int) -> int:
    """Validate an integer setting such as `min_examples`."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise StudyError(f"{owner}: {field_name} must be an integer >= {low}, got {value!r}", f"e.g. {field_name}={max(low, 10)}")
    return value


def pick_objective(owner: str, trial: PartialTrial, objective: str | None) -> str:
    """The objective a single-objective pruner follows: the given one, or the study's only one."""
    if objective is None:
        if len(trial.series) != 1:
            raise StudyError(f"{owner} follows one objective but the study has {sorted(trial.series)}",
                             f"name it, e.g. {owner}(objective={next(iter(trial.series))!r}), or use ParetoPruner")
        return next(iter(trial.series))
    if objective not in trial.series:
        raise StudyError(f"{owner}: objective {objective!r} is not one of {sorted(trial.series)}", "use a study objective name")
    return objective


def signed_estimate(trial: PartialTrial, name: str, n: int) -> float:
    """The objective on the trial's first `n` examples, negated when minimised, so larger is better."""
    series = trial.series[name]
    value = series.estimate(n, trial.n_total)
    return value if series.maximize else -value
