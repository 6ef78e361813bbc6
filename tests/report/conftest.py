"""A real evaluation study for report tests: a stub OpenAI-compatible server over HTTP, three
objectives, conditional variables, pruned, failed and constraint-breaking trials, cache hits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, FloatVar, IntVar, ModuleOption, ModuleVar, Space, acomplete
from llmopt.evaluation.stub_server import StubLLMServer
from tests.evaluation.conftest import STUB_MODEL, STUB_PRICE, echo_last_word

N_EXAMPLES = 40
SPACE = Space({
    "model": ChoiceVar(["small", "large"]),
    "temperature": FloatVar(0.0, 1.0),
    "strategy": ModuleVar({"direct": None, "cot": ModuleOption(params={"steps": IntVar(1, 4)})}),
})
PADDING = {"small": 5, "large": 40}  # prompt words: what a configuration costs


def _wrong(config, index: int) -> bool:
    """Large models and more steps answer more questions; temperature hurts (deterministic per config and example)."""
    skill = {"small": 0.45, "large": 0.75}[config["model"]] - 0.2 * config["temperature"]
    if config["strategy"] == "cot":
        skill += 0.04 * config["strategy.cot.steps"]
    draw = int(hashlib.sha256(f"{config['model']}|{round(config['temperature'], 1)}|{index}".encode()).hexdigest()[:8], 16) / 16**8
    return draw > skill


def pipeline_for(server: StubLLMServer):
    async def pipeline(config, example):
        if config["temperature"] > 0.9:
            raise RuntimeError("this pipeline breaks above temperature 0.9")
        index = int(example.id[1:])
        steps = config["strategy.cot.steps"] if config["strategy"] == "cot" else 0
        words = ["pad"] * (PADDING[config["model"]] + 10 * steps) + [example.question, "nope" if _wrong(config, index) else example.answer]
        return (await acomplete(STUB_MODEL, " ".join(words), api_base=server.api_base, api_key="k")).text
    return pipeline


def make_study(path: Path, name: str = "report-demo", n_trials: int = 30, seed: int = 0) -> None:
    """Run a small real study into the SQLite file `path` (closed after)."""
    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(N_EXAMPLES)])
    with StubLLMServer(answer=echo_last_word) as server:
        ev = Evaluation(data, pipeline_for(server), prices=STUB_PRICE, models=[STUB_MODEL], objectives=["accuracy", "cost", "latency_p95"],
                        max_concurrent_examples=4, trial_budget=0.0032)
        with llmopt.create_study(name, SPACE, ev.objectives, storage=str(path), seed=seed,
                                 constraints=["cost <= 0.00007"]) as study:
            study.enqueue({"model": "small", "temperature": 0.95, "strategy": "direct"})
            study.enqueue({"model": "large", "temperature": 0.1, "strategy": "direct"})
            study.enqueue({"model": "large", "temperature": 0.0, "strategy": "cot", "strategy.cot.steps": 1})
            study.enqueue({"model": "large", "temperature": 0.5, "strategy": "cot", "strategy.cot.steps": 4})  # over trial_budget: pruned
            study.optimize(ev, n_trials=n_trials)


@pytest.fixture(scope="session")
def report_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.db"
    make_study(path)
    return path
