"""NSGA-II crowding distance, used to prefer well-spread points within one front."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .dominance import _as_points
from llmopt.errors import ArrayError

__all__ = ["crowding_distance"]


def _objective_gaps(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Normalised gap between each point's neighbours along one objective; extremes get inf.

    A constant objective says nothing about spread, so it contributes 0 everywhere (and marks
    no boundary points). Ties are broken by input order, as in NSGA-II.
    """
    span = values.max() - values.min()
    gaps = np.zeros(len(values))
    if span == 0:
        return gaps
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    sorted_gaps = np.empty(len(values))
    sorted_gaps[1:-1] = (ordered[2:] - ordered[:-2]) / span
    sorted_gaps[0] = sorted_gaps[-1] = np.inf
    gaps[order] = sorted_gaps
    return gaps


def crowding_distance(points: ArrayLike) -> NDArray[np.float64]:
    """Crowding distance of each point in an (n, m) front; with n <= 2 every point is a boundary."""
    pts = _as_points(points)
    if not np.isfinite(pts).all():
        raise ArrayError("crowding distance needs finite points", "drop the points that hold inf or NaN")
    n, m = pts.shape
    if n <= 2:
        return np.full(n, np.inf)
    distance = np.zeros(n)
    for j in range(m):
        distance += _objective_gaps(pts[:, j])
    return distance
