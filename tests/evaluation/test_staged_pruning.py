"""Staged evaluation: the default Pareto-aware pruner stops clearly dominated trials early, spares the cheap end."""

from __future__ import annotations

from pathlib import Path

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Space, acomplete
from llmopt.evaluation.stub_server import StubLLMServer
from llmopt.trial import TrialState
from tests.evaluation.conftest import STUB_MODEL, STUB_PRICE

N = 120
PADDING = {"good": 10, "bad": 30, "cheap": 0}  # prompt words: the cost of each configuration


def pipeline_for(server: StubLLMServer):
    async def pipeline(config, example):
        style = config["style"]
        index = int(example.id[1:])
        wrong = (style == "bad" and index % 2 == 0) or (style == "cheap" and index % 10 < 3)
        prompt = " ".join(["pad"] * PADDING[style] + [example.question, "nope" if wrong else example.answer])
        return (await acomplete(STUB_MODEL, prompt, api_base=server.api_base, api_key="k")).text
    return pipeline


def test_dominated_trial_is_pruned_early_and_the_cheap_end_survives(stub: StubLLMServer, tmp_path: Path) -> None:
    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(N)])
    ev = Evaluation(data, pipeline_for(stub), prices=STUB_PRICE, objectives=["accuracy", "cost"], max_concurrent_examples=8)
    study = llmopt.create_study("p", Space({"style": ChoiceVar(["good", "bad", "cheap"])}), ev.objectives,
                                storage=str(tmp_path / "p.db"), seed=0)
    for style in ("good", "bad", "cheap"):
        study.enqueue({"style": style})
    study.optimize(ev, n_trials=3)
    trials = {t.params["style"]: t for t in study.trials}
    assert trials["good"].state == TrialState.COMPLETE and trials["cheap"].state == TrialState.COMPLETE
    bad = trials["bad"]
    assert bad.state == TrialState.PRUNED, bad.system_attrs
    assert bad.system_attrs["examples_scored"] < N / 2
    assert "trial 0" in bad.system_attrs["prune_reason"]
    assert 0.1 < bad.values["accuracy"] < 0.9  # partial estimates on the prefix it scored are kept
    assert sorted(t.params["style"] for t in study.pareto_front()) == ["cheap", "good"]
    assert len(stub.requests) == 2 * N + bad.system_attrs["examples_scored"]


def test_pruning_can_be_turned_off(stub: StubLLMServer, tmp_path: Path) -> None:
    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(40)])
    ev = Evaluation(data, pipeline_for(stub), prices=STUB_PRICE, objectives=["accuracy", "cost"], pruner=None)
    study = llmopt.create_study("n", Space({"style": ChoiceVar(["good", "bad"])}), ev.objectives,
                                storage=str(tmp_path / "n.db"), seed=0)
    for style in ("good", "bad"):
        study.enqueue({"style": style})
    study.optimize(ev, n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.COMPLETE]
