"""Uniform draws from each variable kind, and rejection sampling of feasible configurations."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from llmopt.errors import InfeasibleSpaceError
from llmopt.space import ChoiceVar, FloatVar, IntVar, ModuleVar, Space
from llmopt.space.variables import LeafVar

MAX_TRIES = 2000


def draw_value(var: LeafVar, rng: np.random.Generator) -> Any:
    """One value drawn uniformly on the variable's own scale (log scale for log variables)."""
    if isinstance(var, ChoiceVar):  # indexed in place: a 100,000-option list is not copied per draw
        return var.options[int(rng.integers(len(var.options)))]
    if isinstance(var, ModuleVar):
        options = list(var.options)
        return options[int(rng.integers(len(options)))]
    if isinstance(var, IntVar):
        if var.log:
            # widen by half a unit so the end points get their fair share after rounding
            u = rng.uniform(math.log(var.low - 0.5), math.log(var.high + 0.5))
            return var.snap(math.exp(u))
        return var.low + var.stride * int(rng.integers((var.high - var.low) // var.stride + 1))
    if isinstance(var, FloatVar):
        if var.step is not None:
            n = round((var.high - var.low) / var.step)
            return var.snap(var.low + var.step * int(rng.integers(n + 1)))
        if var.log:
            return var.snap(math.exp(rng.uniform(math.log(var.low), math.log(var.high))))
        return var.snap(rng.uniform(var.low, var.high))
    raise TypeError(f"cannot draw from {var!r}")


def draw_config(space: Space, rng: np.random.Generator) -> dict[str, Any]:
    """Draw every active variable in order (a module before its sub-variables); no constraint check."""
    values: dict[str, Any] = {}
    for leaf in space.leaves:
        if leaf.is_active(values):
            values[leaf.path] = draw_value(leaf.var, rng)
    return values


def draw_feasible(space: Space, rng: np.random.Generator, max_tries: int = MAX_TRIES) -> dict[str, Any]:
    """Rejection sampling with a bound: an (almost) infeasible space raises instead of hanging."""
    broken: Counter[str] = Counter()
    for _ in range(max_tries):
        values = draw_config(space, rng)
        violations = space.violations(values)
        if not violations:
            return values
        broken.update(violations)
    worst = ", ".join(f"`{desc}` ({n}x)" for desc, n in broken.most_common(3))
    raise InfeasibleSpaceError(
        f"no feasible configuration in {max_tries} random draws; constraints broken most: {worst}",
        "loosen or remove these constraints, or check they do not exclude every option together",
    )
