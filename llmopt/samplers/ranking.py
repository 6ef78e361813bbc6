"""Pick the best k trials: tier, then non-dominated fronts, the last front cut by a spread measure.

Used by TPE (its good group, cut by hypervolume contribution) and NSGA-II (its parents,
ordered by crowding distance). Only as many fronts are peeled as needed, so picking 25 of
1,000 trials costs a few front filters, not a full non-dominated sort.

>>> best_first(np.array([[1.0, 4.0], [2.0, 2.0], [3.0, 3.0], [4.0, 1.0]]), 2, hv_contributions).tolist()
[1, 0]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from llmopt.pareto import crowding_distance, non_dominated_mask
from llmopt.samplers.history import COMPLETE, INFEASIBLE, PARTIAL, Observations

Spread = Callable[[np.ndarray], np.ndarray]  # (n, m) front -> (n,) score, higher is kept first
MC_SAMPLES = 1024


def finite(points: np.ndarray) -> np.ndarray:
    """Replace +-inf by values just beyond each column's finite range, so spreads stay defined."""
    if np.isfinite(points).all():
        return points
    out = points.copy()
    for j in range(points.shape[1]):
        col = out[:, j]
        ok = np.isfinite(col)
        lo, hi = (col[ok].min(), col[ok].max()) if ok.any() else (0.0, 0.0)
        pad = hi - lo + 1.0
        col[col == np.inf], col[col == -np.inf] = hi + pad, lo - pad
    return out


def _normalised(front: np.ndarray) -> np.ndarray:
    lo, hi = front.min(axis=0), front.max(axis=0)
    return (front - lo) / np.where(hi > lo, hi - lo, 1.0)


def hv_contributions(front: np.ndarray) -> np.ndarray:
    """Each point's exclusive hypervolume in the front's normalised box (reference 1.1 everywhere).

    Exact for two objectives (a sweep); for three or more a Monte Carlo estimate with a fixed
    seed, so the same front always gets the same scores (the exact algorithm is too slow here).
    """
    n, m = front.shape
    if n <= 1:
        return np.ones(n)
    pts = _normalised(front)
    if m == 1:
        return -pts[:, 0]
    if m == 2:
        order = np.lexsort((pts[:, 1], pts[:, 0]))
        x, y = pts[order, 0], pts[order, 1]
        right = np.append(x[1:], 1.1)
        above = np.insert(y[:-1], 0, 1.1)
        out = np.empty(n)
        out[order] = np.clip(right - x, 0, None) * np.clip(above - y, 0, None)
        return out
    samples = np.random.default_rng(0).uniform(pts.min(axis=0), 1.1, size=(MC_SAMPLES, m))
    covers = pts[:, 0, None] <= samples[None, :, 0]
    for j in range(1, m):
        covers &= pts[:, j, None] <= samples[None, :, j]
    alone = np.count_nonzero(covers, axis=0) == 1
    return np.bincount(np.argmax(covers, axis=0)[alone], minlength=n).astype(float)


def crowding(front: np.ndarray) -> np.ndarray:
    return crowding_distance(front) if len(front) else np.zeros(0)


def front_mask(points: np.ndarray, probes: int = 32) -> np.ndarray:
    """`non_dominated_mask`, faster on many points: those dominated by one of a few probe points
    (best rank sums) go first. Exact: whatever dominates a screened-out point, its probe does too."""
    n = len(points)
    if n <= 8 * probes:
        return non_dominated_mask(points)
    probe = points[np.argsort(points.sum(axis=1), kind="stable")[:probes]]
    below = np.ones((probes, n), dtype=bool)
    strictly = np.zeros((probes, n), dtype=bool)
    for j in range(points.shape[1]):
        below &= probe[:, j, None] <= points[None, :, j]
        strictly |= probe[:, j, None] < points[None, :, j]
    survivors = np.flatnonzero(~(below & strictly).any(axis=0))
    mask = np.zeros(n, dtype=bool)
    mask[survivors[non_dominated_mask(points[survivors])]] = True
    return mask


def best_first(points: np.ndarray, k: int, spread: Spread, order_all: bool = False) -> np.ndarray:
    """Indices of the k best rows (minimisation), best first.

    Whole fronts are taken in order; the first front that does not fit is cut by `spread`
    (higher kept). With `order_all`, every taken front is ordered by `spread` too.
    """
    n, m = points.shape
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=int)
    points = finite(points)
    if m <= 1:
        return np.argsort(points[:, 0] if m else np.zeros(n), kind="stable")[:k]
    chosen: list[np.ndarray] = []
    remaining = np.arange(n)
    taken = 0
    while taken < k and remaining.size:
        mask = front_mask(points[remaining])
        front = remaining[mask]
        remaining = remaining[~mask]
        if taken + len(front) > k or order_all:
            front = front[np.argsort(-spread(points[front]), kind="stable")][: k - taken]
        chosen.append(front)
        taken += len(front)
    return np.concatenate(chosen)


def ranks(values: np.ndarray) -> np.ndarray:
    """Each column replaced by its dense rank (equal values, equal rank)."""
    if not values.size:
        return values
    return np.column_stack([np.unique(col, return_inverse=True)[1].ravel() for col in values.T]).astype(float)


def unit_free(values: np.ndarray) -> np.ndarray:
    """Each column's min-max scaled values plus its min-max scaled ranks.

    Both keep dominance as it is, so only spreads (hypervolume tie-breaks, crowding) change.
    Ranks alone ignore how far apart values are (on ZDT1/DTLZ2 that loses hypervolume); values
    alone squash the cheap end of a cost that spans three decades into one corner (on the LLM
    problem that loses the cheap models). The sum keeps both.
    """
    if not values.size:
        return values
    out = np.zeros_like(values)
    for column in (values, ranks(values)):
        lo, hi = column.min(axis=0), column.max(axis=0)
        out += (column - lo) / np.where(hi > lo, hi - lo, 1.0)
    return out


def select(
    obs: Observations, among: np.ndarray, k: int, spread: Spread, order_all: bool = False, unit_free_spread: bool = True
) -> np.ndarray:
    """The k best of the trials `among` that have values: complete, then partial (pruned), then
    infeasible by increasing violation. Best first. With `unit_free_spread`, spreads are measured on
    `unit_free` values."""
    picked: list[np.ndarray] = []
    left = k
    for tier in (COMPLETE, PARTIAL, INFEASIBLE):
        if left <= 0:
            break
        idx = among[obs.tier[among] == tier]
        if not idx.size:
            continue
        if tier == INFEASIBLE:
            order = np.argsort(obs.violation[idx], kind="stable")[:left]
        else:
            values = finite(obs.values[idx])
            order = best_first(unit_free(values) if unit_free_spread else values, left, spread, order_all)
        picked.append(idx[order])
        left -= len(order)
    return np.concatenate(picked) if picked else np.zeros(0, dtype=int)
