"""Intervals hold their nominal level on simulated data (fixed seeds; bounds allow the Monte-Carlo error)."""

from __future__ import annotations

import numpy as np
import pytest

from llmopt.evaluation.intervals import mean_interval, quantile_interval, wilson_interval
from llmopt.evaluation.measures import MEASURES
from llmopt.trial import ExampleResult

REPS = 4000  # Monte-Carlo standard error of a 0.95 coverage: sqrt(.95 * .05 / 4000) = 0.0034


@pytest.mark.parametrize(("p", "n"), [(0.3, 40), (0.8, 20), (0.5, 100), (0.9, 200)])
def test_wilson_covers_a_bernoulli_rate_at_its_level(p: float, n: int) -> None:
    rng = np.random.default_rng(0)
    hits = 0
    for k in rng.binomial(n, p, size=REPS):
        low, high = wilson_interval(float(k), n)
        hits += low <= p <= high
    assert 0.93 <= hits / REPS <= 0.975  # Wilson's exact coverage oscillates around 0.95 with n and p


def test_t_interval_covers_the_mean_of_bounded_scores() -> None:
    rng = np.random.default_rng(1)
    true_mean = 2 / 7  # Beta(2, 5)
    hits = 0
    for _ in range(REPS):
        low, high = mean_interval(rng.beta(2, 5, size=50), bounds=(0.0, 1.0))  # type: ignore[misc]
        hits += low <= true_mean <= high
    assert 0.935 <= hits / REPS <= 0.965


def test_quantile_interval_covers_the_median_and_p95() -> None:
    rng = np.random.default_rng(2)
    for q in (0.5, 0.95):
        true_q = -np.log(1 - q)  # exponential(1) latencies
        hits = 0
        for _ in range(2000):
            band = quantile_interval(rng.exponential(size=200), q)
            assert band is not None
            hits += band[0] <= true_q <= band[1]
        assert hits / 2000 >= 0.935  # order-statistic intervals are conservative (at least the level)


def test_edge_cases_say_nothing_rather_than_something_false() -> None:
    assert mean_interval([]) is None and mean_interval([0.4]) is None  # one value: no spread to measure
    assert mean_interval([1.0], bounds=(0.0, 1.0)) == pytest.approx(wilson_interval(1, 1))  # a 0/1 score: Wilson works at n=1
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0
    low, high = mean_interval([0.9, 1.0, 0.95, 1.0], bounds=(0.0, 1.0))  # type: ignore[misc]
    assert high <= 1.0  # clipped to the measure's bounds
    assert quantile_interval([1.0], 0.5) is None


def test_measures_pick_the_method_for_their_aggregate() -> None:
    rows = [ExampleResult(f"q{i}", {"score": float(i % 4 == 0)}, cost=0.001 * (1 + i % 3), latency=0.1 * i) for i in range(40)]
    assert MEASURES["accuracy"].interval(rows) == pytest.approx(wilson_interval(10, 40))
    low, high = MEASURES["cost"].interval(rows)  # type: ignore[misc]
    assert low < MEASURES["cost"].compute(rows) < high
    assert MEASURES["latency_p95"].interval(rows) == quantile_interval([r.latency for r in rows], 0.95)  # type: ignore[misc]
    assert MEASURES["total_cost"].interval(rows) is None  # a sum over the examples scored is exact
    assert MEASURES["accuracy"].interval([]) is None
