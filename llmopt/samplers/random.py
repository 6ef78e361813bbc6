"""RandomSampler: independent uniform draws that respect conditional structure and constraints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from llmopt.samplers.base import Sampler
from llmopt.samplers.draw import draw_feasible
from llmopt.space import Space
from llmopt.trial import Objective, TrialRecord


class RandomSampler(Sampler):
    """Uniform random search; reproducible because the study seeds each draw.

    >>> from llmopt.space import Space, FloatVar
    >>> RandomSampler().sample(Space({"t": FloatVar(0, 1, step=0.5)}), [], [], np.random.default_rng(0))
    {'t': 1.0}
    """

    name: ClassVar[str] = "random"
    uses_history: ClassVar[bool] = False

    def sample(
        self,
        space: Space,
        history: Sequence[TrialRecord],
        objectives: Sequence[Objective],
        rng: np.random.Generator,
        *,
        index: int = 0,
    ) -> dict[str, Any]:
        return draw_feasible(space, rng)
