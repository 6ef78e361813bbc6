"""One trial with everything stored about it, for `llmopt show` and `llmopt compare`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmopt.errors import StudyError
from llmopt.evaluation.intervals import Interval
from llmopt.study.report_data import report_data
from llmopt.trial import CallRecord, ExampleResult, TrialRecord

if TYPE_CHECKING:
    from llmopt.study.study import Study


@dataclass(frozen=True)
class TrialDetail:
    """A trial, its per-example results, its calls (every attempt), its measures with 95%
    intervals, and whether it is on the study's front."""

    record: TrialRecord
    examples: tuple[ExampleResult, ...]
    calls: tuple[CallRecord, ...]
    measures: dict[str, float]
    intervals: dict[str, Interval]
    on_front: bool


def trial_details(study: Study, numbers: list[int]) -> list[TrialDetail]:
    """The trials numbered `numbers`, in that order; StudyError naming the range for a missing one."""
    data = report_data(study, examples_of=numbers)
    by_number = {t.number: t for t in data.trials}
    missing = [n for n in numbers if n not in by_number]
    if missing:
        span = f"0 to {max(by_number)}" if by_number else "none yet"
        raise StudyError(f"study {study.name!r} has no trial {missing[0]}", f"trial numbers are {span} (see `llmopt trials {study.name}`)")
    out = []
    for number in numbers:
        record = by_number[number]
        calls = study.storage.get_calls(record.trial_id) if record.trial_id is not None else []
        out.append(TrialDetail(record, tuple(data.examples_of(record)), tuple(calls), data.measures(record),
                               data.intervals(record), number in data.front))
    return out
