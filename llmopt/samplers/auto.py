"""AutoSampler: the study's default. Gaussian processes while trials are few, TPE after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from llmopt.samplers.base import Sampler
from llmopt.samplers.gp import GPSampler
from llmopt.samplers.settings import StoredSettings, check
from llmopt.samplers.tpe import TPESampler
from llmopt.space import Space
from llmopt.trial import Objective, TrialRecord


class AutoSampler(StoredSettings, Sampler):
    """`GPSampler` for the first `gp_trials` proposals of a study, `TPESampler` for the rest.

    Why both: with LLM evaluations each trial is expensive and the first hundred decide what a
    study finds, so they go to the sampler that learns most per trial (GP + Thompson sampling:
    on the LLM-like benchmark at 100 trials, the hypervolume TPE needs about 300 trials for).
    The GP's cost grows with the cube of the trials seen, so past `gp_trials` TPE takes over
    (a few ms per trial at 1,000 trials), reading the same history. The switch follows the
    stored sample index, so resumed studies and many workers agree on it.

    >>> AutoSampler().to_dict()
    {'type': 'auto', 'gp_trials': 200}
    """

    name: ClassVar[str] = "auto"
    settings: ClassVar[tuple[str, ...]] = ("gp_trials",)

    def __init__(self, gp_trials: int = 200) -> None:
        check(gp_trials >= 0, "gp_trials >= 0", gp_trials=gp_trials)
        self.gp_trials = gp_trials
        self._gp = GPSampler()
        self._tpe = TPESampler()

    def sample(
        self,
        space: Space,
        history: Sequence[TrialRecord],
        objectives: Sequence[Objective],
        rng: np.random.Generator,
        *,
        index: int = 0,
    ) -> dict[str, Any]:
        chosen = self._gp if index < self.gp_trials else self._tpe
        return chosen.sample(space, history, objectives, rng, index=index)
