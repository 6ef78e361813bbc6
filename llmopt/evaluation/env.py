"""CallEnv: everything a call helper needs during one evaluation run (prices, cache, limits, budget)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from llmopt.evaluation.budget import StudyBudget
from llmopt.evaluation.limits import Limits, RetryPolicy, Slots
from llmopt.evaluation.pricing import PriceBook


@dataclass
class CallEnv:
    """Shared by every example and trial a worker runs; built inside the event loop."""

    prices: PriceBook
    limits: Limits
    retry: RetryPolicy
    budget: StudyBudget
    cache_lookup: Callable[[str], str | None] | None  # None: the cache is off for this study
    loop: asyncio.AbstractEventLoop
    slots: Slots = field(init=False)
    own_call_ids: set[str] = field(default_factory=set)
    interrupt: asyncio.Event = field(default_factory=asyncio.Event)  # a first Ctrl-C: nothing new starts
    #: model -> [completion tokens, answered calls] in this run: a timed-out request's expected length.
    completions: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.slots = Slots(self.limits)

    def answered(self, model: str, completion_tokens: int) -> None:
        """Note an answered call's length (the event loop's thread only: no lock needed)."""
        seen = self.completions.setdefault(model, [0, 0])
        seen[0] += completion_tokens
        seen[1] += 1

    def mean_completion(self, model: str) -> float | None:
        seen = self.completions.get(model)
        return seen[0] / seen[1] if seen and seen[1] else None
