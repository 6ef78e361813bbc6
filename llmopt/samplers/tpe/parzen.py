"""A joint Parzen estimator over a conditional space: one product kernel per observed trial, plus a prior.

Each kernel spans all leaves of its trial at once, so a module option and its sub-variables
stay linked: a trial that picked `cot` with `hops=3` adds density near (cot, 3), never near
(react, 3). A leaf a kernel's trial did not have (another option was picked) is uniform under
that kernel; the prior kernel is uniform everywhere. Numbers use truncated Gaussians on the
internal [0, 1] scale (probability mass per bin for ints and stepped floats); choices and
module options keep most mass on the observed option and spread the rest evenly.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from llmopt.samplers.encoding import SpaceEncoding

TINY = 1e-300
MAX_TABLE = 256  # discrete leaves with up to this many values get a precomputed (K, K + 1) kernel table


class ParzenEstimator:
    """Density `p(x) = sum_i w_i prod_leaves k(x_leaf | obs_i)` over rows of codes.

    >>> from llmopt.space import Space, FloatVar
    >>> enc = SpaceEncoding(Space({"x": FloatVar(0, 1)}))
    >>> pe = ParzenEstimator(enc, np.array([[0.2], [0.25]]))
    >>> bool(pe.log_pdf(np.array([[0.22]]))[0] > pe.log_pdf(np.array([[0.9]]))[0])
    True
    """

    def __init__(
        self,
        enc: SpaceEncoding,
        obs: np.ndarray,
        *,
        prior_weight: float = 1.0,
        bandwidth: float = 1.0,
        category_smoothing: float = 1.0,
    ) -> None:
        self.enc = enc
        n = len(obs)
        self.obs = np.vstack((obs, np.full((1, enc.n), np.nan)))  # last row: the prior kernel
        weights = np.append(np.ones(n), prior_weight)
        self.log_w = np.log(weights / weights.sum())
        self.sigma = np.ones((n + 1, enc.n))  # per kernel and leaf
        self.keep = np.ones(enc.n)  # probability a category kernel keeps its own option
        self._tables: dict[int, np.ndarray] = {}
        dims = max(1, sum(1 for c in enc.leaves if c.kind != "category"))
        present = ~np.isnan(obs)
        seen = present.sum(axis=0)
        mean = np.where(present, obs, 0.0).sum(axis=0) / np.maximum(seen, 1)
        std = np.sqrt(np.where(present, (obs - mean) ** 2, 0.0).sum(axis=0) / np.maximum(seen, 1))
        for j, code in enumerate(enc.leaves):
            k = code.size
            missing = np.isnan(self.obs[:, j])
            if code.kind == "category":
                # the other options share `s / (n_seen + s)` of each kernel, never more than uniform
                self.keep[j] = max(1.0 / k, 1.0 - category_smoothing / (seen[j] + category_smoothing))
                if k <= MAX_TABLE:  # larger choices: `_category_log_kernels`, the same numbers without the K^2 table
                    self._tables[j] = self._category_table(j, missing)
                continue
            width = _scott(int(seen[j]), float(std[j]), dims, bandwidth, k)
            if code.kind == "binned" and k <= MAX_TABLE:
                col = self.enc.bin_index(j, np.where(missing, 0.5, self.obs[:, j]))
                widths = _grid_widths(self.enc.bins(j)[1], np.bincount(col[~missing], minlength=k) > 0, width, bandwidth, k)
                self.sigma[:, j] = widths[col]
                self._tables[j] = self._binned_table(j, widths, np.where(missing, k, col))
            elif code.kind == "binned" and seen[j]:
                codes = self.obs[~missing, j]
                distinct, inverse = np.unique(codes, return_inverse=True)
                self.sigma[np.flatnonzero(~missing), j] = _grid_widths(distinct, np.ones(len(distinct), bool), width, bandwidth, k)[inverse.ravel()]
            else:
                self.sigma[:, j] = width

    def _category_table(self, j: int, missing: np.ndarray) -> np.ndarray:
        """(K, kernels) log kernel of each option under each kernel, so scoring is a row lookup."""
        k = self.enc.leaves[j].size
        other = (1.0 - self.keep[j]) / (k - 1) if k > 1 else 0.0
        table = np.full((k, k + 1), math.log(max(other, TINY)))
        np.fill_diagonal(table, math.log(self.keep[j]))
        table[:, k] = -math.log(k)  # kernels whose trial lacks the leaf: uniform
        return table[:, np.where(missing, k, np.nan_to_num(self.obs[:, j]).astype(int))]

    def _category_log_kernels(self, j: int, values: np.ndarray) -> np.ndarray:
        """(values, kernels) log kernel of options under each kernel, the numbers of
        `_category_table` computed pair by pair.

        Why not the table for every choice: it is K x (K + 1), 74 GiB for 100,000 options, while
        a kernel gives one number to its own option and one shared number to all the others, so
        the cost here is linear in the values and kernels and the options' count does not enter.
        """
        k = self.enc.leaves[j].size
        other = (1.0 - self.keep[j]) / (k - 1)  # k > MAX_TABLE, so k > 1
        own = self.obs[:, j][None, :]  # NaN: the kernel's trial lacks the leaf
        index = self.enc.bin_index(j, values)[:, None]
        log_k = np.where(index == own, math.log(self.keep[j]), math.log(max(other, TINY)))
        return np.where(np.isnan(own), -math.log(k), log_k)

    def _binned_table(self, j: int, widths: np.ndarray, col: np.ndarray) -> np.ndarray:
        """(K, kernels) log probability of each grid point under each kernel: computed once per
        grid point (column K: kernels whose trial lacks the leaf, uniform over the bins)."""
        edges, centres = self.enc.bins(j)
        k = len(centres)
        table = np.empty((k, k + 1))
        table[:, :k] = np.log(_trunc_mass(edges[:-1, None], edges[1:, None], centres[None, :], widths[None, :]))
        table[:, k] = np.log(edges[1:] - edges[:-1])
        return table[:, col]

    # -- density ---------------------------------------------------------------------------------
    def log_pdf(self, rows: np.ndarray) -> np.ndarray:
        """Log density of each row (inactive leaves are NaN and not part of the row's density)."""
        log_k = np.tile(self.log_w, (len(rows), 1))
        for j in range(self.enc.n):
            on = ~np.isnan(rows[:, j])
            if on.any():
                log_k[on] += self.leaf_log_kernels(j, rows[on, j])
        return logsumexp_rows(log_k)

    def leaf_log_kernels(self, j: int, values: np.ndarray) -> np.ndarray:
        """(values, kernels) log density of leaf j's canonical codes under each kernel's factor
        for that leaf (a kernel whose trial lacks the leaf is uniform)."""
        code = self.enc.leaves[j]
        if j in self._tables:
            return self._tables[j][self.enc.bin_index(j, values)]
        if code.kind == "category":
            return self._category_log_kernels(j, values)
        mu = self.obs[:, j][None, :]
        has = ~np.isnan(mu)
        centre = np.where(has, mu, 0.5)
        if code.kind == "binned":
            a, b = self.enc.bin_edges(j, values)
            mass = _trunc_mass(a[:, None], b[:, None], centre, self.sigma[None, :, j])
            return np.log(np.where(has, mass, (b - a)[:, None]))
        if code.width > 0:
            return np.where(has, _trunc_logpdf(values[:, None], centre, self.sigma[None, :, j]), 0.0)
        return np.zeros((len(values), len(self.obs)))

    # -- sampling -------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Rows drawn from the mixture: pick a kernel, then each leaf its modules activate."""
        comp = rng.choice(len(self.obs), size=size, p=np.exp(self.log_w))
        rows = np.full((size, self.enc.n), np.nan)
        for j, code in enumerate(self.enc.leaves):
            on = np.flatnonzero(self.enc.active_mask(j, rows))
            if not on.size:
                continue
            mu = self.obs[comp[on], j]
            has = ~np.isnan(mu)
            u = rng.uniform(size=on.size)
            if code.kind == "category":
                k = code.size
                flip = rng.uniform(size=on.size) > self.keep[j]  # leave the kernel's option
                shift = rng.integers(1, max(k, 2), size=on.size)
                kept = np.where(flip, (np.nan_to_num(mu) + shift) % k, mu)
                rows[on, j] = np.where(has, kept, np.floor(u * k)) if k > 1 else 0.0
            else:
                rows[on, j] = self._draw_number(j, comp[on], u)
        return rows

    def sample_leaf(self, j: int, log_w: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        """Values of numeric leaf j from the mixture reweighted by `log_w` (per kernel, any
        offset): with the kernels' densities at a row's other leaves added, the leaf's
        conditional given them."""
        p = np.exp(log_w - log_w.max())
        comp = rng.choice(len(self.obs), size=size, p=p / p.sum())
        return self._draw_number(j, comp, rng.uniform(size=size))

    def _draw_number(self, j: int, comp: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Leaf j's codes drawn from kernels `comp` at quantiles `u` (uniform where a kernel's trial lacks the leaf)."""
        mu = self.obs[comp, j]
        has = ~np.isnan(mu)
        drawn = _trunc_ppf(u, np.where(has, mu, 0.5), self.sigma[comp, j])
        return self.enc.canonical(j, np.where(has, drawn, u))


def logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """log(sum(exp(a), axis=1)) without overflow."""
    top = a.max(axis=1)
    return top + np.log(np.exp(a - top[:, None]).sum(axis=1))


def _scott(n: int, std: float, dims: int, scale: float, bins: int) -> float:
    """The shared kernel width of a leaf: Scott's rule on its spread over n values, floored at
    half a grid step (or at a floor that shrinks as n grows)."""
    spread = max(std, 1.0 / (n + 1)) if n > 1 else 0.5
    floor = 0.5 / bins if bins else min(0.05, 1.0 / (n + 1))
    return max(floor, min(1.0, scale * spread * max(n, 1) ** (-1.0 / (dims + 4))))


def _grid_widths(codes: np.ndarray, used: np.ndarray, width: float, scale: float, bins: int) -> np.ndarray:
    """Width of a kernel at each grid code: the wider gap to the neighbouring used codes (the
    domain's ends count), capped by the shared width and floored at half a step.

    On a grid the gaps are at least one step, so kernels in different regions stay sharp (a
    cold temperature for one strategy, a warm one for another). Continuous leaves keep the
    shared width: their gaps shrink with every trial and starve exploration (ZDT1, DTLZ2).
    """
    out = np.full(len(codes), width)
    distinct = codes[used]
    if distinct.size:
        padded = np.concatenate(([0.0], distinct, [1.0]))
        gaps = np.maximum(distinct - padded[:-2], padded[2:] - distinct)
        out[used] = np.clip(scale * gaps, 0.5 / bins, width)
    return out


def _trunc_bounds(mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ndtr((0.0 - mu) / sigma), ndtr((1.0 - mu) / sigma)


def _trunc_logpdf(x: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    lo, hi = _trunc_bounds(mu, sigma)
    z = (x - mu) / sigma
    return -0.5 * z * z - np.log(sigma * math.sqrt(2 * math.pi)) - np.log(hi - lo)


def _trunc_mass(a: np.ndarray, b: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """P(a <= X < b) for X ~ N(mu, sigma) truncated to [0, 1]; the upper tail is taken from the
    right so far bins do not round to zero."""
    lo, hi = _trunc_bounds(mu, sigma)
    za, zb = (a - mu) / sigma, (b - mu) / sigma
    mass = np.where(za > 0, ndtr(-za) - ndtr(-zb), ndtr(zb) - ndtr(za))
    return np.maximum(mass, TINY) / (hi - lo)


def _trunc_ppf(u: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    lo, hi = _trunc_bounds(mu, sigma)
    p = np.clip(lo + u * (hi - lo), 1e-16, 1 - 1e-16)
    return np.clip(mu + sigma * ndtri(p), 0.0, 1.0)
