"""Readable reasons and JSON-safe details for ParetoPruner's decisions (stored on the pruned trial)."""

from __future__ import annotations

import math
from typing import Any

from llmopt.pruning.base import PartialTrial, Pruner, PruneDecision


def _fmt(x: float | None) -> str:
    return "?" if x is None else f"{x:.4g}"


def _finite(x: float | None) -> float | None:
    """JSON has no infinity: an unbounded side is None."""
    return float(x) if x is not None and math.isfinite(x) else None


def dominance_decision(pruner: Pruner, current: PartialTrial, witness: PartialTrial, rows: dict[str, dict[str, Any]],
                       intervals: dict[str, tuple[float, float, bool]], levels: dict[str, float], pool: int) -> PruneDecision:
    """PRUNE, naming the witness and, per objective, the trial's estimate, its best case and the witness's value."""
    parts = []
    for name, r in rows.items():
        best = f"at best {_fmt(r['best_case'])}" if r["best_case"] is not None else "worse, paired"
        if r["paired"] and r["best_case"] is not None:
            best += ", paired"
        if r["approximate"]:
            best += ", approximate"
        theirs = _fmt(r["witness"])
        if r["witness_worst"] != r["witness"] and not r["paired"]:
            theirs += f" (at worst {_fmt(r['witness_worst'])})"
        parts.append(f"{name} {_fmt(r['estimate'])} ({best}) vs {theirs}")
    alpha = getattr(pruner, "alpha", None)
    reason = (f"dominated by trial {witness.number} at {current.n_scored}/{current.n_total} examples: "
              + ", ".join(parts) + f" (alpha={alpha:g})")
    objectives = {
        name: {"estimate": r["estimate"], "lower": _finite(intervals[name][0]), "upper": _finite(intervals[name][1]),
               "level": levels["own"], "approximate": r["approximate"] or intervals[name][2],
               "best_case": _finite(r["best_case"]), "witness": r["witness"], "witness_worst": _finite(r["witness_worst"]),
               "paired": r["paired"]}
        for name, r in rows.items()
    }
    details = {"pruner": pruner.name, "dominated_by": witness.number, "examples": current.n_scored,
               "n_total": current.n_total, "alpha": alpha, "witnesses": pool, "levels": levels, "objectives": objectives}
    return PruneDecision(True, reason, details)
