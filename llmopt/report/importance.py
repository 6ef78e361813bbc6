"""Which settings matter: how much each variable's distribution shifts among the best trials.

The method follows PED-ANOVA (Watanabe et al., IJCAI 2023): a variable matters for an
objective when the values it takes in the top trials differ from the values it takes in all
trials. The shift is the Pearson chi-squared divergence between the two densities,
``sum p_all (p_top / p_all - 1)^2``, estimated with a Gaussian kernel on the variable's unit
scale (log scale for `log=True`) for numbers and with smoothed frequencies for choices and
modules. It needs only the stored trials (no surrogate model to fit), works for any
objective direction, and handles conditional variables by looking only at the trials where
the variable was active. "front" asks which settings separate the Pareto front (its first
non-dominated ranks) from the rest. Importances are shares: they sum to 1 per target.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x_all = rng.uniform(size=400)
>>> round(numeric_divergence(x_all, x_all[x_all > 0.8]), 1) > 1.0, round(numeric_divergence(x_all, x_all[::10]), 1) < 0.2
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from llmopt.pareto import non_dominated_sort, to_minimization
from llmopt.space.space import Leaf
from llmopt.trial import Objective, TrialRecord

TOP_SHARE = 0.1  # the "top" trials: the best 10% (at least 2)
MIN_TRIALS = 10  # fewer complete trials say nothing about importance
_GRID = np.linspace(0.0, 1.0, 201)


def is_numeric(leaf: Leaf) -> bool:
    """Float and int variables have an order (a kernel applies); choices and modules do not."""
    return leaf.var.kind in ("float", "int")


def unit_value(leaf: Leaf, value: Any) -> float:
    """A numeric variable's value on [0, 1] (its log scale when the variable has one)."""
    var: Any = leaf.var
    low, high, x = float(var.low), float(var.high), float(value)
    if var.log:
        low, high, x = math.log(low), math.log(high), math.log(x)
    return 0.5 if high <= low else min(1.0, max(0.0, (x - low) / (high - low)))


def numeric_divergence(x_all: np.ndarray, x_top: np.ndarray) -> float:
    """Pearson divergence of the top values' kernel density from all values' (both on [0, 1])."""
    p_all, p_top = _density(x_all), _density(x_top)
    return float(np.sum(p_all * (p_top / p_all - 1.0) ** 2))


def _density(x: np.ndarray) -> np.ndarray:
    """Gaussian kernel density on the grid, Scott's bandwidth with a floor (ints and repeats
    would otherwise give spikes), normalised to sum to 1 over the grid."""
    n = len(x)
    h = max(float(np.std(x)) * n ** (-1 / 5) if n > 1 else 0.0, 0.05)
    dens = np.exp(-0.5 * ((_GRID[:, None] - x[None, :]) / h) ** 2).sum(axis=1) + 1e-12
    return dens / dens.sum()


def categorical_divergence(all_values: Sequence[Any], top_values: Sequence[Any]) -> float:
    """Pearson divergence of the top trials' option frequencies from all trials' (add-half smoothing)."""
    options = list(dict.fromkeys(map(repr, all_values)))
    if len(options) < 2:
        return 0.0
    def freq(values: Sequence[Any]) -> np.ndarray:
        counts = np.array([sum(repr(v) == o for v in values) for o in options], dtype=float) + 0.5
        return counts / counts.sum()
    p_all, p_top = freq(all_values), freq(top_values)
    return float(np.sum(p_all * (p_top / p_all - 1.0) ** 2))


def top_mask(records: Sequence[TrialRecord], target: str, objectives: Sequence[Objective]) -> np.ndarray:
    """Which records are "top" for an objective (its best TOP_SHARE) or for "front" (the first
    non-dominated ranks, until they hold TOP_SHARE of the records)."""
    n = len(records)
    k = max(2, math.ceil(TOP_SHARE * n))
    if target == "front":
        points = to_minimization(np.array([[r.values[o.name] for o in objectives] for r in records], dtype=float),  # type: ignore[index]
                                 [o.maximize for o in objectives])
        mask = np.zeros(n, dtype=bool)
        for rank in non_dominated_sort(points):
            mask[rank] = True
            if mask.sum() >= k:
                break
        return mask
    objective = next(o for o in objectives if o.name == target)
    y = np.array([r.values[target] for r in records], dtype=float)  # type: ignore[index]
    order = np.argsort(-y if objective.maximize else y, kind="stable")
    mask = np.zeros(n, dtype=bool)
    mask[order[:k]] = True
    return mask


def importances(records: Sequence[TrialRecord], leaves: Sequence[Leaf], objectives: Sequence[Objective]) -> dict[str, dict[str, float]]:
    """{target: {variable path: share}} for each objective and "front" (one objective: no "front").

    `records` are the trials to learn from (COMPLETE, feasible, finite values); fewer than
    MIN_TRIALS give {}. A variable that never varies gets 0.
    """
    if len(records) < MIN_TRIALS:
        return {}
    targets = [o.name for o in objectives] + (["front"] if len(objectives) > 1 else [])
    out: dict[str, dict[str, float]] = {}
    for target in targets:
        top = top_mask(records, target, objectives)
        raw = {leaf.path: _divergence(leaf, records, top) for leaf in leaves}
        total = sum(raw.values())
        out[target] = {path: (d / total if total > 0 else 0.0) for path, d in raw.items()}
    return out


def _divergence(leaf: Leaf, records: Sequence[TrialRecord], top: np.ndarray) -> float:
    """The divergence over the trials where the variable was active (conditional variables)."""
    active = [(r.params or {}).get(leaf.path, _ABSENT) for r in records]
    values = [v for v in active if v is not _ABSENT]
    top_values = [v for v, t in zip(active, top) if t and v is not _ABSENT]
    if len(values) < 2 or not top_values:
        return 0.0
    if is_numeric(leaf):
        x_all = np.array([unit_value(leaf, v) for v in values])
        if np.ptp(x_all) == 0:
            return 0.0
        return numeric_divergence(x_all, np.array([unit_value(leaf, v) for v in top_values]))
    return categorical_divergence(values, top_values)


_ABSENT = object()


def ranked(shares: Mapping[str, float]) -> list[tuple[str, float]]:
    """Most important first."""
    return sorted(shares.items(), key=lambda kv: -kv[1])
