"""The confidence bounds hold at every look with the stated probability, and are exact once everything is seen."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmopt.pruning.bounds import bound, interval
from llmopt.pruning.base import ObjectiveSeries
from llmopt.pruning.stats import kl_bound, mean_lower_bound, normal_radius, rejects_mean_at_most

LOOKS = range(10, 201, 20)


def test_the_bound_is_exact_once_the_whole_set_is_seen() -> None:
    values = np.array([0.0, 1.0, 1.0, 0.0, 1.0] * 40)
    assert mean_lower_bound(values, 0.05, n_total=200) == pytest.approx(values.mean(), abs=1e-4)
    assert mean_lower_bound(values, 0.05, n_total=200) <= values.mean()


def test_the_bound_tightens_as_examples_come_in() -> None:
    values = np.random.default_rng(0).lognormal(0, 0.5, 200)
    lows = [mean_lower_bound(values[:n], 0.05, n_total=200) for n in (20, 80, 160)]
    assert lows[0] < lows[1] < lows[2] < values.mean()


def miss_rate(runs: int, seed: int, alpha: float = 0.05) -> float:
    """Share of random orders in which the bound is ever above the full-set mean, looking every 20 examples."""
    rng = np.random.default_rng(seed)
    misses = 0
    for _ in range(runs):
        population = (rng.random(200) < 0.3).astype(float)
        order = rng.permutation(200)
        misses += any(mean_lower_bound(population[order][:n], alpha, 200, (0.5, 0.25)) > population.mean() for n in LOOKS)
    return misses / runs


def test_sequential_coverage_without_replacement_quick() -> None:
    assert miss_rate(30, seed=1) <= 0.1  # a sanity check; the precise one is below


@pytest.mark.slow
def test_sequential_coverage_without_replacement() -> None:
    """Measured 3.5% over 1,500 orders at alpha = 5% (the bound is a little conservative); 600 here."""
    assert miss_rate(600, seed=7) <= 0.05


@pytest.mark.slow
def test_sequential_coverage_iid_skewed_and_heavy() -> None:
    """i.i.d. target: a rare-event rate and a lognormal mean (no upper range) are covered at every look."""
    rng = np.random.default_rng(2)
    alpha = 0.05
    rare = sum(any(mean_lower_bound(x[:n], alpha, None, (0.5, 0.25)) > 0.1 for n in LOOKS)
               for x in ((rng.random(200) < 0.1).astype(float) for _ in range(300)))
    heavy_mean = math.exp(0.6**2 / 2)
    heavy = sum(any(mean_lower_bound(x[:n], alpha) > heavy_mean for n in LOOKS)
                for x in (rng.lognormal(0, 0.6, 200) for _ in range(300)))
    assert rare / 300 <= alpha and heavy / 300 <= alpha


def quantile_miss_rate(runs: int, seed: int) -> float:
    """Share of random orders in which the two-sided p95 interval (0.025 a side) ever misses, looking 3 times."""
    rng = np.random.default_rng(seed)
    misses = 0
    for _ in range(runs):
        population = rng.lognormal(0, 0.5, 200)
        p95 = float(np.quantile(population, 0.95, method="inverted_cdf"))
        order = rng.permutation(200)
        for n in (40, 100, 160):
            s = ObjectiveSeries("latency", "minimize", population[order][:n], aggregate="quantile", q=0.95, bounded=(0, math.inf))
            low, high, _ = interval(s, 200, 0.025)
            if not low <= p95 <= high:
                misses += 1
                break
    return misses / runs


def test_quantile_bounds_cover_the_full_set_p95_quick() -> None:
    assert quantile_miss_rate(40, seed=3) <= 0.1


@pytest.mark.slow
def test_quantile_bounds_cover_the_full_set_p95() -> None:
    """Measured 1.25% over 400 orders at a two-sided 5%."""
    assert quantile_miss_rate(400, seed=3) <= 0.05


def test_quantile_bounds_without_a_range_are_open_ended_where_data_cannot_tell() -> None:
    """10 of 1,000 values say little about the p95 from above, yet most of them being large bounds it below."""
    s = ObjectiveSeries("latency", "minimize", np.arange(10.0), aggregate="quantile", q=0.95)
    low, high, approximate = interval(s, 1000, 0.05)
    assert high == math.inf and low in set(np.arange(10.0)) and not approximate


def test_an_unbounded_side_falls_back_to_an_approximate_bound() -> None:
    s = ObjectiveSeries("score", "maximize", np.random.default_rng(4).normal(5, 1, 50))
    value, approximate = bound(s, True, 0.05, 100)
    assert approximate and value > 5


def test_a_sum_is_the_mean_scaled_to_the_full_set() -> None:
    values = np.full(20, 0.5)
    mean = bound(ObjectiveSeries("cost", "minimize", values, bounded=(0, math.inf)), False, 0.05, 100)[0]
    total = bound(ObjectiveSeries("cost", "minimize", values, aggregate="sum", bounded=(0, math.inf)), False, 0.05, 100)[0]
    assert total == pytest.approx(100 * mean)


def test_kl_bound_matches_its_definition_and_covers() -> None:
    low = kl_bound(0.8, 100, 0.05, upper=False)
    p, q = 0.8, low
    assert 100 * (p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))) == pytest.approx(math.log(20), rel=1e-6)
    rng = np.random.default_rng(5)
    misses = sum(kl_bound(float((rng.random(200) < 0.7).mean()), 200, 0.05, upper=False) > 0.7 for _ in range(2000))
    assert misses / 2000 <= 0.05
    assert kl_bound(1.0, 50, 0.05, upper=True) == 1.0 and kl_bound(0.0, 50, 0.05, upper=False) == 0.0


def test_rejecting_is_monotone_in_the_candidate_mean() -> None:
    values = np.random.default_rng(6).lognormal(0, 0.5, 60)
    flags = rejects_mean_at_most(values, np.linspace(0.0, 2.0, 41), 0.05)
    assert list(flags) == sorted(flags, reverse=True)  # True for small means, then False


def test_normal_radius_shrinks_with_more_examples() -> None:
    assert normal_radius(1.0, 100, 0.05) < normal_radius(1.0, 25, 0.05)
    assert normal_radius(1.0, 100, 0.05, anytime=False) < normal_radius(1.0, 100, 0.05)
    assert normal_radius(1.0, 0, 0.05) == math.inf
