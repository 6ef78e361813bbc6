"""Calls made by other routes (a library calling litellm itself, as DSPy does) are metered per example."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Space
from llmopt.evaluation import _litellm
from llmopt.evaluation.stub_server import StubLLMServer
from tests.evaluation.conftest import STUB_MODEL, STUB_PRICE


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_foreign_litellm_calls_are_attributed_to_their_example(stub: StubLLMServer, tmp_path: Path, mode: str) -> None:
    lib = _litellm.litellm()  # what DSPy would do: call litellm directly, not through llmopt

    if mode == "async":
        async def pipeline(config, example):
            response = await lib.acompletion(model=STUB_MODEL, messages=[{"role": "user", "content": example.question}],
                                             api_base=stub.api_base, api_key="k")
            return response.choices[0].message.content
    else:
        def pipeline(config, example):
            response = lib.completion(model=STUB_MODEL, messages=[{"role": "user", "content": example.question}],
                                      api_base=stub.api_base, api_key="k")
            return response.choices[0].message.content

    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(4)])
    ev = Evaluation(data, pipeline, prices=STUB_PRICE, max_concurrent_examples=2)
    study = llmopt.create_study("m", Space({"x": ChoiceVar([1])}), ev.objectives, storage=str(tmp_path / "m.db"), seed=0)
    study.optimize(ev, n_trials=1)
    (trial,) = study.trials
    assert trial.values["accuracy"] == 1.0
    examples = study.storage.get_example_results(trial.trial_id)
    assert all(e.n_calls == 1 and e.prompt_tokens == 2 and e.completion_tokens == 1 for e in examples), examples
    assert trial.values["cost"] == pytest.approx(4e-6)
    assert {c.example_id for c in study.storage.get_calls(trial.trial_id)} == {f"q{i}" for i in range(4)}


def test_a_foreign_timed_out_call_is_a_maybe_billed_row_at_its_expected_price(tmp_path: Path) -> None:
    lib = _litellm.litellm()
    with StubLLMServer(fail={0: "timeout"}, hang=1.0) as server:
        async def pipeline(config, example):
            try:
                await lib.acompletion(model=STUB_MODEL, messages=[{"role": "user", "content": example.question}],
                                      api_base=server.api_base, api_key="k", timeout=0.3, max_tokens=7, num_retries=0,
                                      max_retries=0)
            except Exception:
                return "gave up"
            return "answered"

        data = Dataset([{"id": "q0", "question": "say 0", "answer": "0"}])
        ev = Evaluation(data, pipeline, prices=STUB_PRICE)
        study = llmopt.create_study("t", Space({"x": ChoiceVar([1])}), ev.objectives, storage=str(tmp_path / "t.db"), seed=0)
        study.optimize(ev, n_trials=1)
    (trial,) = study.trials
    (call,) = study.storage.get_calls(trial.trial_id)
    assert (call.status, call.error_class, call.maybe_billed, call.completion_tokens) == ("failed", "Timeout", True, 7)
    assert call.prompt_tokens > 0 and call.billed_cost == pytest.approx(STUB_PRICE[STUB_MODEL].cost(call.prompt_tokens, 7, call.latency))
    assert study.storage.study_spent(study._record.study_id) == pytest.approx(call.billed_cost)
