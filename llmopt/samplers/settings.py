"""Sampler settings: stored with the study as the constructor's arguments, and checked when given."""

from __future__ import annotations

from typing import Any, ClassVar

from llmopt.errors import StudyError


class StoredSettings:
    """Mixin: `to_dict()` gives the type name plus every attribute listed in `settings`, which
    are exactly the constructor's keyword arguments, so `sampler_from_dict` rebuilds the sampler."""

    name: ClassVar[str]
    settings: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name, **{key: getattr(self, key) for key in self.settings}}


def check(holds: bool, rule: str, **given: Any) -> None:
    """Raise StudyError naming the rule and the values given when a setting is out of range."""
    if not holds:
        shown = ", ".join(f"{key}={value!r}" for key, value in given.items())
        raise StudyError(f"`{rule}` must hold, got {shown}", "use the defaults unless a benchmark says otherwise")
