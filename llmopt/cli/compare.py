"""`llmopt compare STUDY A B`: two trials compared on the examples both scored, per objective:
the difference A - B with its 95% interval and a p-value, and which is better where it is clear."""

from __future__ import annotations

import argparse
import json
from typing import Any

from llmopt.cli.common import add_common, reading
from llmopt.evaluation.measures import MEASURES
from llmopt.report import render
from llmopt.report.compare import paired_difference
from llmopt.report.data import recomputes


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    compare = sub.add_parser("compare", help="two trials, paired on their shared examples: differences with intervals and p-values")
    compare.add_argument("study")
    compare.add_argument("a", type=int, help="a trial number")
    compare.add_argument("b", type=int, help="another trial number")
    compare.add_argument("--format", choices=("table", "json"), default="table")
    add_common(compare)


def run(args: argparse.Namespace) -> None:
    from llmopt.study import load_study
    from llmopt.study.trial_detail import trial_details

    with load_study(args.study, reading(args)) as study:
        a, b = trial_details(study, [args.a, args.b])
        rows, verdicts = [], []
        for objective in study.objectives:
            measure = MEASURES.get(objective.name)
            usable = measure is not None and all(recomputes(measure, d.examples, d.measures.get(objective.name)) for d in (a, b))
            diff = paired_difference(measure, a.examples, b.examples) if measure is not None and usable else None
            row: dict[str, Any] = {"objective": f"{objective.name} ({objective.direction})",
                                   f"trial {args.a}": (a.record.values or {}).get(objective.name),
                                   f"trial {args.b}": (b.record.values or {}).get(objective.name)}
            if diff is None:
                row.update({"A - B": None, "95% interval": "-", "p": None, "shared": 0})
            else:
                row.update({"A - B": diff.difference,
                            "95% interval": "-" if diff.interval is None else f"[{diff.interval[0]:.4g}, {diff.interval[1]:.4g}]",
                            "p": _p(diff.p_value), "shared": diff.shared})
                if diff.tied:
                    verdicts.append(f"{objective.name}: cannot tell them apart ({_pv(diff.p_value)})")
                else:
                    a_better = (diff.difference > 0) == objective.maximize
                    verdicts.append(f"{objective.name}: trial {args.a if a_better else args.b} is better "
                                    f"({_pv(diff.p_value)}, {diff.shared} shared examples)")
            rows.append(row)
        if args.format == "json":
            print(json.dumps({"a": args.a, "b": args.b, "objectives": rows, "verdicts": verdicts}, indent=2, default=str))
            return
        print(f"trial {args.a} (A) against trial {args.b} (B) of {study.name!r}, paired on the examples both scored")
        print(render(rows, "table"))
        if not any(r["shared"] for r in rows):
            print("no shared per-example records: the trials cannot be compared example by example")
        for line in verdicts:
            print(line)


def _p(p: float | None) -> str:
    return "-" if p is None else "<0.001" if p < 0.001 else f"{p:.2g}"


def _pv(p: float | None) -> str:
    return "p < 0.001" if p is not None and p < 0.001 else f"p = {_p(p)}"
