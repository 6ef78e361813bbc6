"""Concurrency limits and retry policy for LLM calls.

>>> Limits(max_in_flight=8, per_model={"gpt-4o": 2}).per_model
{'gpt-4o': 2}
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from llmopt.errors import EvaluationError


@dataclass(frozen=True)
class Limits:
    """Requests in flight at once, overall and per model (provider rate limits differ per model)."""

    max_in_flight: int = 16
    per_model: Mapping[str, int] = field(default_factory=dict)
    #: Requests per second per model (provider rate limits); time waiting here is not latency.
    rate: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for model, value in self.rate.items():
            if not isinstance(value, (int, float)) or value <= 0:
                raise EvaluationError(f"Limits.rate[{model!r}] must be requests per second > 0, got {value!r}", "e.g. rate={'gpt-4o': 5}")
        for name, value in [("max_in_flight", self.max_in_flight), *(((f"per_model[{m!r}]"), v) for m, v in self.per_model.items())]:
            if not isinstance(value, int) or value < 1:
                raise EvaluationError(f"Limits.{name} must be an integer >= 1, got {value!r}", "e.g. Limits(max_in_flight=16)")


@dataclass(frozen=True)
class RetryPolicy:
    """Retries with exponential backoff on 429, timeouts, connection errors and 5xx."""

    max_retries: int = 4
    initial_delay: float = 0.5
    max_delay: float = 20.0
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.initial_delay < 0 or self.max_delay < 0 or self.timeout <= 0:
            raise EvaluationError(f"invalid RetryPolicy {self}", "use max_retries >= 0, delays >= 0 and timeout > 0 seconds")

    def delay(self, attempt: int, jitter: float) -> float:
        """Backoff before retry `attempt` (1-based), with `jitter` in [0, 1) spreading workers apart."""
        return min(self.max_delay, self.initial_delay * 2 ** (attempt - 1)) * (0.5 + jitter / 2)


class RateLimiter:
    """Spaces request starts at least 1/rate seconds apart (a smooth token bucket of size one)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_start = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_start)
            self.next_start = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


class Slots:
    """The semaphores and rate limiters behind Limits, created inside the running event loop."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.overall = asyncio.Semaphore(limits.max_in_flight)
        self.models = {model: asyncio.Semaphore(n) for model, n in limits.per_model.items()}
        self.rates = {model: RateLimiter(r) for model, r in limits.rate.items()}

    def for_model(self, model: str) -> asyncio.Semaphore | None:
        return self.models.get(model)

    def rate_for(self, model: str) -> RateLimiter | None:
        return self.rates.get(model)
