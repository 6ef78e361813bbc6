"""The cost preview as text: the projections, what the plan paid, what costs most, and how each range is made."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from llmopt.study.plan_projection import Span

if TYPE_CHECKING:
    from llmopt.study.plan import MeasuredConfig, Plan

SHOWN_CONFIGS = 3


def money(x: float) -> str:
    """Dollars with three significant digits and no exponent ($0.0213, $0.0000610, $12.30)."""
    if x <= 0:
        return "$0"
    decimals = max(2, 2 - math.floor(math.log10(x)))
    return f"${x:,.{decimals}f}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m {int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h {int(seconds % 3600 // 60):02d}m"


def _calls(x: float) -> str:
    return f"{x:,.0f}"


def _span(span: Span, fmt: Any) -> str:
    return f"{fmt(span.mid)} ({fmt(span.low)}-{fmt(span.high)})"


def _config(m: MeasuredConfig) -> str:
    settings = " ".join(f"{k}={v}" for k, v in m.params.items())
    state = "" if m.state == "COMPLETE" else f" [{m.state}]"
    return (f"  {money(m.dollars_per_example):>11}  {m.calls_per_example:4.1f} calls  {duration(m.seconds_per_example):>7}  "
            f"{settings}{' (corner)' if m.corner else ''}{state}")


def summary_of(plan: Plan) -> str:
    ran_corner = plan.corner is not None and plan.corner_note.endswith("(run alone)")
    head = (f"Cost preview of {plan.trials} trial(s) x {plan.examples_per_trial} examples (seed {plan.seed}): measured "
            f"{plan.sampled} sampled configuration(s){' and a corner' if ran_corner else ''} on the first "
            f"{plan.plan_examples} examples of the study's order.")
    rows = [("", "calls", "dollars", "wall time"),
            ("without pruning", _span(plan.calls, _calls), _span(plan.dollars, money), _span(plan.seconds, duration)),
            ("with pruning", _span(plan.pruned_calls, _calls), _span(plan.pruned_dollars, money), _span(plan.pruned_seconds, duration))]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    table = ["  " + "   ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines = [head, *table,
             f"The plan itself spent {money(plan.plan_dollars)} on {plan.plan_calls} call(s) (one a warm-up) in {duration(plan.plan_seconds)}.",
             "Most expensive configurations measured ($, calls and seconds per example):",
             *(_config(m) for m in plan.measured[:SHOWN_CONFIGS])]
    if plan.corner is not None:
        lines.append(f"Corner ({plan.corner_note}): {money(plan.corner.dollars_per_example)} per example; "
                     f"{plan.trials} trial(s) like it: {money(plan.corner_dollars or 0.0)}.")
    else:
        lines.append(f"Corner: {plan.corner_note}.")
    if plan.costliest_option:
        lines.append(f"Costliest option: {plan.costliest_option} (its configurations cost {plan.costliest_ratio:.1f}x the others per example).")
    lines += [
        "How the ranges are made: a measured configuration's trial is its first examples (started together, so slower on a "
        "backend that caches prompt prefixes) once plus its other examples' mean for the rest of the set; the range is a "
        "95% prediction interval for the mean of the projected trials (the spread across the measured configurations, "
        f"plus the sampling error of {plan.plan_examples} of {plan.examples_per_trial} examples). Dollars are list prices "
        "(the cache makes repeats free; the study's sampler may favour dearer or cheaper configurations: see the corner).",
        f"Pruning: {plan.pruning_basis}; share of examples scored {plan.pruning_share.mid:.0%} "
        f"({plan.pruning_share.low:.0%}-{plan.pruning_share.high:.0%}).",
        f"Wall time: summed latency / {plan.in_flight:g} example(s) in flight (max_concurrent_examples x concurrent_trials, "
        f"at most Limits.max_in_flight); the high end as if the backend served only the {plan.plan_in_flight:.1f} at once "
        "it did during the plan. Start-up (services, imports) is not included.",
        *(f"Note: {note}." for note in plan.notes),
    ]
    return "\n".join(lines)
