"""Per-leaf improvement of the winning candidate's continuous leaves, given its discrete ones.

Joint candidates are drawn near one good trial each, so on a problem whose continuous
variables are separable (DTLZ2's six distance variables are each best at 0.5 whatever the
others are) a candidate improves one coordinate only by luck in all the others. Here each
continuous leaf of the winner is proposed a new value on its own, as Optuna's univariate TPE
does: the best by l/g of that leaf alone among values drawn from the good estimator. Both
estimators are conditioned on the row's discrete leaves (choices, module options, grids), so
a value is still judged by the trials that share the row's model, strategy and grid values.
A new value is kept only if it raises the joint l/g of the whole row, so the result never
scores below the winner: the joint estimator still judges, the per-leaf choice only proposes.
Keeping every per-leaf pick instead cost ZDT1: median hypervolume 9.38 with per-leaf picks
in every proposal, 9.55 in half of them, 9.95 with the check and 9.47 without per-leaf
moves (50 seeds, 100 trials).
"""

from __future__ import annotations

import numpy as np

from llmopt.samplers.encoding import SpaceEncoding
from llmopt.samplers.tpe.parzen import ParzenEstimator, logsumexp_rows

N_VALUES = 48  # values drawn per leaf; DTLZ2, 100 seeds: median 14.59 (24 values: 14.54, two passes of 24: 14.60)


def continuous_leaves(enc: SpaceEncoding, row: np.ndarray) -> list[int]:
    """The continuous leaves active in a row."""
    return [j for j, code in enumerate(enc.leaves) if code.kind == "float" and not np.isnan(row[j])]


def per_leaf(
    enc: SpaceEncoding, below: ParzenEstimator, above: ParzenEstimator, row: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """`row` with its active continuous leaves improved one at a time: each gets the value of
    highest l/g among `N_VALUES` drawn for it, if that raises the row's joint l/g."""
    row = row.copy()
    leaves = continuous_leaves(enc, row)
    discrete = [j for j, code in enumerate(enc.leaves) if code.kind != "float" and not np.isnan(row[j])]
    given: list[np.ndarray] = []  # per estimator: each kernel's log weight plus its log density at the discrete leaves
    at_row: list[dict[int, np.ndarray]] = []  # per estimator and continuous leaf: each kernel's log density at the row's value
    for pe in (below, above):
        log_w = pe.log_w.copy()
        for d in discrete:
            log_w += pe.leaf_log_kernels(d, row[d : d + 1])[0]
        given.append(log_w)
        at_row.append({j: pe.leaf_log_kernels(j, row[j : j + 1])[0] for j in leaves})
    kernels = [g + sum(terms.values()) for g, terms in zip(given, at_row)]  # each kernel's log density at the whole row
    score = _lse(kernels[0]) - _lse(kernels[1])
    for j in leaves:
        values = below.sample_leaf(j, given[0], rng, N_VALUES)
        terms = [pe.leaf_log_kernels(j, values) for pe in (below, above)]  # (values, kernels)
        i = int(np.argmax(logsumexp_rows(terms[0] + given[0]) - logsumexp_rows(terms[1] + given[1])))
        moved = [k - at[j] + t[i] for k, at, t in zip(kernels, at_row, terms)]
        moved_score = _lse(moved[0]) - _lse(moved[1])
        if moved_score > score:
            row[j], kernels, score = values[i], moved, moved_score
            for at, t in zip(at_row, terms):
                at[j] = t[i]
    return row


def _lse(a: np.ndarray) -> float:
    return float(logsumexp_rows(a[None, :])[0])
