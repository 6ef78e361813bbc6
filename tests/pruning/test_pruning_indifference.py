"""Indifference margins: equivalent configurations do not prune each other over milliseconds or fractions of a cent."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_trial
from llmopt.errors import StudyError
from llmopt.pruning import ParetoPruner, pruner_from_dict

N = 50


def twins(latency_ratio: float, seed: int = 0) -> tuple:
    """A complete witness and a running trial, all answers right, steady latencies, the witness's scaled by the ratio.

    As in the evaluation benchmark, where 20 copies of one configuration against a local stub
    server differed only by the few milliseconds a shared event loop adds.
    """
    rng = np.random.default_rng(seed)
    right = np.ones(N)
    latency = 0.5 * (1 + 0.005 * rng.random(N))
    witness = make_trial(0, right, latency=latency * latency_ratio * (1 + 0.005 * rng.random(N)))
    return witness, right, latency


def decide(pruner: ParetoPruner, witness, right, latency, n: int = 20):
    return pruner.decide(make_trial(1, right, None, n, latency=latency), [witness], 0, 1)


def test_without_a_margin_a_one_percent_latency_gap_prunes_an_equivalent_configuration() -> None:
    """The situation the margin exists for: statistically right, useless to a user."""
    witness, *current = twins(latency_ratio=0.99)
    decision = decide(ParetoPruner(indifference=0.0), witness, *current)
    assert decision.prune and "latency" in decision.reason


def test_the_default_margin_keeps_an_equivalent_configuration() -> None:
    witness, *current = twins(latency_ratio=0.99)
    assert not decide(ParetoPruner(), witness, *current).prune
    assert not decide(ParetoPruner(indifference={"latency": 0.015}), witness, *current).prune
    witness, *current = twins(latency_ratio=0.95)  # latency drifts by this much with the server's load
    assert not decide(ParetoPruner(), witness, *current).prune
    assert decide(ParetoPruner(indifference=0.02), witness, *current).prune


def test_a_clear_latency_gap_still_prunes_with_the_default_margin() -> None:
    witness, *current = twins(latency_ratio=0.8)
    decision = decide(ParetoPruner(), witness, *current)
    assert decision.prune and "latency" in decision.reason


def test_accuracy_has_no_default_margin_but_can_be_given_one() -> None:
    rng = np.random.default_rng(3)
    better = (rng.random(200) < 0.9).astype(float)
    worse = better.copy()
    worse[np.flatnonzero(better)[:6]] = 0.0  # the same answers but 6 of 200: 0.03 less accurate
    witness = make_trial(0, better)
    assert ParetoPruner(paired=True).decide(make_trial(1, worse, n=199), [witness], 0, 1).prune
    loose = ParetoPruner(paired=True, indifference={"accuracy": 0.05})
    assert not loose.decide(make_trial(1, worse, n=199), [witness], 0, 1).prune


def test_the_margin_is_stored_with_the_pruner() -> None:
    for setting in (None, 0.05, {"latency": 0.1, "accuracy": 0.0}):
        pruner = ParetoPruner(indifference=setting)
        again = pruner_from_dict(pruner.to_dict())
        assert isinstance(again, ParetoPruner) and again.indifference == pruner.indifference


@pytest.mark.parametrize("setting", [-0.1, 1.0, "2%", True, {"latency": 2}])
def test_a_bad_margin_names_the_field_and_the_fix(setting: object) -> None:
    with pytest.raises(StudyError, match=r"indifference.*\[0, 1\)") as info:
        ParetoPruner(indifference=setting)  # type: ignore[arg-type]
    assert "e.g. 0.02" in str(info.value)
