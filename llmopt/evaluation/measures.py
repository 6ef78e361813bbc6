"""Measures: trial-level numbers computed from per-example records (accuracy, cost, latency...).

A built-in measure is an aggregate (mean, sum or quantile) of one number per example, so a
pruner can compare trials on partial evaluation sets. A custom measure may be any function of
the records.

>>> from llmopt.trial import ExampleResult
>>> rows = [ExampleResult("a", {"score": 1.0}, cost=0.002, latency=1.0), ExampleResult("b", {"score": 0.0}, cost=0.004, latency=3.0)]
>>> MEASURES["accuracy"].compute(rows), MEASURES["cost"].compute(rows), MEASURES["latency_p50"].compute(rows)
(0.5, 0.003, 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from llmopt.errors import EvaluationError
from llmopt.evaluation.intervals import mean_interval, quantile_interval
from llmopt.trial import ExampleResult, Objective


@dataclass(frozen=True)
class Measure:
    """A named trial-level number; `per_example` + `aggregate` when it is an aggregate of examples."""

    name: str
    direction: Literal["maximize", "minimize"]
    per_example: Callable[[ExampleResult], float] | None = None
    aggregate: Literal["mean", "sum", "quantile"] = "mean"
    q: float | None = None
    bounded: tuple[float, float] | None = None
    fn: Callable[[Sequence[ExampleResult]], float] | None = None

    def __post_init__(self) -> None:
        if (self.per_example is None) == (self.fn is None):
            raise EvaluationError(f"measure {self.name!r}: give exactly one of per_example= or fn=", "per_example for aggregates, fn for anything else")
        if self.aggregate == "quantile" and not (self.q is not None and 0 < self.q < 1):
            raise EvaluationError(f"measure {self.name!r}: a quantile needs 0 < q < 1, got {self.q!r}", "e.g. q=0.95")

    def values(self, records: Sequence[ExampleResult]) -> np.ndarray:
        """One number per example (for aggregate measures)."""
        assert self.per_example is not None
        return np.array([self.per_example(r) for r in records], dtype=float)

    def compute(self, records: Sequence[ExampleResult]) -> float:
        if not records:
            return math.nan
        if self.fn is not None:
            return float(self.fn(records))
        values = self.values(records)
        if self.aggregate == "sum":
            return float(values.sum())
        if self.aggregate == "quantile":
            return float(np.quantile(values, float(self.q or 0.5)))
        return float(values.mean())

    def interval(self, records: Sequence[ExampleResult], level: float = 0.95) -> tuple[float, float] | None:
        """A `level` interval on what this measure estimates, from the records' spread.

        None where no sampling interval applies: a sum (exact for the examples scored), a
        custom `fn` measure, or too few records.
        """
        if self.per_example is None or self.aggregate == "sum" or not records:
            return None
        if self.aggregate == "quantile":
            return quantile_interval(self.values(records), float(self.q or 0.5), level)
        return mean_interval(self.values(records), level, self.bounded)

    @property
    def objective(self) -> Objective:
        return Objective(self.name, self.direction)


def _score(r: ExampleResult) -> float:
    """The metric's score; a failed example scores 0 (a pipeline error is a wrong answer)."""
    value = r.metrics.get("score", math.nan)
    return 0.0 if r.error is not None or math.isnan(value) else float(value)


def _tokens(r: ExampleResult) -> float:
    return float((r.prompt_tokens or 0) + (r.completion_tokens or 0))


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in [
        Measure("accuracy", "maximize", _score, bounded=(0.0, 1.0)),
        Measure("cost", "minimize", lambda r: r.cost or 0.0),  # dollars per example, list price
        Measure("total_cost", "minimize", lambda r: r.cost or 0.0, aggregate="sum"),
        Measure("latency_p50", "minimize", lambda r: r.latency or 0.0, aggregate="quantile", q=0.5),
        Measure("latency_p95", "minimize", lambda r: r.latency or 0.0, aggregate="quantile", q=0.95),
        Measure("latency", "minimize", lambda r: r.latency or 0.0),  # mean seconds per example
        Measure("tokens", "minimize", _tokens),
        Measure("error_rate", "minimize", lambda r: float(r.error is not None), bounded=(0.0, 1.0)),
    ]
}


def score_bounds(measures: Sequence[Measure]) -> tuple[tuple[float, float] | None, list[str]]:
    """The range the metric's per-example score must lie in, and the measures that need it.

    A measure that averages the metric's score with bounds (accuracy: a rate in [0, 1]) needs
    every score inside them: a metric returning 7.5 would store an "accuracy" of 7.5. Measures
    of other numbers (cost, latency) or custom ones leave the score free.
    """
    needing = [m for m in measures if m.per_example is _score and m.bounded is not None]
    if not needing:
        return None, []
    low = max(m.bounded[0] for m in needing if m.bounded)
    high = min(m.bounded[1] for m in needing if m.bounded)
    return (low, high), [m.name for m in needing]


def resolve_measures(spec: Sequence[str | Measure]) -> list[Measure]:
    """Names of built-ins or Measure objects, distinct names."""
    out: list[Measure] = []
    for item in spec:
        if isinstance(item, Measure):
            out.append(item)
        elif item in MEASURES:
            out.append(MEASURES[item])
        else:
            raise EvaluationError(f"unknown measure {item!r}", f"use one of {sorted(MEASURES)} or a Measure(...)")
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise EvaluationError(f"measure names must be distinct, got {names}", "rename the duplicates")
    return out
