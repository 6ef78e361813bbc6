"""Thompson sampling for a Pareto front: one joint posterior draw, scored by hypervolume improvement.

One draw of every objective, jointly over the observed configurations and the candidates,
stands in for the truth; the candidate that would add the most hypervolume to the drawn
values of the observed configurations wins. Why a joint draw and not expected improvement
over the posterior-mean front: with noisy metrics (accuracy on 40 examples) expected
improvement keeps paying for near-copies of the cheapest configuration, whose improvement is
noise; in a joint draw a near-copy moves with the configuration it copies, so it adds nothing.
And a draw explores in proportion to the chance of being better, which on the LLM-like
benchmark is what finds the narrow warm-temperature region where self-consistency pays.
"""

from __future__ import annotations

import numpy as np

DRAW_JITTER = 1e-6


def joint_draw(mean: np.ndarray, cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw from N(mean, cov); falls back to an eigendecomposition when cov is singular."""
    z = rng.standard_normal(len(mean))
    try:
        return mean + np.linalg.cholesky(cov + DRAW_JITTER * np.eye(len(mean))) @ z
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(cov)
        return mean + vectors @ (np.sqrt(np.clip(values, 0.0, None)) * z)


def reference_point(front: np.ndarray) -> np.ndarray:
    """The front's nadir pushed out by 10% of its range (minimisation), so the extremes count."""
    ideal, nadir = front.min(axis=0), front.max(axis=0)
    return nadir + 0.1 * np.maximum(nadir - ideal, 1e-6)


def hv_improvement(front: np.ndarray, points: np.ndarray, rng: np.random.Generator, n_boxes: int) -> np.ndarray:
    """Each point's hypervolume improvement over `front` (minimisation), as a share of a box.

    One objective: exact (how far below the best). Several: Monte Carlo with `n_boxes`
    uniform probes between the best values seen and the reference point; probes the front
    already covers are dropped, and a point scores the probes it alone would cover.
    """
    if front.shape[1] == 1:
        return np.clip(front[:, 0].min() - points[:, 0], 0.0, None)
    reference = reference_point(front)
    low = np.minimum(front.min(axis=0), points.min(axis=0))
    probes = rng.uniform(low, reference, size=(n_boxes, front.shape[1]))
    covered = np.zeros(len(probes), dtype=bool)
    for f in front:
        covered |= (f <= probes).all(axis=1)
    probes = probes[~covered]
    dominated = np.ones((len(points), len(probes)), dtype=bool)
    for m in range(front.shape[1]):
        dominated &= points[:, m, None] <= probes[None, :, m]
    return dominated.sum(axis=1) / n_boxes
