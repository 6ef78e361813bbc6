"""A simulated QA pipeline: per-example correctness, dollars and seconds, with a real trade-off.

Stands in for LLM calls until the evaluation issue lands: bigger models and more reasoning
answer more questions right but cost more and take longer. Outcomes are deterministic per
(configuration, question), so a study is reproducible. Uses llmopt's public API only.
"""

from __future__ import annotations

import hashlib
import math
import statistics

OBJECTIVES = {"accuracy": "maximize", "cost": "minimize", "latency": "minimize"}

# skill (logit), $ per 1M input tokens, $ per 1M output tokens, seconds per output token
MODELS = {
    "tiny-1b": (-0.6, 0.04, 0.04, 0.004),
    "small-8b": (0.5, 0.20, 0.20, 0.010),
    "large-70b": (1.6, 0.90, 0.90, 0.025),
}
TEMPLATE_BONUS = {"plain": 0.0, "expert": 0.25, "concise": -0.1}
QUESTIONS = [(f"q{i:02d}", -1.5 + 3.0 * ((i * 37) % 40) / 39) for i in range(40)]  # (id, difficulty)


def _uniform(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _answer(config, question_id: str, difficulty: float) -> tuple[bool, int, int, float]:
    skill, _, _, sec_per_token = MODELS[config["model"]]
    strategy = config["strategy"]
    logit = skill - difficulty + TEMPLATE_BONUS[config["template"]]
    logit += 0.12 * math.log1p(config["n_demos"]) - 0.5 * max(0.0, config["temperature"] - 0.7)
    prompt_tokens = 120 + 90 * config["n_demos"]
    completion = min(config["max_tokens"], 40)
    calls = 1
    if strategy == "cot":
        reasoning = config["strategy.cot.reasoning_tokens"]
        logit += 0.35 * math.log2(reasoning / 32)
        completion = min(config["max_tokens"] + reasoning, reasoning + 40)
    elif strategy == "self_consistency":
        calls = config["strategy.self_consistency.samples"]
        logit += 0.3 * math.log2(calls)
    if config["max_tokens"] < 48:
        logit -= 0.8  # answers get cut off
    correct = _uniform(config.fingerprint, question_id) < 1 / (1 + math.exp(-logit))
    latency = 0.15 + completion * sec_per_token * (1 if strategy != "self_consistency" else 1.3)
    return correct, prompt_tokens * calls, completion * calls, latency


def evaluate(trial) -> dict[str, float]:
    """Score every question, record each one, return mean accuracy, $ per question and p50 seconds."""
    _, price_in, price_out, _ = MODELS[trial.config["model"]]
    costs, latencies, hits = [], [], 0
    for question_id, difficulty in QUESTIONS:
        correct, tokens_in, tokens_out, latency = _answer(trial.config, question_id, difficulty)
        cost = (tokens_in * price_in + tokens_out * price_out) / 1e6
        trial.record_example(question_id, {"score": float(correct)}, cost=cost, latency=latency,
                             prompt_tokens=tokens_in, completion_tokens=tokens_out)
        hits += correct
        costs.append(cost)
        latencies.append(latency)
    return {"accuracy": hits / len(QUESTIONS), "cost": sum(costs) / len(costs), "latency": statistics.median(latencies)}
