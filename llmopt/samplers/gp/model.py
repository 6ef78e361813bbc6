"""A Gaussian process on one objective: hyperparameters by maximum a posteriori, then exact posteriors.

Targets are standardised by the caller. Priors keep the fit sane on a few dozen noisy trials:
each leaf's log inverse squared length scales (main effect and pair terms) ~ N(1.5, 1)
(length scales around half the [0, 1] range: a leaf is assumed to matter until the data say
otherwise, which keeps uncertainty, and so exploration, where few trials went), both log
scales ~ N(0, 2), and the
log noise variance ~ N(log 0.01, 3). The fit starts from the same point every time, so the
same history gives the same model (a resumed study proposes what it would have).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize

from llmopt.samplers.gp import kernel

LOG_W_PRIOR = (1.5, 1.0)  # mean, sd
LOG_SCALE_SD = 2.0
LOG_NOISE_PRIOR = (math.log(1e-2), 3.0)
JITTER = 1e-8
MAX_ITER = 80


class GaussianProcess:
    """Fitted on per-leaf distances `(leaves, n, n)` and standardised targets `y`."""

    def __init__(self, distances: np.ndarray, y: np.ndarray) -> None:
        self.leaves = distances.shape[0]
        self.theta, self.log_noise = self._fit(distances, y)
        self.noise = math.exp(self.log_noise)
        self.prior_variance = kernel.prior_variance(self.theta, self.leaves)
        self.condition(kernel.gram(self.theta, distances)[0], y)

    def condition(self, gram: np.ndarray, y: np.ndarray) -> None:
        """Posterior on these observations (the hyperparameters stay): used again when trials
        in flight are added at their predicted means."""
        self.chol = np.linalg.cholesky(gram + (self.noise + JITTER) * np.eye(len(y)))
        self.alpha = _solve(self.chol, y)

    def mean(self, k_star: np.ndarray) -> np.ndarray:
        """Posterior mean at points whose kernel against the observations is `k_star` (m, n)."""
        return k_star @ self.alpha

    def covariance(self, k_star: np.ndarray, k_star_star: np.ndarray) -> np.ndarray:
        """Posterior covariance of the latent (noise-free) values at those points."""
        v = np.linalg.solve(self.chol, k_star.T)
        return k_star_star - v.T @ v

    # -- fit --------------------------------------------------------------------------------
    def _fit(self, distances: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
        size = kernel.n_params(self.leaves)
        start = np.concatenate((np.zeros(size), [LOG_NOISE_PRIOR[0]]))
        bounds = [(-5.0, 5.0)] * kernel.n_scales(self.leaves) + [(-5.0, 3.0)] * 2 + [(math.log(1e-6), 0.5)]
        result = minimize(
            _neg_log_posterior, start, args=(distances, y), jac=True, method="L-BFGS-B",
            bounds=bounds, options={"maxiter": MAX_ITER},
        )
        return result.x[:size], float(result.x[size])


def _neg_log_posterior(params: np.ndarray, distances: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    leaves = kernel.n_scales(distances.shape[0])  # the length scales come first in params
    theta, noise = params[:-1], math.exp(params[-1])
    gram, parts, totals = kernel.gram(theta, distances)
    n = len(y)
    try:
        chol = np.linalg.cholesky(gram + (noise + JITTER) * np.eye(n))
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(params)
    inverse = _solve(chol, np.eye(n))
    alpha = inverse @ y
    value = 0.5 * float(y @ alpha) + float(np.log(np.diag(chol)).sum())
    outer = np.outer(alpha, alpha) - inverse  # d(-log likelihood)/dK = -outer / 2
    grad = np.array([-0.5 * float(np.sum(outer * d)) for d in kernel.gram_gradients(theta, distances, parts, totals)] + [-0.5 * float(np.trace(outer)) * noise])
    mean_w, sd_w = LOG_W_PRIOR
    value += 0.5 * float(np.sum(((params[:leaves] - mean_w) / sd_w) ** 2))
    grad[:leaves] += (params[:leaves] - mean_w) / sd_w**2
    value += 0.5 * float(np.sum((params[leaves:-1] / LOG_SCALE_SD) ** 2))
    grad[leaves:-1] += params[leaves:-1] / LOG_SCALE_SD**2
    mean_n, sd_n = LOG_NOISE_PRIOR
    value += 0.5 * ((params[-1] - mean_n) / sd_n) ** 2
    grad[-1] += (params[-1] - mean_n) / sd_n**2
    return value, grad


def _solve(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(chol.T, np.linalg.solve(chol, b))
