"""Exact hypervolume (minimisation) and each point's exclusive hypervolume contribution."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .dominance import _front_of_sorted_unique, _unique_rows
from llmopt.errors import ArrayError

__all__ = ["hypervolume", "hypervolume_contributions"]


def _validate(
    points: ArrayLike, reference: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return float (n, m) points and (m,) reference, or raise with a message naming the problem."""
    ref = np.asarray(reference, dtype=float)
    if ref.ndim != 1 or ref.size == 0:
        raise ArrayError(f"reference must be a non-empty 1-D sequence, got shape {ref.shape}", "give one reference value per objective")
    if not np.isfinite(ref).all():
        raise ArrayError("reference must be finite (no NaN or inf)", "give finite reference values (the worst acceptable value per objective)")
    pts = np.asarray(points, dtype=float)
    if pts.ndim == 1 and pts.size == 0:
        pts = pts.reshape(0, ref.size)
    if pts.ndim != 2:
        raise ArrayError(f"points must be a 2-D array of shape (n, m), got shape {pts.shape}", "pass one row per point and one column per objective")
    if pts.shape[1] != ref.size:
        raise ArrayError(
            f"reference has {ref.size} objectives but points have {pts.shape[1]} objectives",
            "give the reference one value per objective",
        )
    if np.isnan(pts).any():
        raise ArrayError("points contain NaN", "drop or fix the points that hold NaN")
    return pts, ref


def _inside(points: NDArray[np.float64], ref: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Points strictly better than the reference everywhere; only they enclose any volume."""
    return np.all(points < ref, axis=1)


def _front(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Distinct non-dominated rows; shrinking the input first keeps the recursion cheap."""
    rows, _ = _unique_rows(points)
    return rows[_front_of_sorted_unique(rows)]


def _hv(points: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    """Hypervolume of finite points that all lie strictly inside the reference box."""
    n, m = points.shape
    if n == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - points[:, 0].min())
    if m == 2:
        return _hv_2d(points, ref)
    return _hv_slices(points, ref)


def _hv_2d(points: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    """O(n log n) sweep along x; the covered height of each strip is set by the best y so far."""
    order = np.lexsort((points[:, 1], points[:, 0]))
    x = points[order, 0]
    best_y = np.minimum.accumulate(points[order, 1])
    widths = np.diff(np.append(x, ref[0]))
    return float(np.dot(widths, ref[1] - best_y))


def _hv_slices(points: NDArray[np.float64], ref: NDArray[np.float64]) -> float:
    """HSO-style slicing along the last objective.

    Between consecutive last-objective values the cross-section is the (m-1)-D hypervolume of
    the points seen so far; that set is kept non-dominated incrementally, and its volume is only
    recomputed when it actually changes.
    """
    order = np.argsort(points[:, -1], kind="stable")
    ordered = points[order]
    thickness = np.diff(np.append(ordered[:, -1], ref[-1]))
    projected = ordered[:, :-1]
    sub_ref = ref[:-1]
    front = np.empty((0, projected.shape[1]))
    area = 0.0
    stale = False
    total = 0.0
    for p, depth in zip(projected, thickness):
        if not np.any(np.all(front <= p, axis=1)):
            front = np.vstack((front[~np.all(front >= p, axis=1)], p))
            stale = True
        if depth > 0:
            if stale:
                area = _hv(front, sub_ref)
                stale = False
            total += float(depth) * area
    return total


def hypervolume(points: ArrayLike, reference: ArrayLike) -> float:
    """Exact volume dominated by ``points`` and bounded by ``reference`` (all objectives minimised).

    Points that are not strictly better than the reference in every objective are ignored.
    A kept point with a -inf coordinate encloses unbounded volume, so the result is inf.
    """
    pts, ref = _validate(points, reference)
    kept = pts[_inside(pts, ref)]
    if len(kept) == 0:
        return 0.0
    if np.isinf(kept).any():
        return math.inf
    return _hv(_front(kept), ref)


def hypervolume_contributions(points: ArrayLike, reference: ArrayLike) -> NDArray[np.float64]:
    """Exclusive contribution of each point: ``hypervolume(all) - hypervolume(all but i)``.

    Dominated points, points outside the reference and points with an exact duplicate all get
    0, since removing any one of them leaves the covered region unchanged. The contribution of
    ``p`` is its box minus the part of it covered by the others, i.e. the others clipped to
    ``max(q, p)`` — a much smaller problem than recomputing the full hypervolume.
    """
    pts, ref = _validate(points, reference)
    contributions = np.zeros(len(pts))
    kept_index = np.flatnonzero(_inside(pts, ref))
    if kept_index.size == 0:
        return contributions
    kept = pts[kept_index]
    if np.isinf(kept).any():
        raise ArrayError("contributions are undefined when a point has a -inf coordinate", "drop the points with a -inf coordinate")
    rows, inverse = _unique_rows(kept)
    single = np.bincount(inverse, minlength=len(rows))[inverse] == 1
    candidates = _front_of_sorted_unique(rows)[inverse] & single
    for k in np.flatnonzero(candidates):
        p = kept[k]
        clipped = np.maximum(np.delete(kept, k, axis=0), p)
        covered = _hv(_front(clipped), ref) if len(clipped) else 0.0
        contributions[kept_index[k]] = max(float(np.prod(ref - p)) - covered, 0.0)
    return contributions


def default_reference(points: np.ndarray) -> np.ndarray:
    """The worst observed value per objective, pushed 10% of the observed range further out.

    A zero range is pushed by 10% of the value's magnitude (or 1 at zero), so a single
    trial still has a positive hypervolume. Pass `reference=` to compare studies.
    """
    worst, best = points.max(axis=0), points.min(axis=0)
    span = worst - best
    span = np.where(span > 0, span, np.where(np.abs(worst) > 0, np.abs(worst), 10.0))
    return worst + 0.1 * span
