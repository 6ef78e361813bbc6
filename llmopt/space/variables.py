"""Typed variables of a search space: float, int, choice, module (conditional) and composite.

Variables are frozen pydantic models so a whole space serialises to JSON and back; a
module option's implementation is stored by import path (`pkg.mod:Name`).

>>> FloatVar(0.0, 1.0, step=0.1).grid()[:3]
[0.0, 0.1, 0.2]
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, Union

from pydantic import Field, PrivateAttr, field_serializer, model_validator

from llmopt.errors import SpaceError
from llmopt.space.constraints import Constraint
from llmopt.space.model import StrictModel, space_error_from
from llmopt.space.imports import check_import_path, import_path_of, resolve_import_path

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
ChoiceValue = Union[bool, int, float, str, None]


def check_name(name: str, what: str) -> None:
    """Names become dotted paths (`strategy.cot.hops`), so dots and spaces are refused."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise SpaceError(
            f"{what} name {name!r} is not a valid name",
            "use letters, digits, '_' or '-', starting with a letter or '_' (no dots)",
        )


def _check_range(var: FloatVar | IntVar) -> None:
    name = type(var).__name__
    if not (math.isfinite(var.low) and math.isfinite(var.high)):
        raise SpaceError(f"{name} bounds must be finite, got low={var.low}, high={var.high}", "give finite bounds")
    if var.low > var.high:
        raise SpaceError(
            f"`low <= high` must hold, got low={var.low}, high={var.high}", "swap low and high"
        )
    if var.log and var.low <= 0:
        raise SpaceError(
            f"log scale needs low > 0, got low={var.low}", "raise low above 0 or set log=False"
        )
    if var.step is not None:
        if var.step <= 0:
            raise SpaceError(f"step must be > 0, got step={var.step}", "give a positive step")
        if var.log:
            raise SpaceError("step and log cannot be combined", "drop step or set log=False")
        span = (var.high - var.low) / var.step
        if abs(span - round(span)) > 1e-9 * max(1.0, abs(span)):
            raise SpaceError(
                f"step={var.step} does not divide the range [{var.low}, {var.high}]",
                f"choose high = low + k * step, e.g. high={var.low + math.floor(span) * var.step:g}",
            )


class FloatVar(StrictModel):
    """A real number in [low, high], on a linear or log scale, optionally on a step grid."""

    kind: Literal["float"] = "float"
    low: float
    high: float
    log: bool = False
    step: float | None = None

    def __init__(self, low: float | None = None, high: float | None = None, **data: Any) -> None:
        data.update({k: v for k, v in (("low", low), ("high", high)) if v is not None})
        super().__init__(**data)

    @model_validator(mode="after")
    def _validate(self) -> FloatVar:
        _check_range(self)
        return self

    def snap(self, value: float) -> float:
        """Round onto the step grid (if any) and into range, without float noise like 0.30000000000000004."""
        value = min(max(float(value), self.low), self.high)
        if self.step is None:
            return value
        k = round((value - self.low) / self.step)
        return min(max(float(f"{self.low + k * self.step:.12g}"), self.low), self.high)

    def grid(self) -> list[float]:
        """Every point of the step grid; a float without a step has no grid."""
        if self.step is None:
            raise SpaceError(
                f"FloatVar [{self.low}, {self.high}] has no step, so it has no grid",
                "give it a step, or pass GridSampler(float_points=N)",
            )
        return [self.snap(self.low + i * self.step) for i in range(self.grid_size())]

    def grid_size(self) -> int:
        return round((self.high - self.low) / self.step) + 1 if self.step is not None else 0

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not (self.low <= value <= self.high):
            return False
        return self.step is None or abs(self.snap(value) - value) <= 1e-9 * max(1.0, abs(value))


class IntVar(StrictModel):
    """An integer in [low, high] (inclusive), on a linear or log scale, with a step (default 1)."""

    kind: Literal["int"] = "int"
    low: int
    high: int
    log: bool = False
    step: int | None = None

    def __init__(self, low: int | None = None, high: int | None = None, **data: Any) -> None:
        data.update({k: v for k, v in (("low", low), ("high", high)) if v is not None})
        super().__init__(**data)

    @model_validator(mode="after")
    def _validate(self) -> IntVar:
        _check_range(self)
        return self

    @property
    def stride(self) -> int:
        return self.step or 1

    def snap(self, value: float) -> int:
        value = min(max(value, self.low), self.high)
        k = round((value - self.low) / self.stride)
        return min(self.low + k * self.stride, self.high)

    def grid_size(self) -> int:
        return (self.high - self.low) // self.stride + 1

    def grid(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.stride))

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        return self.low <= value <= self.high and (value - self.low) % self.stride == 0


MAX_CHOICE_OPTIONS = 100_000


def _option_key(value: Any) -> tuple[type, Any]:
    """An option's identity: its type and value, so True, 1 and 1.0 stay three options."""
    return (type(value), value)


class ChoiceVar(StrictModel):
    """One value out of a list of strings, numbers, bools or None (at most MAX_CHOICE_OPTIONS).

    Samplers treat every option as its own category, so past 100,000 options nothing is
    learned that random search would not find, while the space's JSON (stored with the study,
    parsed by every worker) grows to megabytes: index a long list with an IntVar instead.
    """

    kind: Literal["choice"] = "choice"
    options: list[ChoiceValue]
    _keys: frozenset[tuple[type, Any]] = PrivateAttr(default=frozenset())

    def __init__(self, options: list[ChoiceValue] | None = None, **data: Any) -> None:
        if options is not None:
            data["options"] = list(options)
        super().__init__(**data)

    @model_validator(mode="after")
    def _validate(self) -> ChoiceVar:
        if not self.options:
            raise SpaceError("ChoiceVar needs at least one option, got none", "list the options")
        if len(self.options) > MAX_CHOICE_OPTIONS:
            raise SpaceError(
                f"ChoiceVar options: {len(self.options):,} given, at most {MAX_CHOICE_OPTIONS:,} allowed",
                "keep the list in your code and choose an index into it with IntVar(0, len(items) - 1)",
            )
        seen: set[tuple[type, Any]] = set()  # a set, not a list: 100,000 options check in milliseconds
        for opt in self.options:
            if isinstance(opt, float) and not math.isfinite(opt):
                raise SpaceError(f"option {opt!r} is not finite", "use finite numbers")
            key = _option_key(opt)
            if key in seen:
                raise SpaceError(f"option {opt!r} is listed twice", "remove the duplicate")
            seen.add(key)
        self._keys = frozenset(seen)
        return self

    def grid(self) -> list[ChoiceValue]:
        return list(self.options)

    def contains(self, value: Any) -> bool:
        try:
            return _option_key(value) in self._keys
        except TypeError:  # an unhashable value (a list, a dict) is never an option
            return False


class ModuleOption(StrictModel):
    """One implementation a ModuleVar can pick, with the sub-variables only it uses."""

    impl: Any = None
    params: dict[str, Variable] = Field(default_factory=dict)

    def __init__(self, impl: Any = None, params: dict[str, Any] | None = None, **data: Any) -> None:
        if impl is not None:
            data["impl"] = impl
        if params is not None:
            data["params"] = params
        super().__init__(**data)

    @model_validator(mode="after")
    def _validate(self) -> ModuleOption:
        for name in self.params:
            check_name(name, "sub-variable")
        if isinstance(self.impl, str):
            check_import_path(self.impl, "impl")
        return self

    @field_serializer("impl")
    def _serialise_impl(self, impl: Any) -> str | None:
        return impl if impl is None or isinstance(impl, str) else import_path_of(impl)

    def resolve(self) -> Any:
        """The implementation object, importing it when stored as a path."""
        return resolve_import_path(self.impl) if isinstance(self.impl, str) else self.impl


class ModuleVar(StrictModel):
    """Pick one implementation by name; each brings its own sub-variables (a conditional space).

    >>> ModuleVar({"predict": None, "cot": ModuleOption(params={"hops": IntVar(1, 3)})}).grid()
    ['predict', 'cot']
    """

    kind: Literal["module"] = "module"
    options: dict[str, ModuleOption]

    def __init__(self, options: dict[str, Any] | None = None, **data: Any) -> None:
        if options is not None:
            data["options"] = options
        super().__init__(**data)

    @model_validator(mode="before")
    @classmethod
    def _wrap_bare_impls(cls, data: Any) -> Any:
        """Accept `{"name": SomeClass}` as shorthand for an option without sub-variables."""
        if isinstance(data, dict) and isinstance(data.get("options"), dict):
            data = dict(data)
            data["options"] = {
                k: v if isinstance(v, (ModuleOption, dict)) else ModuleOption(impl=v)
                for k, v in data["options"].items()
            }
        return data

    @model_validator(mode="after")
    def _validate(self) -> ModuleVar:
        if not self.options:
            raise SpaceError("ModuleVar needs at least one option, got none", "list the options")
        for name in self.options:
            check_name(name, "module option")
        return self

    def grid(self) -> list[str]:
        return list(self.options)

    def contains(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options


class CompositeVar(StrictModel):
    """A named group of variables with constraints that hold between them."""

    kind: Literal["composite"] = "composite"
    variables: dict[str, Variable]
    constraints: list[Constraint] = Field(default_factory=list)

    def __init__(
        self, variables: dict[str, Any] | None = None, constraints: list[Any] | None = None, **data: Any
    ) -> None:
        if variables is not None:
            data["variables"] = variables
        if constraints is not None:
            data["constraints"] = constraints
        super().__init__(**data)

    @model_validator(mode="after")
    def _validate(self) -> CompositeVar:
        if not self.variables:
            raise SpaceError("a composite needs at least one variable, got none", "add variables")
        for name in self.variables:
            check_name(name, "variable")
        return self


Variable = Annotated[
    Union[FloatVar, IntVar, ChoiceVar, ModuleVar, CompositeVar], Field(discriminator="kind")
]
LeafVar = Union[FloatVar, IntVar, ChoiceVar, ModuleVar]

ModuleOption.model_rebuild()
CompositeVar.model_rebuild()
