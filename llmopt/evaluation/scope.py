"""Where an LLM call belongs: the example and trial being scored, found through a context variable.

Call helpers and the litellm callback read `current_example()` to attribute tokens, dollars
and waiting time to the right example, also from worker threads running sync pipelines.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llmopt.trial import CallRecord

if TYPE_CHECKING:
    from llmopt.evaluation.env import CallEnv


@dataclass
class TrialScope:
    """What one trial has spent (billed dollars) and may spend (its own budget)."""

    trial_id: int
    env: CallEnv
    budget: float | None = None
    billed: float = 0.0
    cost: float = 0.0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()


@dataclass
class ExampleScope:
    """Accumulates one example's calls while its pipeline runs."""

    example_id: str
    trial: TrialScope
    calls: list[CallRecord] = field(default_factory=list)
    waited: float = 0.0  # seconds spent waiting for a request slot, a rate limiter or a retry backoff
    latency_credit: float = 0.0  # a cache hit's original latency minus the lookup: the front sees true latency
    cache_entries: dict[str, str] = field(default_factory=dict)
    occurrences: Counter[str] = field(default_factory=Counter)
    foreign_pending: set[str] = field(default_factory=set)  # litellm calls by other routes, not yet logged

    def __post_init__(self) -> None:
        self.lock = threading.Lock()

    @property
    def env(self) -> CallEnv:
        return self.trial.env

    def add_call(self, record: CallRecord) -> None:
        with self.lock:
            self.calls.append(record)
        with self.trial.lock:
            self.trial.billed += record.billed_cost
            self.trial.cost += record.cost
        self.env.budget.spend(record.billed_cost)

    async def settle(self, timeout: float = 5.0) -> None:
        """Wait for litellm's (asynchronous) logging of foreign calls, so they land in this example."""
        deadline = time.monotonic() + timeout
        while self.foreign_pending and time.monotonic() < deadline:
            await asyncio.sleep(0.002)

    def next_occurrence(self, base_key: str) -> int:
        """0 for the first identical request in this example, 1 for the second...: k samples stay k."""
        with self.lock:
            index = self.occurrences[base_key]
            self.occurrences[base_key] += 1
            return index


_current: contextvars.ContextVar[ExampleScope | None] = contextvars.ContextVar("llmopt_example", default=None)


def current_example() -> ExampleScope | None:
    return _current.get()


def enter_example(scope: ExampleScope) -> contextvars.Token[ExampleScope | None]:
    return _current.set(scope)


def leave_example(token: contextvars.Token[ExampleScope | None]) -> None:
    _current.reset(token)
