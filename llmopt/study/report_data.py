"""Gather what a report needs from storage in a few grouped reads (reports never query storage)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from llmopt.report.data import StudyData
from llmopt.study.front import pareto_records
from llmopt.trial import TrialState

if TYPE_CHECKING:
    from llmopt.study.study import Study


def report_data(study: Study, examples_of: Iterable[int] | None = None) -> StudyData:
    """Every trial, the per-example results of those with values (or of the trials numbered
    `examples_of`, whatever their state), each trial's spend, the study's attributes."""
    storage = study.storage
    record = storage.get_study(study.name)
    trials = tuple(storage.get_trials(record.study_id))
    wanted = None if examples_of is None else set(examples_of)
    with_values = [t.trial_id for t in trials if t.trial_id is not None and (
        t.number in wanted if wanted is not None else t.state in (TrialState.COMPLETE, TrialState.PRUNED))]
    front = pareto_records([t for t in trials if t.state == TrialState.COMPLETE and t.feasible], study.objectives)
    return StudyData(
        name=study.name,
        objectives=study.objectives,
        leaves=tuple(study.space.leaves),
        trials=trials,
        front=tuple(t.number for t in front),
        examples=storage.get_examples_of_trials(with_values),
        spend=storage.spend_by_trial(record.study_id),
        attrs=dict(record.system_attrs),
        sampler=dict(record.sampler),
        seed=record.seed,
        constraints=tuple(f"{c.name} {c.op} {c.bound:g}" for c in study.outcome_constraints),
    )
