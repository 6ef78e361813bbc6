"""The call cache: persisted with the study, keyed by everything including the sample index, billing $0 on hits."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Space, acomplete
from llmopt.evaluation.calls import cache_key
from llmopt.evaluation.stub_server import StubLLMServer
from llmopt.trial import TrialState
from tests.evaluation.conftest import STUB_MODEL, STUB_PRICE


def data() -> Dataset:
    return Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(4)])


def voting_pipeline(server: StubLLMServer, k: int = 3):
    """Self-consistency: k samples of the same request at temperature 0.9, majority answer."""
    async def pipeline(config, example):
        answers = [(await acomplete(STUB_MODEL, example.question, api_base=server.api_base, api_key="k",
                                    temperature=0.9, max_tokens=config["max_tokens"])).text for _ in range(k)]
        return max(set(answers), key=answers.count)
    return pipeline


def run(server: StubLLMServer, path: Path, name: str, cache: bool = True, n_trials: int = 1):
    # overlap_trials=False: the repeat trial starts after the first is stored, so it finds the entries
    ev = Evaluation(data(), voting_pipeline(server), prices=STUB_PRICE, cache=cache, extra_measures=["total_cost"],
                    overlap_trials=False)
    study = llmopt.create_study(name, Space({"max_tokens": ChoiceVar([16])}), ev.objectives, storage=str(path),
                                seed=0, allow_repeats=True, load_if_exists=True)
    study.optimize(ev, n_trials=n_trials)
    return study


def test_k_samples_are_k_entries_and_hits_bill_zero_but_cost_the_same(stub: StubLLMServer, tmp_path: Path) -> None:
    study = run(stub, tmp_path / "c.db", "c", n_trials=2)
    assert len(stub.requests) == 12  # 4 examples x 3 samples, all paid once; the repeat trial hit the cache
    first, second = study.trials
    assert first.values["cost"] > 0 and first.values["cost"] == pytest.approx(second.values["cost"])  # the front sees the true cost
    calls = study.storage.get_calls(second.trial_id)
    assert len(calls) == 12 and all(c.cache_hit and c.billed_cost == 0.0 and c.cost > 0 for c in calls)
    assert first.system_attrs["billed_cost"] == pytest.approx(first.system_attrs["measures"]["total_cost"])
    assert second.system_attrs["billed_cost"] == 0.0
    examples = study.storage.get_example_results(second.trial_id)
    assert all(e.cache_hits == 3 and e.billed_cost == 0.0 for e in examples)
    assert study.storage.study_spent(study._record.study_id) == pytest.approx(first.system_attrs["billed_cost"])


def test_cache_persists_across_processes_and_can_be_turned_off(stub: StubLLMServer, tmp_path: Path) -> None:
    run(stub, tmp_path / "c.db", "c")
    assert len(stub.requests) == 12
    run(stub, tmp_path / "c.db", "c")  # a new Study object on the same file: the stored cache answers
    assert len(stub.requests) == 12
    run(stub, tmp_path / "c.db", "c", cache=False)
    assert len(stub.requests) == 24


def test_cache_is_per_study(stub: StubLLMServer, tmp_path: Path) -> None:
    run(stub, tmp_path / "c.db", "a")
    run(stub, tmp_path / "c.db", "b")
    assert len(stub.requests) == 24


def test_cache_key_covers_model_messages_parameters_and_sample() -> None:
    base = cache_key("m", [{"role": "user", "content": "x"}], {"temperature": 0.5, "max_tokens": 8}, 0)
    assert base == cache_key("m", [{"role": "user", "content": "x"}], {"max_tokens": 8, "temperature": 0.5}, 0)
    assert base != cache_key("m2", [{"role": "user", "content": "x"}], {"temperature": 0.5, "max_tokens": 8}, 0)
    assert base != cache_key("m", [{"role": "user", "content": "y"}], {"temperature": 0.5, "max_tokens": 8}, 0)
    assert base != cache_key("m", [{"role": "user", "content": "x"}], {"temperature": 0.7, "max_tokens": 8}, 0)
    assert base != cache_key("m", [{"role": "user", "content": "x"}], {"temperature": 0.5, "max_tokens": 9}, 0)
    assert base != cache_key("m", [{"role": "user", "content": "x"}], {"temperature": 0.5, "max_tokens": 8}, 1)


def test_duplicate_configurations_are_not_evaluated_twice_by_default(stub: StubLLMServer, tmp_path: Path) -> None:
    ev = Evaluation(data(), voting_pipeline(stub, k=1), prices=STUB_PRICE)
    study = llmopt.create_study("d", Space({"max_tokens": ChoiceVar([16, 32])}), ev.objectives, storage=str(tmp_path / "d.db"), seed=0)
    study.optimize(ev, n_trials=5)
    assert sorted(t.params["max_tokens"] for t in study.trials if t.state == TrialState.COMPLETE) == [16, 32]
