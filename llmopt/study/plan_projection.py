"""The arithmetic of a cost preview: measured configurations -> a study's calls, dollars and seconds, with ranges.

Pure functions over what the plan measured (no storage, no LLM), so each step can be checked
on numbers chosen by hand.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats


@dataclass(frozen=True)
class Span:
    """A projected quantity: `mid`, and the range `low`-`high` it is expected within."""

    low: float
    mid: float
    high: float

    def times(self, factor: Span | float) -> Span:
        f = factor if isinstance(factor, Span) else Span(factor, factor, factor)
        return Span(self.low * f.low, self.mid * f.mid, self.high * f.high)


def trial_total(values: Sequence[float], n_examples: int, cold: int) -> float:
    """One configuration's total over a full trial, from its plan examples in the order they started.

    The first `cold` examples start together, before any has finished: a backend that caches a
    prompt's shared prefix (llama.cpp, vLLM, hosted prompt caching) serves them slower than the
    rest, and a study's trial has such a start once. So they count once, and the others are
    scaled to the rest of the set.
    """
    warm = values[cold:]
    if not warm or cold >= n_examples:
        return statistics.fmean(values) * n_examples
    return sum(values[:cold]) + statistics.fmean(warm) * (n_examples - cold)


def prediction(values_per_config: Sequence[Sequence[float]], n_examples: int, n_trials: int, cold: int = 0) -> Span:
    """The total over `n_trials` trials of `n_examples` examples, from per-example samples of a few configurations.

    Each configuration's trial total comes from `trial_total`. The range is a 95% prediction
    interval for the mean of `n_trials` new configurations drawn like the measured ones: the
    spread across configurations (t with M-1 degrees of freedom, shrinking with more trials and
    more measured configurations) combined in quadrature with the sampling error of the plan's
    examples about the whole set (t with K-1 degrees of freedom, finite-population correction;
    every configuration sees the same examples, so this part does not average out). Costs are
    skewed, so the low end is kept at least at every trial like the cheapest measured
    configuration, less that sampling error.
    """
    totals = [trial_total(v, n_examples, cold) for v in values_per_config]
    m = len(totals)
    center = statistics.fmean(totals)
    warm = all(len(v) - cold >= 2 for v in values_per_config)
    sampled = [v[cold:] for v in values_per_config] if warm and cold else list(values_per_config)
    k = min(len(v) for v in sampled)
    rest = n_examples - cold if warm and cold else n_examples  # the examples the sampled ones stand for
    relative = 0.0  # half-width of that sampling error, relative to a trial total
    if k >= 2 and rest > k:
        fpc = math.sqrt((rest - k) / (rest - 1))
        errors = [statistics.stdev(v) * rest / math.sqrt(k) * fpc for v in sampled]
        relative = float(stats.t.ppf(0.975, k - 1)) * statistics.fmean(e / t if t > 0 else 0.0 for e, t in zip(errors, totals))
    spread = float(stats.t.ppf(0.975, m - 1)) * statistics.stdev(totals) * math.sqrt(1 / n_trials + 1 / m) if m >= 2 else 0.0
    half = math.hypot(spread, relative * center)
    low = max(center - half, min(totals) * max(0.0, 1 - relative), 0.0)
    return Span(low * n_trials, center * n_trials, (center + half) * n_trials)


# -- pruning --------------------------------------------------------------------------------------
#: Share of the examples the default pruner (ParetoPruner, a look every 10 examples) scores,
#: against no pruning: (min, median, max) over 20 seeds of the pruning benchmark's simulated study
#: (benchmarks/pruning_sim.py, trials in random order), keyed by (objectives, trials, examples).
#: Measured for docs/benchmarks.md, "Cost preview (plan)"; the (2, 40, 200) cell is the 74.9 %
#: (60.3-84.0 %) of docs/benchmarks-pruning.md. Objectives are accuracy, + cost, + p95 latency.
DEFAULT_PRUNER_SHARE: dict[tuple[int, int, int], tuple[float, float, float]] = {
    (1, 5, 20): (0.600, 0.800, 1.000), (2, 5, 20): (0.800, 1.000, 1.000), (3, 5, 20): (0.800, 1.000, 1.000),
    (1, 10, 20): (0.550, 0.800, 0.950), (2, 10, 20): (0.850, 1.000, 1.000), (3, 10, 20): (0.900, 1.000, 1.000),
    (1, 20, 20): (0.625, 0.775, 0.975), (2, 20, 20): (0.850, 0.975, 1.000), (3, 20, 20): (0.900, 0.975, 1.000),
    (1, 40, 20): (0.575, 0.650, 0.875), (2, 40, 20): (0.713, 0.906, 0.988), (3, 40, 20): (0.725, 0.944, 1.000),
    (1, 80, 20): (0.531, 0.613, 0.719), (2, 80, 20): (0.750, 0.859, 0.956), (3, 80, 20): (0.775, 0.906, 0.981),
    (1, 5, 50): (0.520, 0.780, 0.960), (2, 5, 50): (0.880, 0.980, 1.000), (3, 5, 50): (0.880, 1.000, 1.000),
    (1, 10, 50): (0.520, 0.660, 0.800), (2, 10, 50): (0.760, 0.950, 1.000), (3, 10, 50): (0.840, 0.960, 1.000),
    (1, 20, 50): (0.360, 0.555, 0.700), (2, 20, 50): (0.760, 0.915, 0.980), (3, 20, 50): (0.790, 0.935, 1.000),
    (1, 40, 50): (0.300, 0.465, 0.665), (2, 40, 50): (0.765, 0.873, 0.905), (3, 40, 50): (0.815, 0.915, 0.945),
    (1, 80, 50): (0.328, 0.399, 0.560), (2, 80, 50): (0.618, 0.806, 0.880), (3, 80, 50): (0.690, 0.863, 0.925),
    (1, 5, 200): (0.290, 0.650, 0.830), (2, 5, 200): (0.810, 0.970, 1.000), (3, 5, 200): (0.850, 0.990, 1.000),
    (1, 10, 200): (0.210, 0.495, 0.665), (2, 10, 200): (0.725, 0.903, 1.000), (3, 10, 200): (0.735, 0.927, 1.000),
    (1, 20, 200): (0.172, 0.360, 0.527), (2, 20, 200): (0.542, 0.844, 0.975), (3, 20, 200): (0.580, 0.894, 0.988),
    (1, 40, 200): (0.141, 0.312, 0.375), (2, 40, 200): (0.603, 0.749, 0.840), (3, 40, 200): (0.690, 0.824, 0.896),
    (1, 80, 200): (0.154, 0.261, 0.340), (2, 80, 200): (0.584, 0.698, 0.806), (3, 80, 200): (0.661, 0.782, 0.892),
}
SHARE_TRIALS = (5, 10, 20, 40, 80)
SHARE_EXAMPLES = (20, 50, 200)
FIRST_LOOK = 10  # the default pruner's first stage (Stages.every(10))


def default_pruner_share(n_objectives: int, n_trials: int, n_examples: int, width: int) -> tuple[Span, str]:
    """The default pruner's expected share of examples scored, with the figure it comes from.

    The simulated study's cell with the most trials and examples not above this study's
    (fewer trials or examples prune less, so this errs towards spending more); below the
    smallest cell, no saving is expected (the low end keeps the smallest cell's). The saving
    is then cut by the examples a pruned trial still starts past its stage boundary (up to
    `width`, the slots kept busy: runner.run_trial), relative to what stopping at the first
    look saves.
    """
    if n_trials < 2 or n_examples <= FIRST_LOOK:
        return Span(1.0, 1.0, 1.0), "no pruning expected: " + (
            "one trial has nothing to be compared with" if n_trials < 2 else f"{n_examples} examples end before the first look at {FIRST_LOOK}")
    k = min(max(n_objectives, 1), 3)
    trials = max([t for t in SHARE_TRIALS if t <= n_trials], default=SHARE_TRIALS[0])
    examples = max([e for e in SHARE_EXAMPLES if e <= n_examples], default=SHARE_EXAMPLES[0])
    low, mid, high = DEFAULT_PRUNER_SHARE[(k, trials, examples)]
    below = n_trials < SHARE_TRIALS[0] or n_examples < SHARE_EXAMPLES[0]
    if below:
        mid = high = 1.0
    kept = max(0.0, (n_examples - FIRST_LOOK - width) / (n_examples - FIRST_LOOK))
    share = Span(*(1 - (1 - s) * kept for s in (low, mid, high)))
    source = (f"default ParetoPruner, simulated study of {k} objective(s), {trials} trials x {examples} examples: "
              f"{low:.1%} / {mid:.1%} / {high:.1%} of the examples (min / median / max of 20 seeds, "
              f"docs/benchmarks.md 'Cost preview'){'; fewer here, so no saving expected' if below else ''}"
              f"{f'; savings x{kept:.2f} for the {width} examples a pruned trial still starts' if kept < 1 else ''}")
    return share, source


def study_in_flight(n_examples: int, max_concurrent_examples: int, concurrent_trials: int, max_in_flight: int,
                    overlap_trials: bool) -> float:
    """Examples in flight on average in the study: each trial runs `max_concurrent_examples` at
    once, `concurrent_trials` side by side (Limits.max_in_flight caps the requests). Without
    overlap a trial's last wave runs part-empty: N examples take ceil(N / C) waves."""
    per_trial = min(n_examples, max_concurrent_examples)
    if not overlap_trials:
        per_trial = n_examples / math.ceil(n_examples / per_trial)
    return max(1.0, min(per_trial * concurrent_trials, float(max_in_flight)))


def wall_seconds(example_seconds: Span, in_flight: float, plan_in_flight: float) -> Span:
    """Wall time from the examples' summed latency: divided by the examples in flight.

    Low and mid assume latency stays as measured with `in_flight` examples at once (a hosted
    API); the high end also allows a backend that serves no more at once than during the plan
    (`plan_in_flight`, measured: summed latency / the plan's wall time), e.g. a local model
    that queues requests.
    """
    slowest = max(1.0, min(in_flight, plan_in_flight))
    return Span(example_seconds.low / in_flight, example_seconds.mid / in_flight, example_seconds.high / slowest)
