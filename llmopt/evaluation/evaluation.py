"""Evaluation: a study objective made of a dataset, a pipeline and a metric, run by llmopt.

>>> from llmopt import ChoiceVar, Space, create_study
>>> data = Dataset([{"id": str(i), "question": f"{i}+1", "answer": str(i + 1)} for i in range(5)])
>>> def pipeline(config, example):  # a real one would call llmopt.complete(...)
...     return str(int(example.question[:-2]) + 1) if config["careful"] else "0"
>>> ev = Evaluation(data, pipeline, "exact_match", objectives=["accuracy", "error_rate"])
>>> study = create_study("doc-eval", Space({"careful": ChoiceVar([True, False])}), ev.objectives, storage=":memory:", seed=0)
>>> study.optimize(ev, n_trials=2)
>>> sorted(t.values["accuracy"] for t in study.trials)
[0.0, 1.0]
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from llmopt.errors import EvaluationError
from llmopt.evaluation.dataset import Dataset
from llmopt.evaluation.limits import Limits, RetryPolicy
from llmopt.evaluation.measures import Measure, resolve_measures, score_bounds
from llmopt.evaluation.metrics import METRICS, Metric
from llmopt.evaluation.pricing import Price, PriceBook
from llmopt.space import ChoiceVar, Space
from llmopt.trial import Objective

Pipeline = Callable[[Any, Any], Any]


class Evaluation:
    """Score every configuration on `dataset`: `pipeline(config, example)` -> output, `metric(output, expected)` -> [0, 1].

    `objectives` (built-in names or Measure objects) become the study's objectives;
    `extra_measures` are computed and stored too (outcome constraints may use them).
    Dollars: `budget` for the study, `trial_budget` per trial; `prices` for models litellm
    does not price; `models` lists the models the pipeline may call (else the space's
    choices named `*model` are checked) so a missing price stops the study before trial 0.
    Pruning: examples are scored in one study-wide order; after each of `stages` the
    `pruner` may stop a trial that is clearly dominated (default: Pareto-aware, "auto").
    """

    def __init__(
        self,
        dataset: Dataset | Iterable[Mapping[str, Any]],
        pipeline: Pipeline,
        metric: str | Metric = "exact_match",
        *,
        objectives: Sequence[str | Measure] = ("accuracy", "cost", "latency_p95"),
        extra_measures: Sequence[str | Measure] = (),
        answer_field: str | None = "answer",
        prices: Mapping[str, Price | Mapping[str, float]] | None = None,
        models: Sequence[str] | None = None,
        limits: Limits | None = None,
        retry: RetryPolicy | None = None,
        max_concurrent_examples: int | None = None,
        concurrent_trials: int = 1,
        overlap_trials: bool = True,
        cache: bool = True,
        budget: float | None = None,
        trial_budget: float | None = None,
        max_error_rate: float = 0.5,
        fail_fast_after: int = 10,
        pruner: Any = "auto",
        stages: Any = None,
    ) -> None:
        if isinstance(dataset, (str, os.PathLike)):  # a JSONL file (a string is never a list of examples)
            dataset = Dataset.from_jsonl(dataset)
        self.dataset = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
        if not callable(pipeline):
            raise EvaluationError(f"pipeline must be callable, got {pipeline!r}", "pass a function (config, example) -> output")
        self.pipeline = pipeline
        self.is_async = inspect.iscoroutinefunction(pipeline) or inspect.iscoroutinefunction(getattr(pipeline, "__call__", None))
        if isinstance(metric, str):
            if metric not in METRICS:
                raise EvaluationError(f"unknown metric {metric!r}", f"use one of {sorted(METRICS)} or a function (output, expected) -> float")
            metric = METRICS[metric]
        if not callable(metric):
            raise EvaluationError(f"metric must be a name or a function, got {metric!r}", "e.g. metric='exact_match'")
        self.metric = metric
        self.objective_measures = resolve_measures(objectives)
        if not self.objective_measures:
            raise EvaluationError("an evaluation needs at least one objective", "e.g. objectives=['accuracy', 'cost']")
        self.measures = resolve_measures([*self.objective_measures, *extra_measures])
        #: The metric's scores must lie here (accuracy is a rate in [0, 1]); an example whose score
        #: does not is stored as an error naming the metric and the value. None: any number.
        self.score_range, self.score_bounded_by = score_bounds(self.measures)
        self.answer_field = answer_field
        self.prices = PriceBook(prices)
        self.models = list(models) if models is not None else None
        self.limits = limits or Limits()
        self.retry = retry or RetryPolicy()
        self.max_concurrent_examples = max_concurrent_examples or self.limits.max_in_flight
        for name, value, low in (("concurrent_trials", concurrent_trials, 1), ("max_concurrent_examples", self.max_concurrent_examples, 1),
                                 ("fail_fast_after", fail_fast_after, 0)):
            if not isinstance(value, int) or value < low:
                raise EvaluationError(f"{name} must be an integer >= {low}, got {value!r}", f"e.g. {name}=4")
        if not 0 <= max_error_rate <= 1:
            raise EvaluationError(f"max_error_rate must be in [0, 1], got {max_error_rate!r}", "e.g. max_error_rate=0.5")
        for name, value in (("budget", budget), ("trial_budget", trial_budget)):
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise EvaluationError(f"{name} must be dollars >= 0, got {value!r}", f"e.g. {name}=2.0")
        self.concurrent_trials = concurrent_trials
        #: Start the next trial once a trial's last examples hold their slots, so the slots its
        #: tail leaves idle are used (at most 2 x concurrent_trials trials then run at once).
        #: False keeps trials strictly one after another per worker: a seeded history-based
        #: sampler then proposes the same sequence on every run.
        self.overlap_trials = bool(overlap_trials)
        self.cache = cache
        self.budget = budget
        self.trial_budget = trial_budget
        self.max_error_rate = max_error_rate
        self.fail_fast_after = fail_fast_after
        #: "auto" (ParetoPruner, sound for any number of objectives), None (no pruning) or a Pruner.
        self.pruner = pruner
        #: When the pruner decides: a `Stages`, a list of example counts, or None (the pruner's default).
        self.stages = stages

    def __repr__(self) -> str:
        return f"Evaluation({len(self.dataset)} examples, objectives={[m.name for m in self.objective_measures]})"

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """The study objectives this evaluation produces, in order."""
        return tuple(m.objective for m in self.objective_measures)

    def expected(self, example: Any) -> Any:
        return example if self.answer_field is None else example[self.answer_field]

    def models_in(self, space: Space) -> list[str]:
        """Models to price-check: the explicit list, else string options of choices whose path ends in 'model'."""
        if self.models is not None:
            return self.models
        found: list[str] = []
        for leaf in space.leaves:
            if leaf.path.split(".")[-1].endswith("model") and isinstance(leaf.var, ChoiceVar):
                found += [o for o in leaf.var.options if isinstance(o, str)]
        return found

    def check(self, objectives: Sequence[Objective], space: Space) -> None:
        """Before trial 0: the study's objectives are this evaluation's, and every model has a price."""
        mine = [(o.name, o.direction) for o in self.objectives]
        theirs = [(o.name, o.direction) for o in objectives]
        if mine != theirs:
            raise EvaluationError(
                f"the study's objectives {theirs} differ from the evaluation's {mine}",
                "create the study with objectives=evaluation.objectives",
            )
        self.prices.check(self.models_in(space))

    def plan(self, space: Space, n_trials: int, **options: Any) -> Any:
        """Cost preview of `n_trials` trials on `space` before spending: returns a `llmopt.Plan`
        (options and method: `llmopt.plan`).

        The preview runs trials, which is the study layer's job, and this layer may not import
        it (tests/test_layers.py): the call goes through the package's public `llmopt.plan`,
        looked up only when called.
        """
        import llmopt

        return llmopt.plan(self, space, n_trials, **options)
