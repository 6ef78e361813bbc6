"""Built-in metrics and measures."""

from __future__ import annotations

import math

import pytest

from llmopt.errors import EvaluationError
from llmopt.evaluation import MEASURES, Measure, contains, exact_match, normalized_exact_match, numeric_match, token_f1
from llmopt.evaluation.measures import resolve_measures
from llmopt.trial import ExampleResult


@pytest.mark.parametrize(
    ("metric", "prediction", "expected", "score"),
    [
        (exact_match, " 4 ", "4", 1.0),
        (exact_match, "four", "4", 0.0),
        (normalized_exact_match, "The Eiffel Tower!", "eiffel tower", 1.0),
        (numeric_match, "so x = -12.50", "-12.5", 1.0),
        (numeric_match, "no number", "3", 0.0),
        (numeric_match, "1,000", "1000", 1.0),
        (contains, "I think it is Paris.", "paris", 1.0),
        (contains, "Parisian", "paris", 0.0),
        (token_f1, "", "", 1.0),
        (token_f1, "blue", "red", 0.0),
    ],
)
def test_metrics(metric, prediction, expected, score) -> None:
    assert metric(prediction, expected) == score


def test_measures_aggregate_per_example_records() -> None:
    rows = [
        ExampleResult("a", {"score": 1.0}, cost=0.001, latency=1.0, prompt_tokens=10, completion_tokens=5),
        ExampleResult("b", {"score": math.nan}, cost=0.003, latency=2.0, error="boom"),
        ExampleResult("c", {"score": 0.5}, cost=0.002, latency=9.0),
    ]
    assert MEASURES["accuracy"].compute(rows) == pytest.approx(0.5)  # the failed example scores 0
    assert MEASURES["cost"].compute(rows) == pytest.approx(0.002)
    assert MEASURES["total_cost"].compute(rows) == pytest.approx(0.006)
    assert MEASURES["latency_p50"].compute(rows) == 2.0
    assert MEASURES["error_rate"].compute(rows) == pytest.approx(1 / 3)
    assert MEASURES["tokens"].compute(rows) == pytest.approx(5.0)
    refusals = Measure("refusal_rate", "minimize", fn=lambda rs: sum("sorry" in (r.output or "").lower() for r in rs) / len(rs))
    assert refusals.compute([ExampleResult("x", output="Sorry, no"), ExampleResult("y", output="ok")]) == 0.5
    assert math.isnan(MEASURES["accuracy"].compute([]))


def test_bad_measure_definitions() -> None:
    with pytest.raises(EvaluationError, match="exactly one of per_example= or fn="):
        Measure("m", "minimize")
    with pytest.raises(EvaluationError, match="0 < q < 1"):
        Measure("m", "minimize", lambda r: 0.0, aggregate="quantile", q=1.5)
    with pytest.raises(EvaluationError, match="unknown measure 'acuracy'"):
        resolve_measures(["acuracy"])
    with pytest.raises(EvaluationError, match="distinct"):
        resolve_measures(["cost", "cost"])
