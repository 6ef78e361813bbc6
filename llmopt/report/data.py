"""What a report reads: one study's stored records, gathered once, and the numbers derived from them.

Reports never query storage themselves: the study layer fills a StudyData (a few grouped
reads), so a report is a pure function of it and can be tested without a database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmopt.evaluation.intervals import Interval
from llmopt.evaluation.measures import MEASURES, Measure
from llmopt.space.space import Leaf
from llmopt.storage.base import TrialSpend
from llmopt.trial import ExampleResult, Objective, TrialRecord, TrialState

TABLE_MEASURES = ("accuracy", "cost", "total_cost", "latency_p50", "latency_p95")
_DERIVED = {"cost": "cost", "total_cost": "cost", "latency_p50": "latency", "latency_p95": "latency"}  # measure -> field it reads


@dataclass(frozen=True)
class StudyData:
    """A study as its reports see it.

    `front` lists the Pareto front's trial numbers as `Study.pareto_front()` gives them (best
    first on the first objective). `examples` holds the per-example results by trial id
    (evaluation studies; empty for a plain objective function), `spend` what each trial's calls cost, `attrs` the study's
    system attributes (status, budget, pruning settings), `constraints` its outcome
    constraints as text ("cost <= 0.002").
    """

    name: str
    objectives: tuple[Objective, ...]
    leaves: tuple[Leaf, ...]
    trials: tuple[TrialRecord, ...]
    front: tuple[int, ...] = ()
    examples: Mapping[int, Sequence[ExampleResult]] = field(default_factory=dict)
    spend: Mapping[int, TrialSpend] = field(default_factory=dict)
    attrs: Mapping[str, Any] = field(default_factory=dict)
    sampler: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    constraints: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.objectives]

    def scored(self, *states: TrialState) -> list[TrialRecord]:
        """Trials in `states` with a finite value for every objective."""
        return [t for t in self.trials if t.state in states and t.has_finite_values(self.names)]

    def front_records(self) -> list[TrialRecord]:
        by_number = {t.number: t for t in self.trials}
        return [by_number[n] for n in self.front if n in by_number]

    def examples_of(self, record: TrialRecord) -> Sequence[ExampleResult]:
        return self.examples.get(record.trial_id, ()) if record.trial_id is not None else ()

    def intervals(self, record: TrialRecord) -> dict[str, Interval]:
        """95% intervals of the trial's built-in measures, from its per-example records.

        A measure is known by name (accuracy, cost, latency_p95...): an Evaluation's objective
        carries the built-in measure's name. The interval is given only where recomputing the
        measure from the records gives the stored value, so a plain objective that records
        examples its own way (a "correct" metric, not "score") is never shown a false one.
        """
        rows = self.examples_of(record)
        out: dict[str, Interval] = {}
        if not rows:
            return out
        stored = self.measures(record)
        for name in dict.fromkeys([*self.names, *TABLE_MEASURES]):
            measure = MEASURES.get(name)
            if measure is None or not recomputes(measure, rows, stored.get(name)):
                continue
            if (interval := measure.interval(rows)) is not None:
                out[name] = interval
        return out

    def measures(self, record: TrialRecord) -> dict[str, float]:
        """The trial's stored measures (an Evaluation stores the ones it was asked for), else
        its values; plus the dollar and latency measures of the report's table computed from
        its per-example records where every record has the field (they do not depend on the
        metric, so they mean the same for any objective)."""
        stored = record.system_attrs.get("measures")
        values = dict(record.values or {})
        if isinstance(stored, Mapping):
            values.update({k: v for k, v in stored.items() if isinstance(v, (int, float))})
        rows = self.examples_of(record)
        for name, field_name in _DERIVED.items():
            if name not in values and rows and all(getattr(r, field_name) is not None for r in rows):
                values[name] = MEASURES[name].compute(rows)
        return values

    def trial_spend(self, record: TrialRecord) -> TrialSpend:
        return self.spend.get(record.trial_id, TrialSpend()) if record.trial_id is not None else TrialSpend()


def summary(data: StudyData) -> dict[str, Any]:
    """The study at a glance: trials by state, examples scored and skipped by pruning, calls
    sent and served by the cache, dollars against the budget, wall time, seed, sampler, pruner."""
    counts = {state.value: 0 for state in TrialState}
    for t in data.trials:
        counts[t.state.value] += 1
    scored = skipped = 0
    for t in data.trials:
        done, total = t.system_attrs.get("examples_scored"), t.system_attrs.get("examples_total")
        if isinstance(done, int):
            scored += done
            if t.state == TrialState.PRUNED and isinstance(total, int):
                skipped += total - done
    spends = list(data.spend.values())
    starts = [t.started_at for t in data.trials if t.started_at]
    ends = [t.finished_at for t in data.trials if t.finished_at]
    wall = (max(ends) - min(starts)).total_seconds() if starts and ends else None
    status = dict(data.attrs.get("status") or {})
    pruning = data.attrs.get("pruning") or {}
    pruner = pruning.get("pruner") if isinstance(pruning, Mapping) else None
    return {
        "trials": counts,
        "examples_scored": scored,
        "examples_skipped": skipped,
        "calls_sent": sum(s.attempts for s in spends),
        "cache_hits": sum(s.cache_hits for s in spends),
        "spent": sum(s.billed_cost for s in spends),
        "list_cost": sum(s.cost for s in spends),
        "budget": data.attrs.get("budget"),
        "state": status.get("state", "ok"),
        "wall_seconds": wall,
        "seed": data.seed,
        "sampler": data.sampler.get("type", "-") if data.sampler else "-",
        "pruner": (pruner or {}).get("type", "none") if isinstance(pruner, Mapping) or pruner is None else str(pruner),
        "constraints": list(data.constraints),
    }


def recomputes(measure: Measure, rows: Sequence[ExampleResult], stored: Any) -> bool:
    """True when the built-in `measure` computed from `rows` gives the `stored` value: only then
    do intervals and paired tests on those rows speak about the stored number (a plain
    objective may record a "correct" metric where the built-in accuracy reads "score")."""
    return bool(rows) and finite(stored) and math.isclose(measure.compute(rows), stored, rel_tol=1e-9, abs_tol=1e-12)


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
