"""Outcome constraints: infeasible trials are stored with their violation and never enter the front."""

from __future__ import annotations

from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Space
from llmopt.errors import StudyError
from llmopt.study.outcome import OutcomeConstraint, parse_constraints


def test_infeasible_trials_never_enter_the_front(tmp_path: Path) -> None:
    space = Space({"model": ChoiceVar(["cheap", "mid", "dear"])})
    table = {"cheap": (0.5, 0.001), "mid": (0.7, 0.002), "dear": (0.9, 0.01)}
    url = str(tmp_path / "o.db")
    study = llmopt.create_study("o", space, {"accuracy": "maximize", "cost": "minimize"}, storage=url, seed=0,
                                constraints=["cost <= 0.002"])
    study.optimize(lambda t: table[t.config["model"]], n_trials=3)
    by_model = {t.params["model"]: t for t in study.trials}
    assert by_model["dear"].constraint_violation == pytest.approx(4.0) and not by_model["dear"].feasible
    assert by_model["mid"].constraint_violation == 0.0
    assert sorted(t.params["model"] for t in study.pareto_front()) == ["cheap", "mid"]
    reopened = llmopt.load_study("o", storage=url)
    assert reopened.outcome_constraints == (OutcomeConstraint("cost", "<=", 0.002),)
    with pytest.raises(StudyError, match="outcome constraints"):
        llmopt.create_study("o", space, {"accuracy": "maximize", "cost": "minimize"}, storage=url, load_if_exists=True,
                            constraints=["cost <= 0.005"])


def test_constraints_on_evaluation_measures_that_are_not_objectives(tmp_path: Path) -> None:
    data = Dataset([{"id": str(i), "answer": "x"} for i in range(4)])

    def pipeline(config, example):
        if config["mode"] == "flaky" and example.id == "0":
            raise RuntimeError("flaky")
        return "x"

    ev = Evaluation(data, pipeline, objectives=["accuracy"], extra_measures=["error_rate"])
    study = llmopt.create_study("m", Space({"mode": ChoiceVar(["flaky", "solid"])}), ev.objectives,
                                storage=str(tmp_path / "m.db"), seed=0, constraints=["error_rate <= 0.1"])
    study.optimize(ev, n_trials=2)
    (best,) = study.pareto_front()
    assert best.params["mode"] == "solid"
    assert {t.params["mode"]: t.feasible for t in study.trials} == {"flaky": False, "solid": True}


@pytest.mark.parametrize("spec", ["cost < 1", "cost <= lots", "<= 3", "cost == 2"])
def test_malformed_constraints_are_refused(spec: str) -> None:
    with pytest.raises(StudyError, match="name <= number|not a number"):
        parse_constraints([spec])


def test_unknown_constraint_name_is_refused_by_optimize_and_broken_in_ask_tell(tmp_path: Path) -> None:
    study = llmopt.create_study("u", Space({"x": ChoiceVar([1])}), {"v": "maximize"}, storage=str(tmp_path / "u.db"),
                                constraints=["latency <= 1"])
    with pytest.raises(StudyError, match="'latency' names nothing"):
        study.optimize(lambda t: 1.0, n_trials=1)
    assert study.trials == []
    trial = study.ask()  # an ask/tell loop may store the measure itself; without it the constraint counts as broken
    study.tell(trial, 1.0)
    assert not study.trials[0].feasible and study.pareto_front() == []
