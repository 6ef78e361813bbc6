"""Tests for NSGA2Sampler: generations from sample indices, constrained selection, operators, resume."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

import llmopt
from llmopt.errors import StudyError
from llmopt.samplers import NSGA2Sampler, RandomSampler, sampler_from_dict
from llmopt.samplers.encoding import SpaceEncoding
from llmopt.samplers.history import HistoryReader
from llmopt.samplers.nsga2.operators import make_child, polynomial_mutation, sbx
from llmopt.samplers.nsga2.selection import generation_of, parents, tournament
from llmopt.space import ChoiceVar, FloatVar, IntVar, ModuleOption, ModuleVar, Space
from llmopt.trial import Objective, TrialRecord, TrialState

TWO = [Objective("a", "minimize"), Objective("b", "minimize")]


def record(number: int, space: Space, params: dict, values=None, state=TrialState.COMPLETE, **attrs) -> TrialRecord:
    return TrialRecord(number, state, params, space.config(params).fingerprint, values, sample_index=number, system_attrs=attrs)


def mixed_space() -> Space:
    return Space(
        {
            "x": FloatVar(0.0, 1.0),
            "lr": FloatVar(1e-4, 1e-1, log=True),
            "k": IntVar(1, 16, log=True),
            "model": ChoiceVar(["s", "m", "l"]),
            "strategy": ModuleVar(
                {"direct": None, "cot": ModuleOption(params={"hops": IntVar(1, 6)}), "sc": ModuleOption(params={"n": IntVar(3, 11, step=2)})}
            ),
        }
    )


def objective(trial) -> tuple[float, float]:
    """ZDT1's shape on a mixed space: every variable but x only adds distance to the front."""
    c = trial.config
    strategy = {"direct": 0.5, "cot": abs(c.get("strategy.cot.hops", 0) - 3) / 3, "sc": 1.0}[c["strategy"]]
    distance = abs(np.log10(c["lr"]) + 2) / 2 + abs(np.log2(c["k"]) - 2) / 4 + (c["model"] != "m") + strategy
    g = 1 + 9 * distance / 4
    return c["x"], g * (1 - np.sqrt(c["x"] / g))


def run(n: int, seed: int, sampler=None, storage: str = ":memory:", name: str = "n"):
    study = llmopt.create_study(name, mixed_space(), {"a": "minimize", "b": "minimize"}, storage=storage, sampler=sampler or NSGA2Sampler(population_size=8), seed=seed)
    study.optimize(objective, n_trials=n)
    trials = study.trials
    hv = study.hypervolume(reference=[1.1, 10.0])
    study.close()
    return trials, hv


# ---------------------------------------------------------------- generations and selection


def test_generation_follows_the_sample_index():
    assert [generation_of(i, 8) for i in (0, 7, 8, 15, 16)] == [0, 0, 1, 1, 2]


def test_parents_come_from_earlier_generations_only_with_constrained_domination():
    space = Space({"k": IntVar(0, 99)})
    history = [
        record(0, space, {"k": 0}, {"a": 1.0, "b": 1.0}, constraint_violation=2.0),  # best values, but infeasible
        record(1, space, {"k": 1}, {"a": 2.0, "b": 3.0}),
        record(2, space, {"k": 2}, {"a": 3.0, "b": 2.0}),
        record(3, space, {"k": 3}, {"a": 4.0, "b": 4.0}),
        record(4, space, {"k": 4}, {"a": 5.0, "b": 5.0}, constraint_violation=0.5),
        record(5, space, {"k": 5}, {"a": 1.5, "b": 1.5}, state=TrialState.PRUNED),  # partial: below complete ones
        record(6, space, {"k": 6}, {"a": 0.0, "b": 0.0}),  # generation 1 itself: not a parent of generation 1
        record(7, space, {"k": 7}, state=TrialState.FAILED),
    ]
    obs = HistoryReader().read(space, history, TWO)
    assert parents(obs, generation=1, population_size=6).tolist() == [1, 2, 3, 5, 4, 0]
    assert parents(obs, generation=2, population_size=6).tolist() == [6, 1, 2, 3, 5, 4]  # the best 6, best first


def test_tournament_prefers_the_better_position():
    rng = np.random.default_rng(0)
    picks = [tournament(rng, 10) for _ in range(4000)]
    share = np.bincount(picks, minlength=10) / 4000
    assert share[0] > 0.15 and share[9] < 0.02 and share[0] > share[5]


def test_generation_zero_is_random_and_later_trials_are_children():
    trials, _ = run(24, seed=1)
    again, _ = run(24, seed=1, sampler=RandomSampler())
    assert [t.params for t in trials[:8]] == [t.params for t in again[:8]]  # same rng, same draws
    assert len({t.fingerprint for t in trials}) == 24


# ---------------------------------------------------------------- operators


def test_sbx_and_polynomial_mutation_stay_in_bounds_and_near_the_parents():
    rng = np.random.default_rng(3)
    children = np.array([sbx(0.2, 0.4, rng, 15.0) for _ in range(2000)])
    assert children.min() >= 0.0 and children.max() <= 1.0
    near = np.minimum(np.abs(children - 0.2), np.abs(children - 0.4)) < 0.08  # SBX children sit near a parent
    assert near.mean() > 0.9 and 0.3 < np.mean(children < 0.3) < 0.7
    moved = np.array([polynomial_mutation(0.99, rng, 20.0) for _ in range(2000)])
    assert moved.min() >= 0.0 and moved.max() <= 1.0 and np.mean(np.abs(moved - 0.99) < 0.1) > 0.9


def test_child_takes_sub_values_from_the_parent_holding_the_chosen_option():
    space = mixed_space()
    enc = SpaceEncoding(space)
    a = enc.encode({"x": 0.1, "lr": 0.01, "k": 2, "model": "s", "strategy": "cot", "strategy.cot.hops": 5})
    b = enc.encode({"x": 0.9, "lr": 0.001, "k": 8, "model": "l", "strategy": "sc", "strategy.sc.n": 9})
    rng = np.random.default_rng(0)
    options = set()
    for _ in range(300):
        child = enc.decode(make_child(enc, a, b, rng, crossover_prob=1.0, mutation_prob=0.0, eta_crossover=15, eta_mutation=20))
        space.validate(child)
        options.add(child["strategy"])
        if child["strategy"] == "cot":
            assert child["strategy.cot.hops"] == 5
        else:
            assert child["strategy.sc.n"] == 9
    assert options == {"cot", "sc"}


def test_mutation_moves_discrete_values_and_options():
    space = Space({"k": IntVar(0, 2), "c": ChoiceVar(["a", "b"]), "n": IntVar(1, 100, log=True)})
    enc = SpaceEncoding(space)
    row = enc.encode({"k": 1, "c": "a", "n": 50})
    rng = np.random.default_rng(1)
    for _ in range(50):
        child = enc.decode(make_child(enc, row, row, rng, crossover_prob=0.0, mutation_prob=1.0, eta_crossover=15, eta_mutation=20))
        assert child["k"] != 1 and child["c"] == "b" and child["n"] != 50


# ---------------------------------------------------------------- the whole sampler


def test_resumed_study_proposes_the_same_as_an_uninterrupted_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'nsga2.db'}"
    run(13, seed=4, storage=url, name="r")  # stops inside generation 1
    resumed = llmopt.load_study("r", storage=url)
    assert resumed.sampler.to_dict() == NSGA2Sampler(population_size=8).to_dict()
    resumed.optimize(objective, n_trials=19)
    got = [t.params for t in resumed.trials]
    resumed.close()
    expected = [t.params for t in run(32, seed=4)[0]]
    assert got == expected


def test_beats_random_search_on_hypervolume():
    nsga = [run(96, seed=s)[1] for s in range(3)]
    rnd = [run(96, seed=s, sampler=RandomSampler())[1] for s in range(3)]
    assert statistics.median(nsga) > statistics.median(rnd), (nsga, rnd)


def test_settings_round_trip_and_are_checked():
    sampler = NSGA2Sampler(population_size=10, crossover_prob=0.8, mutation_prob=0.2)
    assert sampler_from_dict(sampler.to_dict()).to_dict() == sampler.to_dict()
    for bad in ({"population_size": 1}, {"crossover_prob": 1.5}, {"mutation_prob": -0.1}, {"eta_mutation": 0}):
        with pytest.raises(StudyError, match="must hold"):
            NSGA2Sampler(**bad)
