"""Paired comparison of two trials on the examples both scored: is the difference real?

Two configurations scored on the same questions are compared question by question, which
removes the questions' own difficulty from the noise: on 40 shared examples a paired test
tells apart accuracies that two independent intervals would call overlapping. Means (accuracy,
cost, latency) use the paired t-interval and t-test on per-example differences; quantiles
(latency p50/p95) a paired bootstrap (2,000 resamples, fixed seed, so a report is
reproducible); sums compare totals over the shared examples the same way as means, scaled.

>>> from llmopt.evaluation.measures import MEASURES
>>> from llmopt.trial import ExampleResult
>>> a = [ExampleResult(f"q{i}", {"score": float(i % 10 != 0)}) for i in range(100)]
>>> b = [ExampleResult(f"q{i}", {"score": float(i % 2 == 0)}) for i in range(100)]
>>> d = paired_difference(MEASURES["accuracy"], a, b)
>>> round(d.difference, 2), d.shared, d.p_value < 0.001, d.tied
(0.4, 100, True, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from llmopt.evaluation.intervals import Interval
from llmopt.evaluation.measures import Measure
from llmopt.trial import ExampleResult

BOOTSTRAP = 2000


@dataclass(frozen=True)
class Difference:
    """`a - b` on the shared examples, its interval and two-sided p-value (None: not testable)."""

    measure: str
    a: float
    b: float
    difference: float
    interval: Interval | None
    p_value: float | None
    shared: int
    level: float = 0.95

    @property
    def tied(self) -> bool:
        """True when the data cannot tell the two apart at the interval's level."""
        return self.p_value is None or self.p_value >= 1 - self.level


def shared_examples(rows_a: Sequence[ExampleResult], rows_b: Sequence[ExampleResult]) -> tuple[list[ExampleResult], list[ExampleResult]]:
    """The examples both trials scored, in the same order."""
    by_id = {r.example_id: r for r in rows_b}
    pairs = [(r, by_id[r.example_id]) for r in rows_a if r.example_id in by_id]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def paired_difference(measure: Measure, rows_a: Sequence[ExampleResult], rows_b: Sequence[ExampleResult],
                      level: float = 0.95, seed: int = 0) -> Difference | None:
    """None for a custom (`fn`) measure or no shared example."""
    if measure.per_example is None:
        return None
    a_rows, b_rows = shared_examples(rows_a, rows_b)
    n = len(a_rows)
    if n == 0:
        return None
    va, vb = measure.values(a_rows), measure.values(b_rows)
    a, b = measure.compute(a_rows), measure.compute(b_rows)
    if measure.aggregate == "quantile":
        interval, p = _bootstrap(va, vb, float(measure.q or 0.5), level, seed)
    else:
        interval, p = _paired_t(va - vb, level)
        if measure.aggregate == "sum" and interval is not None:
            interval = (interval[0] * n, interval[1] * n)
    return Difference(measure.name, a, b, a - b, interval, p, n, level)


def _paired_t(d: np.ndarray, level: float) -> tuple[Interval | None, float | None]:
    n = len(d)
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    if sd == 0.0:  # every pair differs by the same amount
        if mean == 0.0:
            return (0.0, 0.0), 1.0
        return ((mean, mean), 0.0) if n > 1 else (None, None)
    se = sd / math.sqrt(n)
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return (mean - t * se, mean + t * se), p


def _bootstrap(va: np.ndarray, vb: np.ndarray, q: float, level: float, seed: int) -> tuple[Interval, float]:
    rng = np.random.default_rng(seed)
    n = len(va)
    idx = rng.integers(0, n, size=(BOOTSTRAP, n))
    diffs = np.quantile(va[idx], q, axis=1) - np.quantile(vb[idx], q, axis=1)
    alpha = 1 - level
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    p = min(1.0, 2 * min(float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0))))
    return (float(low), float(high)), p
