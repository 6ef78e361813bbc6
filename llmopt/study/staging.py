"""Staged evaluation: turn stored per-example results into the paired partial views pruners compare.

Every trial scores the examples in the study's one order, so example i of one trial is
example i of another: a pruner compares trials on their shared prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmopt.evaluation.measures import Measure
from llmopt.pruning import ObjectiveSeries, PartialTrial
from llmopt.trial import ExampleResult, Objective, TrialRecord, TrialState


def ordered_prefix(results: Sequence[ExampleResult], order: Sequence[str]) -> list[ExampleResult]:
    """The results of the longest gap-free prefix of `order` (a running trial may have holes)."""
    by_id = {r.example_id: r for r in results}
    prefix: list[ExampleResult] = []
    for example_id in order:
        found = by_id.get(example_id)
        if found is None:
            break
        prefix.append(found)
    return prefix


def partial_trial(number: int, results: Sequence[ExampleResult], measures: dict[str, Measure],
                  objectives: Sequence[Objective], n_total: int, complete: bool) -> PartialTrial:
    """One trial's per-example series for every objective, in study order."""
    series = {}
    for objective in objectives:
        measure = measures[objective.name]
        series[objective.name] = ObjectiveSeries(
            name=objective.name, direction=objective.direction, values=measure.values(results),
            aggregate=measure.aggregate, q=measure.q, bounded=measure.bounded,
        )
    return PartialTrial(number=number, series=series, n_scored=len(results), n_total=n_total, complete=complete)


def prunable(measures: dict[str, Measure], objectives: Sequence[Objective]) -> list[str]:
    """Objectives a pruner cannot follow example by example (custom `fn=` measures)."""
    return [o.name for o in objectives if measures[o.name].per_example is None]


def comparable(record: TrialRecord, current_id: int) -> bool:
    """Trials worth comparing against: everything with examples except the trial itself and failures."""
    return record.trial_id != current_id and record.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)


def trial_attrs(storage: Any, trial: Any) -> dict[str, Any]:
    """The stored system attributes of a live trial (e.g. `no_prune` set by `resume_trial`)."""
    for record in storage.get_trials(trial.study._record.study_id, min_number=trial.number):
        if record.number == trial.number:
            return dict(record.system_attrs)
    return {}
