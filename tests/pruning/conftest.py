"""Factories for pruning tests: trials as the evaluation loop would hand them to a pruner."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from llmopt.pruning import ObjectiveSeries, PartialTrial

TrialFactory = Callable[..., PartialTrial]


def make_trial(number: int, accuracy: np.ndarray, cost: np.ndarray | None = None, n: int | None = None,
               latency: np.ndarray | None = None, pruned: bool = False) -> PartialTrial:
    """Trial `number` after its first `n` examples (all by default) of accuracy, and cost/latency if given."""
    n_total = len(accuracy)
    n = n_total if n is None else n
    series = {"accuracy": ObjectiveSeries("accuracy", "maximize", accuracy[:n], bounded=(0.0, 1.0))}
    if cost is not None:
        series["cost"] = ObjectiveSeries("cost", "minimize", cost[:n], bounded=(0.0, math.inf))
    if latency is not None:
        series["latency"] = ObjectiveSeries("latency", "minimize", latency[:n], aggregate="quantile", q=0.95,
                                            bounded=(0.0, math.inf))
    return PartialTrial(number, series, n, n_total, complete=n == n_total, pruned=pruned)


def outcomes(rng: np.random.Generator, accuracy: float, mean_cost: float, n: int = 200,
             difficulty: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-example 0/1 correctness and lognormal costs (coefficient of variation about 0.5)."""
    if difficulty is None:
        right = (rng.random(n) < accuracy).astype(float)
    else:  # shift every example's logit so the mean accuracy is about `accuracy`
        logit = math.log(accuracy / (1 - accuracy)) - difficulty
        right = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(float)
    cost = mean_cost * np.exp(rng.normal(-0.125, 0.5, n))
    return right, cost


@pytest.fixture
def trial() -> TrialFactory:
    return make_trial


@pytest.fixture
def draw() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    return outcomes
