"""ParetoPruner: front members survive (false-prune rate below alpha), dominated trials stop early, the cheap end lives."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import make_trial, outcomes
from llmopt.errors import StudyError
from llmopt.pareto import non_dominated_mask
from llmopt.pruning import ParetoPruner, PartialTrial, Stages

LOOKS = Stages.every(20).boundaries(200)
# A front configuration (0.72 accuracy at cost 1.0) among competitors; the nearest one is more
# accurate and only 10% dearer, so its cost bound is what keeps it alive.
FRONT = (0.72, 1.0)
FIELD = [(0.85, 1.1), (0.60, 0.5), (0.65, 1.3), (0.92, 3.0)]


def first_prune(pruner: ParetoPruner, current: np.ndarray, cost: np.ndarray, others: list[PartialTrial]) -> int | None:
    """The example count at which the pruner stops the trial, or None if it runs to the end."""
    for stage, n in enumerate(LOOKS):
        if pruner.decide(make_trial(99, current, cost, n), others, stage, len(LOOKS)).prune:
            return n
    return None


def false_prune_rate(pruner: ParetoPruner, runs: int, seed: int, population: bool) -> float:
    """Share of runs in which a front configuration gets pruned.

    population=False: runs where it is on the front of this evaluation set (the guarantee of
    the default); population=True: every run (it is on the true front by construction).
    """
    rng = np.random.default_rng(seed)
    pruned = counted = 0
    while counted < runs:
        difficulty = rng.normal(0, 1.0, 200)
        draws = [outcomes(rng, acc, cost, difficulty=difficulty) for acc, cost in [FRONT, *FIELD]]
        full = np.array([[-right.mean(), cost.mean()] for right, cost in draws])
        if not population and not non_dominated_mask(full)[0]:
            continue
        others = [make_trial(i, right, cost) for i, (right, cost) in enumerate(draws[1:])]
        counted += 1
        pruned += first_prune(pruner, *draws[0], others) is not None
    return pruned / runs


def test_front_configurations_are_rarely_pruned_quick() -> None:
    assert false_prune_rate(ParetoPruner(), 12, seed=0, population=False) <= 0.1


@pytest.mark.slow
def test_false_prune_rate_on_the_evaluation_set_front_is_below_alpha() -> None:
    """Measured 0/300 at alpha = 0.05 (the union over objectives and Ville's inequality are conservative)."""
    assert false_prune_rate(ParetoPruner(alpha=0.05), 300, seed=1, population=False) <= 0.05


@pytest.mark.slow
def test_false_prune_rate_on_the_true_front_is_below_alpha_with_population_bounds() -> None:
    """Measured 0/300; the default (evaluation-set) bounds measured 1/300 on the same true-front runs."""
    assert false_prune_rate(ParetoPruner(alpha=0.05, population=True), 300, seed=2, population=True) <= 0.05


def test_a_clearly_dominated_configuration_stops_early() -> None:
    rng = np.random.default_rng(3)
    best = make_trial(0, *outcomes(rng, 0.85, 1.0))
    right, cost = outcomes(rng, 0.45, 3.0)
    n = first_prune(ParetoPruner(), right, cost, [best])
    assert n is not None and n <= 40


def test_the_cheap_end_of_the_front_survives() -> None:
    """Far less accurate than the best but ten times cheaper: on the front, never pruned."""
    rng = np.random.default_rng(4)
    best = make_trial(0, *outcomes(rng, 0.92, 10.0))
    for _ in range(6):
        right, cost = outcomes(rng, 0.55, 1.0)
        assert first_prune(ParetoPruner(), right, cost, [best]) is None


def test_single_objective_prunes_against_the_best_only_when_clearly_worse() -> None:
    rng = np.random.default_rng(5)
    best = make_trial(0, outcomes(rng, 0.8, 1.0)[0])
    worse, _ = outcomes(rng, 0.5, 1.0)
    assert first_prune(ParetoPruner(), worse, None, [best]) is not None
    twin = best.series["accuracy"].values.copy()
    assert first_prune(ParetoPruner(), twin, None, [best]) is None


def test_nothing_is_pruned_below_min_examples_or_once_complete() -> None:
    rng = np.random.default_rng(6)
    best = make_trial(0, np.ones(200), np.full(200, 0.1))
    hopeless = np.zeros(200), np.full(200, 10.0)
    assert not ParetoPruner(min_examples=30).decide(make_trial(1, *hopeless, n=20), [best], 0, 9).prune
    assert ParetoPruner(min_examples=30).decide(make_trial(1, *hopeless, n=30), [best], 1, 9).prune
    assert not ParetoPruner().decide(make_trial(1, *hopeless), [best], 8, 9).prune


def test_without_complete_trials_running_ones_witness_through_paired_bounds() -> None:
    rng = np.random.default_rng(7)
    ahead = make_trial(0, np.ones(200), np.full(200, 0.1), n=120)
    behind = make_trial(1, *outcomes(rng, 0.3, 1.0), n=60)
    assert not ParetoPruner().decide(behind, [ahead], 2, 9).prune  # unpaired needs a complete witness
    decision = ParetoPruner(paired=True).decide(behind, [ahead], 2, 9)
    assert decision.prune and "worse, paired" in decision.reason
    assert not ParetoPruner(paired=True).decide(behind, [make_trial(0, np.ones(200), np.full(200, 0.1), n=40)], 2, 9).prune


def test_a_p95_latency_objective_is_compared_by_order_statistics() -> None:
    rng = np.random.default_rng(8)
    fast = make_trial(0, (rng.random(200) < 0.85).astype(float), latency=rng.lognormal(0, 0.3, 200))
    slow_worse = (rng.random(200) < 0.5).astype(float), rng.lognormal(1.5, 0.3, 200)
    decision = ParetoPruner().decide(make_trial(1, slow_worse[0], latency=slow_worse[1], n=60), [fast], 2, 9)
    assert decision.prune and "latency" in decision.reason
    quick_worse = (rng.random(200) < 0.5).astype(float), rng.lognormal(-1.5, 0.3, 200)
    assert not ParetoPruner().decide(make_trial(1, quick_worse[0], latency=quick_worse[1], n=100), [fast], 4, 9).prune


def test_reason_names_the_witness_and_details_are_json() -> None:
    rng = np.random.default_rng(9)
    others = [make_trial(12, *outcomes(rng, 0.85, 1.0)), make_trial(13, *outcomes(rng, 0.6, 0.2))]
    decision = ParetoPruner().decide(make_trial(20, *outcomes(rng, 0.4, 3.0), n=40), others, 1, 9)
    assert decision.prune and decision.reason.startswith("dominated by trial 12 at 40/200 examples: accuracy ")
    assert "cost " in decision.reason
    details = json.loads(json.dumps(decision.details, allow_nan=False))
    accuracy = details["objectives"]["accuracy"]
    assert accuracy["lower"] <= accuracy["estimate"] <= accuracy["upper"] < accuracy["witness"]
    assert details["objectives"]["cost"]["upper"] is None or details["objectives"]["cost"]["upper"] > 0
    assert details["dominated_by"] == 12 and details["examples"] == 40


def test_trials_of_another_evaluation_set_are_refused() -> None:
    current = make_trial(1, np.ones(100), n=20)
    with pytest.raises(StudyError, match="one evaluation set"):
        ParetoPruner().decide(current, [make_trial(0, np.ones(200))], 0, 5)


def test_an_objective_without_a_known_range_is_marked_approximate() -> None:
    from llmopt.pruning import ObjectiveSeries

    def trial(number: int, values: np.ndarray, n: int) -> PartialTrial:
        s = ObjectiveSeries("score", "maximize", values[:n])
        return PartialTrial(number, {"score": s}, n, len(values), complete=n == len(values))

    rng = np.random.default_rng(10)
    decision = ParetoPruner().decide(trial(1, rng.normal(0, 1, 200), 60), [trial(0, rng.normal(3, 1, 200), 200)], 2, 9)
    assert decision.prune and "approximate" in decision.reason and decision.details["objectives"]["score"]["approximate"]
    assert math.isfinite(decision.details["objectives"]["score"]["upper"])
