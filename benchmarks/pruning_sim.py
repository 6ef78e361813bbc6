"""A simulated LLM-pipeline study for the pruning benchmark: configurations, per-example outcomes, truth.

Each configuration picks a model (price, ability), a prompting strategy (token multiplier,
ability bonus) and a temperature, plus a hidden "prompt quality" offset, so accurate
configurations cost more and some are simply wasteful. Example i has a difficulty b_i;
configuration c answers it right with probability sigmoid(a_c - b_i) (an item-response model:
configurations agree on which questions are hard, as LLMs do). Per-example cost is the
configuration's base cost times a length factor shared by all configurations (long questions
cost more for everyone) and its own lognormal noise; latency likewise. The truth (accuracy,
mean cost, p95 latency over the example distribution) is computed exactly, not estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MODELS = {  # name: (price per unit of tokens, ability, seconds per unit of tokens)
    "nano": (0.1, -0.8, 0.4), "mini": (0.3, 0.0, 0.6), "small": (1.0, 0.6, 0.9),
    "medium": (3.0, 1.2, 1.4), "large": (10.0, 1.8, 2.2),
}
STRATEGIES = {  # name: (token multiplier, ability bonus)
    "direct": (1.0, 0.0), "few_shot": (2.5, 0.3), "cot": (3.0, 0.5), "self_consistency": (10.0, 0.8),
}
COST_NOISE, LENGTH_SD, LATENCY_NOISE = 0.5, 0.3, 0.35
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(80)


@dataclass(frozen=True)
class Config:
    label: str
    ability: float
    base_cost: float
    base_latency: float


@dataclass(frozen=True)
class World:
    """One seed: configurations in sampling order, their true objectives and one evaluation set."""

    configs: list[Config]
    correct: np.ndarray  # (configs, examples) 0/1
    cost: np.ndarray  # (configs, examples)
    latency: np.ndarray  # (configs, examples)
    true_accuracy: np.ndarray
    true_cost: np.ndarray
    true_latency_p95: np.ndarray


def _true_accuracy(ability: float, difficulty_mean: float, difficulty_sd: float) -> float:
    b = difficulty_mean + difficulty_sd * _NODES
    return float(np.dot(_WEIGHTS, 1 / (1 + np.exp(-(ability - b)))) / _WEIGHTS.sum())


def _lognormal_p95(scale: float, sd: float) -> float:
    return scale * math.exp(1.6448536269514722 * sd)


def sample_configs(rng: np.random.Generator, n: int) -> list[Config]:
    """Random configurations, as a random sampler would propose them."""
    out = []
    for _ in range(n):
        model = str(rng.choice(list(MODELS)))
        strategy = str(rng.choice(list(STRATEGIES)))
        temperature = float(rng.choice([0.0, 0.3, 0.7, 1.0]))
        price, ability, speed = MODELS[model]
        tokens, bonus = STRATEGIES[strategy]
        if strategy == "self_consistency":
            temperature = max(temperature, 0.7)
        quality = rng.normal(0, 0.5)
        waste = math.exp(rng.normal(0, 0.4))
        a = ability + bonus - 0.5 * temperature**2 * (strategy != "self_consistency") + quality
        out.append(Config(f"{model}/{strategy}/t={temperature}", a, price * tokens * waste / 1000, speed * tokens**0.6))
    return out


def make_world(seed: int, n_configs: int = 40, n_examples: int = 200, difficulty_sd: float = 1.5,
               difficulty_mean: float = -0.5) -> World:
    """Configurations and their per-example outcomes on one shuffled evaluation set."""
    rng = np.random.default_rng(seed)
    configs = sample_configs(rng, n_configs)
    b = rng.normal(difficulty_mean, difficulty_sd, n_examples)
    length = rng.normal(0, LENGTH_SD, n_examples)
    ability = np.array([c.ability for c in configs])
    correct = (rng.random((n_configs, n_examples)) < 1 / (1 + np.exp(-(ability[:, None] - b[None, :])))).astype(float)
    base = np.array([c.base_cost for c in configs])
    cost = base[:, None] * np.exp(length[None, :] + rng.normal(0, COST_NOISE, (n_configs, n_examples)))
    speed = np.array([c.base_latency for c in configs])
    latency = speed[:, None] * np.exp(0.5 * length[None, :] + rng.normal(0, LATENCY_NOISE, (n_configs, n_examples)))
    true_acc = np.array([_true_accuracy(a, difficulty_mean, difficulty_sd) for a in ability])
    true_cost = base * math.exp((LENGTH_SD**2 + COST_NOISE**2) / 2)
    lat_sd = math.sqrt((0.5 * LENGTH_SD) ** 2 + LATENCY_NOISE**2)
    true_p95 = np.array([_lognormal_p95(s, lat_sd) for s in speed])
    return World(configs, correct, cost, latency, true_acc, true_cost, true_p95)
