"""Large choice variables build, serialise and fingerprint in linear time, up to a documented limit."""

from __future__ import annotations

import time

import pytest

from llmopt.errors import SpaceError
from llmopt.space import ChoiceVar, FloatVar, Space
from llmopt.space.variables import MAX_CHOICE_OPTIONS


def test_fifty_thousand_options_build_at_once() -> None:
    """Was a quadratic duplicate check: 16,000 options took minutes and 200,000 never finished."""
    options = [f"prompt-{i}" for i in range(50_000)]
    start = time.perf_counter()
    var = ChoiceVar(options)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"50,000 options took {elapsed:.1f}s to build"  # about 0.05 s when linear
    assert var.contains("prompt-49999") and not var.contains("prompt-50000")


def test_the_limit_itself_builds_serialises_and_fingerprints() -> None:
    var = ChoiceVar(list(range(MAX_CHOICE_OPTIONS)))
    start = time.perf_counter()
    space = Space({"c": var, "t": FloatVar(0, 1)})
    again = Space.from_json(space.to_json())
    assert again.fingerprint == space.fingerprint and again == space
    elapsed = time.perf_counter() - start
    assert elapsed < 10.0, f"a {MAX_CHOICE_OPTIONS:,}-option space took {elapsed:.1f}s to round-trip"


def test_past_the_limit_is_a_clear_error() -> None:
    with pytest.raises(SpaceError) as info:
        ChoiceVar(list(range(MAX_CHOICE_OPTIONS + 1)))
    assert "100,001 given" in info.value.message and "100,000" in info.value.message
    assert "IntVar" in (info.value.hint or "")


def test_duplicates_are_still_caught_and_types_still_kept_apart() -> None:
    with pytest.raises(SpaceError, match="listed twice"):
        ChoiceVar([*range(30_000), 29_999])
    with pytest.raises(SpaceError, match="listed twice"):
        ChoiceVar([0.0, -0.0])  # equal floats are one option, as before
    var = ChoiceVar([1, True, 1.0, "1", None])  # equal across types: five options
    assert var.contains(True) and var.contains(1) and var.contains(1.0) and var.contains(None)
    assert not var.contains(False) and not var.contains(0) and not var.contains([1]) and not var.contains({})
