"""Pruners store and rebuild from their settings; bad settings and bad data fail with the field and the fix."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from llmopt.errors import StudyError
from llmopt.pruning import (
    PRUNERS, AnyPruner, BudgetPruner, MedianPruner, NopPruner, ObjectiveSeries, ParetoPruner, PartialTrial, Pruner,
    Stages, SuccessiveHalvingPruner, default_pruner, pruner_from_dict,
)

EXAMPLES: list[Pruner] = [
    ParetoPruner(alpha=0.1, min_examples=20, population=True, paired=True),
    MedianPruner(objective="accuracy", n_startup_trials=3, min_examples=5),
    SuccessiveHalvingPruner(objective="cost", eta=4, min_examples=20),
    BudgetPruner(max_cost=2.5, meter="dollars", when="surely", alpha=0.01, min_examples=5),
    AnyPruner([ParetoPruner(), BudgetPruner(max_cost=1.0)]),
    NopPruner(),
]


@pytest.mark.parametrize("pruner", EXAMPLES, ids=lambda p: p.name)
def test_to_dict_round_trips_through_json(pruner: Pruner) -> None:
    stored = json.loads(json.dumps(pruner.to_dict()))
    rebuilt = pruner_from_dict(stored)
    assert type(rebuilt) is type(pruner) and rebuilt.to_dict() == pruner.to_dict()


def test_every_registered_pruner_has_an_example_and_the_default_is_pareto() -> None:
    assert {p.name for p in EXAMPLES} == set(PRUNERS)
    assert isinstance(default_pruner(), ParetoPruner)
    assert ParetoPruner.default_stages == Stages.every(10) and MedianPruner.default_stages == Stages.geometric(10, 2)


def test_unknown_or_malformed_stored_pruners_are_refused() -> None:
    with pytest.raises(StudyError, match="'oracle'"):
        pruner_from_dict({"type": "oracle"})
    with pytest.raises(StudyError, match="do not fit pruner 'median'"):
        pruner_from_dict({"type": "median", "eta": 3})


@pytest.mark.parametrize(("make", "field"), [
    (lambda: ParetoPruner(alpha=0), "alpha"),
    (lambda: ParetoPruner(alpha=1.5), "alpha"),
    (lambda: ParetoPruner(alpha="0.05"), "alpha"),
    (lambda: ParetoPruner(min_examples=0), "min_examples"),
    (lambda: ParetoPruner(paired="yes"), "paired"),
    (lambda: MedianPruner(n_startup_trials=0), "n_startup_trials"),
    (lambda: SuccessiveHalvingPruner(eta=1), "eta"),
    (lambda: BudgetPruner(max_cost=0), "max_cost"),
    (lambda: BudgetPruner(max_cost=1, when="maybe"), "when"),
    (lambda: BudgetPruner(max_cost=1, alpha=1), "alpha"),
    (lambda: AnyPruner([]), "AnyPruner"),
    (lambda: Stages.every(0), "k"),
    (lambda: Stages.explicit([]), "explicit"),
    (lambda: Stages.explicit([10, -5]), "explicit"),
    (lambda: Stages.geometric(first=10, factor=1.0), "factor"),
    (lambda: Stages.from_dict({"kind": "fibonacci"}), "fibonacci"),
])
def test_bad_settings_name_the_field_and_the_fix(make, field: str) -> None:  # noqa: ANN001
    with pytest.raises(StudyError, match=field) as info:
        make()
    assert info.value.hint


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"aggregate": "median"}, "aggregate"),
    ({"aggregate": "quantile"}, "q"),
    ({"values": np.array([0.5, math.nan])}, "finite"),
    ({"values": np.array([0.5, 2.0])}, "range"),
    ({"bounded": (1.0, 0.0)}, "low < high"),
    ({"direction": "up"}, "direction"),
])
def test_bad_series_are_refused(kwargs: dict, field: str) -> None:
    settings = {"name": "accuracy", "direction": "maximize", "values": np.array([1.0, 0.0]), "bounded": (0.0, 1.0), **kwargs}
    with pytest.raises(StudyError, match=field):
        ObjectiveSeries(**settings)


def test_bad_partial_trials_are_refused() -> None:
    acc = ObjectiveSeries("accuracy", "maximize", np.ones(3))
    with pytest.raises(StudyError, match="n_scored=4"):
        PartialTrial(0, {"accuracy": acc}, 4, 10, complete=False)
    with pytest.raises(StudyError, match="complete"):
        PartialTrial(0, {"accuracy": acc}, 3, 10, complete=True)
    with pytest.raises(StudyError, match="n_total"):
        PartialTrial(0, {"accuracy": acc}, 3, 2, complete=False)


def test_stages_give_their_boundaries_and_round_trip() -> None:
    assert Stages.geometric(10, 2).boundaries(200) == [10, 20, 40, 80, 160]
    assert Stages.geometric(10, 1.5).boundaries(50) == [10, 15, 22, 34]
    assert Stages.every(10).boundaries(35) == [10, 20, 30]
    assert Stages.explicit([300, 5]).boundaries(100) == [5]
    for stages in (Stages.geometric(5, 3), Stages.every(7), Stages.explicit([3, 9])):
        assert Stages.from_dict(json.loads(json.dumps(stages.to_dict()))) == stages
