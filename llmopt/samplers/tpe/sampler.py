"""TPESampler: tree-structured Parzen estimators for one or more objectives on conditional spaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from llmopt.samplers.base import Sampler
from llmopt.samplers.fresh import draw_fresh
from llmopt.samplers.history import HistoryReader
from llmopt.samplers.settings import StoredSettings, check
from llmopt.samplers.tpe.parzen import ParzenEstimator
from llmopt.samplers.tpe.per_leaf import continuous_leaves, per_leaf
from llmopt.samplers.tpe.split import n_good, split
from llmopt.space import Space
from llmopt.trial import Objective, TrialRecord

CANDIDATE_ROUNDS = 4


class TPESampler(StoredSettings, Sampler):
    """Proposes the candidate with the highest l(x)/g(x): density under the good trials over the bad.

    The first `n_startup_trials` proposals are random. Then the history is split (see
    `tpe.split`) and `n_candidates` configurations drawn from the good group's estimator are
    scored; the best one that meets the space's constraints and was not proposed before wins.
    Estimators are joint over each trial's active variables, so a module option and its
    sub-variables are learned together. Joint candidates sit near one good trial each, so the
    winner's continuous leaves are then improved one at a time, each by its own l/g given the
    row's discrete leaves, a move kept only if the row's joint l/g rises (`tpe.per_leaf`):
    separable variables (DTLZ2, ZDT1) improve together instead of by luck. Spaces without
    continuous leaves are sampled as before. Trials in flight count as bad (`constant_liar`),
    so parallel workers spread out. Nothing is kept between calls but a cache of encoded rows.

    `category_smoothing` is the pseudo-count of the other options in a choice's kernel: with
    `n` trials seen, a kernel leaves its own option with probability `s / (n + s)`. The default
    4 keeps choices (model, template, module option) exploring: on the LLM-like benchmark the
    best region needs a model, a strategy and a temperature to meet, and 1 stuck to the first
    good combination (docs/benchmarks-samplers.md).

    >>> import llmopt
    >>> from llmopt import FloatVar, Space
    >>> study = llmopt.create_study("tpe-doc", Space({"x": FloatVar(-2, 2)}), {"y": "minimize"},
    ...                             storage=":memory:", sampler=TPESampler(), seed=1)
    >>> study.optimize(lambda t: (t.config["x"] - 1) ** 2, n_trials=30)
    >>> abs(study.best_trial.params["x"] - 1) < 0.1
    True
    """

    name: ClassVar[str] = "tpe"
    settings: ClassVar[tuple[str, ...]] = (
        "n_startup_trials", "n_candidates", "gamma", "max_good", "prior_weight", "bandwidth", "category_smoothing", "constant_liar",
    )

    def __init__(
        self,
        n_startup_trials: int = 10,
        n_candidates: int = 24,
        gamma: float = 0.1,
        max_good: int = 25,
        prior_weight: float = 1.0,
        bandwidth: float = 1.0,
        category_smoothing: float = 4.0,
        constant_liar: bool = True,
    ) -> None:
        check(n_startup_trials >= 0, "n_startup_trials >= 0", n_startup_trials=n_startup_trials)
        check(n_candidates >= 1 and max_good >= 1, "n_candidates >= 1 and max_good >= 1", n_candidates=n_candidates, max_good=max_good)
        check(0 < gamma <= 1, "0 < gamma <= 1", gamma=gamma)
        check(prior_weight > 0 and bandwidth > 0, "prior_weight > 0 and bandwidth > 0", prior_weight=prior_weight, bandwidth=bandwidth)
        check(category_smoothing >= 0, "category_smoothing >= 0", category_smoothing=category_smoothing)
        self.n_startup_trials = n_startup_trials
        self.n_candidates = n_candidates
        self.gamma = gamma
        self.max_good = max_good
        self.prior_weight = prior_weight
        self.bandwidth = bandwidth
        self.category_smoothing = category_smoothing
        self.constant_liar = constant_liar
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
        if obs.n_scored < max(self.n_startup_trials, 1):
            return draw_fresh(space, rng, obs.taken)
        good, bad = split(obs, n_good(obs.n_scored, self.gamma, self.max_good), self.constant_liar)
        enc = self._reader.encoding(space)
        options = {"prior_weight": self.prior_weight, "bandwidth": self.bandwidth, "category_smoothing": self.category_smoothing}
        below = ParzenEstimator(enc, obs.codes[good], **options)
        above = ParzenEstimator(enc, obs.codes[bad], **options)
        for _ in range(CANDIDATE_ROUNDS):
            rows = below.sample(rng, self.n_candidates)
            score = below.log_pdf(rows) - above.log_pdf(rows)
            best = int(np.argmax(score))
            if continuous_leaves(enc, rows[best]):  # tried first: its l/g is at least the winner's
                rows, score = np.vstack((per_leaf(enc, below, above, rows[best], rng), rows)), np.append(np.inf, score)
            for i in np.argsort(-score, kind="stable"):
                if rows[i].tobytes() in obs.taken_rows:
                    continue
                params = enc.decode(rows[i])
                if space.is_feasible(params) and space.config(params).fingerprint not in obs.taken:
                    return params
        return draw_fresh(space, rng, obs.taken)
