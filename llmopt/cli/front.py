"""The Pareto front as the terminal shows it (after `optimize`, and for `report`)."""

from __future__ import annotations

from llmopt.cli.common import paths, shown
from llmopt.errors import LLMOptError
from llmopt.report import render, sort_rows, split_constant, trial_rows


def print_front(study, fmt: str, sort: str | None = None, all_variables: bool = True) -> None:  # type: ignore[no-untyped-def]
    """The front: a heading and a table for people (only the variables that differ, unless
    `all_variables`), every column for json/csv."""
    objectives = {o.name: o for o in study.objectives}
    if sort is not None and sort not in objectives:
        raise LLMOptError(f"--sort {sort!r} is not an objective of study {study.name!r}", f"use one of {sorted(objectives)}")
    front = study.pareto_front()
    rows = trial_rows(front, study.objectives, param_order=paths(study))
    if sort is not None:
        rows = sort_rows(rows, objectives[sort])
    same: dict[str, object] = {}
    if fmt in ("table", "markdown") and not all_variables:
        rows, same = split_constant(rows, [p for p in paths(study) if any(p in r for r in rows)])
    if fmt in ("table", "markdown"):
        complete = len(study.get_trials(["COMPLETE"]))
        print(f"Pareto front of {study.name!r}: {len(front)} of {complete} complete trials; "
              f"hypervolume {study.hypervolume():.6g}")
        print("objectives: " + ", ".join(f"{o.name} ({o.direction})" for o in study.objectives))
        if same:
            print("same on the whole front: " + ", ".join(f"{k}={shown(v)}" for k, v in same.items()))
    print(render(rows, fmt))
