"""Proposals not yet in the study: a fingerprint check, and a random fallback that avoids taken points."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from llmopt.samplers.draw import draw_feasible
from llmopt.space import Space

FRESH_TRIES = 64


def is_fresh(space: Space, params: dict[str, Any], taken: Collection[str]) -> bool:
    return not taken or space.config(params).fingerprint not in taken


def draw_fresh(space: Space, rng: np.random.Generator, taken: Collection[str], tries: int = FRESH_TRIES) -> dict[str, Any]:
    """A feasible random configuration not proposed before; after `tries` misses (a nearly
    exhausted finite space) the last draw is returned and the study decides."""
    params = draw_feasible(space, rng)
    for _ in range(tries - 1):
        if is_fresh(space, params, taken):
            break
        params = draw_feasible(space, rng)
    return params
