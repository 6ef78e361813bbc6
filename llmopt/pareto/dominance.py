"""Pareto dominance for minimisation: pairwise test, front filtering, rank sorting, sign flips."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from llmopt.errors import ArrayError

__all__ = ["dominates", "non_dominated_mask", "non_dominated_sort", "to_minimization"]


def _as_points(points: ArrayLike) -> NDArray[np.float64]:
    """Coerce to a float (n, m) matrix; NaN is rejected because it makes every comparison false."""
    arr = np.asarray(points, dtype=float)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 0)
    if arr.ndim != 2:
        raise ArrayError(f"points must be a 2-D array of shape (n, m), got shape {arr.shape}", "pass one row per point and one column per objective")
    if np.isnan(arr).any():
        raise ArrayError("points contain NaN", "drop or fix the points that hold NaN")
    return arr


def _unique_rows(points: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Distinct rows in lexicographic order plus the inverse map.

    Lexicographic order guarantees that any dominator of a row appears before it, which is
    what the sweeps below rely on. Rows are compared by value, so -0.0 and 0.0 coincide.
    """
    n, m = points.shape
    if n == 0 or m == 0:
        return points[: min(n, 1)], np.zeros(n, dtype=np.intp)
    order = np.lexsort(points.T[::-1])
    ordered = points[order]
    starts = np.ones(n, dtype=bool)
    starts[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], inverse


def _front_of_sorted_unique(rows: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Non-dominated mask of distinct, lexicographically sorted rows."""
    n, m = rows.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    if m <= 1:
        mask = np.zeros(n, dtype=bool)
        mask[0] = True
        return mask
    if m == 2:
        return _front_2d(rows)
    return _front_sweep(rows)


def _front_2d(rows: NDArray[np.float64]) -> NDArray[np.bool_]:
    """O(n) sweep: a row is dominated iff an earlier row has a second objective <= its own."""
    best_before = np.minimum.accumulate(rows[:, 1])
    mask = np.ones(len(rows), dtype=bool)
    mask[1:] = best_before[:-1] > rows[1:, 1]
    return mask


def _weakly_below(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
    """(len(a), len(b)) table of ``a[i] <= b[j]`` in every objective.

    Built one objective at a time: reducing over a short trailing axis is far slower in numpy.
    """
    table = a[:, None, 0] <= b[None, :, 0]
    for j in range(1, a.shape[1]):
        table &= a[:, None, j] <= b[None, :, j]
    return table


def _front_sweep(rows: NDArray[np.float64], block: int = 128) -> NDArray[np.bool_]:
    """Blockwise sequential filter over sorted distinct rows.

    Only earlier rows can dominate a row, and any such dominator is itself beaten by (or is) a
    front member found so far or an earlier row of the same block, so each block is compared
    with the current front and with itself: O(n * |front| * m) work, all vectorised.
    """
    n, m = rows.shape
    mask = np.zeros(n, dtype=bool)
    front = np.empty((0, m))
    for start in range(0, n, block):
        chunk = rows[start : start + block]
        # Rows are distinct, so "<= everywhere" off the diagonal already means "dominates".
        within = _weakly_below(chunk, chunk)
        np.fill_diagonal(within, False)
        beaten = within.any(axis=0)
        if len(front):
            beaten |= _weakly_below(front, chunk).any(axis=0)
        mask[start : start + block] = ~beaten
        front = np.concatenate((front, chunk[~beaten]))
    return mask


def _any_weakly_below(front: NDArray[np.float64], point: NDArray[np.float64]) -> bool:
    """True if some column of the (m, k) ``front`` is <= ``point`` in every objective."""
    hit = front[0] <= point[0]
    for j in range(1, len(point)):
        hit &= front[j] <= point[j]
    return bool(hit.any())


def _rank_sorted_unique(rows: NDArray[np.float64]) -> NDArray[np.intp]:
    """Front index of each sorted distinct row (efficient non-dominated sort, binary search).

    Rows arrive in lexicographic order, so every dominator of a row is already placed. If some
    member of front k dominates the row, so does some member of every earlier front; hence the
    row's front is the first one that does not dominate it, found by bisection.
    """
    n, m = rows.shape
    columns = np.ascontiguousarray(rows.T)
    members: list[list[int]] = []
    cache: list[NDArray[np.float64]] = []
    ranks = np.empty(n, dtype=np.intp)
    for i in range(n):
        point = rows[i]
        lo, hi = 0, len(members)
        while lo < hi:
            mid = (lo + hi) // 2
            if cache[mid].shape[1] != len(members[mid]):
                cache[mid] = columns[:, members[mid]]
            if _any_weakly_below(cache[mid], point):
                lo = mid + 1
            else:
                hi = mid
        if lo == len(members):
            members.append([])
            cache.append(columns[:, :0])
        members[lo].append(i)
        ranks[i] = lo
    return ranks


def dominates(a: ArrayLike, b: ArrayLike) -> bool:
    """True if ``a`` Pareto-dominates ``b``: no worse in every objective, better in at least one."""
    a_arr = np.asarray(a, dtype=float)
    b_arr = np.asarray(b, dtype=float)
    if a_arr.ndim != 1 or a_arr.shape != b_arr.shape:
        raise ArrayError(
            f"a and b must be 1-D with the same length, got shapes {a_arr.shape} and {b_arr.shape}",
            "give two points with one value per objective",
        )
    if np.isnan(a_arr).any() or np.isnan(b_arr).any():
        raise ArrayError("a and b must not contain NaN", "drop or fix the values that are NaN")
    return bool(np.all(a_arr <= b_arr) and np.any(a_arr < b_arr))


def non_dominated_mask(points: ArrayLike) -> NDArray[np.bool_]:
    """Boolean mask of the points no other point dominates; every copy of a front point is kept."""
    pts = _as_points(points)
    n, m = pts.shape
    if n == 0 or m == 0:
        return np.ones(n, dtype=bool)
    if m == 1:
        return pts[:, 0] == pts[:, 0].min()
    rows, inverse = _unique_rows(pts)
    return _front_of_sorted_unique(rows)[inverse]


def non_dominated_sort(points: ArrayLike) -> NDArray[np.intp]:
    """Front index of every point (0 = Pareto front), as NSGA-II's fast non-dominated sort gives.

    Equal points always share a rank.
    """
    pts = _as_points(points)
    n, m = pts.shape
    if n == 0 or m == 0:
        return np.zeros(n, dtype=np.intp)
    rows, inverse = _unique_rows(pts)
    if m == 1:
        return inverse
    return _rank_sorted_unique(rows)[inverse]


def to_minimization(values: ArrayLike, maximize: Sequence[bool]) -> NDArray[np.float64]:
    """New float array with the maximised columns negated, so everything here can minimise."""
    arr = np.asarray(values, dtype=float)
    flags = np.asarray(maximize, dtype=bool)
    if flags.ndim != 1:
        raise ArrayError("maximize must be a 1-D sequence of booleans, one per objective", "give one True/False flag per objective")
    if arr.ndim == 0 or arr.shape[-1] != flags.size:
        raise ArrayError(
            f"values have {arr.shape[-1] if arr.ndim else 0} objectives but maximize has "
            f"{flags.size} flags",
            "give one maximize flag per objective",
        )
    return np.where(flags, -arr, arr)
