"""Anytime-valid confidence bounds by betting, for a prefix of a randomly ordered finite set.

The study scores its examples in one uniformly shuffled order, so the first n values of a
trial are a sample without replacement from its full evaluation set. We bound the *full-set*
mean (what the study will report) with a test martingale: for a candidate mean mu, a gambler
bets each next value exceeds its conditional mean given the values seen so far,
``m_t = (N mu - S_{t-1}) / (N - t + 1)``; by Ville's inequality the wealth ever reaching
``1/alpha`` has probability at most alpha when mu is right. Rejecting on the running maximum
makes the bound valid at every stage at once, however often the pruner looks (no alpha
spending over stages). With ``n_total=None`` the same test bounds an i.i.d. mean.
Betting fractions follow the predictable plug-in rule of Waudby-Smith & Ramdas (2023).

>>> import numpy as np
>>> y = np.array([1.0, 0.0, 1.0, 1.0] * 10)
>>> round(mean_lower_bound(y, 0.05, n_total=40), 3)   # all examples seen: the bound is exact
0.75
>>> 0.4 < mean_lower_bound(y, 0.05, n_total=400) < 0.75
True
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["kl_bound", "mean_lower_bound", "normal_radius", "rejects_mean_at_most"]

_CAP = 0.8  # the most of its wealth a bettor may lose on one value: keeps wealth positive and monotone in mu


def horizons(n_total: int | None, n: int) -> np.ndarray:
    """10, 20, 40... up to the set size: each bettor sizes its stakes to win by about that many values.

    Their wealth is averaged (still a test martingale), so the bound adapts to large gaps (won
    early) and small ones (won late), at the price of log(number of bettors).
    """
    top = max(n_total if n_total is not None else n, 10)
    return 10.0 * 2.0 ** np.arange(int(math.log2(top / 10)) + 1)


def _bet_sizes(y: np.ndarray, alpha: float, prior: tuple[float, float] | None, n_total: int | None,
               anytime: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Predictable stakes, one row per horizon: about sqrt(2 log(1/alpha) / (variance x horizon)).

    The variance is estimated from past values only; `prior` is (mean, variance) of one
    pseudo-observation. Without a prior the first stake is 0 and the first value is the prior.
    """
    n = len(y)
    if n == 0:
        return np.zeros((1, 0)), np.array([_CAP])
    m0, v0 = prior if prior is not None else (float(y[0]), (float(y[0]) / 2) ** 2)
    csum = np.concatenate(([0.0], np.cumsum(y)))
    counts = np.arange(n + 1, dtype=float)
    running_mean = (m0 + csum) / (counts + 1)  # estimate after t values, t = 0..n
    squares = np.concatenate(([0.0], np.cumsum((y - running_mean[:-1]) ** 2)))
    var_before = ((v0 + squares) / (counts + 1))[:-1]
    with np.errstate(divide="ignore"):
        stakes = np.sqrt(2 * math.log(1 / alpha) / (var_before[None, :] * (horizons(n_total, n) if anytime else np.array([float(n)]))[:, None]))
    if prior is None:
        stakes[:, 0] = 0.0
    return stakes, np.full(len(stakes), _CAP)


def _log_wealth_max(y: np.ndarray, mus: np.ndarray, bettors: tuple[np.ndarray, np.ndarray], n_total: int | None,
                    anytime: bool = True) -> np.ndarray:
    """Log wealth, per candidate mean, of the averaged bettors that nonnegative values beat mu.

    Anytime: its running maximum (Ville's inequality); else the final wealth (Markov's), which
    is valid only when the number of values was fixed in advance, e.g. a complete trial's.
    """
    n = len(y)
    if n == 0:
        return np.zeros(len(mus))
    if n_total is None:
        cond = np.broadcast_to(mus[:, None], (len(mus), n))
    else:
        before = np.concatenate(([0.0], np.cumsum(y)[:-1]))
        remaining = n_total - np.arange(n, dtype=float)
        cond = (n_total * mus[:, None] - before[None, :]) / remaining[None, :]
    impossible = (cond < 0) | ((cond <= 0) & (y[None, :] > 0))  # a nonnegative remainder cannot have that mean
    positive = cond > 0
    safe = np.where(positive, cond, 1.0)
    stakes, caps = bettors
    lam = np.minimum(stakes[:, None, :], caps[:, None, None] / safe[None])  # (bettors, candidates, values)
    lam = np.where(positive[None], lam, 0.0)
    steps = np.log1p(lam * (y[None, None, :] - np.where(positive, cond, 0.0)[None]))
    log_wealth = np.cumsum(steps, axis=2)
    top = log_wealth.max(axis=0)
    mixed = top + np.log(np.exp(log_wealth - top[None]).mean(axis=0))  # log of the average wealth
    best = np.where(impossible.any(axis=1), np.inf, mixed.max(axis=1) if anytime else mixed[:, -1])
    if n_total is not None:  # the unseen values are >= 0, so the full-set mean is at least S_n / N
        best = np.where(values_sum_exceeds(y, mus, n_total), np.inf, best)
    return best


def values_sum_exceeds(y: np.ndarray, mus: np.ndarray, n_total: int) -> np.ndarray:
    """True where the values seen already sum past what a full-set mean of mu allows."""
    return float(np.sum(y)) > n_total * mus * (1 + 1e-12)


def rejects_mean_at_most(y: np.ndarray, mu: float | np.ndarray, alpha: float, n_total: int | None = None,
                         prior: tuple[float, float] | None = None, anytime: bool = True) -> np.ndarray:
    """True where "the mean of these nonnegative values is at most mu" is rejected at level alpha."""
    values = np.asarray(y, dtype=float)
    mus = np.atleast_1d(np.asarray(mu, dtype=float))
    bettors = _bet_sizes(values, alpha, prior, n_total, anytime)
    return _log_wealth_max(values, mus, bettors, n_total, anytime) >= math.log(1 / alpha)


def mean_lower_bound(y: np.ndarray, alpha: float, n_total: int | None = None,
                     prior: tuple[float, float] | None = None, anytime: bool = True, rounds: int = 4) -> float:
    """Anytime-valid lower bound on the mean of nonnegative values (full set of `n_total`, or i.i.d.).

    The rejected means form an interval [0, L) (wealth falls as mu grows), found by a few
    rounds of grid refinement; the largest rejected grid point is returned, so rounding errs
    on the safe side.
    """
    values = np.asarray(y, dtype=float)
    if len(values) == 0:
        return 0.0
    bettors = _bet_sizes(values, alpha, prior, n_total, anytime)
    threshold = math.log(1 / alpha)

    def rejected(mus: np.ndarray) -> np.ndarray:
        return _log_wealth_max(values, mus, bettors, n_total, anytime) >= threshold

    lo, hi = 0.0, max(float(values.mean()), float(values.max()) * 1e-9, 1e-300)
    while rejected(np.array([hi]))[0]:
        lo, hi = hi, hi * 2
    if not rejected(np.array([lo]))[0]:
        return lo
    for _ in range(rounds):
        grid = np.linspace(lo, hi, 17)
        flags = rejected(grid)
        first_kept = int(np.argmin(flags))  # flags: True ... True False ... False
        lo, hi = float(grid[first_kept - 1]), float(grid[first_kept])
    return lo


def normal_radius(sd: float, n: int, alpha: float, anytime: bool = True, n_target: int = 50) -> float:
    """Radius of an asymptotic one-sided bound on a mean: Robbins' normal mixture if anytime, else a z bound.

    Only for values with no known range on the side that matters: valid as the CLT is, not exactly.
    """
    if n == 0 or not math.isfinite(sd):
        return math.inf
    if not anytime:
        return sd * float(stats.norm.isf(alpha)) / math.sqrt(n)
    rho = n_target / max(2 * math.log(1 / alpha), 1.0)
    return sd * math.sqrt(2 * (n + rho) * math.log(math.sqrt((n + rho) / rho) / alpha)) / n


def _kl(p: float, q: float) -> float:
    """Kullback-Leibler divergence of Bernoulli(p) from Bernoulli(q)."""
    eps = 1e-300
    out = 0.0
    if p > 0:
        out += p * math.log(p / max(q, eps))
    if p < 1:
        out += (1 - p) * math.log((1 - p) / max(1 - q, eps))
    return out


def kl_bound(mean: float, n: int, alpha: float, upper: bool) -> float:
    """Chernoff-Hoeffding bound on the mean of n values in [0, 1] seen all at once (fixed n).

    Valid for any distribution on [0, 1] (Hoeffding 1963), tight for Bernoulli: the mean q
    with n KL(mean || q) = log(1/alpha), on the requested side.
    """
    if n == 0:
        return 1.0 if upper else 0.0
    budget = math.log(1 / alpha) / n
    lo, hi = (mean, 1.0) if upper else (0.0, mean)
    if _kl(mean, hi if upper else lo) <= budget:
        return hi if upper else lo
    for _ in range(60):
        mid = (lo + hi) / 2
        inside = _kl(mean, mid) <= budget
        if upper:
            lo, hi = (mid, hi) if inside else (lo, mid)
        else:
            lo, hi = (lo, mid) if inside else (mid, hi)
    return hi if upper else lo
