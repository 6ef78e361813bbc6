"""Property test: TPE, NSGA-II, GP and the default (auto) never propose an invalid or infeasible configuration.

Random spaces (floats, ints, choices, modules with sub-variables, nested modules, Forbid /
Implies constraints) and random histories (complete, pruned with partial values, infeasible
outcomes, failed, running) go through both samplers past their random start-up.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmopt.errors import InfeasibleSpaceError
from llmopt.samplers import AutoSampler, GPSampler, NSGA2Sampler, TPESampler
from llmopt.samplers.draw import draw_feasible
from llmopt.space import ChoiceVar, FloatVar, Forbid, Implies, IntVar, ModuleOption, ModuleVar, Space
from llmopt.trial import Objective, TrialRecord, TrialState

PROPS = settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
OBJECTIVES = [Objective("acc", "maximize"), Objective("cost", "minimize")]


@st.composite
def leaves(draw, depth: int = 0):
    kind = draw(st.sampled_from(["float", "log", "step", "int", "logint", "choice"] + (["module"] if depth < 2 else [])))
    if kind == "float":
        low = draw(st.floats(-10, 10))
        return FloatVar(low, low + draw(st.floats(0, 5)))
    if kind == "log":
        return FloatVar(1e-3, draw(st.floats(1e-3, 10)), log=True)
    if kind == "step":
        return FloatVar(0.0, 0.25 * draw(st.integers(0, 8)), step=0.25)
    if kind == "int":
        return IntVar(0, draw(st.integers(0, 6)) * 2, step=2)
    if kind == "logint":
        return IntVar(1, draw(st.integers(1, 64)), log=True)
    if kind == "choice":
        return ChoiceVar(draw(st.lists(st.sampled_from(["a", "b", 1, 2.5, True, None]), min_size=1, max_size=4, unique_by=lambda v: (type(v), v))))
    options = {}
    for name in draw(st.lists(st.sampled_from(["p", "q", "r"]), min_size=1, max_size=3, unique=True)):
        params = draw(st.dictionaries(st.sampled_from(["u", "v"]), leaves(depth + 1), max_size=2))
        options[name] = ModuleOption(params=params)
    return ModuleVar(options)


@st.composite
def spaces(draw):
    variables = draw(st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), leaves(), min_size=1, max_size=4))
    space = Space(variables)
    discrete = [leaf for leaf in space.leaves if isinstance(leaf.var, (ChoiceVar, ModuleVar)) and not leaf.activation]
    constraints = []
    for _ in range(draw(st.integers(0, 3)) if discrete else 0):
        picked = draw(st.lists(st.sampled_from(discrete), min_size=1, max_size=2, unique_by=lambda leaf: leaf.path))
        when = {leaf.path: draw(st.sampled_from(list(leaf.var.options))) for leaf in picked}
        if draw(st.booleans()) or len(picked) < 2:
            constraints.append(Forbid(when))
        else:
            first, second = picked
            constraints.append(Implies({first.path: when[first.path]}, {second.path: when[second.path]}))
    return Space(variables, constraints)


def history_of(space: Space, rng: np.random.Generator, n: int) -> list[TrialRecord]:
    records = []
    for i in range(n):
        params = draw_feasible(space, rng)
        state = [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED, TrialState.RUNNING][i % 5]
        values = None if state in (TrialState.FAILED, TrialState.RUNNING) else {"acc": float(rng.uniform()), "cost": float(rng.uniform())}
        attrs = {"constraint_violation": float(rng.uniform())} if i % 7 == 3 else {}
        records.append(TrialRecord(i, state, params, space.config(params).fingerprint, values, sample_index=i, system_attrs=attrs))
    return records


@PROPS
@given(spaces(), st.integers(0, 2**32 - 1))
def test_proposals_are_always_valid_and_feasible(space: Space, seed: int) -> None:
    rng = np.random.default_rng(seed)
    try:
        history = history_of(space, rng, 14)
    except InfeasibleSpaceError:
        return  # the constraints exclude everything: create_study refuses such a space
    samplers = (TPESampler(n_startup_trials=3), NSGA2Sampler(population_size=4), GPSampler(n_startup_trials=3, n_random=32), AutoSampler(gp_trials=9))
    for sampler in samplers:
        for index in (3, 9, 14):
            params = sampler.sample(space, history[:index], OBJECTIVES, np.random.default_rng([seed, index]), index=index)
            space.validate(params)  # exactly the active variables, each in its domain, every constraint holds
