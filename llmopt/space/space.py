"""The search space: variables flattened to dotted paths, their activation conditions and constraints.

A configuration is a flat mapping `path -> value` holding exactly the *active* variables:
a module option's sub-variables (`strategy.cot.hops`) are active only when the module
(`strategy`) picks that option.

>>> space = Space({"t": FloatVar(0, 1), "strategy": ModuleVar({"predict": None,
...     "cot": ModuleOption(params={"hops": IntVar(1, 3)})})})
>>> [leaf.path for leaf in space.leaves]
['t', 'strategy', 'strategy.cot.hops']
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from llmopt.errors import SpaceError
from llmopt.space.config import Config
from llmopt.space.constraints import Constraint, Predicate
from llmopt.space.imports import import_path_of
from llmopt.space.model import space_error_from
from llmopt.space.variables import CompositeVar, FloatVar, LeafVar, ModuleVar

Activation = tuple[tuple[str, str], ...]  # (module path, option name) pairs that must all hold


def holds(activation: Activation, values: Mapping[str, Any]) -> bool:
    """True when every module on the path picked the option that leads here."""
    return all(values.get(mpath) == option for mpath, option in activation)


@dataclass(frozen=True)
class Leaf:
    """One sampled variable: its full path, its definition, and when it is active."""

    path: str
    var: LeafVar
    activation: Activation

    def is_active(self, values: Mapping[str, Any]) -> bool:
        return holds(self.activation, values)


@dataclass(frozen=True)
class ScopedConstraint:
    """A constraint with the path prefix of its composite and when that composite is active."""

    constraint: Constraint
    prefix: str
    activation: Activation

    def violated(self, values: Mapping[str, Any]) -> bool:
        return holds(self.activation, values) and self.constraint.violated(values, self.prefix)

    def describe(self) -> str:
        where = f" (in {self.prefix[:-1]})" if self.prefix else ""
        return self.constraint.describe() + where


class Space:
    """A search space: named variables (nested modules and composites) plus constraints."""

    def __init__(self, variables: Mapping[str, Any], constraints: Iterable[Any] = ()) -> None:
        if isinstance(variables, CompositeVar):
            extra = list(constraints)
            self.root = variables if not extra else CompositeVar(
                variables=variables.variables, constraints=[*variables.constraints, *extra]
            )
        else:
            self.root = CompositeVar(variables=dict(variables), constraints=list(constraints))
        self.leaves: list[Leaf] = []
        self.constraints: list[ScopedConstraint] = []
        self._flatten(self.root, "", ())
        self.by_path: dict[str, Leaf] = {leaf.path: leaf for leaf in self.leaves}
        for scoped in self.constraints:
            self._check_constraint_paths(scoped)

    # -- construction -------------------------------------------------------------------
    def _flatten(self, comp: CompositeVar, prefix: str, activation: Activation) -> None:
        for name, var in comp.variables.items():
            path = prefix + name
            if isinstance(var, CompositeVar):
                self._flatten(var, path + ".", activation)
                continue
            self.leaves.append(Leaf(path, var, activation))
            if isinstance(var, ModuleVar):
                for opt_name, option in var.options.items():
                    if option.params:
                        sub = CompositeVar(variables=option.params)
                        self._flatten(sub, f"{path}.{opt_name}.", activation + ((path, opt_name),))
        for constraint in comp.constraints:
            self.constraints.append(ScopedConstraint(constraint, prefix, activation))

    def _check_constraint_paths(self, scoped: ScopedConstraint) -> None:
        """A typo in a constraint would silently never match: refuse unknown paths and values."""
        for condition in scoped.constraint.conditions():
            for rel_path, wanted in condition.items():
                leaf = self.by_path.get(scoped.prefix + rel_path)
                if leaf is None:
                    known = [l.path[len(scoped.prefix):] for l in self.leaves if l.path.startswith(scoped.prefix)]
                    raise SpaceError(
                        f"constraint `{scoped.describe()}` names {rel_path!r}, which is not a variable",
                        f"use one of {known}",
                    )
                for w in wanted if isinstance(wanted, (list, tuple, set, frozenset)) else [wanted]:
                    if not leaf.var.contains(w):
                        raise SpaceError(
                            f"constraint `{scoped.describe()}`: {w!r} is not a possible value of {rel_path!r}",
                            f"use a value of {leaf.path}'s domain",
                        )

    # -- configurations -------------------------------------------------------------------
    def active_leaves(self, values: Mapping[str, Any]) -> list[Leaf]:
        return [leaf for leaf in self.leaves if leaf.is_active(values)]

    def violations(self, values: Mapping[str, Any]) -> list[str]:
        """Descriptions of the constraints a (structurally valid) configuration breaks."""
        return [c.describe() for c in self.constraints if c.violated(values)]

    def is_feasible(self, values: Mapping[str, Any]) -> bool:
        return not any(c.violated(values) for c in self.constraints)

    def validate(self, values: Mapping[str, Any]) -> Config:
        """Check a user-given configuration fully and return it as a Config."""
        values = {k: _as_float_if_needed(self.by_path.get(k), v) for k, v in values.items()}
        active = self.active_leaves(values)
        problems = []
        for leaf in active:
            if leaf.path not in values:
                problems.append(f"missing {leaf.path!r}")
            elif not leaf.var.contains(values[leaf.path]):
                problems.append(f"{leaf.path}={values[leaf.path]!r} is outside its domain")
        extra = sorted(set(values) - {leaf.path for leaf in active})
        problems += [f"{p!r} is not an active variable of this configuration" for p in extra]
        if problems:
            raise SpaceError("invalid configuration: " + "; ".join(problems), "give exactly the active variables, each in its domain")
        broken = self.violations(values)
        if broken:
            raise SpaceError("configuration breaks constraints: " + "; ".join(broken), "change the values the constraint names")
        return self.config(values)

    def config(self, values: Mapping[str, Any]) -> Config:
        """Wrap already-valid values (e.g. from storage) without re-checking them."""
        return Config(values, space=self)

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        self._check_importable()
        dumped = self.root.model_dump(mode="json")
        return {"variables": dumped["variables"], "constraints": dumped["constraints"]}

    def to_json(self) -> str:
        """JSON that keeps the variables' order, which fixes the order they are sampled in."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    def _check_importable(self) -> None:
        """Raise the SpaceError (with its hint) for an impl or predicate that has no import path."""
        for leaf in self.leaves:
            if isinstance(leaf.var, ModuleVar):
                for option in leaf.var.options.values():
                    if option.impl is not None and not isinstance(option.impl, str):
                        import_path_of(option.impl)
        for scoped in self.constraints:
            if isinstance(scoped.constraint, Predicate) and not isinstance(scoped.constraint.fn, str):
                import_path_of(scoped.constraint.fn)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Space:
        unknown = set(data) - {"variables", "constraints"}
        if unknown:
            raise SpaceError(f"unknown key(s) {sorted(unknown)} in a space", "a space has only 'variables' and 'constraints'")
        try:
            root = CompositeVar.model_validate({"variables": data.get("variables"), "constraints": data.get("constraints", [])})
        except ValidationError as exc:
            raise space_error_from(exc) from None
        return cls(root)

    @classmethod
    def from_json(cls, text: str) -> Space:
        def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            counts = Counter(k for k, _ in pairs)  # not keys.count(k) per key: quadratic in a large object
            dupes = sorted(k for k, n in counts.items() if n > 1)
            if dupes:
                raise SpaceError(f"duplicate name(s) {dupes} in space JSON", "give every variable a distinct name")
            return dict(pairs)

        try:
            data = json.loads(text, object_pairs_hook=no_duplicates)
        except json.JSONDecodeError as exc:
            raise SpaceError(f"space JSON is not valid JSON: {exc}", "check the file") from None
        return cls.from_dict(data)

    @property
    def fingerprint(self) -> str:
        """Stable id of the space's definition, to check a reopened study uses the same space."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def __eq__(self, other: object) -> bool:
        """Equal definitions in the same order (the order fixes sampling, so it counts)."""
        return isinstance(other, Space) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        return f"Space({[leaf.path for leaf in self.leaves]}, constraints={len(self.constraints)})"


def _as_float_if_needed(leaf: Leaf | None, value: Any) -> Any:
    """`1` given for a FloatVar is stored as `1.0`, so it has the same fingerprint as a sampled 1.0."""
    if leaf is not None and isinstance(leaf.var, FloatVar) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
