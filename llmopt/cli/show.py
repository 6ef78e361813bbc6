"""`llmopt show STUDY TRIAL`: one trial whole: configuration, measures with intervals,
per-example results with outputs and errors, its calls and what they cost, why it stopped."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from typing import Any

from llmopt.cli.common import add_common, reading, shown
from llmopt.cli.front import terminal_width
from llmopt.redaction import redact
from llmopt.report import render
from llmopt.study.trial_detail import TrialDetail, trial_details


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    show = sub.add_parser("show", help="one trial: configuration, measures, examples, calls, errors")
    show.add_argument("study")
    show.add_argument("trial", type=int, help="the trial number")
    show.add_argument("--examples", default="20", metavar="N",
                      help="per-example rows to list (default 20; 'all' for every one)")
    show.add_argument("--format", choices=("table", "json"), default="table")
    add_common(show)


def run(args: argparse.Namespace) -> None:
    from llmopt.errors import LLMOptError
    from llmopt.study import load_study

    if args.examples != "all" and not (args.examples.isdigit()):
        raise LLMOptError(f"--examples {args.examples!r} is not a count", "give a number, or 'all'")
    limit = None if args.examples == "all" else int(args.examples)
    with load_study(args.study, reading(args)) as study:
        (detail,) = trial_details(study, [args.trial])
        if args.format == "json":
            print(json.dumps(_as_json(detail), indent=2, default=str))
            return
        print(_text(study, detail, limit))


def _text(study: Any, d: TrialDetail, limit: int | None) -> str:
    r = d.record
    when = f", {r.duration:.1f} s" if r.duration is not None else ""
    lines = [f"trial {r.number} of {study.name!r}: {r.state.value}{' (on the Pareto front)' if d.on_front else ''}{when}"]
    if r.error:
        lines.append(f"error: {redact(r.error)}")
    if r.system_attrs.get("prune_reason"):
        lines.append(f"pruned: {redact(str(r.system_attrs['prune_reason']))}")
    if not r.feasible:
        lines.append(f"breaks an outcome constraint (violation {r.constraint_violation:.3g})")
    lines += ["", "configuration:"] + [f"  {k} = {shown(v)}" for k, v in (r.params or {}).items()]
    if d.measures:
        lines += ["", "measures (95% interval from the per-example results):"]
        for name, value in d.measures.items():
            band = d.intervals.get(name)
            lines.append(f"  {name} {shown(value)}" + (f" [{band[0]:.4g}, {band[1]:.4g}]" if band else ""))
    scored, total = r.system_attrs.get("examples_scored"), r.system_attrs.get("examples_total")
    if d.examples or scored is not None:
        lines += ["", f"examples: {len(d.examples)} stored" + (f", {scored} of {total} scored" if scored is not None else "")
                  + (f", {r.system_attrs.get('resumed_examples')} resumed" if r.system_attrs.get("resumed_examples") else "")]
        rows = [_example_row(e) for e in d.examples[: limit if limit is not None else len(d.examples)]]
        if rows:
            lines.append(render(rows, "table", width=terminal_width()))
        if limit is not None and len(d.examples) > limit:
            lines.append(f"... {len(d.examples) - limit} more (--examples all)")
    if d.calls:
        lines += ["", _calls_text(d)]
    return "\n".join(lines)


def _example_row(e: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"example": e.example_id}
    row.update(e.metrics)
    row.update(cost=e.cost, latency=e.latency, tokens=(e.prompt_tokens or 0) + (e.completion_tokens or 0),
               calls=e.n_calls, cached=e.cache_hits)
    text = e.error if e.error is not None else e.output
    row["error" if e.error is not None else "output"] = None if text is None else redact(" ".join(str(text).split()))[:200]
    return row


def _calls_text(d: TrialDetail) -> str:
    """Attempts by model: sent, retried, failed, cache hits, tokens, list price and billed dollars."""
    by_model: dict[str, dict[str, Any]] = defaultdict(lambda: {"attempts": 0, "retried": 0, "failed": 0, "cache hits": 0,
                                                               "prompt tokens": 0, "completion tokens": 0, "cost": 0.0, "billed": 0.0})
    for c in d.calls:
        m = by_model[c.model]
        m["cache hits" if c.cache_hit else "attempts"] += 1
        m["retried"] += c.status == "retried"
        m["failed"] += c.status == "failed"
        m["prompt tokens"] += c.prompt_tokens
        m["completion tokens"] += c.completion_tokens
        m["cost"] += c.cost
        m["billed"] += c.billed_cost
    billed = sum(c.billed_cost for c in d.calls)
    errors = sorted({c.error_class for c in d.calls if c.error_class})
    head = f"calls: {len(d.calls)} records, ${billed:.6g} billed" + (f"; failures: {', '.join(errors)}" if errors else "")
    return head + "\n" + render([{"model": k, **v} for k, v in by_model.items()], "table", width=terminal_width())


def _as_json(d: TrialDetail) -> dict[str, Any]:
    r = d.record
    return {
        "trial": r.number, "state": r.state.value, "on_front": d.on_front, "params": r.params, "values": r.values,
        "measures": d.measures, "intervals": {k: list(v) for k, v in d.intervals.items()},
        "error": None if r.error is None else redact(r.error), "prune_reason": r.system_attrs.get("prune_reason"),
        "started_at": r.started_at, "finished_at": r.finished_at,
        "examples": [{"example_id": e.example_id, "metrics": e.metrics, "cost": e.cost, "billed_cost": e.billed_cost,
                      "latency": e.latency, "prompt_tokens": e.prompt_tokens, "completion_tokens": e.completion_tokens,
                      "error": None if e.error is None else redact(e.error),
                      "output": None if e.output is None else redact(e.output), "calls": e.n_calls, "cache_hits": e.cache_hits}
                     for e in d.examples],
        "calls": [{"model": c.model, "example_id": c.example_id, "status": c.status, "error_class": c.error_class,
                   "attempt": c.attempt, "cache_hit": c.cache_hit, "prompt_tokens": c.prompt_tokens,
                   "completion_tokens": c.completion_tokens, "cost": c.cost, "billed_cost": c.billed_cost,
                   "latency": c.latency, "maybe_billed": c.maybe_billed} for c in d.calls],
    }
