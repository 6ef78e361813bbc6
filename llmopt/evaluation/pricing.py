"""Prices: litellm's bundled map by default, user prices (per token or per second) for the rest.

A study checks every model it can reach before the first trial, so a missing price stops it
at start with a message that says how to add one, not at trial 37.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from llmopt.errors import EvaluationError, MissingPriceError
from llmopt.evaluation import _litellm


@dataclass(frozen=True)
class Price:
    """A user price: dollars per prompt token and per completion token, and/or per second of compute.

    Per-second pricing suits self-hosted models, whose cost is the machine's time.

    >>> Price(prompt=1e-6, completion=2e-6).cost(100, 10, latency=0.5)
    0.00012
    >>> Price(per_second=0.0002).cost(100, 10, latency=0.5)
    0.0001
    """

    prompt: float = 0.0
    completion: float = 0.0
    per_second: float = 0.0

    def __post_init__(self) -> None:
        for name in ("prompt", "completion", "per_second"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise EvaluationError(f"Price.{name} must be a number >= 0, got {value!r}", "give dollars, e.g. Price(prompt=1.5e-7)")

    def cost(self, prompt_tokens: int, completion_tokens: int, latency: float) -> float:
        return round(prompt_tokens * self.prompt + completion_tokens * self.completion + latency * self.per_second, 12)


class PriceBook:
    """Resolves a model's price: the user's first (exact model name), then litellm's bundled map."""

    def __init__(self, prices: Mapping[str, Price | Mapping[str, float]] | None = None) -> None:
        self.user: dict[str, Price] = {
            model: p if isinstance(p, Price) else Price(**p) for model, p in (prices or {}).items()
        }
        self._resolved: dict[str, Price | None] = {}

    def price(self, model: str) -> Price | None:
        if model not in self._resolved:
            if model in self.user:
                self._resolved[model] = self.user[model]
            else:
                found = _litellm.list_price(model)
                self._resolved[model] = None if found is None else Price(prompt=found[0], completion=found[1])
        return self._resolved[model]

    def require(self, model: str) -> Price:
        price = self.price(model)
        if price is None:
            raise missing_price(model)
        return price

    def check(self, models: Iterable[str]) -> None:
        """Raise MissingPriceError naming every model without a price."""
        missing = sorted({m for m in models if self.price(m) is None})
        if missing:
            raise missing_price(*missing)


def missing_price(*models: str) -> MissingPriceError:
    names = ", ".join(repr(m) for m in models)
    return MissingPriceError(
        f"no price for model {names}: not in litellm's bundled price map (litellm {_litellm.version()})",
        f"pass prices={{{models[0]!r}: Price(prompt=..., completion=...)}} (dollars per token) "
        f"or Price(per_second=...) for a self-hosted model",
    )
