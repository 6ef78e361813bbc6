"""From trial records to a Pareto front and its hypervolume (objective directions applied)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from llmopt.errors import StudyError
from llmopt.pareto import default_reference, hypervolume, non_dominated_mask, to_minimization
from llmopt.trial import Objective, TrialRecord


def values_matrix(records: Sequence[TrialRecord], objectives: Sequence[Objective]) -> np.ndarray:
    """(n, m) array of the records' values, in objective order, with maximised columns negated."""
    names = [o.name for o in objectives]
    raw = np.array([[r.values[n] for n in names] for r in records if r.has_finite_values(names)], dtype=float)
    return to_minimization(raw.reshape(-1, len(objectives)), [o.maximize for o in objectives])


def pareto_records(records: Sequence[TrialRecord], objectives: Sequence[Objective]) -> list[TrialRecord]:
    """Non-dominated records (ties all kept), sorted best first on the first objective.

    Records without finite values for every objective are left out.
    """
    scored = _scored(records, objectives)
    if not scored:
        return []
    mask = non_dominated_mask(values_matrix(scored, objectives))
    front = [r for r, keep in zip(scored, mask) if keep]
    first = objectives[0]
    return sorted(front, key=lambda r: (-r.values[first.name] if first.maximize else r.values[first.name], r.number))


def _scored(records: Sequence[TrialRecord], objectives: Sequence[Objective]) -> list[TrialRecord]:
    names = [o.name for o in objectives]
    return [r for r in records if r.has_finite_values(names)]


def hypervolume_of(
    records: Sequence[TrialRecord], objectives: Sequence[Objective], reference: Sequence[float] | None = None
) -> float:
    """Hypervolume of the records' front; `reference` is in the objectives' own units and directions."""
    scored = _scored(records, objectives)
    if not scored:
        return 0.0
    points = values_matrix(scored, objectives)
    if reference is None and all(o.reference is not None for o in objectives):
        reference = [o.reference for o in objectives]  # type: ignore[misc]
    if reference is None:
        ref = default_reference(points)
    else:
        if len(reference) != len(objectives):
            raise StudyError(
                f"reference has {len(reference)} values, the study has {len(objectives)} objectives",
                "give one reference value per objective",
            )
        ref = to_minimization(np.array([reference], dtype=float), [o.maximize for o in objectives])[0]
    return float(hypervolume(points, ref))
