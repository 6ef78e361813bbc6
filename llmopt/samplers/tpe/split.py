"""TPE's split of the history into a good group and a bad group.

Good: the best `n_good` trials with values (one objective: by value; several: by
non-dominated front, the front that does not fit cut by hypervolume contribution). Pruned
trials' partial results rank below complete ones, infeasible trials (outcome constraints)
below both by violation. Everything else — the rest of the scored trials, failed ones and,
as a constant liar, trials still running or queued — is bad.
"""

from __future__ import annotations

import math

import numpy as np

from llmopt.samplers.history import IN_FLIGHT, INFEASIBLE, Observations
from llmopt.samplers.ranking import hv_contributions, select


def n_good(n_scored: int, gamma: float, max_good: int) -> int:
    """Size of the good group: a fraction of the scored trials, at least 1, at most `max_good`."""
    return max(1, min(math.ceil(gamma * n_scored), max_good))


def split(obs: Observations, size: int, constant_liar: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the good and the bad group."""
    scored = np.flatnonzero(obs.tier <= INFEASIBLE)
    good = select(obs, scored, size, hv_contributions)
    bad_mask = np.ones(len(obs.tier), dtype=bool)
    bad_mask[good] = False
    if not constant_liar:
        bad_mask &= obs.tier != IN_FLIGHT
    return np.sort(good), np.flatnonzero(bad_mask)

