"""GPSampler: Gaussian processes and Thompson sampling for one or more objectives on conditional spaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from scipy.special import boxcox
from scipy.stats import boxcox_normmax

from llmopt.pareto import non_dominated_mask
from llmopt.samplers.base import Sampler
from llmopt.samplers.encoding import SpaceEncoding
from llmopt.samplers.fresh import draw_fresh
from llmopt.samplers.gp import kernel
from llmopt.samplers.gp.candidates import neighbours, uniform_rows
from llmopt.samplers.gp.model import GaussianProcess
from llmopt.samplers.gp.thompson import hv_improvement, joint_draw
from llmopt.samplers.history import COMPLETE, IN_FLIGHT, INFEASIBLE, PARTIAL, HistoryReader, Observations
from llmopt.samplers.ranking import finite
from llmopt.samplers.settings import StoredSettings, check
from llmopt.space import Space
from llmopt.trial import Objective, TrialRecord

RATE_CLIP = 0.0125  # a rate of 0 or 1 is read as half an example off, on a 40-example set
LOG_SPAN = 10.0  # an objective whose values share a sign and span more than this factor is warped (`_warp`)


class GPSampler(StoredSettings, Sampler):
    """Fits one Gaussian process per objective and proposes by Thompson sampling.

    After `n_startup_trials` random proposals, each objective gets a GP with an additive kernel
    over the space's leaves (`gp.kernel`: main effects and pairwise interactions, module
    sub-variables compared only between trials that picked the option). Candidates are
    `n_random` uniform rows plus every single-leaf move from up to `n_local` configurations of
    the posterior-mean Pareto front (`gp.candidates`; a choice of more than 64 options moves
    to a sample of its options, so a proposal stays linear in the options' count). One joint posterior draw over the
    observed configurations and the candidates picks the candidate with the largest
    hypervolume improvement (`gp.thompson`); the best one that meets the space's constraints
    and was not proposed before wins.

    Objectives whose values share a sign and span more than a factor of 10 (cost, latency) are
    Box-Cox warped, the power fitted between 0 (log) and 1 (none): a cheaper model is cheaper by
    a factor, not by an amount, but a plain log over-stretches values near zero. A maximised
    objective whose values all lie in [0, 1] is a rate and is modelled on the logit scale.
    Pruned trials count with their partial values. Outcome constraints: with infeasible trials in the history, the violation
    gets its own GP and a candidate counts only where the draw says it is feasible. Trials in
    flight are added at their predicted values (a kriging believer), so parallel workers
    spread out. Nothing is kept between calls but a cache of encoded rows, and the fit starts
    from the same point every time: the same history and seed give the same proposal.

    Cost grows with the cube of the trials seen (about 0.8 s of CPU per proposal at 100 trials
    with three objectives, benchmarks/bench_samplers.py): it is meant for the first hundreds
    of trials, where each LLM evaluation costs far more. `AutoSampler`, the default, hands
    over to TPE after that.

    >>> import llmopt
    >>> from llmopt import FloatVar, Space
    >>> study = llmopt.create_study("gp-doc", Space({"x": FloatVar(-2, 2)}), {"y": "minimize"},
    ...                             storage=":memory:", sampler=GPSampler(), seed=1)
    >>> study.optimize(lambda t: (t.config["x"] - 1) ** 2, n_trials=20)
    >>> abs(study.best_trial.params["x"] - 1) < 0.1
    True
    """

    name: ClassVar[str] = "gp"
    settings: ClassVar[tuple[str, ...]] = ("n_startup_trials", "n_random", "n_local", "n_boxes")

    def __init__(self, n_startup_trials: int = 10, n_random: int = 512, n_local: int = 16, n_boxes: int = 2048) -> None:
        check(n_startup_trials >= 0, "n_startup_trials >= 0", n_startup_trials=n_startup_trials)
        check(n_random >= 1 and n_local >= 0, "n_random >= 1 and n_local >= 0", n_random=n_random, n_local=n_local)
        check(n_boxes >= 64, "n_boxes >= 64", n_boxes=n_boxes)
        self.n_startup_trials = n_startup_trials
        self.n_random = n_random
        self.n_local = n_local
        self.n_boxes = n_boxes
        self._reader = HistoryReader()

    def sample(
        self,
        space: Space,
        history: Sequence[TrialRecord],
        objectives: Sequence[Objective],
        rng: np.random.Generator,
        *,
        index: int = 0,
    ) -> dict[str, Any]:
        obs = self._reader.read(space, history, objectives)
        if obs.n_scored < max(self.n_startup_trials, 2) or not objectives:
            return draw_fresh(space, rng, obs.taken)
        enc = self._reader.encoding(space)
        fit = _Fit(enc, obs, [o.maximize for o in objectives])
        candidates = self._candidates(enc, obs, fit, rng)
        if len(candidates):
            scores = fit.thompson_scores(candidates, rng, self.n_boxes)
            for i in np.argsort(-scores, kind="stable"):
                params = enc.decode(candidates[i])
                if space.is_feasible(params) and space.config(params).fingerprint not in obs.taken:
                    return params
        return draw_fresh(space, rng, obs.taken)

    def _candidates(self, enc: SpaceEncoding, obs: Observations, fit: _Fit, rng: np.random.Generator) -> np.ndarray:
        """Uniform rows and single-leaf moves from the front, without repeats of each other or of
        configurations already proposed."""
        blocks = [uniform_rows(enc, rng, self.n_random)]
        front = fit.front_rows()
        if len(front) > self.n_local:
            front = front[np.sort(rng.choice(len(front), self.n_local, replace=False))]
        blocks += [neighbours(enc, row, rng, fit.rows) for row in front]
        rows = np.vstack(blocks)
        keep, seen = [], set(obs.taken_rows)
        for i, row in enumerate(rows):
            key = row.tobytes()
            if key not in seen:
                seen.add(key)
                keep.append(i)
        return rows[keep]


class _Fit:
    """The GPs of one proposal: objectives (and the violation, when some trials are infeasible)."""

    def __init__(self, enc: SpaceEncoding, obs: Observations, maximised: Sequence[bool]) -> None:
        self.enc = enc
        scored = np.flatnonzero(obs.tier <= INFEASIBLE)
        flight = np.flatnonzero(obs.tier == IN_FLIGHT)
        self.rows = obs.codes[scored]
        values = finite(obs.values[scored])
        targets = [_standardise(_objective_scale(values[:, m], up)) for m, up in enumerate(maximised)]
        self.threshold: float | None = None
        if (obs.tier[scored] == INFEASIBLE).any():
            violation = obs.violation[scored]
            low, high = violation.min(), violation.max()
            cut = 0.5 * violation[violation > 0].min()
            targets.append((violation - low) / (high - low) if high > low else violation * 0.0)
            self.threshold = (cut - low) / (high - low) if high > low else 0.0
        distances = kernel.leaf_distances(enc, self.rows, self.rows)
        self.models = [GaussianProcess(distances, y) for y in targets]
        self.thetas = [gp.theta for gp in self.models]
        self.feasible = np.isin(obs.tier[scored], (COMPLETE, PARTIAL))
        grams = [kernel.gram(t, distances)[0] for t in self.thetas]
        self.means = np.column_stack([gp.mean(g) for gp, g in zip(self.models, grams)])
        if flight.size:  # kriging believer: in-flight trials observed at their predicted means
            k_flight = kernel.cross(enc, self.thetas, obs.codes[flight], self.rows)
            believed = [gp.mean(k) for gp, k in zip(self.models, k_flight)]
            self.rows = np.vstack((self.rows, obs.codes[flight]))
            self.feasible = np.append(self.feasible, np.ones(flight.size, dtype=bool))
            self.means = np.vstack((self.means, np.column_stack(believed)))
            everything = kernel.cross(enc, self.thetas, self.rows, self.rows)
            for gp, gram, y, old in zip(self.models, everything, self.means.T, targets):
                gp.condition(gram, np.concatenate((old, y[len(old):])))
        self.n_objectives = obs.values.shape[1]

    def front_rows(self) -> np.ndarray:
        """Observed configurations on the front of posterior means (feasible ones)."""
        ok = np.flatnonzero(self.feasible)
        if not ok.size:
            return self.rows[:0]
        means = self.means[ok, : self.n_objectives]
        return self.rows[ok[non_dominated_mask(means)]]

    def thompson_scores(self, candidates: np.ndarray, rng: np.random.Generator, n_boxes: int) -> np.ndarray:
        """Hypervolume improvement of each candidate under one joint draw (see `gp.thompson`)."""
        both = np.vstack((self.rows, candidates))
        k_both = kernel.cross(self.enc, self.thetas, both, self.rows)
        k_all = kernel.cross(self.enc, self.thetas, both, both)
        draws = np.column_stack([
            joint_draw(gp.mean(k), gp.covariance(k, kk), rng) for gp, k, kk in zip(self.models, k_both, k_all)
        ])
        seen, new = draws[: len(self.rows)], draws[len(self.rows) :]
        objectives = slice(0, self.n_objectives)
        feasible_seen = self.feasible.copy()
        feasible_new = np.ones(len(candidates), dtype=bool)
        if self.threshold is not None:
            feasible_seen &= seen[:, -1] <= self.threshold
            feasible_new = new[:, -1] <= self.threshold
        front = seen[feasible_seen, objectives]
        if not len(front):  # nothing feasible yet: the least violation wins
            return -new[:, -1]
        front = front[non_dominated_mask(front)]
        gain = hv_improvement(front, new[:, objectives], rng, n_boxes)
        score = gain - 1e-9 * new[:, objectives].sum(axis=1)
        return np.where(feasible_new, score, -np.inf if feasible_new.any() else -new[:, -1])


def _warp(values: np.ndarray) -> np.ndarray:
    """Values that share a sign and span more than LOG_SPAN go through a Box-Cox transform with
    its power fitted to them and kept in [0, 1] (order kept, minimisation kept).

    Why fitted and not plain log: costs spread evenly over decades get a power near 0 (log: a
    cheaper model is cheaper by a factor), while values spread evenly down to near 0 (DTLZ2's
    objectives) get a power near 1; their log would turn the smallest into far outliers.
    """
    sign = 1.0 if (values > 0).all() else -1.0 if (values < 0).all() else 0.0
    magnitude = sign * values
    if not sign or magnitude.max() <= LOG_SPAN * magnitude.min():
        return values
    with np.errstate(all="ignore"):
        power = float(np.clip(boxcox_normmax(magnitude, method="mle"), 0.0, 1.0))
    return sign * boxcox(magnitude, power)


def _objective_scale(values: np.ndarray, maximised: bool) -> np.ndarray:
    """The scale an objective is modelled on: `_logit_rate` for a maximised objective whose values
    (stored negated) all lie in [0, 1], `_warp` for anything else."""
    if maximised and ((values >= -1.0) & (values <= 0.0)).all():
        return _logit_rate(values)
    return _warp(values)


def _logit_rate(values: np.ndarray) -> np.ndarray:
    """A rate such as accuracy (maximised, so stored negated) on the logit scale.

    Why: a rate's effects add up on the logit scale (a better strategy lifts a weak model more
    points than a strong one already near 1), which an additive kernel can then fit; and a step
    from 0.90 to 0.95 weighs more than one from 0.50 to 0.55, as it is harder to make. Rates of
    0 and 1 are read as RATE_CLIP and 1 - RATE_CLIP. Benchmarks: +0.012 +- 0.006 hypervolume
    ratio at 100 trials on the LLM-like space, together with the pair length scales of `gp.kernel`.
    """
    rate = np.clip(-values, RATE_CLIP, 1.0 - RATE_CLIP)
    return -np.log(rate / (1.0 - rate))


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / (spread if spread > 0 else 1.0)
