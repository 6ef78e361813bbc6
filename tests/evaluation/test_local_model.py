"""End to end against a real model: SmolLM2-135M served by llama-cpp-python over OpenAI-compatible HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Price, Space, acomplete, complete
from llmopt.evaluation.local_server import LocalModelServer
from llmopt.trial import TrialState

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[LocalModelServer]:
    with LocalModelServer() as running:
        yield running


def test_real_model_answers_and_is_metered(server: LocalModelServer, tmp_path: Path) -> None:
    data = Dataset([
        {"id": "capital", "question": "What is the capital of France? Answer in one word.", "answer": "Paris"},
        {"id": "color", "question": "What color is the sky on a clear day? Answer in one word.", "answer": "blue"},
        {"id": "count", "question": "How many legs does a dog have? Answer with a number.", "answer": "4"},
    ])

    async def pipeline(config, example):
        reply = await acomplete(server.model, [{"role": "user", "content": example.question}], api_base=server.api_base,
                                api_key="none", temperature=config["temperature"], max_tokens=12)
        return reply.text

    ev = Evaluation(data, pipeline, "contains", prices={server.model: Price(per_second=0.001)}, objectives=["accuracy", "cost", "latency_p95"],
                    extra_measures=["tokens"], max_concurrent_examples=1)
    study = llmopt.create_study("local", Space({"temperature": ChoiceVar([0.0])}), ev.objectives, storage=str(tmp_path / "l.db"), seed=0)
    study.optimize(ev, n_trials=1)
    (trial,) = study.trials
    assert trial.state == TrialState.COMPLETE, trial.error
    assert 0.0 <= trial.values["accuracy"] <= 1.0
    assert trial.values["cost"] > 0 and trial.values["latency_p95"] > 0
    examples = study.storage.get_example_results(trial.trial_id)
    assert all(e.prompt_tokens and e.prompt_tokens > 10 and e.completion_tokens and e.output for e in examples)
    calls = study.storage.get_calls(trial.trial_id)
    assert all(c.cost == pytest.approx(c.latency * 0.001) for c in calls)  # per-second price of a self-hosted model


def test_plain_sync_call_outside_a_study(server: LocalModelServer) -> None:
    reply = complete(server.model, "Say hello.", api_base=server.api_base, api_key="none", max_tokens=8, temperature=0)
    assert reply.text and reply.prompt_tokens > 0 and reply.completion_tokens > 0 and not reply.cache_hit
