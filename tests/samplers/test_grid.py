"""Tests for GridSampler: exact enumeration of the feasible conditional product, float points, exhaustion, limits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import llmopt
from llmopt.errors import InfeasibleSpaceError, SpaceError, SpaceExhaustedError
from llmopt.samplers import SAMPLERS, GridSampler, sampler_from_dict
from llmopt.space import ChoiceVar, CompositeVar, FloatVar, Forbid, Implies, IntVar, ModuleOption, ModuleVar, Space
from llmopt.space.config import canonical_json, fingerprint_of
from llmopt.trial import TrialRecord, TrialState

REPO = Path(__file__).resolve().parents[2]


def key(point: dict) -> str:
    return canonical_json(point)


def record(number: int, params: dict) -> TrialRecord:
    return TrialRecord(number, TrialState.COMPLETE, params, fingerprint_of(canonical_json(params)))


def small_space() -> Space:
    """2 choices x (predict | cot with hops 1..3) minus (y, cot, 3): 2 * (1 + 3) - 1 = 7 points."""
    return Space(
        {"a": ChoiceVar(["x", "y"]), "s": ModuleVar({"p": None, "c": ModuleOption(params={"h": IntVar(1, 3)})})},
        [Forbid({"a": "y", "s.c.h": 3})],
    )


# ---------------------------------------------------------------- enumeration


def test_grid_is_exactly_the_feasible_conditional_product():
    points = GridSampler().points(small_space())
    expected = [
        {"a": "x", "s": "p"},
        {"a": "x", "s": "c", "s.c.h": 1},
        {"a": "x", "s": "c", "s.c.h": 2},
        {"a": "x", "s": "c", "s.c.h": 3},
        {"a": "y", "s": "p"},
        {"a": "y", "s": "c", "s.c.h": 1},
        {"a": "y", "s": "c", "s.c.h": 2},
    ]
    assert points == expected
    assert [list(p) for p in points] == [list(e) for e in expected]  # keys in space order
    assert GridSampler().size(small_space()) == 7


def test_grid_counts_nested_modules_composites_and_steps():
    space = Space(
        {
            "t": FloatVar(0.0, 1.0, step=0.5),  # 3
            "s": ModuleVar(
                {
                    "predict": None,  # 1
                    "cot": ModuleOption(
                        params={
                            "hops": IntVar(1, 2),  # 2
                            "inner": ModuleVar({"u": None, "v": ModuleOption(params={"n": IntVar(0, 4, step=2)})}),  # 1 + 3
                        }
                    ),  # 2 * 4 = 8
                }
            ),  # 9
            "r": CompositeVar({"k": IntVar(1, 3), "flag": ChoiceVar([True, False])}),  # 6
        }
    )
    points = GridSampler().points(space)
    assert len(points) == 3 * 9 * 6
    assert len({key(p) for p in points}) == len(points)
    for p in points:
        space.validate(p)


def test_grid_with_constraints_in_composites_and_implies():
    space = Space(
        {
            "m": ChoiceVar(["a", "b", "c"]),
            "r": CompositeVar({"k": IntVar(1, 4), "kind": ChoiceVar(["bm25", "dense"])}, [Forbid({"kind": "dense", "k": [1, 2]})]),
        },
        [Implies({"m": "a"}, {"r.kind": "bm25"})],
    )
    # r: 8 - 2 = 6 combos; m=a keeps only bm25 (4), m=b and m=c keep 6 each
    points = GridSampler().points(space)
    assert len(points) == 4 + 6 + 6
    assert all(not (p["m"] == "a" and p["r.kind"] == "dense") for p in points)
    assert all(not (p["r.kind"] == "dense" and p["r.k"] <= 2) for p in points)


def test_float_points_linear_and_log():
    space = Space({"x": FloatVar(0.001, 10.0, log=True), "y": FloatVar(0.0, 1.0)})
    points = GridSampler(float_points=3).points(space)
    assert sorted({p["x"] for p in points}) == [0.001, 0.1, 10.0]
    assert sorted({p["y"] for p in points}) == [0.0, 0.5, 1.0]
    assert len(points) == 9
    five = GridSampler(float_points=5).points(Space({"y": FloatVar(-1.0, 1.0)}))
    assert [p["y"] for p in five] == [-1.0, -0.5, 0.0, 0.5, 1.0]


def test_float_points_does_not_change_stepped_floats():
    points = GridSampler(float_points=7).points(Space({"x": FloatVar(0.0, 1.0, step=0.25)}))
    assert [p["x"] for p in points] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_float_values_have_no_float_noise():
    points = GridSampler().points(Space({"x": FloatVar(0.0, 1.0, step=0.1)}))
    assert [p["x"] for p in points] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def test_float_without_step_names_the_variable():
    space = Space({"a": ChoiceVar(["x"]), "retriever": CompositeVar({"temp": FloatVar(0.0, 1.0)})})
    with pytest.raises(SpaceError) as info:
        GridSampler().points(space)
    assert "'retriever.temp'" in info.value.message
    assert "float_points" in info.value.hint


def test_float_without_step_inside_module_option_names_its_path():
    space = Space({"s": ModuleVar({"p": None, "c": ModuleOption(params={"t": FloatVar(0, 1)})})})
    with pytest.raises(SpaceError, match="'s.c.t'"):
        GridSampler().size(space)


@pytest.mark.parametrize("n", [1, 0, -3])
def test_float_points_must_be_at_least_two(n):
    with pytest.raises(SpaceError, match=f"float_points must be >= 2, got {n}"):
        GridSampler(float_points=n)


def test_degenerate_float_range_gives_one_point():
    sampler = GridSampler(float_points=3)
    space = Space({"a": FloatVar(0.0, 0.0)})
    assert sampler.points(space) == [{"a": 0.0}]
    assert sampler.size(space) == 1


def test_infeasible_grid_raises():
    space = Space({"a": ChoiceVar(["x", "y"])}, [Forbid({"a": "x"}), Forbid({"a": "y"})])
    with pytest.raises(InfeasibleSpaceError, match="all 2 grid points break a constraint"):
        GridSampler().points(space)


# ---------------------------------------------------------------- sampling and exhaustion


def test_sample_returns_unclaimed_points_until_exhausted():
    space = small_space()
    sampler = GridSampler()
    rng = np.random.default_rng(0)
    history: list[TrialRecord] = []
    for number in range(7):
        params = sampler.sample(space, history, [], rng)
        assert key(params) not in {key(t.params) for t in history}
        history.append(record(number, params))
    assert sorted(key(t.params) for t in history) == sorted(key(p) for p in sampler.points(space))
    with pytest.raises(SpaceExhaustedError) as info:
        sampler.sample(space, history, [], rng)
    assert "all 7 grid points" in info.value.message


def test_exhaustion_from_history_with_every_fingerprint():
    space = small_space()
    history = [record(i, p) for i, p in enumerate(GridSampler().points(space))]
    with pytest.raises(SpaceExhaustedError):
        GridSampler().sample(space, history, [], np.random.default_rng(0))


def test_last_free_point_is_returned():
    space = small_space()
    points = GridSampler().points(space)
    history = [record(i, p) for i, p in enumerate(points) if i != 4]
    history.append(TrialRecord(99, TrialState.WAITING, None, None))  # a queued trial without params is ignored
    for seed in range(5):
        assert GridSampler().sample(space, history, [], np.random.default_rng(seed)) == points[4]


def test_sample_is_deterministic_for_the_same_rng_and_history():
    space = small_space()
    history = [record(0, {"a": "x", "s": "p"})]
    a = [GridSampler().sample(space, history, [], np.random.default_rng([5, i])) for i in range(10)]
    b = [GridSampler().sample(space, history, [], np.random.default_rng([5, i])) for i in range(10)]
    assert a == b
    assert {"a": "x", "s": "p"} not in a


def test_sample_returns_a_copy():
    space = small_space()
    sampler = GridSampler()
    params = sampler.sample(space, [], [], np.random.default_rng(0))
    params["a"] = "mutated"
    assert all(p["a"] != "mutated" for p in sampler.points(space))


def test_study_runs_each_point_once_then_stops():
    study = llmopt.create_study("grid", small_space(), {"y": "minimize"}, storage=":memory:", sampler=GridSampler(), seed=3)
    study.optimize(lambda t: float(len(t.config)), n_trials=20)
    trials = study.trials
    assert len(trials) == 7
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(key(t.params) for t in trials) == sorted(key(p) for p in GridSampler().points(small_space()))
    with pytest.raises(SpaceExhaustedError):
        study.ask()
    study.close()


def test_enqueued_int_for_float_is_not_proposed_again():
    space = Space({"t": FloatVar(0.0, 1.0, step=0.5)})
    study = llmopt.create_study("enq", space, {"y": "minimize"}, storage=":memory:", sampler=GridSampler(), seed=0)
    study.enqueue({"t": 1})
    study.optimize(lambda t: 0.0, n_trials=10)
    values = sorted(float(t.params["t"]) for t in study.trials)
    study.close()
    assert values == [0.0, 0.5, 1.0]


def test_settings_round_trip_by_name():
    assert GridSampler.unique is True and GridSampler.uses_history is True
    assert SAMPLERS["grid"] is GridSampler
    assert GridSampler(float_points=4).to_dict() == {"type": "grid", "float_points": 4}
    rebuilt = sampler_from_dict(GridSampler(float_points=4).to_dict())
    assert isinstance(rebuilt, GridSampler) and rebuilt.float_points == 4
    assert sampler_from_dict({"type": "grid", "float_points": None}).float_points is None


def test_unknown_sampler_name_is_refused():
    with pytest.raises(llmopt.LLMOptError, match="'annealing'"):
        sampler_from_dict({"type": "annealing"})


# ---------------------------------------------------------------- size limit


def test_over_large_grid_is_refused_naming_the_variable():
    space = Space({"a": IntVar(0, 1000), "b": IntVar(0, 999)})
    with pytest.raises(SpaceError) as info:
        GridSampler().size(space)
    assert "more than 1,000,000 points" in info.value.message
    assert "'b'" in info.value.message
    assert "RandomSampler" in info.value.hint


def test_create_study_refuses_over_large_grid_before_writing():
    space = Space({"a": IntVar(0, 1000), "b": IntVar(0, 999)})
    with pytest.raises(SpaceError, match="more than 1,000,000"):
        llmopt.create_study("big", space, {"y": "minimize"}, storage=":memory:", sampler=GridSampler())


_HUGE_GRID = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
from llmopt.errors import SpaceError
from llmopt.samplers import GridSampler
from llmopt.space import IntVar, Space
try:
    GridSampler().size(Space({"n": IntVar(0, 10**12)}))
except SpaceError as exc:
    print("SpaceError:", exc.message)
except MemoryError:
    print("MemoryError")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs resource.RLIMIT_AS")
def test_huge_single_variable_is_refused_without_materialising_it():
    out = subprocess.run(
        [sys.executable, "-c", _HUGE_GRID], capture_output=True, text=True, timeout=60, cwd=str(REPO),
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.startswith("SpaceError:"), (out.stdout, out.stderr[-2000:])
    assert "more than 1,000,000 points" in out.stdout
