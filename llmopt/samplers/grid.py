"""GridSampler: every feasible combination of choices, modules and step grids, each proposed once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from llmopt.errors import InfeasibleSpaceError, SpaceError, SpaceExhaustedError
from llmopt.samplers.base import Sampler
from llmopt.space import FloatVar, Space
from llmopt.space.config import canonical_json, fingerprint_of
from llmopt.space.variables import LeafVar
from llmopt.trial import Objective, TrialRecord

MAX_POINTS = 1_000_000


class GridSampler(Sampler):
    """Exhaustive search in random order; no point is proposed twice, across resumes and workers.

    Floats need a `step`, or `float_points=N` to place N points (log-spaced on log scales).
    The storage claims each point's fingerprint, so concurrent workers never duplicate one.

    >>> from llmopt.space import Space, ChoiceVar
    >>> len(GridSampler().points(Space({"a": ChoiceVar([1, 2]), "b": ChoiceVar(["x", "y"])})))
    4
    """

    name: ClassVar[str] = "grid"
    unique: ClassVar[bool] = True

    def __init__(self, float_points: int | None = None) -> None:
        if float_points is not None and float_points < 2:
            raise SpaceError(f"float_points must be >= 2, got {float_points}", "give at least 2 points")
        self.float_points = float_points
        self._cache: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name, "float_points": self.float_points}

    def _values_of(self, path: str, var: LeafVar) -> list[Any]:
        if isinstance(var, FloatVar) and var.step is None:
            if self.float_points is None:
                raise SpaceError(
                    f"{path!r} is a FloatVar without a step, so it has no grid",
                    "give it a step, or pass GridSampler(float_points=N)",
                )
            if var.log:
                pts = np.geomspace(var.low, var.high, self.float_points)
            else:
                pts = np.linspace(var.low, var.high, self.float_points)
            return list(dict.fromkeys(var.snap(float(f"{p:.12g}")) for p in pts))  # FloatVar(0, 0): one point
        if var.kind in ("int", "float") and var.grid_size() > MAX_POINTS:
            raise SpaceError(
                f"the grid has more than {MAX_POINTS:,} points ({path!r} alone has {var.grid_size():,})",
                "use a coarser step, or a RandomSampler",
            )
        return var.grid()

    def points(self, space: Space) -> list[dict[str, Any]]:
        """All feasible grid points in a fixed order (cached per space)."""
        return self._grid(space)[0]

    def _grid(self, space: Space) -> tuple[list[dict[str, Any]], list[str]]:
        key = space.fingerprint
        if key not in self._cache:
            partials: list[dict[str, Any]] = [{}]
            for leaf in space.leaves:
                grid = self._values_of(leaf.path, leaf.var)
                grown: list[dict[str, Any]] = []
                for partial in partials:
                    if leaf.is_active(partial):
                        grown.extend({**partial, leaf.path: v} for v in grid)
                    else:
                        grown.append(partial)
                    if len(grown) > MAX_POINTS:
                        raise SpaceError(
                            f"the grid has more than {MAX_POINTS:,} points (at {leaf.path!r})",
                            "use coarser steps, fewer options, or a RandomSampler",
                        )
                partials = grown
            feasible = [p for p in partials if space.is_feasible(p)]
            if not feasible:
                raise InfeasibleSpaceError(
                    f"all {len(partials)} grid points break a constraint",
                    "loosen the constraints; they exclude every combination",
                )
            self._cache[key] = (feasible, [fingerprint_of(canonical_json(p)) for p in feasible])
        return self._cache[key]

    def sample(
        self,
        space: Space,
        history: Sequence[TrialRecord],
        objectives: Sequence[Objective],
        rng: np.random.Generator,
        *,
        index: int = 0,
    ) -> dict[str, Any]:
        points, prints = self._grid(space)
        taken = {t.fingerprint for t in history if t.fingerprint}
        free = [i for i, fp in enumerate(prints) if fp not in taken]
        if not free:
            raise SpaceExhaustedError(f"all {len(points)} grid points have been proposed", "the grid is done")
        return dict(points[free[int(rng.integers(len(free)))]])

    def size(self, space: Space) -> int:
        return len(self._grid(space)[0])


def finite_size(space: Space, limit: int = 50_000) -> int | None:
    """How many feasible configurations the space has, or None when it is continuous or too large to count.

    Studies use it to see at once that every configuration is taken, instead of asking a
    sampler for fresh points that do not exist. The grid is enumerated only when the product
    of the leaves' sizes is at most `limit` (counting is linear in that product).
    """
    product = 1
    for leaf in space.leaves:
        var = leaf.var
        if isinstance(var, FloatVar) and var.step is None:
            return None
        product *= var.grid_size() if var.kind in ("int", "float") else len(var.grid())
        if product > limit:
            return None
    try:
        return GridSampler().size(space)
    except SpaceError:
        return None

