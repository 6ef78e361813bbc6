"""The sampler interface: propose a configuration from the space, the stored history and an rng.

Samplers never see a Study or a Storage. The study derives `rng` from (study seed, sample
index, attempt), so a resumed or restarted study proposes exactly what it would have.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from llmopt.space import Space
from llmopt.trial import Objective, TrialRecord


class Sampler(ABC):
    """Proposes flat configurations (`path -> value`) that are always feasible."""

    #: Proposals must be distinct across the study (the storage enforces it across workers).
    unique: ClassVar[bool] = False
    #: Whether `sample` reads `history`; the study skips loading it when False.
    uses_history: ClassVar[bool] = True
    #: Name under which the sampler is stored with the study and rebuilt on resume.
    name: ClassVar[str]

    @abstractmethod
    def sample(
        self,
        space: Space,
        history: Sequence[TrialRecord],
        objectives: Sequence[Objective],
        rng: np.random.Generator,
        *,
        index: int = 0,
    ) -> dict[str, Any]:
        """Return the active values of one feasible configuration.

        `index` is the study-wide sample index of the trial being proposed (0, 1, 2... in
        order of sampling, stored on every trial as `sample_index`): samplers that work in
        batches (NSGA-II generations) derive their state from it instead of keeping memory.
        """

    def to_dict(self) -> dict[str, Any]:
        """Settings to store with the study, so `load_study` rebuilds the same sampler."""
        return {"type": self.name}
