"""Which settings matter: a variable that drives an objective outranks noise, conditional ones are judged where active."""

from __future__ import annotations

import numpy as np

from llmopt import ChoiceVar, FloatVar, IntVar, ModuleOption, ModuleVar, Space
from llmopt.report.importance import MIN_TRIALS, importances
from llmopt.trial import Objective, TrialRecord, TrialState

SPACE = Space({
    "temperature": FloatVar(0.0, 1.0),
    "noise": FloatVar(1e-3, 1.0, log=True),
    "model": ChoiceVar(["a", "b", "c"]),
    "strategy": ModuleVar({"direct": None, "cot": ModuleOption(params={"steps": IntVar(1, 8)})}),
})
OBJECTIVES = (Objective("accuracy", "maximize"), Objective("cost", "minimize"))


def _trials(n: int, seed: int = 0) -> list[TrialRecord]:
    """accuracy falls with temperature; cost is set by the model; 'noise' does nothing;
    steps (active only under cot) add accuracy."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        params = {"temperature": float(rng.uniform()), "noise": float(np.exp(rng.uniform(np.log(1e-3), 0))),
                  "model": str(rng.choice(["a", "b", "c"])), "strategy": str(rng.choice(["direct", "cot"]))}
        accuracy = 1.0 - params["temperature"] + rng.normal(0, 0.05)
        if params["strategy"] == "cot":
            params["strategy.cot.steps"] = int(rng.integers(1, 9))
            accuracy += 0.05 * params["strategy.cot.steps"]
        cost = {"a": 1.0, "b": 5.0, "c": 25.0}[params["model"]] * (1 + rng.normal(0, 0.01))
        out.append(TrialRecord(i, TrialState.COMPLETE, params, f"f{i}", {"accuracy": accuracy, "cost": cost}))
    return out


def test_the_driving_variable_leads_and_noise_trails() -> None:
    shares = importances(_trials(300), SPACE.leaves, OBJECTIVES)
    assert set(shares) == {"accuracy", "cost", "front"}
    for target in shares.values():
        assert abs(sum(target.values()) - 1.0) < 1e-9
    accuracy, cost = shares["accuracy"], shares["cost"]
    assert max(accuracy, key=accuracy.get) == "temperature", accuracy
    assert max(cost, key=cost.get) == "model", cost
    assert accuracy["noise"] < 0.1 and cost["noise"] < 0.1 and cost["temperature"] < 0.1


def test_a_conditional_variable_is_judged_over_the_trials_where_it_was_active() -> None:
    records = _trials(300, seed=1)
    direct_only = [TrialRecord(t.number, t.state, {k: v for k, v in (t.params or {}).items() if k != "strategy.cot.steps"},
                               t.fingerprint, t.values) for t in records]
    shares = importances(direct_only, SPACE.leaves, OBJECTIVES)
    assert shares["accuracy"]["strategy.cot.steps"] == 0.0  # never active: nothing to learn, no crash
    assert importances(records, SPACE.leaves, OBJECTIVES)["accuracy"]["strategy.cot.steps"] > 0.0


def test_too_few_trials_say_nothing() -> None:
    assert importances(_trials(MIN_TRIALS - 1), SPACE.leaves, OBJECTIVES) == {}
    one = importances(_trials(50), SPACE.leaves, OBJECTIVES[:1])
    assert set(one) == {"accuracy"}  # one objective: no "front" target
