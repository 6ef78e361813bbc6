"""Frozen records shared by samplers, storage and studies: trial states, objectives, trials, examples."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from llmopt.errors import StudyError

Direction = Literal["maximize", "minimize"]


class TrialState(str, Enum):
    """WAITING (queued: enqueued or re-queued after its worker died), RUNNING, then a final state."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAILED = "FAILED"

    @property
    def is_finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)


@dataclass(frozen=True)
class Objective:
    """A named objective with its direction; `reference` is its worst acceptable value for hypervolume."""

    name: str
    direction: Direction = "maximize"
    reference: float | None = None

    def __post_init__(self) -> None:
        if self.direction not in ("maximize", "minimize"):
            raise StudyError(
                f"objective {self.name!r}: direction must be 'maximize' or 'minimize', got {self.direction!r}",
                "use 'maximize' or 'minimize'",
            )
        if not self.name or not isinstance(self.name, str):
            raise StudyError(f"objective name must be a non-empty string, got {self.name!r}", "name it")

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "direction": self.direction, "reference": self.reference}


def parse_objectives(spec: Any) -> tuple[Objective, ...]:
    """Accept `{"accuracy": "maximize", ...}`, a list of Objective, or a list of dicts."""
    if isinstance(spec, Objective):
        spec = [spec]
    if isinstance(spec, Mapping):
        objectives = [Objective(name, direction) for name, direction in spec.items()]
    elif isinstance(spec, Sequence) and not isinstance(spec, str):
        objectives = [o if isinstance(o, Objective) else Objective(**o) for o in spec]
    else:
        raise StudyError(
            f"objectives must be a mapping name -> direction or a list of Objective, got {spec!r}",
            'write objectives={"accuracy": "maximize", "cost": "minimize"}',
        )
    if not objectives:
        raise StudyError("a study needs at least one objective, got none", "name one, e.g. {'accuracy': 'maximize'}")
    names = [o.name for o in objectives]
    if len(set(names)) != len(names):
        raise StudyError(f"objective names must be distinct, got {names}", "rename the duplicates")
    return tuple(objectives)


@dataclass(frozen=True)
class TrialRecord:
    """One trial as stored: configuration, state, values by objective name, error, timing."""

    number: int
    state: TrialState
    params: dict[str, Any] | None
    fingerprint: str | None
    values: dict[str, float] | None = None
    error: str | None = None
    sample_index: int | None = None
    attempts: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    trial_id: int | None = None

    @property
    def constraint_violation(self) -> float:
        """How far the trial's outcomes break the study's outcome constraints: 0.0 when they hold
        (or nothing is known yet), else the sum of the relative excesses. Samplers steer by it."""
        return float(self.system_attrs.get("constraint_violation", 0.0))

    @property
    def feasible(self) -> bool:
        """False when an outcome constraint (e.g. cost per example <= $0.002) is broken."""
        return self.constraint_violation <= 0.0

    def has_finite_values(self, names: Sequence[str]) -> bool:
        """True when every named value is stored and finite.

        Values are checked at `tell`, but databases written before that check may hold a
        COMPLETE trial with inf: fronts, hypervolumes and samplers skip such a trial.
        """
        values = self.values
        if not values:
            return False
        for name in names:
            value = values.get(name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                return False
        return True

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, when both are known."""
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


@dataclass(frozen=True)
class CallRecord:
    """One attempt at an LLM call (every retry is its own record, so every request sent is counted).

    `cost` is its true price, `billed_cost` what was (or may have been) paid: 0.0 on a cache hit.
    `status`: "ok" (answered, or a cache hit), "retried" (failed, and another attempt was
    scheduled), "failed" (failed for good: the call raised). `error_class` names the failure
    ("RateLimitError", "Timeout", "ConnectionRefused", ...), `attempt` counts from 1 within the
    call. `maybe_billed`: the request failed after reaching the provider, which may have
    completed and billed it (a client-side timeout, a connection dropped mid-response); such an
    attempt is counted at its expected price (see calls.expected_tokens) in `billed_cost`,
    spend and budgets. A 429, a 5xx or a refused connection is never billed.
    """

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    billed_cost: float = 0.0
    latency: float = 0.0
    cache_hit: bool = False
    error: str | None = None
    example_id: str | None = None
    status: str = "ok"
    error_class: str | None = None
    attempt: int = 1
    maybe_billed: bool = False


@dataclass(frozen=True)
class ExampleResult:
    """One scored example of a trial: the unit that pruning and mid-trial resume build on.

    `cost` is what the example's calls cost at list price (cache hits included, so the cost
    objective does not depend on the cache); `billed_cost` is what was actually paid.
    """

    example_id: str
    metrics: dict[str, float] = field(default_factory=dict)
    cost: float | None = None
    latency: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None
    created_at: datetime | None = None
    billed_cost: float | None = None
    output: str | None = None
    n_calls: int | None = None
    cache_hits: int | None = None
    calls: tuple[CallRecord, ...] = ()


def check_values(raw: Any, objectives: Sequence[Objective]) -> dict[str, float]:
    """Validate what an objective function returned; raise StudyError saying what is wrong."""
    names = [o.name for o in objectives]
    if raw is None:
        raise StudyError("the objective returned None", f"return {len(names)} value(s) for {names}")
    if isinstance(raw, Mapping):
        missing, extra = set(names) - set(raw), set(raw) - set(names)
        if missing or extra:
            raise StudyError(
                f"the objective returned keys {sorted(raw)}, expected {names}",
                "return a mapping with exactly the study's objective names",
            )
        seq = [raw[n] for n in names]
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        seq = [raw]
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        seq = list(raw)
    else:
        raise StudyError(f"the objective returned {raw!r}", f"return a number, a sequence or a mapping for {names}")
    if len(seq) != len(names):
        raise StudyError(
            f"the objective returned {len(seq)} value(s), the study has {len(names)} objective(s) {names}",
            "return one value per objective, in order",
        )
    out: dict[str, float] = {}
    for name, value in zip(names, seq):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise StudyError(f"objective {name!r} got {value!r}, not a number", "return numbers") from None
        if not math.isfinite(number):
            shown = "NaN" if math.isnan(number) else repr(number)
            raise StudyError(f"objective {name!r} is {shown}, not a finite number",
                             "return a finite number (e.g. a large penalty), or raise to fail the trial")
        out[name] = number
    return out
