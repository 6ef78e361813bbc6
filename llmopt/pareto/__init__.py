"""Pareto tools for minimisation: dominance, non-dominated sorting, hypervolume and crowding."""

from .crowding import crowding_distance
from .dominance import dominates, non_dominated_mask, non_dominated_sort, to_minimization
from .hypervolume import default_reference, hypervolume, hypervolume_contributions

__all__ = [
    "crowding_distance",
    "default_reference",
    "dominates",
    "hypervolume",
    "hypervolume_contributions",
    "non_dominated_mask",
    "non_dominated_sort",
    "to_minimization",
]
