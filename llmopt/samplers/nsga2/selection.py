"""NSGA-II's generations, derived from the stored history alone (no sampler state in memory).

The trial with sample index i belongs to generation i // population_size. Its parents are
the best `population_size` trials with values from earlier generations (and enqueued ones),
by constrained domination: feasible before infeasible, complete before pruned, then by
non-dominated front and crowding distance; infeasible ones by increasing violation. A
resumed study, or another worker on the same database, derives the same parents.
"""

from __future__ import annotations

import numpy as np

from llmopt.samplers.history import INFEASIBLE, Observations
from llmopt.samplers.ranking import crowding, select


def generation_of(index: int, population_size: int) -> int:
    return index // population_size


def parents(obs: Observations, generation: int, population_size: int) -> np.ndarray:
    """Row indices of the parent population, best first (the order tournaments compare by)."""
    earlier = (obs.sample_index < generation * population_size) & (obs.tier <= INFEASIBLE)
    return select(obs, np.flatnonzero(earlier), population_size, crowding, order_all=True)


def tournament(rng: np.random.Generator, size: int) -> int:
    """Binary tournament over positions 0..size-1 of a best-first population: the lower position wins."""
    a, b = rng.integers(size), rng.integers(size)
    return int(min(a, b))
