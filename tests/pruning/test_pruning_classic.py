"""Median, successive halving, budget and combined pruners behave as their docstrings say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import make_trial
from llmopt.errors import StudyError
from llmopt.pruning import AnyPruner, BudgetPruner, MedianPruner, NopPruner, ObjectiveSeries, ParetoPruner, PartialTrial
from llmopt.pruning import SuccessiveHalvingPruner


def constant(number: int, accuracy: float, n: int = 40, n_total: int = 200) -> PartialTrial:
    """A trial whose first n examples average `accuracy` exactly."""
    ones = int(round(accuracy * n))
    values = np.concatenate((np.ones(ones), np.zeros(n - ones), np.zeros(n_total - n)))
    return make_trial(number, values, n=n)


def latency_trial(number: int, seconds: float, n: int = 40) -> PartialTrial:
    s = ObjectiveSeries("latency", "minimize", np.full(n, seconds))
    return PartialTrial(number, {"latency": s}, n, 200, complete=False)


def test_median_waits_for_startup_trials_then_prunes_below_the_median() -> None:
    peers = [constant(i, a) for i, a in enumerate([0.5, 0.6, 0.7, 0.8])]
    median = MedianPruner(n_startup_trials=5)
    assert not median.decide(constant(9, 0.1), peers, 1, 4).prune  # only 4 peers so far
    peers.append(constant(4, 0.9))
    assert median.decide(constant(9, 0.65), peers, 1, 4).prune  # median 0.7
    assert not median.decide(constant(9, 0.7), peers, 1, 4).prune  # not strictly worse


def test_median_compares_at_the_same_example_count_and_honours_min_examples() -> None:
    early = [constant(i, 0.9, n=20) for i in range(5)]  # they stopped before 40 examples
    assert not MedianPruner(n_startup_trials=5).decide(constant(9, 0.1, n=40), early, 1, 4).prune
    peers = [constant(i, 0.9, n=200) for i in range(5)]
    assert not MedianPruner(n_startup_trials=5, min_examples=50).decide(constant(9, 0.1, n=40), peers, 1, 4).prune


def test_median_follows_the_direction() -> None:
    peers = [latency_trial(i, s) for i, s in enumerate([1.0, 2.0, 3.0, 4.0, 5.0])]
    assert MedianPruner(n_startup_trials=5).decide(latency_trial(9, 3.5), peers, 1, 4).prune
    assert not MedianPruner(n_startup_trials=5).decide(latency_trial(9, 2.5), peers, 1, 4).prune


def test_halving_keeps_the_top_third_of_those_at_the_rung() -> None:
    peers = [constant(i, a) for i, a in enumerate([0.9, 0.8, 0.7, 0.6, 0.5])]
    halving = SuccessiveHalvingPruner(eta=3)
    assert not halving.decide(constant(9, 0.85), peers, 1, 4).prune  # rank 2 of 6, keep 2
    decision = halving.decide(constant(9, 0.75), peers, 1, 4)
    assert decision.prune and decision.details["rank"] == 3 and decision.details["keep"] == 2
    assert not halving.decide(constant(9, 0.1), [], 1, 4).prune  # the first to reach a rung goes on
    assert SuccessiveHalvingPruner(eta=2).decide(latency_trial(9, 3.5), [latency_trial(0, 1.0)], 1, 4).prune


def test_single_objective_pruners_need_to_be_told_which_objective() -> None:
    rng = np.random.default_rng(0)
    two = make_trial(1, (rng.random(200) < 0.5).astype(float), np.ones(200), n=40)
    with pytest.raises(StudyError, match="objective="):
        MedianPruner().decide(two, [], 0, 4)
    with pytest.raises(StudyError, match="not one of"):
        SuccessiveHalvingPruner(objective="latency").decide(two, [], 0, 4)
    assert not SuccessiveHalvingPruner(objective="cost").decide(two, [], 0, 4).prune


def test_budget_stops_overspending_trials() -> None:
    costs = {"cost": np.full(20, 0.02)}
    trial = PartialTrial(3, {}, 20, 200, complete=False, extras=costs)
    assert BudgetPruner(max_cost=1.0).decide(trial, [], 1, 4).prune  # projected 4
    assert not BudgetPruner(max_cost=5.0).decide(trial, [], 1, 4).prune
    spent = PartialTrial(3, {}, 5, 200, complete=False, extras={"cost": np.full(5, 0.3)})
    assert BudgetPruner(max_cost=1.0, min_examples=10).decide(spent, [], 0, 4).reason.startswith("spent 1.5 of the budget 1")


def test_budget_modes_trade_overruns_for_false_stops() -> None:
    costs = np.random.default_rng(1).lognormal(np.log(0.01), 0.8, 30)
    trial = PartialTrial(3, {}, 30, 200, complete=False, extras={"cost": costs})
    projected = costs.mean() * 200
    verdicts = [BudgetPruner(max_cost=projected * 0.9, when=w).decide(trial, [], 1, 4).prune for w in ("surely", "projected", "possibly")]
    assert verdicts == [False, True, True]
    assert not BudgetPruner(max_cost=projected * 1.1, when="projected").decide(trial, [], 1, 4).prune
    assert BudgetPruner(max_cost=projected * 1.1, when="possibly").decide(trial, [], 1, 4).prune


def test_budget_reads_a_cost_objective_or_complains() -> None:
    trial = make_trial(1, np.ones(200), np.full(200, 0.1), n=20)
    assert BudgetPruner(max_cost=5.0).decide(trial, [], 1, 4).prune  # projected 20
    with pytest.raises(StudyError, match="no per-example 'tokens'"):
        BudgetPruner(max_cost=5.0, meter="tokens").decide(trial, [], 1, 4)


def test_any_joins_the_reasons_of_every_pruner_that_says_stop() -> None:
    rng = np.random.default_rng(2)
    best = make_trial(0, np.ones(200), np.full(200, 0.01))
    bad = make_trial(1, (rng.random(200) < 0.3).astype(float), np.full(200, 0.1), n=40)
    decision = AnyPruner([ParetoPruner(), BudgetPruner(max_cost=5.0)]).decide(bad, [best], 1, 4)
    assert decision.prune and "; projected cost" in decision.reason and decision.reason.startswith("dominated by trial 0")
    assert len(decision.details["decisions"]) == 2
    json.dumps(decision.details, allow_nan=False)
    assert not AnyPruner([NopPruner(), BudgetPruner(max_cost=100.0)]).decide(bad, [best], 1, 4).prune
