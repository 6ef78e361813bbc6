"""Pruning benchmark: LLM calls saved vs. the Pareto front kept, llmopt's pruners vs. Optuna's WilcoxonPruner.

Run by hand (Optuna is a benchmark extra: pip install -e ".[bench]"):

    python benchmarks/bench_pruning.py --seeds 20 [--configs 40 --examples 200] [--latency] [--difficulty-sd 1.5]

Per seed, a simulated study (benchmarks/pruning_sim.py) evaluates 40 configurations one after
another on the same 200 shuffled examples; at each stage boundary the pruner sees the earlier
trials (complete or pruned) as `others`. Optuna's WilcoxonPruner is driven the way an Optuna
user would: ask/tell, `trial.report(correct, step=example index)` and `trial.should_prune()`
after every example, on accuracy alone (Optuna cannot prune multi-objective studies).
Results are written up in docs/benchmarks-pruning.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pruning_sim import World, make_world  # noqa: E402

from llmopt.pareto import hypervolume, non_dominated_mask  # noqa: E402
from llmopt.pruning import (  # noqa: E402
    MedianPruner, ObjectiveSeries, ParetoPruner, PartialTrial, Pruner, Stages, SuccessiveHalvingPruner,
)

Outcome = tuple[np.ndarray, np.ndarray]  # examples used per configuration, completed mask


def trial_view(world: World, i: int, n: int, objectives: tuple[str, ...], pruned: bool = False) -> PartialTrial:
    """Configuration i after its first n examples, as the evaluation loop would build it."""
    n_total = world.correct.shape[1]
    series = {"accuracy": ObjectiveSeries("accuracy", "maximize", world.correct[i, :n], bounded=(0.0, 1.0))}
    if "cost" in objectives:
        series["cost"] = ObjectiveSeries("cost", "minimize", world.cost[i, :n], bounded=(0.0, math.inf))
    if "latency" in objectives:
        series["latency"] = ObjectiveSeries("latency", "minimize", world.latency[i, :n], aggregate="quantile", q=0.95,
                                            bounded=(0.0, math.inf))
    return PartialTrial(i, series, n, n_total, complete=n == n_total, pruned=pruned)


def run_llmopt(world: World, pruner: Pruner | None, stages: Stages, objectives: tuple[str, ...]) -> Outcome:
    """Trials one after another; each stops at the first boundary where the pruner says so."""
    n_configs, n_total = world.correct.shape
    bounds = stages.boundaries(n_total)
    used, done, others = np.zeros(n_configs, int), np.zeros(n_configs, bool), []
    for i in range(n_configs):
        stop = n_total
        for k, n in enumerate(bounds if pruner else []):
            if pruner.decide(trial_view(world, i, n, objectives), others, k, len(bounds)).prune:
                stop = n
                break
        used[i], done[i] = stop, stop == n_total
        others.append(trial_view(world, i, stop, objectives, pruned=stop < n_total))
    return used, done


def run_wilcoxon(world: World, p_threshold: float = 0.1) -> Outcome:
    """Optuna's WilcoxonPruner on accuracy, reporting every example and asking should_prune after each."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    n_configs, n_total = world.correct.shape
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.WilcoxonPruner(p_threshold=p_threshold))
    used, done = np.zeros(n_configs, int), np.zeros(n_configs, bool)
    for i in range(n_configs):
        study.enqueue_trial({"config": i})
        trial = study.ask()
        config = trial.suggest_int("config", 0, n_configs - 1)
        used[i] = n_total
        for j in range(n_total):
            trial.report(float(world.correct[config, j]), step=j)
            if trial.should_prune():
                used[i] = j + 1
                break
        if used[i] < n_total:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            done[i] = True
            study.tell(trial, float(world.correct[config].mean()))
    return used, done


def true_points(world: World, objectives: tuple[str, ...]) -> np.ndarray:
    """True objective values to minimise: -accuracy, log10 cost, log10 p95 latency."""
    columns = [-world.true_accuracy]
    if "cost" in objectives:
        columns.append(np.log10(world.true_cost))
    if "latency" in objectives:
        columns.append(np.log10(world.true_latency_p95))
    return np.column_stack(columns)


def sample_points(world: World, objectives: tuple[str, ...]) -> np.ndarray:
    """The full-set values a study without pruning would report, in the same form."""
    columns = [-world.correct.mean(axis=1)]
    if "cost" in objectives:
        columns.append(np.log10(world.cost.mean(axis=1)))
    if "latency" in objectives:
        columns.append(np.log10(np.quantile(world.latency, 0.95, axis=1, method="inverted_cdf")))
    return np.column_stack(columns)


def scores(world: World, outcome: Outcome, objectives: tuple[str, ...]) -> dict[str, float]:
    used, done = outcome
    truth = true_points(world, objectives)
    front = non_dominated_mask(truth)
    sample_front = non_dominated_mask(sample_points(world, objectives))
    reference = truth.max(axis=0) + 0.05 * (truth.max(axis=0) - truth.min(axis=0)) + 1e-9
    full = hypervolume(truth, reference)
    best = int(np.flatnonzero(done)[np.argmax(world.correct[done].mean(axis=1))])
    return {
        "examples": used.sum() / used.size / world.correct.shape[1],
        "recall": done[front].mean(),
        "sample_recall": done[sample_front].mean(),
        "hv": hypervolume(truth[done], reference) / full,
        "best_acc": float(world.true_accuracy[best]),
    }


def methods(single: bool, objectives: tuple[str, ...]) -> dict[str, Callable[[World], Outcome]]:
    geo, every = Stages.geometric(10, 2), Stages.every(10)
    acc_only = ("accuracy",)
    out: dict[str, Callable[[World], Outcome]] = {
        "no pruning": lambda w: run_llmopt(w, None, geo, objectives),
        "Optuna WilcoxonPruner (accuracy only)": run_wilcoxon,
        "SuccessiveHalvingPruner eta=3 (accuracy only)": lambda w: run_llmopt(w, SuccessiveHalvingPruner(eta=3), geo, acc_only),
        "MedianPruner (accuracy only)": lambda w: run_llmopt(w, MedianPruner(n_startup_trials=5), geo, acc_only),
        "ParetoPruner, every 10 (default)": lambda w: run_llmopt(w, ParetoPruner(), every, objectives),
        "ParetoPruner, geometric 10x2": lambda w: run_llmopt(w, ParetoPruner(), geo, objectives),
        "ParetoPruner paired=True, every 10": lambda w: run_llmopt(w, ParetoPruner(paired=True), every, objectives),
        "ParetoPruner population=True, every 10": lambda w: run_llmopt(w, ParetoPruner(population=True), every, objectives),
    }
    return out


def table(results: dict[str, list[dict[str, float]]], single: bool) -> str:
    def cell(values: list[float], worst: Callable[[list[float]], float], fmt: str) -> str:
        return f"{statistics.median(values):{fmt}} ({worst(values):{fmt}})"

    if single:
        base = [r["best_acc"] for r in results["no pruning"]]
        head = "| pruner | examples vs. no pruning: median (worst) | best's true accuracy: median (worst) | loss vs. no pruning: median (worst) |\n|---|---|---|---|"
        rows = [f"| {name} | {cell([r['examples'] for r in rs], max, '.1%')} | {cell([r['best_acc'] for r in rs], min, '.3f')} | "
                f"{cell([b - r['best_acc'] for b, r in zip(base, rs)], max, '.3f')} |" for name, rs in results.items()]
        return "\n".join([head, *rows])
    head = ("| pruner | examples vs. no pruning: median (worst) | true-front recall: median (worst) | "
            "200-example-front recall: median (worst) | hypervolume ratio: median (worst) |\n|---|---|---|---|---|")
    rows = [f"| {name} | {cell([r['examples'] for r in rs], max, '.1%')} | {cell([r['recall'] for r in rs], min, '.3f')} | "
            f"{cell([r['sample_recall'] for r in rs], min, '.3f')} | {cell([r['hv'] for r in rs], min, '.4f')} |"
            for name, rs in results.items()]
    return "\n".join([head, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--configs", type=int, default=40)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--difficulty-sd", type=float, default=1.5)
    parser.add_argument("--latency", action="store_true", help="add p95 latency as a third objective")
    parser.add_argument("--only", default="", help="run only methods whose name contains this")
    args = parser.parse_args()
    multi = ("accuracy", "cost", "latency") if args.latency else ("accuracy", "cost")
    for single, objectives in ((False, multi), (True, ("accuracy",))):
        chosen = {k: v for k, v in methods(single, objectives).items() if args.only in k or k == "no pruning"}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in chosen}
        timing = {name: 0.0 for name in chosen}
        for seed in range(args.seeds):
            world = make_world(seed, args.configs, args.examples, args.difficulty_sd)
            for name, run in chosen.items():
                t0 = time.perf_counter()
                results[name].append(scores(world, run(world), objectives))
                timing[name] += time.perf_counter() - t0
        title = "single objective (accuracy)" if single else f"multi-objective ({', '.join(objectives)})"
        print(f"\n### {title}: {args.seeds} seeds x {args.configs} configurations x {args.examples} examples\n")
        print(table(results, single))
        print("\nseconds per seed: " + ", ".join(f"{k} {v / args.seeds:.2f}" for k, v in timing.items()), flush=True)


if __name__ == "__main__":
    main()
