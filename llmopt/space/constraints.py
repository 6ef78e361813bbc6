"""Constraints between variables, checked before a configuration is ever evaluated.

Paths are relative to the space or composite that holds the constraint (`strategy`,
`retriever.k`, `strategy.cot.hops`). A condition maps a path to one value or a list of
accepted values; it matches only when every path is active and holds an accepted value.

>>> Forbid({"provider": "groq", "strategy": "pot"}).describe()
"forbid provider='groq' and strategy='pot'"
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import Field, field_serializer, field_validator, model_validator

from llmopt.errors import SpaceError
from llmopt.space.imports import check_import_path, import_path_of, resolve_import_path
from llmopt.space.model import StrictModel

Condition = dict[str, Any]


def normalise_condition(condition: Any) -> Any:
    """Sets and tuples become lists (sets sorted), so a condition always serialises the same way."""
    if not isinstance(condition, dict):
        return condition
    out = {}
    for path, wanted in condition.items():
        if isinstance(wanted, (set, frozenset)):
            wanted = sorted(wanted, key=lambda v: (type(v).__name__, repr(v)))
        elif isinstance(wanted, tuple):
            wanted = list(wanted)
        out[path] = wanted
    return out


def _accepted(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps True apart from 1 and 1.0 apart from '1'."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def matches(condition: Condition, values: Mapping[str, Any], prefix: str) -> bool:
    """True when every path of the condition is active and holds one of its values."""
    for path, wanted in condition.items():
        key = prefix + path
        if key not in values:
            return False
        if not any(_same(values[key], w) for w in _accepted(wanted)):
            return False
    return True


def _describe(condition: Condition) -> str:
    parts = []
    for path, wanted in condition.items():
        ws = _accepted(wanted)
        parts.append(f"{path}={ws[0]!r}" if len(ws) == 1 else f"{path} in {ws!r}")
    return " and ".join(parts)


class _Constraint(StrictModel):
    def conditions(self) -> Iterator[Condition]:
        """The conditions whose paths and values the space checks against its variables."""
        return iter(())


class Forbid(_Constraint):
    """Forbid a combination: no configuration may match all of `when` at once."""

    kind: Literal["forbid"] = "forbid"
    when: Condition

    _normalise = field_validator("when", mode="before")(lambda v: normalise_condition(v))

    def __init__(self, when: Condition | None = None, **data: Any) -> None:
        if when is not None:
            data["when"] = when
        super().__init__(**data)

    @model_validator(mode="after")
    def _validate(self) -> Forbid:
        if not self.when:
            raise SpaceError("Forbid needs at least one path, got an empty condition", "name the values to forbid")
        return self

    def conditions(self) -> Iterator[Condition]:
        yield self.when

    def violated(self, values: Mapping[str, Any], prefix: str = "") -> bool:
        return matches(self.when, values, prefix)

    def describe(self) -> str:
        return f"forbid {_describe(self.when)}"


class Implies(_Constraint):
    """When a configuration matches `when`, it must also match `then`."""

    kind: Literal["implies"] = "implies"
    when: Condition
    then: Condition

    _normalise = field_validator("when", "then", mode="before")(lambda v: normalise_condition(v))

    def __init__(self, when: Condition | None = None, then: Condition | None = None, **data: Any) -> None:
        data.update({k: v for k, v in (("when", when), ("then", then)) if v is not None})
        super().__init__(**data)

    @model_validator(mode="after")
    def _validate(self) -> Implies:
        if not self.when or not self.then:
            raise SpaceError("Implies needs non-empty `when` and `then` conditions", "name the values on both sides")
        return self

    def conditions(self) -> Iterator[Condition]:
        yield self.when
        yield self.then

    def violated(self, values: Mapping[str, Any], prefix: str = "") -> bool:
        return matches(self.when, values, prefix) and not matches(self.then, values, prefix)

    def describe(self) -> str:
        return f"{_describe(self.when)} implies {_describe(self.then)}"


class Predicate(_Constraint):
    """A named Python check: `fn(config) -> bool`, True when the configuration is allowed.

    `fn` gets a read-only mapping of the active values (paths relative to the constraint's
    composite). It is stored by import path, so define it at module level.
    """

    kind: Literal["predicate"] = "predicate"
    name: str
    fn: Any

    def __init__(self, name: str | None = None, fn: Any = None, **data: Any) -> None:
        data.update({k: v for k, v in (("name", name), ("fn", fn)) if v is not None})
        super().__init__(**data)

    @model_validator(mode="after")
    def _validate(self) -> Predicate:
        if isinstance(self.fn, str):
            check_import_path(self.fn, f"predicate {self.name!r} fn")
        elif not callable(self.fn):
            raise SpaceError(f"predicate {self.name!r}: fn must be callable, got {self.fn!r}", "pass a function")
        return self

    @field_serializer("fn")
    def _serialise_fn(self, fn: Any) -> str:
        return fn if isinstance(fn, str) else import_path_of(fn)

    def violated(self, values: Mapping[str, Any], prefix: str = "") -> bool:
        fn = resolve_import_path(self.fn) if isinstance(self.fn, str) else self.fn
        view = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
        try:
            return not bool(fn(view))
        except Exception as exc:  # a user function: report which one failed
            raise SpaceError(
                f"predicate {self.name!r} raised {type(exc).__name__}: {exc}",
                "make it return True/False for every configuration of the space",
            ) from exc

    def describe(self) -> str:
        return f"predicate {self.name!r}"


Constraint = Annotated[Union[Forbid, Implies, Predicate], Field(discriminator="kind")]
