"""Budgets: the study stops new calls at its dollar budget, says so, and resumes with a higher one."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmopt
from llmopt import Dataset, Evaluation, FloatVar, Price, Space, acomplete
from llmopt.evaluation.stub_server import StubLLMServer
from llmopt.trial import TrialState
from tests.evaluation.conftest import STUB_MODEL

PRICE = {STUB_MODEL: Price(prompt=0.001, completion=0.001)}  # "say i" -> "i": $0.003 per call


def evaluation(server: StubLLMServer, **kw) -> Evaluation:
    async def pipeline(config, example):
        return (await acomplete(STUB_MODEL, example.question, api_base=server.api_base, api_key="k", temperature=config["t"])).text

    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(10)])
    return Evaluation(data, pipeline, prices=PRICE, max_concurrent_examples=2, **kw)


def test_study_budget_stops_new_calls_and_resume_with_more_continues(stub: StubLLMServer, tmp_path: Path) -> None:
    url = str(tmp_path / "b.db")
    ev = evaluation(stub, budget=0.045)  # 15 calls: trial 0 completes, trial 1 is cut off
    study = llmopt.create_study("b", Space({"t": FloatVar(0, 1)}), ev.objectives, storage=url, seed=0)
    study.optimize(ev, n_trials=3)
    spent = study.storage.study_spent(study._record.study_id)
    # overshoot: at most the calls in flight, 2 slots in each of 2 trials (trial 1 starts in trial 0's tail)
    assert 0.045 <= spent <= 0.045 + 2 * 2 * 0.003 + 1e-9
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.WAITING]
    status = llmopt.load_study("b", storage=url).status
    assert status["state"] == "budget_exhausted" and "higher budget" in status["hint"]
    paid_so_far = len(stub.requests)

    study = llmopt.load_study("b", storage=url)
    study.optimize(evaluation(stub, budget=1.0), n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 3
    assert paid_so_far >= 15 and len(stub.requests) == 30  # every example paid exactly once
    assert study.status["state"] == "ok"
    assert study.storage.study_spent(study._record.study_id) == pytest.approx(0.09)


def test_trial_budget_prunes_the_trial_with_partial_values(stub: StubLLMServer, tmp_path: Path) -> None:
    ev = evaluation(stub, trial_budget=0.012)
    study = llmopt.create_study("t", Space({"t": FloatVar(0, 1)}), ev.objectives, storage=str(tmp_path / "t.db"), seed=0)
    study.optimize(ev, n_trials=2)
    for trial in study.trials:
        assert trial.state == TrialState.PRUNED
        assert "per-trial budget reached" in trial.system_attrs["prune_reason"]
        assert 4 <= trial.system_attrs["examples_scored"] < 10
        assert trial.values["accuracy"] == 1.0
    assert study.pareto_front() == []


def test_a_pruned_trial_resumes_to_the_full_set_without_paying_twice(stub: StubLLMServer, tmp_path: Path) -> None:
    url = str(tmp_path / "p.db")
    ev = evaluation(stub, trial_budget=0.012)
    study = llmopt.create_study("p", Space({"t": FloatVar(0, 1)}), ev.objectives, storage=url, seed=0)
    study.optimize(ev, n_trials=1)
    (pruned,) = study.trials
    scored = pruned.system_attrs["examples_scored"]
    assert pruned.state == TrialState.PRUNED and len(stub.requests) == scored
    requeued = study.resume_trial(pruned.number)
    assert requeued.state == TrialState.WAITING and requeued.system_attrs["no_prune"]
    study.optimize(evaluation(stub), n_trials=1)  # no trial budget this time
    (done,) = study.trials
    assert done.state == TrialState.COMPLETE and done.values["accuracy"] == 1.0
    assert done.system_attrs["resumed_examples"] == scored and len(stub.requests) == 10
    assert done.system_attrs["pruned_before"]["reason"].startswith("per-trial budget reached")
    assert [t.number for t in study.pareto_front()] == [done.number]
    with pytest.raises(llmopt.LLMOptError, match="only a PRUNED trial can be resumed"):
        study.resume_trial(done.number)
