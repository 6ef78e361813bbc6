"""95% intervals for trial-level measures, from their per-example values.

An evaluation set is a sample, so an observed accuracy of 0.80 on 20 examples is compatible
with anything from about 0.58 to 0.92: reports show that range beside the number. The methods
are the textbook ones for each kind of aggregate: Wilson's score interval for a rate of 0/1
scores (good coverage at small n and near 0 or 1, unlike the normal approximation), a
t-interval for the mean of other values (clipped to the measure's bounds), and the
distribution-free order-statistic interval for a quantile (p50/p95 latency).

>>> [round(x, 3) for x in wilson_interval(16, 20)]
[0.584, 0.919]
>>> mean_interval([0.5, 0.7, 0.9]) is not None
True
>>> quantile_interval([float(i) for i in range(1, 101)], 0.5)
(40.0, 61.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

Interval = tuple[float, float]


def wilson_interval(successes: float, n: int, level: float = 0.95) -> Interval:
    """Wilson's score interval for a binomial rate."""
    if n <= 0:
        return (0.0, 1.0)
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def mean_interval(values: Sequence[float] | np.ndarray, level: float = 0.95,
                  bounds: tuple[float, float] | None = None) -> Interval | None:
    """Interval on the mean: Wilson when every value is 0 or 1 within bounds (0, 1), else a
    t-interval clipped to `bounds`. None with fewer than two values (nothing to spread on)."""
    y = np.asarray(values, dtype=float)
    n = len(y)
    if n == 0:
        return None
    if bounds == (0.0, 1.0) and np.all((y == 0.0) | (y == 1.0)):
        return wilson_interval(float(y.sum()), n, level)
    if n < 2:
        return None
    mean, sd = float(y.mean()), float(y.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return (low, high)


def quantile_interval(values: Sequence[float] | np.ndarray, q: float, level: float = 0.95) -> Interval | None:
    """Distribution-free interval on the q-quantile: the order statistics whose ranks bracket
    Binomial(n, q) with the asked probability (the widest available when n is too small)."""
    y = np.sort(np.asarray(values, dtype=float))
    n = len(y)
    if n < 2:
        return None
    alpha = 1 - level
    low_rank = int(stats.binom.ppf(alpha / 2, n, q))  # P(B < low_rank) <= alpha/2, 0-based index
    high_rank = int(stats.binom.ppf(1 - alpha / 2, n, q))
    return (float(y[max(0, min(n - 1, low_rank - 1 if low_rank > 0 else 0))]), float(y[min(n - 1, high_rank)]))
