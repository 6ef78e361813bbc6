"""Run your own loop with ask/tell, recording each scored example as it completes.

Run: python examples/ask_tell.py [STORAGE]   (default: a SQLite file ask_tell.db)
"""

from __future__ import annotations

import random
import sys

import llmopt
from llmopt import ChoiceVar, FloatVar, Space
from llmopt.errors import SpaceExhaustedError

space = Space({"model": ChoiceVar(["small", "large"]), "temperature": FloatVar(0.0, 1.0, step=0.25)})
QUESTIONS = [f"q{i}" for i in range(10)]


def answer(config: llmopt.Config, question: str) -> tuple[bool, float, float]:
    """Stand-in for an LLM call: (correct, dollars, seconds)."""
    rng = random.Random(f"{config.fingerprint}-{question}")
    skill = 0.85 if config["model"] == "large" else 0.6
    price = 0.002 if config["model"] == "large" else 0.0004
    return rng.random() < skill - 0.2 * config["temperature"], price, 0.3 + rng.random()


def main(storage: str) -> llmopt.Study:
    study = llmopt.create_study(
        "ask-tell", space, {"accuracy": "maximize", "cost": "minimize"}, storage=storage, seed=0, load_if_exists=True
    )
    for _ in range(8):
        try:
            trial = study.ask()
        except SpaceExhaustedError as exc:  # a second run finds 2 of the 10 points left: the search is done
            print(f"done: {exc.message}")
            break
        done = {e.example_id for e in trial.examples()}  # a resumed trial skips what it already paid for
        for question in QUESTIONS:
            if question in done:
                continue
            correct, cost, latency = answer(trial.config, question)
            trial.record_example(question, {"correct": float(correct)}, cost=cost, latency=latency)
        results = trial.examples()
        study.tell(trial, {
            "accuracy": sum(r.metrics["correct"] for r in results) / len(results),
            "cost": sum(r.cost or 0.0 for r in results),
        })
    for record in study.pareto_front():
        print(record.number, record.values, record.params)
    return study


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "ask_tell.db").close()
