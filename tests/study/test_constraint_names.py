"""An outcome constraint on a name nothing measures is refused, instead of making every trial infeasible."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmopt
from llmopt import Evaluation, FloatVar, RandomSampler, Space
from llmopt.errors import StudyError

SPACE = Space({"x": FloatVar(0, 1)})
OBJECTIVES = {"accuracy": "maximize", "cost": "minimize"}


def test_a_near_miss_is_refused_at_creation_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="'costt' names nothing") as info:
        llmopt.create_study("c", SPACE, OBJECTIVES, storage=str(tmp_path / "c.db"), constraints=["costt <= 1"])
    assert "did you mean 'cost'" in (info.value.hint or "")


def test_an_unknown_name_is_refused_when_a_plain_objective_runs(tmp_path: Path) -> None:
    study = llmopt.create_study("c", SPACE, OBJECTIVES, storage=str(tmp_path / "c.db"), seed=0,
                                sampler=RandomSampler(), constraints=["budget_share <= 1"])
    with pytest.raises(StudyError, match="'budget_share' names nothing"):
        study.optimize(lambda t: {"accuracy": t.config["x"], "cost": 1.0}, n_trials=2)
    assert study.trials == []
    study.close()


def test_an_evaluation_measure_is_a_valid_name(tmp_path: Path) -> None:
    data = [{"id": f"q{i}", "answer": "1"} for i in range(4)]
    ev = Evaluation(data, lambda config, example: "1", objectives=("accuracy", "cost"), extra_measures=("latency_p95",),
                    pruner=None)
    study = llmopt.create_study("c", SPACE, ev.objectives, storage=str(tmp_path / "c.db"), seed=0,
                                sampler=RandomSampler(), constraints=["latency_p95 <= 100"])
    study.optimize(ev, n_trials=2)
    assert [t.feasible for t in study.trials] == [True, True]
    with pytest.raises(StudyError, match="'tokens_total' names nothing"):
        other = llmopt.create_study("d", SPACE, ev.objectives, storage=str(tmp_path / "c.db"), seed=0,
                                    sampler=RandomSampler(), constraints=["tokens_total <= 100"])
        other.optimize(ev, n_trials=1)
    study.close()
