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

    def __post_init__(self) -> None:
        self.slots = Slots(self.limits)
