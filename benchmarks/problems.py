"""Benchmark problems for the samplers: ZDT1, DTLZ2 and a simulated LLM pipeline space.

Each problem gives an llmopt Space, an Optuna define-by-run suggester that produces the same
flat `path -> value` dicts, a function from those dicts to objective values, and a
hypervolume measure. The LLM problem is finite, so its true Pareto front is enumerated.
"""

from __future__ import annotations

import itertools
import json
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from llmopt import ChoiceVar, FloatVar, IntVar, ModuleOption, ModuleVar, Space
from llmopt.pareto import hypervolume, non_dominated_mask


@dataclass(frozen=True)
class Problem:
    name: str
    space: Space
    objectives: dict[str, str]
    suggest: Callable[[Any], dict[str, Any]]  # optuna.Trial -> flat params
    evaluate: Callable[[dict[str, Any], int], tuple[float, ...]]  # (params, noise seed) -> values
    score: Callable[[list[dict[str, Any]], list[tuple[float, ...]]], float]  # found configs -> hypervolume measure


# ---------------------------------------------------------------- ZDT1 and DTLZ2


def _floats(prefix: str, n: int) -> Space:
    return Space({f"{prefix}{i}": FloatVar(0.0, 1.0) for i in range(n)})


def _suggest_floats(prefix: str, n: int) -> Callable[[Any], dict[str, Any]]:
    return lambda trial: {f"{prefix}{i}": trial.suggest_float(f"{prefix}{i}", 0.0, 1.0) for i in range(n)}


def zdt1_values(params: dict[str, Any], seed: int = 0) -> tuple[float, float]:
    x = np.array([params[f"x{i}"] for i in range(10)])
    g = 1.0 + 9.0 * x[1:].mean()
    return float(x[0]), float(g * (1.0 - math.sqrt(x[0] / g)))


def dtlz2_values(params: dict[str, Any], seed: int = 0, m: int = 3) -> tuple[float, ...]:
    x = np.array([params[f"x{i}"] for i in range(8)])
    g = float(((x[m - 1 :] - 0.5) ** 2).sum())
    angles = x[: m - 1] * math.pi / 2
    out = []
    for i in range(m):
        value = 1.0 + g
        value *= float(np.prod(np.cos(angles[: m - 1 - i])))
        if i > 0:
            value *= math.sin(angles[m - 1 - i])
        out.append(value)
    return tuple(out)


def _hv_of_values(reference: list[float]) -> Callable[[list[dict[str, Any]], list[tuple[float, ...]]], float]:
    return lambda params, values: hypervolume(np.array(values, dtype=float).reshape(-1, len(reference)), reference)


ZDT1 = Problem(
    "ZDT1", _floats("x", 10), {"f1": "minimize", "f2": "minimize"}, _suggest_floats("x", 10), zdt1_values,
    _hv_of_values([1.1, 10.0]),
)
DTLZ2 = Problem(
    "DTLZ2", _floats("x", 8), {"f1": "minimize", "f2": "minimize", "f3": "minimize"}, _suggest_floats("x", 8),
    dtlz2_values, _hv_of_values([2.5, 2.5, 2.5]),
)


# ---------------------------------------------------------------- a simulated LLM pipeline

MODELS = ["nano", "mini", "medium", "large", "xl"]
SKILL = dict(zip(MODELS, [-1.0, -0.2, 0.5, 1.1, 1.5]))  # logit of accuracy with the plain template
PRICE = dict(zip(MODELS, [0.0001, 0.0004, 0.0015, 0.005, 0.015]))  # $ per 1k tokens
BASE_LATENCY = dict(zip(MODELS, [0.15, 0.2, 0.3, 0.45, 0.6]))  # s per call
TOKEN_LATENCY = dict(zip(MODELS, [0.003, 0.005, 0.009, 0.014, 0.022]))  # s per output token
TEMPLATES = {"plain": 150, "expert": 260, "stepwise": 300, "json": 210}  # prompt tokens
TEMPLATE_FIT = {  # logit shift per model and template: each model has its own best prompt
    "nano": (0.0, -0.2, -0.4, 0.3),
    "mini": (0.0, 0.3, -0.2, 0.1),
    "medium": (0.0, 0.1, 0.35, -0.2),
    "large": (0.0, 0.4, 0.2, -0.1),
    "xl": (0.0, 0.1, 0.45, 0.2),
}
TOOLS = {"search": 0.6, "calculator": 0.3, "none": -0.1}
EXAMPLES = 40


def llm_space() -> Space:
    return Space(
        {
            "model": ChoiceVar(MODELS),
            "template": ChoiceVar(list(TEMPLATES)),
            "temperature": FloatVar(0.0, 1.0, step=0.1),
            "max_tokens": IntVar(256, 2048, step=256),
            "strategy": ModuleVar(
                {
                    "direct": None,
                    "cot": ModuleOption(params={"hops": IntVar(1, 6)}),
                    "self_consistency": ModuleOption(
                        params={"samples": IntVar(3, 11, step=2), "voting": ChoiceVar(["majority", "weighted"])}
                    ),
                    "react": ModuleOption(params={"steps": IntVar(2, 8), "tool": ChoiceVar(list(TOOLS))}),
                }
            ),
        }
    )


def llm_suggest(trial: Any) -> dict[str, Any]:
    """The same space, define-by-run, with llmopt's paths as Optuna parameter names."""
    p: dict[str, Any] = {
        "model": trial.suggest_categorical("model", MODELS),
        "template": trial.suggest_categorical("template", list(TEMPLATES)),
        "temperature": round(trial.suggest_float("temperature", 0.0, 1.0, step=0.1), 1),
        "max_tokens": trial.suggest_int("max_tokens", 256, 2048, step=256),
        "strategy": trial.suggest_categorical("strategy", ["direct", "cot", "self_consistency", "react"]),
    }
    if p["strategy"] == "cot":
        p["strategy.cot.hops"] = trial.suggest_int("strategy.cot.hops", 1, 6)
    elif p["strategy"] == "self_consistency":
        p["strategy.self_consistency.samples"] = trial.suggest_int("strategy.self_consistency.samples", 3, 11, step=2)
        p["strategy.self_consistency.voting"] = trial.suggest_categorical("strategy.self_consistency.voting", ["majority", "weighted"])
    elif p["strategy"] == "react":
        p["strategy.react.steps"] = trial.suggest_int("strategy.react.steps", 2, 8)
        p["strategy.react.tool"] = trial.suggest_categorical("strategy.react.tool", list(TOOLS))
    return p


def llm_truth(p: dict[str, Any]) -> tuple[float, float, float, float, int]:
    """(accuracy, $ per example, seconds per example, output tokens, calls) without noise.

    Interactions on purpose: the best `hops` grows with the model, self-consistency needs a
    warm temperature while other strategies want a cold one, each model has its own best template,
    and a `max_tokens` below what the strategy needs truncates its reasoning.
    """
    model, size = p["model"], MODELS.index(p["model"])
    logit = SKILL[model]
    logit += TEMPLATE_FIT[model][list(TEMPLATES).index(p["template"])]
    t, strategy = p["temperature"], p["strategy"]
    calls, per_call, sequential = 1, 40.0, 1
    if strategy == "cot":
        hops, best = p["strategy.cot.hops"], 1 + size
        logit += 0.35 * min(hops, best) - 0.3 * max(0, hops - best)
        per_call = 30.0 + 90.0 * hops
    elif strategy == "self_consistency":
        n = p["strategy.self_consistency.samples"]
        logit += 0.5 * math.log2(n) * math.exp(-(((t - 0.7) / 0.2) ** 2)) - 0.3
        logit += (0.12 if size >= 3 else -0.08) * (p["strategy.self_consistency.voting"] == "weighted")
        calls, per_call = n, 70.0
    elif strategy == "react":
        steps, tool = p["strategy.react.steps"], p["strategy.react.tool"]
        logit += (TOOLS[tool] + 0.6 * (1 - math.exp(-steps / 3)) - 0.05 * steps) * (0.4 + size / 6)
        calls, per_call, sequential = steps, 110.0, steps
    if strategy != "self_consistency":
        logit -= 0.5 * t * t  # mild: accuracy barely moves with temperature up to 1 (Renze & Guven, 2024)
    budget = p["max_tokens"] / (sequential if strategy == "react" else 1)
    if budget < per_call:
        logit -= 2.5 * (1 - budget / per_call)
        per_call = budget
    output = per_call * calls
    accuracy = 1 / (1 + math.exp(-logit))
    cost = PRICE[model] * (TEMPLATES[p["template"]] * calls + output) / 1000
    latency = BASE_LATENCY[model] * sequential + TOKEN_LATENCY[model] * per_call * sequential
    latency += 0.3 * sequential * (strategy == "react" and p["strategy.react.tool"] == "search")
    return accuracy, cost, latency, output, calls


def llm_values(p: dict[str, Any], seed: int) -> tuple[float, float, float]:
    """Noisy measurement over EXAMPLES examples; the same configuration and seed give the same outcome."""
    accuracy, cost, latency, _, _ = llm_truth(p)
    key = zlib.crc32(json.dumps(p, sort_keys=True).encode())
    rng = np.random.default_rng([seed, key])
    correct = rng.uniform(size=EXAMPLES) < accuracy
    costs = cost * rng.lognormal(0.0, 0.25, size=EXAMPLES)
    latencies = latency * rng.lognormal(0.0, 0.35, size=EXAMPLES)
    return float(correct.mean()), float(costs.mean()), float(latencies.mean())


def _log_points(truths: np.ndarray) -> np.ndarray:
    """(accuracy, log10 cost, log10 latency) in minimisation form: cost spans three decades."""
    return np.column_stack((-truths[:, 0], np.log10(truths[:, 1]), np.log10(truths[:, 2])))


@cache
def llm_enumeration() -> tuple[np.ndarray, np.ndarray, float]:
    """Every configuration's true outcome, the hypervolume reference and the true front's hypervolume.

    The reference is the true front's nadir pushed out by 10% of its range, so the measure
    looks at the region that matters, not at the volume any configuration covers.
    """
    configs = list(all_llm_configs())
    points = _log_points(np.array([llm_truth(c)[:3] for c in configs]))
    front = points[non_dominated_mask(points)]
    nadir, ideal = front.max(axis=0), front.min(axis=0)
    reference = nadir + 0.1 * (nadir - ideal)
    return points, reference, hypervolume(points, reference)


def all_llm_configs() -> itertools.chain[dict[str, Any]]:
    branches: list[dict[str, Any]] = [{"strategy": "direct"}]
    branches += [{"strategy": "cot", "strategy.cot.hops": h} for h in range(1, 7)]
    branches += [
        {"strategy": "self_consistency", "strategy.self_consistency.samples": n, "strategy.self_consistency.voting": v}
        for n in range(3, 12, 2) for v in ("majority", "weighted")
    ]
    branches += [{"strategy": "react", "strategy.react.steps": s, "strategy.react.tool": t} for s in range(2, 9) for t in TOOLS]
    temps = [round(0.1 * i, 1) for i in range(11)]
    return itertools.chain.from_iterable(
        ({"model": m, "template": tp, "temperature": t, "max_tokens": mt, **b} for b in branches)
        for m in MODELS for tp in TEMPLATES for t in temps for mt in range(256, 2049, 256)
    )


def llm_score(params: list[dict[str, Any]], values: list[tuple[float, ...]]) -> float:
    """Hypervolume of the found configurations re-scored without noise, over the true front's."""
    _, reference, best = llm_enumeration()
    found = _log_points(np.array([llm_truth(p)[:3] for p in params]))
    return hypervolume(found, reference) / best


STRATEGIES = ("direct", "cot", "self_consistency", "react")


@cache
def _true_front_by_strategy() -> dict[str, np.ndarray]:
    points, _, _ = llm_enumeration()
    configs = list(all_llm_configs())
    on_front = np.flatnonzero(non_dominated_mask(points))
    return {s: points[[i for i in on_front if configs[i]["strategy"] == s]] for s in STRATEGIES}


def llm_missing_by_strategy(params: list[dict[str, Any]]) -> dict[str, float]:
    """For each strategy, how much the score would rise if the true front's configurations of that
    strategy were added to what a run found: where a sampler's missing hypervolume is."""
    _, reference, best = llm_enumeration()
    found = _log_points(np.array([llm_truth(p)[:3] for p in params]))
    base = hypervolume(found, reference)
    return {
        s: (hypervolume(np.vstack((found, add)), reference) - base) / best for s, add in _true_front_by_strategy().items()
    }


LLM = Problem(
    "LLM", llm_space(), {"accuracy": "maximize", "cost": "minimize", "latency": "minimize"}, llm_suggest, llm_values,
    llm_score,
)

PROBLEMS = {p.name: p for p in (ZDT1, DTLZ2, LLM)}
