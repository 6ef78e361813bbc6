"""The default pruner's share of examples by study shape: the figures `llmopt plan` projects pruning with.

Run by hand (about 10 minutes on 2 cores):

    python benchmarks/bench_plan_pruning.py [--seeds 20]

For every shape (objectives x trials x examples), the pruning benchmark's simulated study
(benchmarks/pruning_sim.py, configurations in random order, see docs/benchmarks-pruning.md) is
run with the default ParetoPruner, a look every 10 examples, for each seed; the share of examples
scored against no pruning is summarised as min / median / max over the seeds. Objectives: 1 is
accuracy, 2 adds mean cost, 3 adds p95 latency. Prints a markdown table and the dict literal of
llmopt/study/plan_projection.py (DEFAULT_PRUNER_SHARE). Results: docs/benchmarks.md, "Cost preview (plan)".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pruning import run_llmopt  # noqa: E402
from pruning_sim import make_world  # noqa: E402

from llmopt.pruning import ParetoPruner, Stages  # noqa: E402

OBJECTIVES = {1: ("accuracy",), 2: ("accuracy", "cost"), 3: ("accuracy", "cost", "latency")}
TRIALS = (5, 10, 20, 40, 80)
EXAMPLES = (20, 50, 200)


def shares(objectives: tuple[str, ...], n_trials: int, n_examples: int, seeds: int) -> list[float]:
    out = []
    for seed in range(seeds):
        world = make_world(seed, n_trials, n_examples, 1.5)
        used, _ = run_llmopt(world, ParetoPruner(), Stages.every(10), objectives)
        out.append(float(used.sum() / used.size / n_examples))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    cells: dict[tuple[int, int, int], tuple[float, float, float]] = {}
    for n_examples in EXAMPLES:
        for n_trials in TRIALS:
            for k, objectives in OBJECTIVES.items():
                started = time.perf_counter()
                values = shares(objectives, n_trials, n_examples, args.seeds)
                cells[k, n_trials, n_examples] = (min(values), statistics.median(values), max(values))
                print(f"{k} objective(s), {n_trials} trials, {n_examples} examples: "
                      f"{cells[k, n_trials, n_examples]} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    print("| examples | trials | 1 objective | 2 objectives | 3 objectives |\n|---|---|---|---|---|")
    for n_examples in EXAMPLES:
        for n_trials in TRIALS:
            row = " | ".join("{:.1%} / {:.1%} / {:.1%}".format(*cells[k, n_trials, n_examples]) for k in OBJECTIVES)
            print(f"| {n_examples} | {n_trials} | {row} |")
    print("\nDEFAULT_PRUNER_SHARE = {")
    for n_examples in EXAMPLES:
        for n_trials in TRIALS:
            print("    " + ", ".join(f"({k}, {n_trials}, {n_examples}): ({lo:.3f}, {mid:.3f}, {hi:.3f})"
                                     for k in OBJECTIVES for lo, mid, hi in [cells[k, n_trials, n_examples]]) + ",")
    print("}")


if __name__ == "__main__":
    main()
