"""Cost preview before spending: measure a few configurations on a few examples, project the study.

>>> from llmopt import ChoiceVar, Dataset, Evaluation, Space
>>> data = Dataset([{"id": str(i), "question": "q", "answer": "a"} for i in range(20)])
>>> ev = Evaluation(data, lambda config, example: "a", objectives=["accuracy", "cost"], pruner=None)
>>> preview = plan(ev, Space({"k": ChoiceVar([1, 2, 3, 4, 5])}), n_trials=5, seed=0)
>>> preview.trials, preview.examples_per_trial, preview.dollars.high, preview.pruning_share.mid
(5, 20, 0.0, 1.0)
"""

from __future__ import annotations

import copy
import math
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from llmopt.errors import EvaluationError, StudyError
from llmopt.evaluation.dataset import Dataset
from llmopt.evaluation.evaluation import Evaluation
from llmopt.samplers import RandomSampler, Sampler, default_sampler, sampler_from_dict
from llmopt.samplers.grid import finite_size
from llmopt.space import ChoiceVar, FloatVar, IntVar, Space
from llmopt.study import pruning_settings
from llmopt.study.arguments import check_seed
from llmopt.study.plan_projection import Span, default_pruner_share, prediction, study_in_flight, wall_seconds
from llmopt.study.plan_text import summary_of
from llmopt.study.staging import prunable
from llmopt.study.study import Study, create_study
from llmopt.trial import TrialRecord

SCRATCH = "llmopt-plan"
MAX_CORNER_STEPS = 50  # values tried per numeric variable when the highest one breaks a constraint


@dataclass(frozen=True)
class MeasuredConfig:
    """One configuration the plan ran, per example of the plan's examples (list price: the cache does not change it)."""

    params: dict[str, Any]
    state: str
    examples: int
    dollars_per_example: float
    calls_per_example: float  # requests sent, retries included, cache hits not
    seconds_per_example: float  # latency, as the study measures it
    corner: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Plan:
    """A study's projected calls, dollars and wall time, without pruning and with the expected pruning.

    Every projection is a `Span` (low, mid, high); `summary()` says how each range is made.
    `max_dollars` (the upper end without pruning, capped by the study budget) is what
    `llmopt optimize --max-spend` compares against: pruning is expected, never promised.
    """

    n_trials: int  # trials asked for
    trials: int  # trials projected (a finite space may have fewer configurations left)
    examples_per_trial: int
    objectives: int
    seed: int
    sampled: int  # sampled configurations measured (the corner apart)
    calls: Span
    dollars: Span
    seconds: Span
    pruned_calls: Span
    pruned_dollars: Span
    pruned_seconds: Span
    pruning_share: Span  # share of the examples scored with pruning (1.0: none)
    pruning_basis: str  # the figure the share comes from
    plan_examples: int  # K: the first K examples of the study's order
    plan_dollars: float  # what the plan itself paid
    plan_calls: int
    plan_seconds: float
    in_flight: float  # examples in flight in the study
    plan_in_flight: float  # measured during the plan: summed latency / wall time
    measured: tuple[MeasuredConfig, ...]  # most expensive first, the corner included
    corner: MeasuredConfig | None = None
    corner_note: str = ""
    costliest_option: str | None = None
    costliest_ratio: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def max_dollars(self) -> float:
        return self.dollars.high

    @property
    def corner_dollars(self) -> float | None:
        """Every projected trial like the corner: a worst case when cost grows with the numeric settings."""
        if self.corner is None:
            return None
        return self.corner.dollars_per_example * self.examples_per_trial * self.trials

    def summary(self) -> str:
        return summary_of(self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"max_dollars": self.max_dollars, "corner_dollars": self.corner_dollars}


def plan(
    evaluation: Evaluation,
    space: Space | Mapping[str, Any] | None,
    n_trials: int,
    *,
    study: Study | None = None,
    seed: int | None = None,
    sampler: Sampler | None = None,
    examples: int = 5,
    configs: int = 4,
    corner: bool = True,
    show_progress: bool | None = False,
) -> Plan:
    """Preview what `study.optimize(evaluation, n_trials)` would call, pay and take, before paying for it.

    How: `configs` configurations are sampled as a study would sample them (its seed and
    sampler: with the default sampler the first ones are the study's own first proposals) and
    run as trials of a throwaway in-memory study on the first `examples` examples of the
    study's evaluation order, through the same Evaluation machinery (pipeline, litellm
    metering, prices, retries, cache, limits), with no pruning and no budget. With `corner`, the
    most expensive of them is run again with every numeric setting at its highest feasible
    value. One warm-up call goes first (a backend's first request is slow once per study, not once
    per configuration). The plan pays for these calls (`plan_dollars`).

    The ranges: per trial, each measured configuration's first min(examples,
    max_concurrent_examples) examples once (they start together, and are slower where the
    backend caches prompt prefixes) plus its other examples' mean for the rest of the set; across
    trials, a 95% prediction interval for the mean of `n_trials` configurations like the measured
    ones (their spread, t with configs-1 degrees of freedom) combined with the sampling error of
    `examples` examples out of the set. Configurations a real sampler favours later (the front)
    may cost more or less than the sampled ones: the corner shows how far up cost can go. With
    pruning, the share of examples scored comes from the pruning benchmark's simulated study for
    the default pruner (docs/benchmarks.md "Cost preview"; e.g. 74.9 %, 60.3-84.0 %, at 2
    objectives x 40 trials x 200 examples, docs/benchmarks-pruning.md), at the nearest shape not
    above this study's; `pruner=None` or another pruner: no saving is projected. Wall time: the
    summed latency divided by the examples in flight (min(examples, max_concurrent_examples) x
    concurrent_trials, at most Limits.max_in_flight); the plan runs enough trials side by side to
    load the backend as the study will, and the high end allows a backend that serves only as
    many at once as it did during the plan. A study budget caps the dollars (plus the calls in
    flight when it is reached); trial_budget caps each trial.

    `study`: an existing study, whose seed, sampler, stored pruning and spend are used (it is not
    changed); else `seed` (None: a random one) and `sampler` (None: the default) of a new study.
    This lives in the study layer because it runs trials; `Evaluation.plan` forwards here.
    """
    if not isinstance(evaluation, Evaluation):
        raise StudyError(f"plan needs an Evaluation, got {type(evaluation).__name__}", "pass Evaluation(dataset, pipeline, metric)")
    if space is None and study is not None:
        space = study.space
    if space is None:
        raise StudyError("plan needs a space", "pass space=Space({...}) (or study=)")
    space = space if isinstance(space, Space) else Space(space)
    n_trials = _whole("n_trials", n_trials, 1, "e.g. n_trials=60")
    configs = _whole("configs", configs, 2, "e.g. configs=4: a range needs at least two configurations")
    total = len(evaluation.dataset)
    examples = _whole("examples", examples, 1, "e.g. examples=5")
    if examples > total:
        raise StudyError(f"examples={examples} is more than the evaluation set's {total} examples", f"use examples <= {total}")
    if examples < 2 and total > 1:
        raise StudyError("examples=1 leaves the spread between examples unknown", "use examples >= 2")
    setting = _settings(evaluation, study, seed, sampler)
    order = evaluation.dataset.order(setting["seed"])[:examples]
    scratch_ev = _scratch_evaluation(evaluation, Dataset([evaluation.dataset[i] for i in order]))
    in_flight = study_in_flight(total, evaluation.max_concurrent_examples, evaluation.concurrent_trials,
                                evaluation.limits.max_in_flight, evaluation.overlap_trials)
    scratch_ev.concurrent_trials = max(1, min(configs, max(evaluation.concurrent_trials,
                                                           math.ceil(in_flight / min(examples, evaluation.max_concurrent_examples)))))
    started = time.perf_counter()
    warm_dollars, warm_calls = _warm_up(scratch_ev, space, setting["seed"])
    with create_study(SCRATCH, space, evaluation.objectives, storage=":memory:", sampler=setting["sampler"],
                      seed=setting["seed"], allow_repeats=setting["allow_repeats"]) as scratch:
        scratch.optimize(scratch_ev, n_trials=configs, show_progress=show_progress)
        order = scratch_ev.dataset.order(setting["seed"])  # the order the plan's trials start their examples in
        sampled = [_measure(scratch, t, order) for t in scratch.trials]
        plan_in_flight = _in_flight(scratch, scratch.trials)
        if all(m.state == "FAILED" or not m.examples for m, _ in sampled):
            reason = next((m.error for m, _ in sampled if m.error), None) or "no example was scored"
            raise EvaluationError(f"all {len(sampled)} configurations the plan ran FAILED: {reason}",
                                  "fix the pipeline or its server first (llmopt optimize would fail the same way)")
        corner_measured, corner_note, extra = None, "not asked (corner=False)", []
        if corner:
            corner_measured, corner_note, extra = _run_corner(scratch, scratch_ev, space, sampled, order, show_progress)
        plan_seconds = time.perf_counter() - started
        plan_dollars = warm_dollars + scratch.storage.study_spent(scratch._record.study_id)
        plan_calls = warm_calls + _requests(scratch)
    return _project(evaluation, space, setting, n_trials, examples, sampled, extra, in_flight, plan_in_flight,
                    plan_dollars, plan_calls, plan_seconds, corner_measured, corner_note)


def _whole(name: str, value: Any, low: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise StudyError(f"{name} must be a whole number >= {low}, got {value!r}", hint)
    return value


def _settings(ev: Evaluation, study: Study | None, seed: int | None, sampler: Sampler | None) -> dict[str, Any]:
    """Seed, sampler, pruning, spend and taken configurations: the existing study's, else a new one's."""
    if study is not None:
        stored = study._record.system_attrs.get(pruning_settings.KEY)
        if stored is not None and ev.pruner == "auto" and ev.stages is None:
            pruning = pruning_settings.from_dict(stored)
        else:
            pruning = pruning_settings.resolve(ev.pruner, ev.stages)
        records = study.trials
        return {"seed": study.seed, "sampler": sampler_from_dict(study.sampler.to_dict()), "pruning": pruning,
                "spent": study.storage.study_spent(study._record.study_id), "allow_repeats": study.settings.allow_repeats,
                "taken": len({t.fingerprint for t in records if t.fingerprint})}
    seed = check_seed(seed)
    return {"seed": seed if seed is not None else secrets.randbits(63), "sampler": sampler or default_sampler(),
            "pruning": pruning_settings.resolve(ev.pruner, ev.stages), "spent": 0.0, "allow_repeats": False,
            "taken": 0}


def _scratch_evaluation(ev: Evaluation, data: Dataset) -> Evaluation:
    """The same Evaluation (pipeline, metric, prices, limits, retries, cache) on the plan's examples, unpruned, unbudgeted."""
    scratch = copy.copy(ev)
    scratch.dataset = data
    scratch.pruner, scratch.stages, scratch.budget, scratch.trial_budget = None, None, None, None
    return scratch


def _warm_up(ev: Evaluation, space: Space, seed: int) -> tuple[float, int]:
    """One example of one random configuration first, in a study of its own (the sampled ones stay
    the study's first proposals): a backend's first request (loading a model, opening
    connections) is paid once by a study, and must not count in every measured configuration."""
    one = copy.copy(ev)
    one.dataset, one.concurrent_trials = Dataset([ev.dataset[0]]), 1
    with create_study(SCRATCH + "-warm-up", space, ev.objectives, storage=":memory:", sampler=RandomSampler(),
                      seed=seed ^ 1) as warm:
        warm.optimize(one, n_trials=1)
        return warm.storage.study_spent(warm._record.study_id), _requests(warm)


def _requests(study: Study) -> int:
    """Requests a study sent: retries included, cache hits not."""
    return sum(1 for t in study.trials for c in study.storage.get_calls(t.trial_id) if not c.cache_hit)


def _measure(study: Study, record: TrialRecord, order: Sequence[str]) -> tuple[MeasuredConfig, dict[str, list[float]]]:
    """A trial's per-example samples (dollars at list price, requests sent, latency) in the order its
    examples started, and their means."""
    position = {example_id: i for i, example_id in enumerate(order)}
    results = sorted(study.storage.get_example_results(record.trial_id), key=lambda r: position.get(r.example_id, len(order)))
    sent = Counter(c.example_id for c in study.storage.get_calls(record.trial_id) if not c.cache_hit)
    samples = {
        "dollars": [r.cost or 0.0 for r in results],
        "calls": [float(sent.get(r.example_id, 0)) for r in results],
        "seconds": [r.latency or 0.0 for r in results],
    }
    mean = {k: statistics.fmean(v) if v else 0.0 for k, v in samples.items()}
    error = (record.error or "").splitlines()[0][:200] if record.error else None
    measured = MeasuredConfig(dict(record.params or {}), record.state.value, len(results), mean["dollars"],
                              mean["calls"], mean["seconds"], error=error)
    return measured, samples


def _in_flight(study: Study, records: Sequence[TrialRecord]) -> float:
    """Examples in flight on average while the plan's trials ran: summed latency / their wall time."""
    starts = [t.started_at for t in records if t.started_at]
    ends = [t.finished_at for t in records if t.finished_at]
    if not starts or not ends:
        return 1.0
    wall = (max(ends) - min(starts)).total_seconds()
    latency = sum(r.latency or 0.0 for t in records for r in study.storage.get_example_results(t.trial_id))
    return max(1.0, latency / wall) if wall > 0 else 1.0


def corner_of(space: Space, params: Mapping[str, Any], prefer: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`params` with the `prefer`red choices (e.g. the dearest model) and every active numeric setting
    (ints, floats, all-number choices) at its highest value, each kept only where the configuration
    stays feasible; modules and other choices are kept."""
    values = dict(params)
    for path, value in (prefer or {}).items():
        candidate = {**values, path: value}
        if path in values and space.is_feasible(candidate):
            values = candidate
    for leaf in space.leaves:
        if leaf.path not in values or not leaf.is_active(values):
            continue
        for value in _highest_first(leaf.var)[:MAX_CORNER_STEPS]:
            if value == values[leaf.path]:
                break  # already as high as the constraints allow
            candidate = {**values, leaf.path: value}
            if space.is_feasible(candidate):
                values = candidate
                break
    return values


def model_choices(space: Space) -> list[tuple[str, list[str]]]:
    """Choices of models (a path ending in 'model', string options), as Evaluation.models_in finds them."""
    return [(leaf.path, [o for o in leaf.var.options if isinstance(o, str)]) for leaf in space.leaves
            if leaf.path.split(".")[-1].endswith("model") and isinstance(leaf.var, ChoiceVar)]


def dearest_models(ev: Evaluation, space: Space) -> dict[str, str]:
    """Per model choice, the option with the highest list price per token, where every option has
    one (per-second prices depend on the machine, so they are not compared)."""
    dearest = {}
    for path, options in model_choices(space):
        prices = [ev.prices.price(o) for o in options]
        if len(options) > 1 and all(p is not None and not p.per_second for p in prices):
            dearest[path] = max(zip(options, prices), key=lambda op: op[1].prompt + op[1].completion)[0]
    return dearest


def _highest_first(var: Any) -> list[Any]:
    if isinstance(var, IntVar):
        return list(range(var.high, max(var.low, var.high - var.stride * MAX_CORNER_STEPS) - 1, -var.stride))
    if isinstance(var, FloatVar):
        return list(reversed(var.grid()))[:MAX_CORNER_STEPS] if var.step is not None else [var.high]
    if isinstance(var, ChoiceVar) and len(var.options) > 1 and all(
            isinstance(o, (int, float)) and not isinstance(o, bool) for o in var.options):
        return sorted(var.options, reverse=True)
    return []


def _run_corner(scratch: Study, ev: Evaluation, space: Space, sampled: list[tuple[MeasuredConfig, dict[str, list[float]]]],
                order: Sequence[str], show_progress: bool | None) -> tuple[MeasuredConfig | None, str, list[tuple[MeasuredConfig, dict[str, list[float]]]]]:
    """Run the corner of the most expensive sampled configuration (or mark it, if it already is its own corner)."""
    base = max((m for m, _ in sampled if m.examples), key=lambda m: m.dollars_per_example)
    params = corner_of(space, base.params, dearest_models(ev, space))
    fingerprint = space.config(params).fingerprint
    for i, (m, samples) in enumerate(sampled):
        if space.config(m.params).fingerprint == fingerprint:
            sampled[i] = (marked := _as_corner(m), samples)
            return marked, ("the most expensive sampled configuration already has the dearest model and every numeric "
                            "setting at its highest feasible value"), []
    scratch.enqueue(params)
    scratch.optimize(ev, n_trials=1, show_progress=show_progress)
    record = scratch.trials[-1]
    measured, samples = _measure(scratch, record, order)
    if not measured.examples:
        return None, f"the corner scored no example ({measured.error or measured.state})", []
    measured = _as_corner(measured)
    return measured, ("the most expensive sampled configuration with the dearest model and every numeric setting at its "
                      "highest feasible value (run alone)"), [(measured, samples)]


def _as_corner(m: MeasuredConfig) -> MeasuredConfig:
    return MeasuredConfig(m.params, m.state, m.examples, m.dollars_per_example, m.calls_per_example,
                          m.seconds_per_example, corner=True, error=m.error)


def _project(ev: Evaluation, space: Space, setting: dict[str, Any], n_trials: int, examples: int,
             sampled: list[tuple[MeasuredConfig, dict[str, list[float]]]], extra: list[tuple[MeasuredConfig, dict[str, list[float]]]],
             in_flight: float, plan_in_flight: float,
             plan_dollars: float, plan_calls: int, plan_seconds: float, corner: MeasuredConfig | None, corner_note: str) -> Plan:
    total = len(ev.dataset)
    notes: list[str] = []
    trials = _trials_left(space, setting, n_trials, notes)
    runs = [(m, s) for m, s in sampled if m.examples]  # the corner run alone (`extra`) is shown, not averaged in
    width = min(ev.max_concurrent_examples, ev.limits.max_in_flight)
    per_config = [_trial_capped(s, ev.trial_budget, total, width) for _, s in runs]
    stopped = sum(capped for _, capped in per_config)
    if stopped:
        notes.append(f"trial_budget ${ev.trial_budget:g} stops {stopped} of the {len(runs)} measured configurations early")
    for path, options in model_choices(space):
        seen = {m.params.get(path) for m, _ in runs}
        if len(options) > 1 and not set(options) <= seen:
            notes.append(f"the measured configurations used {len(seen & set(options))} of the {len(options)} options of {path}: "
                         "the range may miss the others' cost (the corner shows the dearest; more --configs help)")
    failed = [m for m, _ in runs if m.state == "FAILED"]
    if failed:
        notes.append(f"{len(failed)} of {len(runs)} measured configurations FAILED ({failed[0].error}); their calls count as measured")
    if trials == 0:
        calls = dollars = example_seconds = Span(0.0, 0.0, 0.0)
    else:
        cold = min(examples, ev.max_concurrent_examples)  # a trial's first examples, started together
        calls, dollars, example_seconds = (prediction([s[key] for s, _ in per_config], total, trials, cold)
                                           for key in ("calls", "dollars", "seconds"))
    seconds = wall_seconds(example_seconds, in_flight, plan_in_flight)
    share, basis = _pruning_share(ev, setting, trials, total, width)
    largest = max((x for _, s in [*sampled, *extra] for x in s["dollars"]), default=0.0)
    unpruned = _budget_capped(ev, setting, (calls, dollars, seconds), in_flight * largest, notes)
    pruned = _budget_capped(ev, setting, (calls.times(share), dollars.times(share), seconds.times(share)), in_flight * largest, [])
    measured = tuple(sorted((m for m, _ in [*sampled, *extra]), key=lambda m: -m.dollars_per_example))
    option, ratio = costliest_option(space, [m for m in measured if m.examples])
    return Plan(
        n_trials=n_trials, trials=trials, examples_per_trial=total, objectives=len(ev.objectives), seed=setting["seed"],
        sampled=len(runs),
        calls=unpruned[0], dollars=unpruned[1], seconds=unpruned[2], pruned_calls=pruned[0], pruned_dollars=pruned[1],
        pruned_seconds=pruned[2], pruning_share=share, pruning_basis=basis, plan_examples=examples,
        plan_dollars=plan_dollars, plan_calls=plan_calls, plan_seconds=plan_seconds, in_flight=in_flight,
        plan_in_flight=plan_in_flight, measured=measured, corner=corner, corner_note=corner_note,
        costliest_option=option, costliest_ratio=ratio, notes=tuple(notes),
    )


def _trials_left(space: Space, setting: dict[str, Any], n_trials: int, notes: list[str]) -> int:
    """`n_trials`, or fewer when a finite space has fewer configurations left (no repeats)."""
    sampler = setting["sampler"]
    if not (sampler.unique or not setting["allow_repeats"]):
        return n_trials
    size = sampler.size(space) if hasattr(sampler, "size") else finite_size(space)
    if size is None:
        return n_trials
    left = max(0, size - setting["taken"])
    if left < n_trials:
        notes.append(f"the space has {left} configuration(s) left, so {left} trial(s) are projected, not {n_trials}")
    return min(n_trials, left)


def _trial_capped(samples: dict[str, list[float]], trial_budget: float | None, total: int,
                  width: int) -> tuple[dict[str, list[float]], bool]:
    """A configuration over `trial_budget` stops there (plus its examples in flight): fewer examples, scaled down."""
    mean = statistics.fmean(samples["dollars"]) if samples["dollars"] else 0.0
    if trial_budget is None or mean * total <= trial_budget:
        return samples, False
    reach = trial_budget + width * max(samples["dollars"])
    factor = min(1.0, reach / (mean * total))
    return {k: [x * factor for x in v] for k, v in samples.items()}, factor < 1.0


def _pruning_share(ev: Evaluation, setting: dict[str, Any], trials: int, total: int, width: int) -> tuple[Span, str]:
    pruner, stages = setting["pruning"]
    none = Span(1.0, 1.0, 1.0)
    if pruner is None or stages is None:
        return none, "pruner=None: no pruning, every trial scores every example"
    blocked = prunable({m.name: m for m in ev.measures}, ev.objectives)
    if blocked:
        return none, f"no pruning: objective(s) {blocked} have no per-example values"
    if pruning_settings.to_dict(pruner, stages) != pruning_settings.to_dict(*pruning_settings.resolve("auto", None)):
        return none, (f"no measured figure for {type(pruner).__name__} with these stages: projected without a saving "
                      "(it may well save some)")
    return default_pruner_share(len(ev.objectives), trials, total, width)


def _budget_capped(ev: Evaluation, setting: dict[str, Any], spans: tuple[Span, Span, Span], in_flight_dollars: float,
                   notes: list[str]) -> tuple[Span, Span, Span]:
    """A study budget stops new calls once reached (the calls in flight still finish): dollars
    capped there, calls and wall time in proportion."""
    if ev.budget is None:
        return spans
    cap = max(0.0, ev.budget - setting["spent"]) + in_flight_dollars
    calls, dollars, seconds = spans
    factors = [min(1.0, cap / d) if d > 0 else 1.0 for d in (dollars.low, dollars.mid, dollars.high)]
    if factors[2] < 1.0:
        notes.append(f"the study budget (${ev.budget:g}, ${setting['spent']:.4g} spent) stops it at about ${cap:.4g}, "
                     f"about {factors[1]:.0%} of the way (mid)")
    scale = Span(*factors)
    return calls.times(scale), dollars.times(scale), seconds.times(scale)


def costliest_option(space: Space, measured: Sequence[MeasuredConfig]) -> tuple[str | None, float | None]:
    """The choice or module option whose measured configurations cost most per example against the others'."""
    best: tuple[float, str] | None = None
    for leaf in space.leaves:
        if leaf.var.kind not in ("choice", "module"):
            continue
        seen = [(m.params[leaf.path], m.dollars_per_example) for m in measured if leaf.path in m.params]
        keys = {(type(v), v) for v, _ in seen}
        if len(keys) < 2:
            continue
        for key in keys:
            with_it = [d for v, d in seen if (type(v), v) == key]
            others = [d for v, d in seen if (type(v), v) != key]
            mean_others = statistics.fmean(others)
            ratio = statistics.fmean(with_it) / mean_others if mean_others > 0 else math.inf
            if ratio > 1 and (best is None or ratio > best[0]):
                best = (ratio, f"{leaf.path}={key[1]}")
    return (best[1], best[0]) if best else (None, None)
