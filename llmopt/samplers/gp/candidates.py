"""Where the GP looks: uniform rows over the whole space, and single-leaf moves from the front.

Uniform rows keep some chance on every region; single-leaf moves refine what is already good
(the other option of a choice, the next grid point, a nudge of a continuous value), which is
how a template, a temperature or a sample count gets settled exactly. Rows are codes as in
`SpaceEncoding`: a module's sub-leaves are NaN unless its option is picked.
"""

from __future__ import annotations

import numpy as np

from llmopt.samplers.encoding import SpaceEncoding

MAX_GRID_MOVES = 16  # grids up to this size: every other grid point; larger ones and floats: random nudges
MAX_CHOICE_MOVES = 64  # choices up to this size: every other option; larger ones: a sample (`choice_moves`)
NUDGES = 4
NUDGE_SD = 0.1


def uniform_rows(enc: SpaceEncoding, rng: np.random.Generator, size: int) -> np.ndarray:
    """Rows drawn uniformly leaf by leaf (a module before its sub-leaves); constraints not checked."""
    rows = np.full((size, enc.n), np.nan)
    for j, code in enumerate(enc.leaves):
        on = np.flatnonzero(enc.active_mask(j, rows))
        if on.size:
            rows[on, j] = _uniform_codes(enc, j, rng, on.size)
    return rows


def neighbours(enc: SpaceEncoding, row: np.ndarray, rng: np.random.Generator, observed: np.ndarray | None = None) -> np.ndarray:
    """Rows that differ from `row` in one leaf (plus the sub-leaves a new option switches on,
    drawn uniformly, and the ones it switches off). `observed`: the rows the GP was fitted on,
    whose options a large choice keeps among its moves (`choice_moves`)."""
    out: list[np.ndarray] = []
    for j, code in enumerate(enc.leaves):
        if np.isnan(row[j]):
            continue
        if code.kind == "category":
            seen = observed[:, j] if observed is not None else np.zeros(0)
            for option in choice_moves(code.size, int(row[j]), seen, rng):
                out.append(_switch(enc, row, j, option, rng))
        elif code.kind == "binned" and code.size <= MAX_GRID_MOVES:
            for centre in enc.bins(j)[1]:
                if centre != row[j]:
                    moved = row.copy()
                    moved[j] = centre
                    out.append(moved)
        else:
            for value in enc.canonical(j, row[j] + rng.normal(0.0, NUDGE_SD, size=NUDGES)):
                moved = row.copy()
                moved[j] = value
                out.append(moved)
    return np.array(out) if out else np.zeros((0, enc.n))


def choice_moves(size: int, current: int, seen: np.ndarray, rng: np.random.Generator) -> list[int]:
    """The options a move may switch a choice to from `current`.

    Up to MAX_CHOICE_MOVES options: every other one, as always (no random number is drawn, so
    small spaces propose what they did). More: up to MAX_CHOICE_MOVES of the options in `seen`
    (the fitted rows' codes, NaN = inactive; a random subset when there are more) plus
    MAX_CHOICE_MOVES drawn from all the others, sorted. Why a sample: the kernel only tells
    whether two options are equal, so every option no trial used has the same posterior, and
    scoring all of them needs a joint draw over as many candidates (an n x n covariance: 3 GiB
    at 20,000 options, 75 GiB at 100,000) for nothing a sample does not give. The seen options
    are the ones the GP knows something about, so they are kept first.
    """
    if size <= MAX_CHOICE_MOVES:
        return [option for option in range(size) if option != current]
    used = np.unique(seen[~np.isnan(seen)]).astype(int)
    used = used[used != current]
    if len(used) > MAX_CHOICE_MOVES:
        used = rng.choice(used, MAX_CHOICE_MOVES, replace=False)
    drawn = rng.choice(size - 1, MAX_CHOICE_MOVES, replace=False)
    drawn += drawn >= current  # skip the current option
    return np.union1d(used, drawn).astype(int).tolist()


def _switch(enc: SpaceEncoding, row: np.ndarray, j: int, option: int, rng: np.random.Generator) -> np.ndarray:
    moved = row.copy()
    moved[j] = option
    for k in range(j + 1, enc.n):  # sub-leaves come after their module, in space order
        if not _under_changed(enc, k, moved, row):
            continue
        if not enc.active(k, moved):
            moved[k] = np.nan
        elif np.isnan(moved[k]):
            moved[k] = _uniform_codes(enc, k, rng, 1)[0]
    return moved


def _under_changed(enc: SpaceEncoding, k: int, moved: np.ndarray, row: np.ndarray) -> bool:
    """Whether leaf k hangs under a module whose value the move changed (directly or through a
    parent module that switched its sub-module on or off)."""
    return any(not np.array_equal(moved[col : col + 1], row[col : col + 1], equal_nan=True) for col, _ in enc.leaves[k].activation)


def _uniform_codes(enc: SpaceEncoding, j: int, rng: np.random.Generator, size: int) -> np.ndarray:
    code = enc.leaves[j]
    u = rng.uniform(size=size)
    return enc.canonical(j, u * code.size if code.kind == "category" else u)
