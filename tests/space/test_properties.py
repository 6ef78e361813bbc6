"""Property tests over randomly generated spaces: JSON round trip, and samplers only ever propose valid configurations."""

from __future__ import annotations

import collections
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from llmopt.errors import InfeasibleSpaceError, SpaceError, SpaceExhaustedError
from llmopt.samplers import GridSampler, RandomSampler
from llmopt.samplers.draw import draw_feasible
from llmopt.space import (
    ChoiceVar,
    CompositeVar,
    FloatVar,
    Forbid,
    Implies,
    IntVar,
    ModuleOption,
    ModuleVar,
    Predicate,
    Space,
)
from llmopt.space.config import canonical_json, fingerprint_of

PROPS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = ["a", "b", "c", "d", "e_1", "f-2", "_g"]
OPTION_NAMES = ["predict", "cot", "react", "pot"]
MAX_DEPTH = 2

# ---------------------------------------------------------------- variable strategies


@st.composite
def float_vars(draw):
    kind = draw(st.sampled_from(["linear", "step", "log"]))
    if kind == "log":
        low = draw(st.floats(1e-4, 10.0))
        return FloatVar(low, low * draw(st.floats(1.0, 1000.0)), log=True)
    low = draw(st.floats(-50.0, 50.0))
    if kind == "step":
        step = draw(st.sampled_from([0.1, 1 / 3, 0.25, 0.5, 1.0]))
        return FloatVar(low, low + step * draw(st.integers(0, 4)), step=step)
    return FloatVar(low, low + draw(st.floats(0.0, 10.0)))


@st.composite
def int_vars(draw):
    if draw(st.booleans()):
        low = draw(st.integers(1, 4))
        return IntVar(low, low + draw(st.integers(0, 30)), log=True)
    low = draw(st.integers(-5, 5))
    step = draw(st.sampled_from([None, 1, 2, 3]))
    return IntVar(low, low + (step or 1) * draw(st.integers(0, 4)), step=step)


CHOICE_VALUES = st.one_of(
    st.sampled_from(["x", "y", "z", "1", ""]),
    st.integers(-3, 3),
    st.sampled_from([0.5, 1.0, -2.25]),
    st.booleans(),
    st.none(),
)


@st.composite
def choice_vars(draw):
    options = draw(st.lists(CHOICE_VALUES, min_size=1, max_size=4, unique_by=lambda v: (type(v), v)))
    return ChoiceVar(options)


def leaf_vars():
    return st.one_of(float_vars(), int_vars(), choice_vars())


@st.composite
def conditions(draw, space: Space, prefix: str):
    """A condition over 1-2 choice/module leaves under `prefix`, with values from their domains."""
    leaves = [l for l in space.leaves if l.path.startswith(prefix) and isinstance(l.var, (ChoiceVar, ModuleVar))]
    if not leaves:
        return None
    chosen = draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=2, unique_by=lambda l: l.path))
    cond = {}
    for leaf in chosen:
        options = list(leaf.var.options)
        picked = draw(st.lists(st.sampled_from(options), min_size=1, max_size=len(options), unique_by=lambda v: (type(v), v)))
        cond[leaf.path[len(prefix):]] = picked[0] if len(picked) == 1 else picked
    return cond


@st.composite
def constraint_lists(draw, variables: dict, max_size: int = 2, likely: bool = False):
    """Random Forbid / Implies valid for `variables` (paths relative to them)."""
    if draw(st.integers(0, 5)) >= (5 if likely else 3):
        return []
    local = Space(variables)
    out = []
    for _ in range(draw(st.integers(1, max_size))):
        when = draw(conditions(local, ""))
        if when is None:
            break
        if draw(st.booleans()):
            out.append(Forbid(when))
        else:
            then = draw(conditions(local, ""))
            out.append(Implies(when, then))
    if draw(st.integers(0, 5)) == 0:
        out.append(Predicate("always", "operator:truth"))
    return out


@st.composite
def variable_dicts(draw, depth: int, impls: bool = False):
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3 if depth else 4, unique=True))
    out = {}
    for name in names:
        if depth >= MAX_DEPTH:
            out[name] = draw(leaf_vars())
            continue
        kind = draw(st.sampled_from(["leaf", "leaf", "module", "composite"]))
        if kind == "leaf":
            out[name] = draw(leaf_vars())
        elif kind == "module":
            out[name] = draw(module_vars(depth + 1, impls))
        else:
            inner = draw(variable_dicts(depth + 1, impls))
            out[name] = CompositeVar(inner, draw(constraint_lists(inner)))
    return out


@st.composite
def module_vars(draw, depth: int, impls: bool):
    opt_names = draw(st.lists(st.sampled_from(OPTION_NAMES), min_size=1, max_size=3, unique=True))
    options = {}
    for opt in opt_names:
        impl = draw(st.sampled_from([None, json.dumps, collections.OrderedDict])) if impls else None
        params = draw(variable_dicts(depth + 1, impls)) if draw(st.booleans()) else {}
        options[opt] = ModuleOption(impl, params)
    return ModuleVar(options)


@st.composite
def spaces(draw, impls: bool = False):
    """Random spaces; with `impls`, module options carry importable implementations."""
    variables = draw(variable_dicts(0, impls))
    return Space(variables, draw(constraint_lists(variables, max_size=3, likely=True)))


# ---------------------------------------------------------------- helpers


def grid_upper_bound(variables: dict, float_points: int) -> int:
    """Number of unconstrained grid points (a module multiplies by the sum over its options)."""
    total = 1
    for var in variables.values():
        if isinstance(var, CompositeVar):
            total *= grid_upper_bound(var.variables, float_points)
        elif isinstance(var, ModuleVar):
            total *= sum(grid_upper_bound(o.params, float_points) if o.params else 1 for o in var.options.values())
        elif isinstance(var, FloatVar) and var.step is None:
            total *= float_points
        else:
            total *= len(var.grid())
    return total


def grid_is_exact(space: Space) -> bool:
    """Every value a variable can take is a grid point (no float without a step)."""
    return not any(isinstance(l.var, FloatVar) and l.var.step is None for l in space.leaves)


def assert_valid(space: Space, params: dict) -> None:
    config = space.validate(params)  # exactly the active vars, in domain, constraints hold
    assert set(config) == {l.path for l in space.active_leaves(params)}
    assert space.violations(params) == []


# ---------------------------------------------------------------- properties


@PROPS
@given(spaces())
def test_json_round_trip_is_equal_with_equal_fingerprint(space):
    text = space.to_json()
    back = Space.from_json(text)
    assert back == space
    assert back.to_json() == text
    assert back.fingerprint == space.fingerprint
    assert hash(back) == hash(space)
    assert [l.path for l in back.leaves] == [l.path for l in space.leaves]  # order kept
    assert [l.activation for l in back.leaves] == [l.activation for l in space.leaves]
    assert [c.describe() for c in back.constraints] == [c.describe() for c in space.constraints]


@PROPS
@given(spaces(impls=True))
def test_json_round_trip_resolves_impls(space):
    back = Space.from_json(space.to_json())
    assert [l.path for l in back.leaves] == [l.path for l in space.leaves]
    for leaf, back_leaf in zip(space.leaves, back.leaves):
        if isinstance(leaf.var, ModuleVar):
            for name, option in leaf.var.options.items():
                assert back_leaf.var.options[name].resolve() is option.resolve()


@PROPS
@given(spaces(), st.integers(0, 2**32 - 1))
def test_draw_feasible_and_random_sampler_propose_only_valid_configs(space, seed):
    rng = np.random.default_rng(seed)
    try:
        first = draw_feasible(space, rng)
    except InfeasibleSpaceError as exc:
        assert "no feasible configuration" in exc.message
        event("infeasible")
        return
    event(f"constraints={len(space.constraints)} leaves={min(len(space.leaves), 6)}")
    assert_valid(space, first)
    for i in range(10):
        assert_valid(space, draw_feasible(space, rng))
        try:
            params = RandomSampler().sample(space, [], [], np.random.default_rng([seed, i]))
        except InfeasibleSpaceError:  # a feasible but nearly infeasible space may exhaust the tries
            continue
        assert_valid(space, params)


@PROPS
@given(spaces(), st.integers(0, 2**32 - 1))
def test_grid_sampler_enumerates_only_valid_distinct_configs(space, seed):
    float_points = 2
    if grid_upper_bound(space.root.variables, float_points) > 3000:
        event("grid too large")
        return
    sampler = GridSampler(float_points=float_points)
    try:
        points = sampler.points(space)
    except InfeasibleSpaceError:
        if grid_is_exact(space):  # every configuration is a grid point: random draws must also fail
            with pytest.raises(InfeasibleSpaceError):
                draw_feasible(space, np.random.default_rng(seed), max_tries=200)
        return
    assert 1 <= len(points) <= grid_upper_bound(space.root.variables, float_points)
    event(f"grid checked, constrained={bool(space.constraints)}")
    prints = [fingerprint_of(canonical_json(p)) for p in points]
    assert len(set(prints)) == len(prints)
    for p in points:
        assert_valid(space, p)
    if grid_is_exact(space):  # then random draws land on grid points
        try:
            drawn = draw_feasible(space, np.random.default_rng(seed))
        except InfeasibleSpaceError:
            return
        assert fingerprint_of(canonical_json(drawn)) in set(prints)


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(spaces(), st.integers(0, 2**32 - 1))
def test_grid_sampler_proposes_every_point_once_then_is_exhausted(space, seed):
    from llmopt.trial import TrialRecord, TrialState

    if grid_upper_bound(space.root.variables, 2) > 60:
        return
    sampler = GridSampler(float_points=2)
    try:
        points = sampler.points(space)
    except InfeasibleSpaceError:
        return
    history: list[TrialRecord] = []
    rng = np.random.default_rng(seed)
    for number in range(len(points)):
        params = sampler.sample(space, history, [], rng)
        assert_valid(space, params)
        fp = space.config(params).fingerprint
        assert fp not in {t.fingerprint for t in history}
        history.append(TrialRecord(number, TrialState.COMPLETE, params, fp))
    with pytest.raises(SpaceExhaustedError):
        sampler.sample(space, history, [], rng)


@PROPS
@given(spaces())
def test_infeasible_constraint_is_reported_never_hangs(space):
    """Forbid every option of an always-active choice: sampling must raise, not loop."""
    always = [l for l in space.leaves if not l.activation and isinstance(l.var, (ChoiceVar, ModuleVar))]
    if not always:
        return
    leaf = always[0]
    blocked = Space(space.root.variables, [*space.root.constraints, Forbid({leaf.path: list(leaf.var.options)})])
    with pytest.raises(InfeasibleSpaceError):
        draw_feasible(blocked, np.random.default_rng(0), max_tries=300)
    with pytest.raises(InfeasibleSpaceError):
        RandomSampler().sample(blocked, [], [], np.random.default_rng(1))
    if grid_upper_bound(space.root.variables, 2) <= 3000:
        with pytest.raises((InfeasibleSpaceError, SpaceError)):
            GridSampler(float_points=2).points(blocked)


def test_strategy_generates_nested_structures():
    """Sanity check of the generator itself: it reaches modules with params and scoped constraints."""
    seen = {"module_params": False, "composite_constraint": False, "implies": False}

    @settings(max_examples=150, deadline=None, database=None)
    @given(spaces())
    def probe(space):
        if any(len(l.activation) >= 1 for l in space.leaves):
            seen["module_params"] = True
        if any(c.prefix for c in space.constraints):
            seen["composite_constraint"] = True
        if any(isinstance(c.constraint, Implies) for c in space.constraints):
            seen["implies"] = True

    probe()
    assert all(seen.values()), seen
