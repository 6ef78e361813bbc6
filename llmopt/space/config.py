"""A configuration: the flat `path -> value` mapping of one trial, with canonical JSON and fingerprint.

>>> Config({"temperature": 0.5, "model": "a"}).canonical_json()
'{"model":"a","temperature":0.5}'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmopt.errors import SpaceError

if TYPE_CHECKING:
    from llmopt.space.space import Space


def canonical_json(data: Any) -> str:
    """Sorted keys, no spaces, no NaN: equal data always gives equal text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class ChosenModule:
    """What a ModuleVar picked: option name, implementation and the option's own values."""

    name: str
    impl: Any
    params: dict[str, Any]

    def build(self, **overrides: Any) -> Any:
        """Call the implementation with its sampled parameters (e.g. instantiate a class)."""
        if not callable(self.impl):
            raise SpaceError(f"module option {self.name!r} has no callable impl", "give the option an impl to build")
        return self.impl(**{**self.params, **overrides})


class Config(Mapping[str, Any]):
    """Read-only flat mapping of the active variables of one configuration."""

    __slots__ = ("_values", "_space", "_json")

    def __init__(self, values: Mapping[str, Any], space: Space | None = None) -> None:
        self._values = dict(values)
        self._space = space
        self._json: str | None = None

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise KeyError(f"{key!r} is not active in this configuration; active: {sorted(self._values)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Config({self._values!r})"

    def __eq__(self, other: object) -> bool:
        """Equal canonical JSON: keeps True, 1 and 1.0 apart, as fingerprints and choices do."""
        if not isinstance(other, Mapping):
            return NotImplemented
        try:
            return self.canonical_json() == canonical_json(dict(other))
        except (TypeError, ValueError):
            return False

    def __hash__(self) -> int:
        return hash(self.canonical_json())

    def to_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def canonical_json(self) -> str:
        if self._json is None:
            self._json = canonical_json(self._values)
        return self._json

    @property
    def fingerprint(self) -> str:
        """First 16 hex digits of the SHA-256 of the canonical JSON: equal configs, equal ids."""
        return fingerprint_of(self.canonical_json())

    def nested(self) -> dict[str, Any]:
        """The values as nested dicts, for passing on to user code.

        Composites become dicts (`{"retriever": {"k": 5}}`); a module whose option has
        sub-values becomes `{"option": "cot", "params": {"hops": 2}}`.
        """
        return _nest(self._values)

    def module(self, path: str) -> ChosenModule:
        """The option a ModuleVar picked, with its implementation and sub-values."""
        from llmopt.space.variables import ModuleVar

        if self._space is None:
            raise SpaceError("this Config has no space attached", "get it from a trial or space.config(values)")
        leaf = self._space.by_path.get(path)
        if leaf is None or not isinstance(leaf.var, ModuleVar):
            raise SpaceError(f"{path!r} is not a ModuleVar of the space", "pass the path of a module variable")
        name = self[path]
        prefix = f"{path}.{name}."
        params = Config({k[len(prefix):]: v for k, v in self._values.items() if k.startswith(prefix)}).nested()
        return ChosenModule(name=name, impl=leaf.var.options[name].resolve(), params=params)


def fingerprint_of(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    heads: dict[str, Any] = {}
    children: dict[str, dict[str, Any]] = {}
    for path, value in flat.items():
        head, dot, rest = path.partition(".")
        if dot:
            children.setdefault(head, {})[rest] = value
        else:
            heads[head] = value
    out: dict[str, Any] = {}
    for head in flat_keys_order(flat):
        if head in heads and head in children:  # a module and its option's sub-values
            option = heads[head]
            sub = {k[len(option) + 1:]: v for k, v in children[head].items() if k.startswith(option + ".")}
            out[head] = {"option": option, "params": _nest(sub)}
        elif head in children:
            out[head] = _nest(children[head])
        else:
            out[head] = heads[head]
    return out


def flat_keys_order(flat: Mapping[str, Any]) -> Iterator[str]:
    """First-level names in the order they first appear, so nesting keeps the space's order."""
    seen: set[str] = set()
    for path in flat:
        head = path.partition(".")[0]
        if head not in seen:
            seen.add(head)
            yield head
