"""Contract every sampler in llmopt.samplers.SAMPLERS must honour, run on a constrained conditional space.

A new sampler is picked up automatically; give it constructor arguments in SAMPLER_ARGS if it needs some.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import llmopt
from llmopt.samplers import SAMPLERS, Sampler, sampler_from_dict
from llmopt.space import ChoiceVar, CompositeVar, FloatVar, Forbid, Implies, IntVar, ModuleOption, ModuleVar, Predicate, Space
from llmopt.trial import Objective, TrialRecord, TrialState

# Arguments that let each sampler handle CONTRACT_SPACE (floats without a step need float_points on a grid).
SAMPLER_ARGS: dict[str, dict[str, Any]] = {"grid": {"float_points": 3}}

OBJECTIVES = {"accuracy": "maximize", "cost": "minimize"}


def make_sampler(name: str) -> Sampler:
    return SAMPLERS[name](**SAMPLER_ARGS.get(name, {}))


def temperature_ok(cfg) -> bool:
    """Large models only at low temperature."""
    return not (cfg["model"] == "large" and cfg["temperature"] > 0.5)


def contract_space() -> Space:
    """Floats (stepped, linear, log), ints (stepped, log), choices with mixed types, a module with a nested
    module, a composite with its own constraint, and top-level Forbid / Implies / Predicate."""
    return Space(
        {
            "model": ChoiceVar(["small", "large", None]),
            "temperature": FloatVar(0.0, 1.0, step=0.25),
            "top_p": FloatVar(0.5, 1.0),
            "lr": FloatVar(1e-3, 1e-1, log=True),
            "strategy": ModuleVar(
                {
                    "predict": None,
                    "cot": ModuleOption(
                        params={
                            "hops": IntVar(1, 4),
                            "inner": ModuleVar({"plain": None, "tool": ModuleOption(params={"n": IntVar(0, 6, step=2)})}),
                        }
                    ),
                    "react": ModuleOption(params={"depth": ChoiceVar([1, 2.5, True])}),
                }
            ),
            "retriever": CompositeVar(
                {"k": IntVar(1, 8, log=True), "rerank": ChoiceVar([True, False])},
                constraints=[Implies({"rerank": True}, {"k": [4, 5, 6, 7, 8]})],
            ),
        },
        [
            Forbid({"model": "small", "strategy": "react"}),
            Implies({"strategy": "cot"}, {"strategy.cot.hops": [2, 3]}),
            Forbid({"strategy.cot.inner": "tool", "model": [None, "small"]}),
            Predicate("temperature-ok", temperature_ok),
        ],
    )


def assert_contract_values(space: Space, params: dict) -> None:
    """Only active variables, each in its domain and on its step, and every constraint holds."""
    assert isinstance(params, dict)
    active = [leaf.path for leaf in space.active_leaves(params)]
    assert set(params) == set(active), (params, active)
    for leaf in space.active_leaves(params):
        value, var = params[leaf.path], leaf.var
        assert var.contains(value), (leaf.path, value)
        if isinstance(var, FloatVar):
            assert isinstance(value, float), (leaf.path, value)
            assert var.low <= value <= var.high
            if var.step is not None:
                k = (value - var.low) / var.step
                assert abs(k - round(k)) < 1e-9, (leaf.path, value)
        elif isinstance(var, IntVar):
            assert type(value) is int, (leaf.path, value)
            assert (value - var.low) % var.stride == 0
    assert space.violations(params) == []
    space.validate(params)


SAMPLER_NAMES = sorted(SAMPLERS)


@pytest.fixture(params=SAMPLER_NAMES)
def sampler_name(request) -> str:
    return request.param


def test_every_sampler_is_registered_under_its_name(sampler_name):
    cls = SAMPLERS[sampler_name]
    assert issubclass(cls, Sampler)
    assert cls.name == sampler_name
    sampler = make_sampler(sampler_name)
    rebuilt = sampler_from_dict(sampler.to_dict())  # load_study rebuilds the sampler this way
    assert type(rebuilt) is cls
    assert rebuilt.to_dict() == sampler.to_dict()


def test_proposals_are_active_in_domain_and_step_aligned(sampler_name):
    space = contract_space()
    sampler = make_sampler(sampler_name)
    objectives = [Objective(n, d) for n, d in OBJECTIVES.items()]
    seen_strategies = set()
    for i in range(40):
        params = sampler.sample(space, [], objectives, np.random.default_rng([11, i, 0]))
        assert_contract_values(space, params)
        seen_strategies.add(params["strategy"])
    assert seen_strategies == {"predict", "cot", "react"}  # conditional branches are all reached


def test_never_proposes_an_infeasible_configuration(sampler_name):
    """A tightly constrained space: most of the raw product is forbidden."""
    space = Space(
        {
            "a": ChoiceVar(["x", "y", "z"]),
            "s": ModuleVar({"p": None, "c": ModuleOption(params={"h": IntVar(1, 5), "m": ChoiceVar([0, 1])})}),
            "b": IntVar(0, 4),
        },
        [
            Forbid({"a": ["x", "y"], "b": [0, 1, 2, 3]}),
            Implies({"s": "c"}, {"s.c.h": 5, "s.c.m": 1}),
            Forbid({"s": "p", "a": "z"}),
        ],
    )
    sampler = make_sampler(sampler_name)
    history: list[TrialRecord] = []
    for i in range(6):
        params = sampler.sample(space, history, [], np.random.default_rng([3, i, 0]))
        assert_contract_values(space, params)
        history.append(TrialRecord(i, TrialState.COMPLETE, params, space.config(params).fingerprint))


def test_same_seed_same_proposals(sampler_name):
    space = contract_space()
    one, other = make_sampler(sampler_name), make_sampler(sampler_name)  # two instances: no hidden shared state
    a = [one.sample(space, [], [], np.random.default_rng([42, i, 0])) for i in range(15)]
    b = [other.sample(space, [], [], np.random.default_rng([42, i, 0])) for i in range(15)]
    assert a == b
    assert [[type(v) for v in p.values()] for p in a] == [[type(v) for v in p.values()] for p in b]
    assert [one.sample(space, [], [], np.random.default_rng([42, i, 0])) for i in range(15)] == a  # repeatable
    c = [one.sample(space, [], [], np.random.default_rng([43, i, 0])) for i in range(15)]
    assert c != a


def _objective(trial) -> dict[str, float]:
    cfg = trial.config
    cost = 1.0 + (cfg["model"] == "large") + cfg["temperature"]
    accuracy = 0.5 + 0.1 * (cfg["strategy"] == "cot") - abs(cfg["top_p"] - 0.8) + math.log10(cfg["lr"]) / 100
    return {"accuracy": accuracy, "cost": cost}


def test_runs_through_a_real_study(sampler_name):
    space = contract_space()
    study = llmopt.create_study(
        f"contract-{sampler_name}", space, OBJECTIVES, storage=":memory:", sampler=make_sampler(sampler_name), seed=5
    )
    study.optimize(_objective, n_trials=12)
    trials = study.trials
    assert [t.number for t in trials] == list(range(12))
    assert all(t.state == TrialState.COMPLETE for t in trials), [(t.number, t.state, t.error) for t in trials]
    for t in trials:
        assert_contract_values(space, t.params)
        assert t.fingerprint == space.config(t.params).fingerprint
        assert set(t.values) == set(OBJECTIVES)
    if study.sampler.unique:
        assert len({t.fingerprint for t in trials}) == len(trials)
    assert study.pareto_front()
    study.close()


def _params_by_number(study) -> list[tuple[int, dict]]:
    return [(t.number, t.params) for t in study.trials]


def test_resumed_study_proposes_the_same_sequence(sampler_name, tmp_path):
    space = contract_space()
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    name = f"resume-{sampler_name}"

    first = llmopt.create_study(name, space, OBJECTIVES, storage=url, sampler=make_sampler(sampler_name), seed=2024)
    first.optimize(_objective, n_trials=7)
    assert len(first.trials) == 7
    first.close()

    reopened = llmopt.load_study(name, storage=url)
    assert type(reopened.sampler) is SAMPLERS[sampler_name]
    assert reopened.sampler.to_dict() == make_sampler(sampler_name).to_dict()
    reopened.optimize(_objective, n_trials=8)
    resumed = _params_by_number(reopened)
    assert all(t.state == TrialState.COMPLETE for t in reopened.trials)
    reopened.close()

    straight = llmopt.create_study(
        f"straight-{sampler_name}", space, OBJECTIVES, storage=":memory:", sampler=make_sampler(sampler_name), seed=2024
    )
    straight.optimize(_objective, n_trials=15)
    expected = _params_by_number(straight)
    straight.close()

    assert len(resumed) == 15
    assert resumed == expected
