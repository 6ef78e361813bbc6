"""A space's leaves as numeric columns: numbers in [0, 1] on their internal scale, choices as indices.

Model-based samplers work on rows of these codes (NaN = the leaf is inactive), so densities
and genetic operators are vectorised and a module's sub-variables keep their activation.

>>> from llmopt.space import Space, IntVar, ChoiceVar
>>> enc = SpaceEncoding(Space({"k": IntVar(1, 4), "m": ChoiceVar(["a", "b"])}))
>>> enc.encode({"k": 2, "m": "b"}).tolist()
[0.375, 1.0]
>>> enc.decode(enc.encode({"k": 2, "m": "b"}))
{'k': 2, 'm': 'b'}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from llmopt.space import ChoiceVar, FloatVar, IntVar, ModuleVar, Space
from llmopt.space.variables import LeafVar

Kind = Literal["float", "binned", "category"]


@dataclass(frozen=True)
class LeafCode:
    """How one leaf is coded.

    `float`: continuous, u = (t(x) - lo) / (hi - lo) with t = log on log scales. `binned`:
    ints and stepped floats; every grid point owns a bin of [0, 1] (log ints own
    [log(x - 1/2), log(x + 1/2)]), so a uniform u hits each point with its fair share.
    `category`: the index of the choice or module option.
    """

    path: str
    var: LeafVar
    kind: Kind
    size: int  # bins or options; 0 for continuous floats
    lo: float
    hi: float
    log: bool
    activation: tuple[tuple[int, int], ...]  # (module column, option index) pairs that must all hold

    @property
    def width(self) -> float:
        return self.hi - self.lo


def _leaf_code(path: str, var: LeafVar, activation: tuple[tuple[int, int], ...]) -> LeafCode:
    if isinstance(var, (ChoiceVar, ModuleVar)):
        return LeafCode(path, var, "category", len(var.options), 0.0, 0.0, False, activation)
    if isinstance(var, IntVar) and var.log:
        return LeafCode(path, var, "binned", var.grid_size(), math.log(var.low - 0.5), math.log(var.high + 0.5), True, activation)
    if isinstance(var, IntVar) or var.step is not None:
        return LeafCode(path, var, "binned", var.grid_size(), float(var.low), float(var.high), False, activation)
    if var.log:
        return LeafCode(path, var, "float", 0, math.log(var.low), math.log(var.high), True, activation)
    return LeafCode(path, var, "float", 0, float(var.low), float(var.high), False, activation)


class SpaceEncoding:
    """Encode/decode flat configurations of one space to fixed-length float rows."""

    def __init__(self, space: Space) -> None:
        self.space = space
        column = {leaf.path: j for j, leaf in enumerate(space.leaves)}
        self.leaves: list[LeafCode] = []
        self._option_index: list[dict[tuple[type, Any], int]] = []
        self._options: list[list[Any]] = []  # built once: a 100,000-option list is not copied per decode
        for leaf in space.leaves:
            activation = tuple(
                (column[mpath], list(space.by_path[mpath].var.options).index(option))  # type: ignore[union-attr]
                for mpath, option in leaf.activation
            )
            code = _leaf_code(leaf.path, leaf.var, activation)
            self.leaves.append(code)
            options = list(leaf.var.options) if code.kind == "category" else []  # type: ignore[union-attr]
            self._options.append(options)
            self._option_index.append({(type(o), o): i for i, o in enumerate(options)})
        self.n = len(self.leaves)
        self._bins: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    # -- single values ---------------------------------------------------------------------
    def encode_value(self, j: int, value: Any) -> float:
        code = self.leaves[j]
        if code.kind == "category":
            return float(self._option_index[j][(type(value), value)])
        if code.kind == "binned" and not code.log:
            k = round((value - code.lo) / code.var.step) if isinstance(code.var, FloatVar) else (value - code.lo) // code.var.stride  # type: ignore[union-attr]
            return (k + 0.5) / code.size
        if code.width <= 0:
            return 0.5
        t = math.log(value) if code.log else float(value)
        return min(max((t - code.lo) / code.width, 0.0), 1.0)

    def decode_value(self, j: int, u: float) -> Any:
        code = self.leaves[j]
        var = code.var
        if code.kind == "category":
            return self._options[j][int(u)]
        if code.kind == "binned" and not code.log:
            k = min(max(int(math.floor(u * code.size)), 0), code.size - 1)
            step = var.step if isinstance(var, FloatVar) else var.stride  # type: ignore[union-attr]
            return var.snap(code.lo + k * step)  # type: ignore[operator]
        t = code.lo + min(max(u, 0.0), 1.0) * code.width
        return var.snap(math.exp(t) if code.log else t)  # type: ignore[union-attr]

    # -- rows --------------------------------------------------------------------------------
    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """The row of a configuration: NaN where a leaf is inactive."""
        row = np.full(self.n, np.nan)
        for j, code in enumerate(self.leaves):
            if code.path in params:
                row[j] = self.encode_value(j, params[code.path])
        return row

    def active(self, j: int, row: np.ndarray) -> bool:
        return all(row[col] == opt for col, opt in self.leaves[j].activation)

    def active_mask(self, j: int, rows: np.ndarray) -> np.ndarray:
        """Which rows of a (c, n) block have leaf j active (its modules picked the right options)."""
        mask = np.ones(len(rows), dtype=bool)
        for col, opt in self.leaves[j].activation:
            mask &= rows[:, col] == opt
        return mask

    def decode(self, row: np.ndarray) -> dict[str, Any]:
        """The configuration of a row, keeping only leaves its module choices activate."""
        out: dict[str, Any] = {}
        for j, code in enumerate(self.leaves):
            if not math.isnan(row[j]) and self.active(j, row):
                out[code.path] = self.decode_value(j, float(row[j]))
        return out

    # -- vectorised helpers for numeric columns ------------------------------------------------
    def canonical(self, j: int, u: np.ndarray) -> np.ndarray:
        """Snap codes of leaf j onto the values they decode to, so scoring sees what is proposed."""
        code = self.leaves[j]
        if code.kind == "category":
            return np.clip(np.floor(u), 0, code.size - 1)
        if code.kind == "binned" and not code.log:
            return (np.clip(np.floor(u * code.size), 0, code.size - 1) + 0.5) / code.size
        if code.kind == "binned":
            var = code.var
            x = np.clip(np.round(np.exp(code.lo + np.clip(u, 0, 1) * code.width)), var.low, var.high)  # type: ignore[union-attr]
            return (np.log(x) - code.lo) / code.width
        return np.clip(u, 0.0, 1.0)

    def bin_edges(self, j: int, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Edges [a, b) in [0, 1] of the bins holding canonical codes `u` of a binned leaf."""
        code = self.leaves[j]
        if not code.log:
            k = np.clip(np.floor(u * code.size), 0, code.size - 1)
            return k / code.size, (k + 1) / code.size
        x = np.round(np.exp(code.lo + u * code.width))
        return (np.log(x - 0.5) - code.lo) / code.width, (np.log(x + 0.5) - code.lo) / code.width

    def bin_index(self, j: int, u: np.ndarray) -> np.ndarray:
        """Which option (category) or grid point (binned) each canonical code of leaf j stands for."""
        code = self.leaves[j]
        if code.kind == "category":
            return u.astype(int)
        if not code.log:
            return np.clip(np.floor(u * code.size), 0, code.size - 1).astype(int)
        x = np.round(np.exp(code.lo + np.clip(u, 0, 1) * code.width))
        return np.clip(x - code.var.low, 0, code.size - 1).astype(int)  # type: ignore[union-attr]

    def bins(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """The K + 1 bin edges on [0, 1] of a binned leaf, and the canonical code of each of its K values."""
        if j not in self._bins:
            code = self.leaves[j]
            if not code.log:
                edges = np.arange(code.size + 1) / code.size
            else:
                x = np.arange(code.size + 1) + code.var.low - 0.5  # type: ignore[union-attr]
                edges = (np.log(x) - code.lo) / code.width
            self._bins[j] = edges, self.canonical(j, 0.5 * (edges[:-1] + edges[1:]))
        return self._bins[j]
