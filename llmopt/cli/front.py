"""The Pareto front as the terminal shows it (after `optimize`, and for `report`), and the
"what should I deploy" query: the best configurations under limits, with ties called out."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from llmopt.cli.common import paths, shown
from llmopt.errors import LLMOptError
from llmopt.evaluation.measures import MEASURES
from llmopt.report import render, sort_rows, split_constant, trial_rows
from llmopt.report.compare import paired_difference
from llmopt.report.data import StudyData, recomputes
from llmopt.study.front import hypervolume_of, pareto_records
from llmopt.study.outcome import OutcomeConstraint
from llmopt.study.report_data import report_data
from llmopt.trial import Objective, TrialRecord, TrialState


def terminal_width() -> int | None:
    """The width to fit tables to: $COLUMNS, else the terminal's; None when stdout is a pipe or file."""
    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def print_front(study, fmt: str, sort: str | None = None, all_variables: bool = True,  # type: ignore[no-untyped-def]
                where: Sequence[str] = ()) -> None:
    """The front: a heading and a table for people (intervals beside each value, only the
    variables that differ unless `all_variables`, fitted to the terminal), every column for
    json/csv (intervals as NAME_low / NAME_high). `where` limits ("cost <= 0.002") restrict it
    to the trials meeting all of them, and name the best one and those tied with it."""
    objectives = {o.name: o for o in study.objectives}
    if sort is not None and sort not in objectives:
        raise LLMOptError(f"--sort {sort!r} is not an objective of study {study.name!r}", f"use one of {sorted(objectives)}")
    limits = [_limit(spec) for spec in where]
    trials = study.trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.feasible]
    candidates = [t for t in complete if all(_meets(t, c, study) for c in limits)]
    front = pareto_records(candidates, study.objectives)
    data = report_data(study, examples_of=[t.number for t in front])
    rows = trial_rows(front, study.objectives, param_order=paths(study))
    bands = {t.number: data.intervals(t) for t in front}
    key = objectives[sort] if sort is not None else (_primary(study.objectives) if limits else None)
    if key is not None:
        rows = sort_rows(rows, key)
    people = fmt in ("table", "markdown")
    same: dict[str, object] = {}
    if people and not all_variables:
        rows, same = split_constant(rows, [p for p in paths(study) if any(p in r for r in rows)])
    for row in rows:
        for name, (low, high) in bands[row["trial"]].items():
            if name not in objectives:
                continue
            if people:
                row[name] = f"{row[name]:.4g} [{low:.3g}, {high:.3g}]"
            else:
                row[f"{name}_low"], row[f"{name}_high"] = low, high
    if people:
        if limits:
            print(f"best under {' and '.join(_text(c) for c in limits)}: {len(candidates)} of {len(complete)} complete "
                  f"trials qualify; their front has {len(front)}")
        else:
            print(f"Pareto front of {study.name!r}: {len(front)} of {len(complete)} complete trials; "
                  f"hypervolume {hypervolume_of(complete, study.objectives):.6g}")
        print("objectives: " + ", ".join(f"{o.name} ({o.direction})" for o in study.objectives)
              + ("; values shown with their 95% interval" if any(bands.values()) else ""))
        if same:
            print("same on the whole front: " + ", ".join(f"{k}={shown(v)}" for k, v in same.items()))
    if limits and people and rows and key is not None:
        print(_deploy_note(data, [r["trial"] for r in rows], key))
    print(render(rows, fmt, width=terminal_width() if fmt == "table" else None))


def _primary(objectives: Sequence[Objective]) -> Objective:
    """What "best" means under limits: the first objective to maximize (accuracy), else the first."""
    return next((o for o in objectives if o.maximize), objectives[0])


def _limit(spec: str) -> OutcomeConstraint:
    try:
        return OutcomeConstraint.parse(spec)
    except LLMOptError as exc:
        raise LLMOptError(f"--where {spec!r}: {exc.message}", "write e.g. --where 'cost <= 0.002'") from None


def _meets(record: TrialRecord, limit: OutcomeConstraint, study: Any) -> bool:
    values = {**{k: v for k, v in (record.system_attrs.get("measures") or {}).items()}, **(record.values or {})}
    if limit.name not in values:
        known = sorted(values) or [o.name for o in study.objectives]
        raise LLMOptError(f"--where {_text(limit)}: {limit.name!r} is not an objective or stored measure of study {study.name!r}",
                          f"use one of {known}")
    value = values[limit.name]
    return isinstance(value, (int, float)) and limit.violation(float(value)) == 0.0


def _text(limit: OutcomeConstraint) -> str:
    return f"{limit.name} {limit.op} {limit.bound:g}"


def _deploy_note(data: StudyData, order: Sequence[int], key: Objective) -> str:
    """"deploy trial N", then each other member that a paired test on their shared examples
    cannot tell apart from it on `key` (a tie is reported, not hidden)."""
    by_number = {t.number: t for t in data.trials}
    best = by_number[order[0]]
    lines = [f"deploy: trial {best.number} (best on {key.name})"]
    measure = MEASURES.get(key.name)
    best_rows = data.examples_of(best)
    if measure is None or not recomputes(measure, best_rows, data.measures(best).get(key.name)):
        if len(order) > 1:
            lines.append(f"  (no per-example records for {key.name}: ties with the other {len(order) - 1} cannot be tested)")
        return "\n".join(lines)
    for number in order[1:]:
        other = by_number[number]
        if not recomputes(measure, data.examples_of(other), data.measures(other).get(key.name)):
            continue
        diff = paired_difference(measure, best_rows, data.examples_of(other))
        if diff is not None and diff.tied:
            band = "" if diff.interval is None else f" [{diff.interval[0]:+.3g}, {diff.interval[1]:+.3g}]"
            p = "-" if diff.p_value is None else f"{diff.p_value:.2g}"
            lines.append(f"  tied with trial {number} on {key.name}: difference {diff.difference:+.3g}{band}, "
                         f"p = {p} on {diff.shared} shared examples")
    if len(lines) == 1 and len(order) > 1:
        lines.append(f"  better on {key.name} than every other qualifying front member (paired tests, 95%)")
    return "\n".join(lines)
