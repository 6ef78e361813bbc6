"""Hypervolume as the study went on: against trials run and against dollars spent.

Both curves use one reference point (the study's final one), so a later point is never
lower than an earlier one. Trials count in number order (the order they were started); every
trial's calls count toward dollars, PRUNED and FAILED ones included (they were paid for),
cache hits at what they cost: nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmopt.pareto import default_reference, hypervolume, non_dominated_mask, to_minimization
from llmopt.report.data import StudyData
from llmopt.trial import TrialState


@dataclass(frozen=True)
class Curves:
    """Per trial in number order: its number, the study's dollars so far, the hypervolume so far."""

    trial: list[int]
    dollars: list[float]
    hypervolume: list[float]


def hypervolume_curves(data: StudyData) -> Curves:
    counted = [t for t in data.trials if t.state.is_finished]
    good = {t.number for t in data.scored(TrialState.COMPLETE) if t.feasible}
    maximize = [o.maximize for o in data.objectives]
    rows = {t.number: to_minimization(np.array([[t.values[n] for n in data.names]], dtype=float), maximize)[0]  # type: ignore[index]
            for t in counted if t.number in good}
    if not rows:
        return Curves([t.number for t in counted], _dollars(data, counted), [0.0] * len(counted))
    ref = default_reference(np.array(list(rows.values())))
    front = np.empty((0, len(maximize)))
    hv, out = 0.0, []
    for t in counted:
        point = rows.get(t.number)
        if point is not None and not np.any(np.all(front <= point, axis=1)):  # a point the front dominates changes nothing
            front = np.vstack([front, point])
            front = front[non_dominated_mask(front)]
            hv = float(hypervolume(front, ref))
        out.append(hv)
    return Curves([t.number for t in counted], _dollars(data, counted), out)


def _dollars(data: StudyData, counted: list) -> list[float]:  # type: ignore[type-arg]
    return list(np.cumsum([data.trial_spend(t).billed_cost for t in counted]).astype(float)) if counted else []
