"""Pruning benchmark: LLM calls saved vs. the Pareto front kept, llmopt's pruners vs. Optuna's WilcoxonPruner.

Run by hand (Optuna is a benchmark extra: pip install -e ".[bench]"):

    python benchmarks/bench_pruning.py --seeds 20 [--configs 40 --examples 200] [--latency] [--difficulty-sd 1.5]

Per seed, a simulated study (benchmarks/pruning_sim.py) evaluates 40 configurations one after
another on the same 200 shuffled examples; at each stage boundary the pruner sees the earlier
trials (complete or pruned) as `others`. Optuna's WilcoxonPruner is driven the way an Optuna
user would: ask/tell, `trial.report(correct, step=example index)` and `trial.should_prune()`
after every example, on accuracy alone (Optuna cannot prune multi-objective studies).
"Examples" counts every example scored, those of pruned trials included (= LLM calls). Rows
marked "no error control" are a reference only: a z-test at every stage with no correction for
looking again, to show where the examples/recall trade-off of this simulated study lies. Rows
marked "oracle" know every configuration's values: the fewest examples any pruner could use that
prunes only against earlier trials (see `run_oracle`).
Methods that follow accuracy alone give the same outcome in both sections and run once per seed.
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
    GO_ON, MedianPruner, ObjectiveSeries, ParetoPruner, PartialTrial, Pruner, PruneDecision, Stages,
    SuccessiveHalvingPruner,
)
from llmopt.pruning.bounds import best_case  # noqa: E402

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


class PeekingZTest(Pruner):
    """Reference only, not sound: prune when a complete trial beats the z-bounds on every objective.

    Each objective's bound is estimate +- z x standard error (finite-population corrected) at
    this stage alone, with no correction for the many stages looked at nor for the objectives.
    """

    name = "peeking-z"

    def __init__(self, z: float) -> None:
        self.z = z

    def decide(self, current: PartialTrial, others: list[PartialTrial], stage: int, n_stages: int) -> PruneDecision:
        n, n_total = current.n_scored, current.n_total
        if current.complete or n < 10:
            return GO_ON
        shrink = math.sqrt((n_total - n) / (n_total - 1))
        best = {}
        for name, s in current.series.items():
            sd = float(np.std(s.values, ddof=1))
            if s.bounded == (0.0, 1.0):  # a 0/1 metric: keep the standard error off zero
                p = (s.values.sum() + 1) / (n + 2)
                sd = math.sqrt(p * (1 - p))
            step = self.z * sd / math.sqrt(n) * shrink
            best[name] = s.values.mean() + step if s.maximize else s.values.mean() - step
        for o in others:
            if o.complete and all((o.value(k) >= b) if current.series[k].maximize else (o.value(k) <= b)
                                  for k, b in best.items()):
                return PruneDecision(True, f"z-dominated by trial {o.number}")
        return GO_ON


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


def run_oracle(world: World, objectives: tuple[str, ...], first_look: int, keep_true_front: bool) -> Outcome:
    """Reference only, not a pruner: knows every configuration's values and stops each as early as it could be.

    A configuration that no earlier one dominates on 200-example values (a "record") has no
    witness when it runs, so no pruner that prunes against earlier trials can stop it without
    being wrong about it: records run in full, every other configuration stops at the first
    look. With `keep_true_front`, true-front configurations also run in full (recall 1).
    """
    keep = records(world, objectives)
    if keep_true_front:
        keep |= non_dominated_mask(true_points(world, objectives))
    return np.where(keep, world.correct.shape[1], first_look), keep


def records(world: World, objectives: tuple[str, ...]) -> np.ndarray:
    """Configurations that no earlier configuration dominates on their 200-example values."""
    points = sample_points(world, objectives)
    return np.array([not np.any(np.all(points[:i] <= points[i], axis=1) & np.any(points[:i] < points[i], axis=1))
                     for i in range(len(points))])


def where_examples_go(world: World, used: np.ndarray, objectives: tuple[str, ...], near: float = 0.05) -> list[dict]:
    """One row per configuration: group (true front, near front: on it if `near` more accurate, dominated), record?, examples.

    "blocked_by": for a non-record still running at 50 examples, the objective(s) on which the
    default's own bound (level alpha/m) does not yet concede to any earlier complete configuration
    that dominates it on 200-example values.
    """
    truth, n_total = true_points(world, objectives), world.correct.shape[1]
    front, first = non_dominated_mask(truth), records(world, objectives)
    sample, level = sample_points(world, objectives), ParetoPruner().alpha / len(objectives)
    rows = []
    for i in range(len(truth)):
        shifted = truth.copy()
        shifted[i, 0] -= near
        group = "true front" if front[i] else ("near front" if non_dominated_mask(shifted)[i] else "dominated")
        blocked = ""
        if not first[i] and used[i] > 50:
            view = trial_view(world, i, 50, objectives)
            best = {k: best_case(s, n_total, level)[0] for k, s in view.series.items()}
            witnesses = [j for j in range(i) if used[j] == n_total and np.all(sample[j] <= sample[i]) and np.any(sample[j] < sample[i])]
            blocks = [tuple(k for k, s in view.series.items() if (best[k] > world_value(world, j, k)) == s.maximize
                            and best[k] != world_value(world, j, k)) for j in witnesses]
            blocked = "+".join(min(blocks, key=len)) if blocks else "no complete witness"
        rows.append({"group": group, "record": bool(first[i]), "used": int(used[i]), "blocked_by": blocked})
    return rows


def world_value(world: World, i: int, name: str) -> float:
    """Configuration i's 200-example value of objective `name` (cost: mean per example)."""
    return float({"accuracy": world.correct, "cost": world.cost}[name][i].mean())


def diagnose(seeds: int, objectives: tuple[str, ...], **world_args: float) -> None:
    """Print where the default ParetoPruner's examples go, by group and record, over `seeds` seeds."""
    rows, n_total = [], 0
    for seed in range(seeds):
        world = make_world(seed, **world_args)
        n_total = world.correct.shape[1]
        used, _ = run_llmopt(world, ParetoPruner(), ParetoPruner.default_stages, objectives)
        rows += where_examples_go(world, used, objectives)
    everything = len(rows) * n_total
    print(f"default ParetoPruner, {seeds} seeds: {sum(r['used'] for r in rows) / everything:.1%} of the examples\n")
    print("| group | record (no earlier configuration dominates it) | configurations | mean examples | share of all examples | run in full |")
    print("|---|---|---|---|---|---|")
    for group in ("true front", "near front", "dominated"):
        for record in (True, False):
            used = np.array([r["used"] for r in rows if r["group"] == group and r["record"] == record])
            print(f"| {group} | {'yes' if record else 'no'} | {len(used)} | {used.mean():.0f} | {used.sum() / everything:.1%} | "
                  f"{np.mean(used == n_total):.0%} |")
    blocked = [r["blocked_by"] for r in rows if r["blocked_by"]]
    print("\nnon-records still running at 50 examples, blocked by: "
          + ", ".join(f"{k} {blocked.count(k)}" for k in sorted(set(blocked))))


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


def returned_front(world: World, done: np.ndarray, objectives: tuple[str, ...]) -> np.ndarray:
    """Indices of the front the study reports: complete trials not dominated on their full-set values."""
    complete = np.flatnonzero(done)
    return complete[non_dominated_mask(sample_points(world, objectives)[complete])]


def scores(world: World, outcome: Outcome, objectives: tuple[str, ...]) -> dict[str, float]:
    """Examples used (pruned trials' included) and, on true values, what the completed trials cover.

    "hv": true hypervolume of the complete trials over that of all trials (= no pruning, where
    every trial completes). "hv_returned": true hypervolume of the front the study reports (the
    complete trials not dominated on their 200-example values) over that of the front no
    pruning reports.
    """
    used, done = outcome
    truth = true_points(world, objectives)
    front = non_dominated_mask(truth)
    sample_front = non_dominated_mask(sample_points(world, objectives))
    reference = truth.max(axis=0) + 0.05 * (truth.max(axis=0) - truth.min(axis=0)) + 1e-9
    full = hypervolume(truth, reference)
    no_pruning = hypervolume(truth[returned_front(world, np.ones(len(done), bool), objectives)], reference)
    best = int(np.flatnonzero(done)[np.argmax(world.correct[done].mean(axis=1))])
    return {
        "examples": used.sum() / used.size / world.correct.shape[1],
        "recall": done[front].mean(),
        "front_size": int(front.sum()),
        "front_pruned": int((~done[front]).sum()),
        "sample_recall": done[sample_front].mean(),
        "sample_front_size": int(sample_front.sum()),
        "sample_front_pruned": int((~done[sample_front]).sum()),
        "hv": hypervolume(truth[done], reference) / full,
        "hv_returned": hypervolume(truth[returned_front(world, done, objectives)], reference) / no_pruning,
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
        "z-test every 10, z=1.96, no error control": lambda w: run_llmopt(w, PeekingZTest(1.96), every, objectives),
        "z-test every 10, z=1.0, no error control": lambda w: run_llmopt(w, PeekingZTest(1.0), every, objectives),
        "oracle: records in full, others stop at 10": lambda w: run_oracle(w, objectives, 10, False),
        "oracle: records and true front in full, others stop at 10": lambda w: run_oracle(w, objectives, 10, True),
    }
    return out


#: Methods whose outcome does not depend on the study's objectives: run once per seed, reused.
SHARED = ("no pruning", "Optuna WilcoxonPruner (accuracy only)", "SuccessiveHalvingPruner eta=3 (accuracy only)",
          "MedianPruner (accuracy only)")


def table(results: dict[str, list[dict[str, float]]], single: bool) -> str:
    def cell(values: list[float], worst: Callable[[list[float]], float], fmt: str) -> str:
        return f"{statistics.median(values):{fmt}} / {statistics.fmean(values):{fmt}} ({worst(values):{fmt}})"

    def pooled(rs: list[dict[str, float]], prefix: str) -> str:
        pruned, size = sum(r[f"{prefix}pruned"] for r in rs), sum(r[f"{prefix}size"] for r in rs)
        return f"{pruned}/{size} ({pruned / size:.1%})"

    if single:
        base = [r["best_acc"] for r in results["no pruning"]]
        head = ("| pruner | examples vs. no pruning: median / mean (worst) | best's true accuracy: median / mean (worst) | "
                "loss vs. no pruning: median / mean (worst) |\n|---|---|---|---|")
        rows = [f"| {name} | {cell([r['examples'] for r in rs], max, '.1%')} | {cell([r['best_acc'] for r in rs], min, '.3f')} | "
                f"{cell([b - r['best_acc'] for b, r in zip(base, rs)], max, '.3f')} |" for name, rs in results.items()]
        return "\n".join([head, *rows])
    head = ("| pruner | examples vs. no pruning: median / mean (worst) | true-front recall: median / mean (worst) | "
            "true-front configurations pruned, all seeds | 200-example-front configurations pruned, all seeds | "
            "hypervolume ratio, complete trials: median / mean (worst) | hypervolume ratio, returned fronts: median / mean (worst) |"
            "\n|---|---|---|---|---|---|---|")
    rows = [f"| {name} | {cell([r['examples'] for r in rs], max, '.1%')} | {cell([r['recall'] for r in rs], min, '.3f')} | "
            f"{pooled(rs, 'front_')} | {pooled(rs, 'sample_front_')} | {cell([r['hv'] for r in rs], min, '.4f')} | "
            f"{cell([r['hv_returned'] for r in rs], min, '.4f')} |"
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
    parser.add_argument("--diagnose", action="store_true", help="only print where the default's examples go")
    parser.add_argument("--skip", default="", help="leave out methods whose name contains this, e.g. Optuna (80 s a seed)")
    args = parser.parse_args()
    multi = ("accuracy", "cost", "latency") if args.latency else ("accuracy", "cost")
    if args.diagnose:
        return diagnose(args.seeds, ("accuracy", "cost"), n_configs=args.configs, n_examples=args.examples,
                        difficulty_sd=args.difficulty_sd)
    shared: dict[tuple[int, str], tuple[Outcome, float]] = {}
    for single, objectives in ((False, multi), (True, ("accuracy",))):
        chosen = {k: v for k, v in methods(single, objectives).items()
                  if (args.only in k and not (args.skip and args.skip in k)) or k == "no pruning"}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in chosen}
        timing = {name: 0.0 for name in chosen}
        for seed in range(args.seeds):
            world = make_world(seed, args.configs, args.examples, args.difficulty_sd)
            for name, run in chosen.items():
                if (seed, name) not in shared:
                    t0 = time.perf_counter()
                    outcome = run(world)
                    elapsed = time.perf_counter() - t0
                    if name in SHARED:
                        shared[seed, name] = outcome, elapsed
                else:
                    outcome, elapsed = shared[seed, name]
                results[name].append(scores(world, outcome, objectives))
                timing[name] += elapsed
        title = "single objective (accuracy)" if single else f"multi-objective ({', '.join(objectives)})"
        print(f"\n### {title}: {args.seeds} seeds x {args.configs} configurations x {args.examples} examples\n")
        print(table(results, single))
        print("\nseconds per seed: " + ", ".join(f"{k} {v / args.seeds:.2f}" for k, v in timing.items()), flush=True)


if __name__ == "__main__":
    main()
