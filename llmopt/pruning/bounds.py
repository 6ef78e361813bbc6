"""Bounds on a trial's objective values from the examples it has scored so far.

Each bound is one-sided at its level (see `stats`), anytime-valid unless `anytime=False`
(for a complete trial, whose sample size was fixed). The target is either the value on the
full evaluation set (`population=False`: the prefix is a sample without replacement of it) or
the value on the task's example distribution (`population=True`: examples are i.i.d. draws).
Means and sums are bounded by betting on the values (exact when the range is known on the side
that matters, else an asymptotic normal bound marked approximate), quantiles by betting on
"value <= v" indicators (distribution-free), and paired differences of two trials likewise.

>>> import numpy as np
>>> acc = ObjectiveSeries("accuracy", "maximize", np.array([1.0, 0.0] * 20), bounded=(0.0, 1.0))
>>> low, high, approximate = interval(acc, n_total=200, level=0.05)
>>> 0.2 < low < 0.5 < high < 0.8, approximate
(True, False)
"""

from __future__ import annotations

import math

import numpy as np

from llmopt.pruning.base import ObjectiveSeries
from llmopt.pruning.stats import kl_bound, mean_lower_bound, normal_radius, rejects_mean_at_most

__all__ = ["best_case", "bound", "interval", "paired_gain_bound", "worst_case"]


def _prior(lo: float, hi: float) -> tuple[float, float] | None:
    """A pseudo-observation at mid-range with the largest possible variance, when the range is finite."""
    if math.isfinite(lo) and math.isfinite(hi):
        return (hi - lo) / 2, ((hi - lo) / 2) ** 2
    return None


def _mean_bound(x: np.ndarray, upper: bool, level: float, size: int | None, lo: float, hi: float,
                anytime: bool) -> tuple[float, bool]:
    """(bound on the mean, approximate?) from the side of the range that makes it exact."""
    if len(x) == 0:
        return (hi if upper else lo), False
    edge = hi if upper else lo
    if not anytime and size is None and math.isfinite(lo) and math.isfinite(hi):  # a complete trial: fixed n
        scaled = kl_bound((float(x.mean()) - lo) / (hi - lo), len(x), level, upper)
        return lo + (hi - lo) * scaled, False
    if math.isfinite(edge):
        shifted = (edge - x) if upper else (x - edge)
        gap = mean_lower_bound(shifted, level, size, _prior(lo, hi), anytime)
        return (edge - gap if upper else edge + gap), False
    sd = float(np.std(x, ddof=1)) if len(x) > 1 else math.inf
    radius = normal_radius(sd, len(x), level, anytime)
    return float(x.mean()) + (radius if upper else -radius), True


def _quantile_bound(x: np.ndarray, q: float, upper: bool, level: float, size: int | None, lo: float, hi: float,
                    anytime: bool) -> float:
    """Distribution-free bound on the q-quantile (on a full set of `size`: the ceil(q N)-th smallest value).

    Lower: the largest seen value v for which "at least ceil(qN) values are <= v" is rejected
    (too many seen values exceed v). Upper: the smallest v for which "at most ceil(qN) - 1
    values are < v" is rejected. Rejection is monotone in v, so a binary search finds it.
    """
    below, at_most = ((math.ceil(q * size) - 1) / size, math.ceil(q * size) / size) if size else (q, q)
    candidates = np.unique(x)
    prior = (0.5, 0.25)

    def rejects(flags: np.ndarray, allowed: float) -> bool:
        return bool(rejects_mean_at_most(flags.astype(float), allowed, level, size, prior, anytime)[0])

    if upper:
        test = lambda v: rejects(x < v, below)  # noqa: E731
        found, lo_i, hi_i = hi, 0, len(candidates) - 1
        while lo_i <= hi_i:  # smallest rejected candidate
            mid = (lo_i + hi_i) // 2
            if test(candidates[mid]):
                found, hi_i = float(candidates[mid]), mid - 1
            else:
                lo_i = mid + 1
        return found
    test = lambda v: rejects(x > v, 1 - at_most)  # noqa: E731
    found, lo_i, hi_i = lo, 0, len(candidates) - 1
    while lo_i <= hi_i:  # largest rejected candidate
        mid = (lo_i + hi_i) // 2
        if test(candidates[mid]):
            found, lo_i = float(candidates[mid]), mid + 1
        else:
            hi_i = mid - 1
    return found


def bound(series: ObjectiveSeries, upper: bool, level: float, n_total: int, population: bool = False,
          anytime: bool = True) -> tuple[float, bool]:
    """(upper or lower bound on the objective, approximate?); a "sum" is a mean scaled to `n_total`."""
    lo, hi = series.bounded or (-math.inf, math.inf)
    size = None if population else n_total
    if series.aggregate == "quantile":
        return _quantile_bound(series.values, float(series.q), upper, level, size, lo, hi, anytime), False
    value, approximate = _mean_bound(series.values, upper, level, size, lo, hi, anytime)
    return (value * n_total if series.aggregate == "sum" else value), approximate


def best_case(series: ObjectiveSeries, n_total: int, level: float, population: bool = False) -> tuple[float, bool]:
    """The best value the trial may still have (upper bound if maximised), and approximate?"""
    return bound(series, series.maximize, level, n_total, population)


def worst_case(series: ObjectiveSeries, n_total: int, level: float, population: bool = False,
               anytime: bool = True) -> tuple[float, bool]:
    """The worst value the trial may still have, and approximate?"""
    return bound(series, not series.maximize, level, n_total, population, anytime)


def interval(series: ObjectiveSeries, n_total: int, level: float, population: bool = False) -> tuple[float, float, bool]:
    """(lower, upper, approximate): each side a one-sided anytime bound at `level`."""
    low, approx_low = bound(series, False, level, n_total, population)
    high, approx_high = bound(series, True, level, n_total, population)
    return low, high, approx_low or approx_high


def paired_gain_bound(current: ObjectiveSeries, other: ObjectiveSeries, n: int, n_total: int, level: float,
                      population: bool = False) -> tuple[float, bool]:
    """Upper bound on how much better (in the objective's direction) `current` is than `other`.

    Uses the per-example differences on the first `n` shared examples: when two trials succeed
    and fail on mostly the same examples, these vary far less than either trial alone. Only
    for "mean" and "sum"; exact for a known two-sided range, else approximate.
    """
    sign = 1.0 if current.maximize else -1.0
    gains = sign * (current.values[:n] - other.values[:n])
    lo, hi = current.bounded or (-math.inf, math.inf)
    width = hi - lo
    scale = n_total if current.aggregate == "sum" else 1
    if math.isfinite(width):
        gap = mean_lower_bound(width - gains, level, None if population else n_total, (width, width**2))
        return (width - gap) * scale, False
    sd = float(np.std(gains, ddof=1)) if n > 1 else math.inf
    return (float(gains.mean()) + normal_radius(sd, n, level)) * scale, True
