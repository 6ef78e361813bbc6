"""Tests for RandomSampler and the uniform draws it is built on (llmopt.samplers.draw)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from llmopt.errors import InfeasibleSpaceError
from llmopt.samplers import SAMPLERS, RandomSampler, sampler_from_dict
from llmopt.samplers.draw import draw_config, draw_feasible, draw_value
from llmopt.space import ChoiceVar, CompositeVar, FloatVar, Forbid, Implies, IntVar, ModuleOption, ModuleVar, Space


def conditional_space() -> Space:
    return Space(
        {
            "temperature": FloatVar(0.0, 1.0, step=0.1),
            "model": ChoiceVar(["small", "large", None]),
            "strategy": ModuleVar(
                {"predict": None, "cot": ModuleOption(params={"hops": IntVar(1, 4), "style": ChoiceVar(["a", "b"])})}
            ),
            "retriever": CompositeVar({"k": IntVar(1, 32, log=True), "lr": FloatVar(1e-4, 1e-1, log=True)}),
        },
        [Forbid({"model": "small", "strategy": "cot"}), Implies({"strategy": "cot"}, {"strategy.cot.hops": [2, 3]})],
    )


def draws(var, n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return [draw_value(var, rng) for _ in range(n)]


# ---------------------------------------------------------------- reproducibility


def test_same_seed_same_draws():
    space = conditional_space()
    a = [RandomSampler().sample(space, [], [], np.random.default_rng([7, i, 0])) for i in range(30)]
    b = [RandomSampler().sample(space, [], [], np.random.default_rng([7, i, 0])) for i in range(30)]
    assert a == b
    # the types must repeat too, not only the values
    assert [[type(v) for v in p.values()] for p in a] == [[type(v) for v in p.values()] for p in b]


def test_same_rng_stream_same_sequence():
    space = conditional_space()
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert [draw_feasible(space, rng_a) for _ in range(20)] == [draw_feasible(space, rng_b) for _ in range(20)]


def test_different_seeds_differ():
    space = conditional_space()
    a = [RandomSampler().sample(space, [], [], np.random.default_rng([1, i])) for i in range(20)]
    b = [RandomSampler().sample(space, [], [], np.random.default_rng([2, i])) for i in range(20)]
    assert a != b
    assert len({str(p) for p in a}) > 10  # not a constant proposal


def test_sampler_does_not_read_history_and_round_trips_by_name():
    assert RandomSampler.uses_history is False
    assert RandomSampler.unique is False
    assert SAMPLERS["random"] is RandomSampler
    assert RandomSampler().to_dict() == {"type": "random"}
    assert isinstance(sampler_from_dict(RandomSampler().to_dict()), RandomSampler)


def test_docstring_example():
    assert RandomSampler().sample(Space({"t": FloatVar(0, 1, step=0.5)}), [], [], np.random.default_rng(0)) == {"t": 1.0}


# ---------------------------------------------------------------- distributions


def test_log_float_median_near_geometric_mean():
    var = FloatVar(0.01, 100.0, log=True)
    values = draws(var)
    assert all(var.contains(v) for v in values)
    median = float(np.median(values))
    assert 0.75 < median < 1.33  # geometric mean of [0.01, 100] is 1
    # about a quarter of the draws per decade
    per_decade = Counter(math.floor(math.log10(v)) for v in values)
    for decade in (-2, -1, 0, 1):
        assert 400 < per_decade[decade] < 600, per_decade


def test_linear_float_is_uniform():
    var = FloatVar(-1.0, 3.0)
    values = np.array(draws(var))
    assert values.min() >= -1.0 and values.max() <= 3.0
    assert abs(np.median(values) - 1.0) < 0.15
    assert abs(values.mean() - 1.0) < 0.1
    assert abs(np.mean(values < 0.0) - 0.25) < 0.04


def test_stepped_float_hits_every_point_roughly_evenly():
    var = FloatVar(0.0, 1.0, step=0.25)
    counts = Counter(draws(var))
    assert set(counts) == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert all(300 < c < 500 for c in counts.values()), counts


def test_int_draws_cover_range_and_step():
    var = IntVar(-4, 8, step=4)
    counts = Counter(draws(var))
    assert set(counts) == {-4, 0, 4, 8}
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in counts)
    assert all(400 < c < 600 for c in counts.values()), counts


def test_log_int_favours_small_values_and_reaches_both_ends():
    var = IntVar(1, 100, log=True)
    values = draws(var)
    assert all(var.contains(v) for v in values)
    assert min(values) == 1 and max(values) == 100
    median = float(np.median(values))
    assert 6 <= median <= 14  # geometric mean of [0.5, 100.5] is ~7.1
    assert sum(v <= 10 for v in values) > sum(v > 10 for v in values)


def test_every_choice_option_appears_with_its_type():
    var = ChoiceVar([1, True, 1.0, "1", None])
    values = draws(var)
    seen = Counter((type(v), v) for v in values)
    assert set(seen) == {(int, 1), (bool, True), (float, 1.0), (str, "1"), (type(None), None)}
    assert all(300 < c < 500 for c in seen.values()), seen


def test_every_module_option_appears():
    var = ModuleVar({"a": None, "b": None, "c": None})
    assert Counter(draws(var, n=600)).keys() == {"a", "b", "c"}


def test_sub_variables_drawn_only_when_their_option_is_chosen():
    space = conditional_space()
    rng = np.random.default_rng(0)
    for _ in range(300):
        values = draw_config(space, rng)
        cot = values["strategy"] == "cot"
        assert ("strategy.cot.hops" in values) == cot
        assert ("strategy.cot.style" in values) == cot
        assert list(values) == [l.path for l in space.active_leaves(values)]  # drawn in space order


def test_constraints_hold_and_forbidden_share_is_removed():
    space = conditional_space()
    rng = np.random.default_rng(1)
    samples = [RandomSampler().sample(space, [], [], rng) for _ in range(600)]
    for s in samples:
        space.validate(s)
        assert not (s["model"] == "small" and s["strategy"] == "cot")
        if s["strategy"] == "cot":
            assert s["strategy.cot.hops"] in (2, 3)
    models = Counter(s["model"] for s in samples)
    assert set(models) == {"small", "large", None}
    strategies = Counter(s["strategy"] for s in samples)
    assert strategies["cot"] > 50 and strategies["predict"] > strategies["cot"]


# ---------------------------------------------------------------- infeasible spaces


def test_infeasible_space_raises_naming_the_constraint():
    space = Space({"a": ChoiceVar(["x", "y"]), "b": IntVar(0, 3)}, [Forbid({"a": ["x", "y"]})])
    with pytest.raises(InfeasibleSpaceError) as info:
        RandomSampler().sample(space, [], [], np.random.default_rng(0))
    assert "2000" in info.value.message
    assert "forbid a in ['x', 'y']" in info.value.message
    assert info.value.hint


def test_max_tries_bounds_the_rejection_loop():
    space = Space({"a": ChoiceVar(["x", "y"])}, [Forbid({"a": "x"}), Implies({"a": "y"}, {"a": "x"})])
    with pytest.raises(InfeasibleSpaceError, match="in 7 random draws"):
        draw_feasible(space, np.random.default_rng(0), max_tries=7)


def test_rare_feasible_point_is_found():
    # one feasible configuration out of 64
    space = Space(
        {"a": IntVar(0, 7), "b": IntVar(0, 7)},
        [Implies({"a": 0}, {"b": 0})] + [Forbid({"a": i}) for i in range(1, 8)],
    )
    rng = np.random.default_rng(0)
    assert {tuple(draw_feasible(space, rng).values()) for _ in range(5)} == {(0, 0)}


def test_sampled_values_always_validate_for_awkward_bounds():
    space = Space({"x": FloatVar(1 / 3, 4 / 3, step=1 / 3)})
    rng = np.random.default_rng(0)
    for _ in range(50):
        space.validate(RandomSampler().sample(space, [], [], rng))
