"""Mixed-variable crossover and mutation on encoded rows (numbers on their internal [0, 1] scale).

Numbers: simulated binary crossover (SBX) and polynomial mutation, both bounded to [0, 1];
ints and stepped floats are snapped afterwards, and a mutation of one always moves it at
least one grid point. Choices and module options: uniform crossover, mutation to another
option. A module's sub-variables come from the parent that holds the chosen option (crossed
when both hold it), so an option never gets another option's settings.
"""

from __future__ import annotations

import math

import numpy as np

from llmopt.samplers.encoding import SpaceEncoding


def sbx(a: float, b: float, rng: np.random.Generator, eta: float) -> float:
    """One child of a bounded SBX on [0, 1]: spread around the parents like an eta-shaped parabola."""
    lo, hi = min(a, b), max(a, b)
    if hi - lo < 1e-12:
        return a
    u = rng.uniform()
    side = rng.uniform() < 0.5  # which of the two children to keep
    beta = 1.0 + 2.0 * (lo if side else 1.0 - hi) / (hi - lo)
    alpha = 2.0 - beta ** -(eta + 1.0)
    if u <= 1.0 / alpha:
        beta_q = (u * alpha) ** (1.0 / (eta + 1.0))
    else:
        beta_q = (1.0 / (2.0 - u * alpha)) ** (1.0 / (eta + 1.0))
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    child = mid - beta_q * half if side else mid + beta_q * half
    return min(max(child, 0.0), 1.0)


def polynomial_mutation(x: float, rng: np.random.Generator, eta: float) -> float:
    """Move x within [0, 1]; small moves are likely, the bound is reachable."""
    u = rng.uniform()
    power = 1.0 / (eta + 1.0)
    if u < 0.5:
        delta = (2 * u + (1 - 2 * u) * (1 - x) ** (eta + 1)) ** power - 1.0
    else:
        delta = 1.0 - (2 * (1 - u) + 2 * (u - 0.5) * x ** (eta + 1)) ** power
    return min(max(x + delta, 0.0), 1.0)


def _mutate(enc: SpaceEncoding, j: int, value: float, rng: np.random.Generator, eta: float) -> float:
    code = enc.leaves[j]
    if code.kind == "category":
        return float((int(value) + rng.integers(1, code.size)) % code.size) if code.size > 1 else value
    moved = float(enc.canonical(j, np.array([polynomial_mutation(value, rng, eta)]))[0])
    if code.kind == "binned" and moved == value and code.size > 1:
        # a small move inside the same bin: step to the neighbouring grid point on that side
        a, b = enc.bin_edges(j, np.array([value]))
        target = b[0] + 1e-9 if rng.uniform() < 0.5 else a[0] - 1e-9
        if not 0.0 <= target <= 1.0:
            target = a[0] - 1e-9 if target > 1.0 else b[0] + 1e-9
        moved = float(enc.canonical(j, np.array([target]))[0])
    return moved


def make_child(
    enc: SpaceEncoding,
    first: np.ndarray,
    second: np.ndarray,
    rng: np.random.Generator,
    *,
    crossover_prob: float,
    mutation_prob: float,
    eta_crossover: float,
    eta_mutation: float,
) -> np.ndarray:
    """One offspring row: leaves in space order, so a module is decided before its sub-variables."""
    cross = rng.uniform() < crossover_prob
    child = np.full(enc.n, np.nan)
    for j, code in enumerate(enc.leaves):
        if not enc.active(j, child):
            continue
        a, b = float(first[j]), float(second[j])
        has_a, has_b = not math.isnan(a), not math.isnan(b)
        if has_a and has_b and cross:
            if code.kind == "category":
                value = a if rng.uniform() < 0.5 else b
            else:
                value = sbx(a, b, rng, eta_crossover) if rng.uniform() < 0.5 else a
                value = float(enc.canonical(j, np.array([value]))[0])
        elif has_a:
            value = a
        elif has_b:
            value = b
        else:  # a mutated module picked an option neither parent holds
            u = rng.uniform()
            value = float(enc.canonical(j, np.array([u * code.size if code.kind == "category" else u]))[0])
        if rng.uniform() < mutation_prob:
            value = _mutate(enc, j, value, rng, eta_mutation)
        child[j] = value
    return child
