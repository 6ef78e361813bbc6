"""The stored history as arrays for model-based samplers: codes, objective values, and what each trial tells.

Every trial is put in one tier, best first:

- COMPLETE (0): feasible, all values known.
- PARTIAL (1): PRUNED with partial estimates; known to be dominated, so ranked below complete ones.
- INFEASIBLE (2): values break an outcome constraint; ordered by `constraint_violation`.
- NO_INFO (3): FAILED, or finished without values: a configuration to steer away from.
- IN_FLIGHT (4): RUNNING or WAITING with a configuration; no result yet (a constant liar treats them as bad).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmopt.samplers.encoding import SpaceEncoding
from llmopt.space import Space
from llmopt.trial import Objective, TrialRecord, TrialState

COMPLETE, PARTIAL, INFEASIBLE, NO_INFO, IN_FLIGHT = range(5)


@dataclass(frozen=True)
class Observations:
    """Arrays over the trials that have a configuration, in trial-number order."""

    codes: np.ndarray  # (n, leaves), NaN where inactive
    values: np.ndarray  # (n, objectives) to minimise; NaN where unknown
    tier: np.ndarray  # (n,) one of the tiers above
    violation: np.ndarray  # (n,) outcome-constraint violation, 0 when feasible
    sample_index: np.ndarray  # (n,) the trial's sample index, -1 when enqueued
    taken: frozenset[str] = field(default_factory=frozenset)  # fingerprints already proposed
    taken_rows: frozenset[bytes] = field(default_factory=frozenset)  # their code rows, to skip repeats before decoding

    @property
    def n_scored(self) -> int:
        """Trials with values (complete, partial or infeasible): what a model can learn from."""
        return int(np.count_nonzero(self.tier <= INFEASIBLE))


class HistoryReader:
    """Builds Observations. Finished trials do not change and the study hands back the same record
    objects for them, so the arrays of a leading run of identical records are reused from the
    last call (a pure cache: a fresh reader gives the same arrays)."""

    def __init__(self) -> None:
        self._space: Space | None = None
        self._encoding: SpaceEncoding | None = None
        self._key: tuple[Any, ...] = ()
        self._records: list[TrialRecord] = []
        self._arrays: tuple[np.ndarray, ...] = ()
        self._prints: list[str | None] = []
        self._row_keys: list[bytes] = []
        self._prefix: tuple[int, frozenset[str], frozenset[bytes]] = (0, frozenset(), frozenset())

    def encoding(self, space: Space) -> SpaceEncoding:
        if self._space is not space or self._encoding is None:
            self._space, self._encoding, self._key = space, SpaceEncoding(space), ()
        return self._encoding

    def read(self, space: Space, history: Sequence[TrialRecord], objectives: Sequence[Objective]) -> Observations:
        enc = self.encoding(space)
        names = tuple(o.name for o in objectives)
        key = (names, tuple(o.maximize for o in objectives))
        same = 0
        if key == self._key:
            limit = min(len(self._records), len(history))
            while same < limit and self._records[same] is history[same]:
                same += 1
        sign = np.array([-1.0 if o.maximize else 1.0 for o in objectives])
        tail = [_entry(record, space, enc, names) for record in history[same:]]
        fresh = (
            np.array([e[0] for e in tail], dtype=bool),
            np.array([e[1] for e in tail], dtype=float).reshape(len(tail), enc.n),
            np.array([e[2] for e in tail], dtype=float).reshape(len(tail), len(names)) * sign,
            np.array([e[3] for e in tail], dtype=int),
            np.array([e[4] for e in tail], dtype=float),
            np.array([e[5] for e in tail], dtype=int),
        )
        if same:
            fresh = tuple(np.concatenate((old[:same], new)) for old, new in zip(self._arrays, fresh))
        self._key, self._records, self._arrays = key, list(history), fresh
        self._prints = self._prints[:same] + [e[6] for e in tail]
        self._row_keys = self._row_keys[:same] + [e[1].tobytes() if e[0] else b"" for e in tail]
        has, codes, values, tier, violation, index = fresh
        return Observations(codes[has], values[has], tier[has], violation[has], index[has], *self._taken_sets(same))

    def _taken_sets(self, same: int) -> tuple[frozenset[str], frozenset[bytes]]:
        """Fingerprints and rows of all records; the sets of the unchanged prefix are kept between calls."""
        length, prints, rows = self._prefix
        if same < length:
            length, prints, rows = 0, frozenset(), frozenset()
        prints = prints.union(p for p in self._prints[length:same] if p)
        rows = rows.union(self._row_keys[length:same])
        self._prefix = (same, prints, rows)
        return prints.union(p for p in self._prints[same:] if p), rows.union(self._row_keys[same:])


def _entry(record: TrialRecord, space: Space, enc: SpaceEncoding, names: tuple[str, ...]) -> tuple[Any, ...]:
    """(has params, code row, values, tier, violation, sample index, fingerprint) of one record."""
    if record.params is None:
        return False, np.full(enc.n, math.nan), [math.nan] * len(names), NO_INFO, 0.0, -1, None
    fingerprint = record.fingerprint or space.config(record.params).fingerprint
    has_values = bool(names) and record.has_finite_values(names)  # an inf from an old database tells nothing
    values = [record.values[n] for n in names] if has_values else [math.nan] * len(names)  # type: ignore[index]
    violation = record.constraint_violation
    index = -1 if record.sample_index is None else record.sample_index
    return True, enc.encode(record.params), values, _tier(record.state, has_values, violation), violation, index, fingerprint


def _tier(state: TrialState, has_values: bool, violation: float) -> int:
    if state in (TrialState.RUNNING, TrialState.WAITING):
        return IN_FLIGHT
    if not has_values:
        return NO_INFO
    if violation > 0:
        return INFEASIBLE
    return COMPLETE if state == TrialState.COMPLETE else PARTIAL
