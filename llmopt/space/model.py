"""The pydantic base of variables and constraints: frozen, strict keys, errors as SpaceError."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from llmopt.errors import SpaceError

_KIND_TAGS = {"float", "int", "choice", "module", "composite", "forbid", "implies", "predicate"}


def space_error_from(exc: ValidationError) -> SpaceError:
    """Turn pydantic's report into one SpaceError that names the field and the fix."""
    lines = []
    hint = None
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if p not in _KIND_TAGS)
        where = f"{loc}: " if loc else ""
        original = (err.get("ctx") or {}).get("error")
        if isinstance(original, SpaceError):
            lines.append(where + original.message)
            hint = hint or original.hint
        elif err["type"] == "extra_forbidden":
            lines.append(f"unknown key {loc!r}")
            hint = hint or "remove it or check its spelling"
        elif err["type"] == "missing":
            lines.append(f"missing required key {loc!r}")
            hint = hint or "add it"
        else:
            lines.append(f"{where}{err['msg']} (got {err.get('input')!r})")
            hint = hint or "give a value of the type and range the field needs"
    return SpaceError("; ".join(lines), hint)


class StrictModel(BaseModel):
    """Frozen, unknown keys refused, and pydantic's errors re-raised as one SpaceError."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise space_error_from(exc) from None
