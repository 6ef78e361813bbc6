"""Sampler quality and overhead: llmopt's default (GP, then TPE), TPE and NSGA-II against Optuna TPE / NSGA-II and random search.

Run by hand (Optuna is a benchmark extra: pip install -e ".[bench]"):

    python benchmarks/bench_samplers.py                 # full: 5 seeds, 100/300 trials, overhead to 1,000 trials
    python benchmarks/bench_samplers.py --quick         # 2 seeds, 100 trials, overhead to 300 trials: a minute or two
    python benchmarks/bench_samplers.py --seeds 10 --problems LLM --no-overhead
    OMP_NUM_THREADS=1 python benchmarks/bench_samplers.py --seeds 10 --jobs 2 --no-overhead   # seeds in parallel

Quality: every sampler runs the same problems (benchmarks/problems.py: ZDT1, DTLZ2, a
simulated LLM pipeline) with the same seeds in one process; the table gives the median over
seeds of the hypervolume after 100 and 300 trials (LLM: hypervolume of the configurations
found, re-scored without noise, over the true front's). Overhead: milliseconds per trial of
the whole ask/evaluate/tell loop (objective without noise, so the time is the library's),
averaged over the last 10% of trials before 100, 500 and 1,000, in memory and in a SQLite file,
as wall time and as this process's CPU time (the machine may be shared; each table prints the
load average when it starts). Results are written up in docs/benchmarks-samplers.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import llmopt  # noqa: E402
from llmopt.samplers import AutoSampler, NSGA2Sampler, RandomSampler, TPESampler, default_sampler  # noqa: E402
from problems import PROBLEMS, STRATEGIES, Problem, llm_missing_by_strategy, llm_truth  # noqa: E402

Run = Callable[[Problem, int, int, "str | None", Callable[[], None] | None], list[tuple[dict[str, Any], tuple[float, ...]]]]


def llmopt_runner(make: Callable[[], llmopt.Sampler]) -> Run:
    def run(problem: Problem, seed: int, n: int, storage: str | None = None, tick: Callable[[], None] | None = None):
        study = llmopt.create_study(
            f"{problem.name}-{seed}", problem.space, problem.objectives, storage=storage or ":memory:", sampler=make(), seed=seed
        )
        found: list[tuple[dict[str, Any], tuple[float, ...]]] = []

        def objective(trial: llmopt.Trial) -> tuple[float, ...]:
            params = trial.config.to_dict()
            values = problem.evaluate(params, seed)
            found.append((params, values))
            return values

        study.optimize(objective, n_trials=n, callbacks=[lambda s, r: tick()] if tick else ())
        study.close()
        return found

    return run


def optuna_runner(make: Callable[[int], Any]) -> Run:
    def run(problem: Problem, seed: int, n: int, storage: str | None = None, tick: Callable[[], None] | None = None):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        directions = list(problem.objectives.values())
        study = optuna.create_study(directions=directions, sampler=make(seed), storage=storage)
        found: list[tuple[dict[str, Any], tuple[float, ...]]] = []

        def objective(trial: Any) -> tuple[float, ...]:
            params = problem.suggest(trial)
            values = problem.evaluate(params, seed)
            found.append((params, values))
            return values

        study.optimize(objective, n_trials=n, callbacks=[lambda s, t: tick()] if tick else None)
        return found

    return run


def _optuna_tpe(multivariate: bool) -> Callable[[int], Any]:
    def make(seed: int) -> Any:
        import optuna

        if multivariate:  # what Optuna's docs suggest for dependent and conditional parameters
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
        return optuna.samplers.TPESampler(seed=seed)

    return make


def _optuna_nsga2(seed: int) -> Any:
    import optuna

    return optuna.samplers.NSGAIISampler(seed=seed)


SAMPLERS: dict[str, Run] = {
    "llmopt default (auto)": llmopt_runner(AutoSampler),
    "llmopt TPE": llmopt_runner(TPESampler),
    "llmopt NSGA-II": llmopt_runner(NSGA2Sampler),
    "Optuna TPE multivariate": optuna_runner(_optuna_tpe(True)),
    "Optuna TPE default": optuna_runner(_optuna_tpe(False)),
    "Optuna NSGA-II": optuna_runner(_optuna_nsga2),
    "random (llmopt)": llmopt_runner(RandomSampler),
}
OVERHEAD = ["llmopt default (auto)", "llmopt TPE", "llmopt NSGA-II", "random (llmopt)", "Optuna TPE multivariate", "Optuna TPE default", "Optuna NSGA-II"]
LLMOPT_CLASSES: dict[str, type[llmopt.Sampler]] = {"llmopt default (auto)": AutoSampler, "llmopt TPE": TPESampler, "llmopt NSGA-II": NSGA2Sampler, "random (llmopt)": RandomSampler}
SAMPLE_SECONDS: list[float] = []  # time inside llmopt's Sampler.sample, one entry per trial


def timed(cls: type[llmopt.Sampler]) -> Callable[[], llmopt.Sampler]:
    """The sampler with its own time recorded, to split a trial's time into sampler and study."""

    class Timed(cls):  # type: ignore[valid-type, misc]
        def sample(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            t0 = time.perf_counter()
            try:
                return super().sample(*args, **kwargs)
            finally:
                SAMPLE_SECONDS.append(time.perf_counter() - t0)

    return Timed


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} CPUs)"


def one_run(label: str, problem_name: str, seed: int, n: int) -> tuple[list[tuple[dict[str, Any], tuple[float, ...]]], float]:
    """One quality run (top level so that worker processes can run it): what was found, and seconds."""
    t0 = time.perf_counter()
    found = SAMPLERS[label](PROBLEMS[problem_name], seed, n, None, None)
    return found, time.perf_counter() - t0


def quality(
    problems: list[str], samplers: list[str], seeds: int, checkpoints: list[int], jobs: int = 1, first_seed: int = 0,
    diagnose: bool = False,
) -> None:
    n = max(checkpoints)
    header = " | ".join(f"{c} trials" for c in checkpoints)
    for name in problems:
        problem = PROBLEMS[name]
        diagnoses: list[tuple[str, list[list[dict[str, Any]]]]] = []
        measure = "HV found / HV true front (noise-free)" if name == "LLM" else "hypervolume"
        print(f"\n### {name}: median {measure} over {seeds} seeds ({first_seed}–{first_seed + seeds - 1}; min–max)\n\n{load()} at start\n")
        print(f"| sampler | {header} | s per run |")
        print("|---|" + "---|" * len(checkpoints) + "---|")
        for label in samplers:
            scores: dict[int, list[float]] = {c: [] for c in checkpoints}
            seconds = []
            args = ([label] * seeds, [name] * seeds, range(first_seed, first_seed + seeds), [n] * seeds)
            if jobs > 1:  # seeds in parallel processes: same results, less waiting for the GP rows
                with ProcessPoolExecutor(jobs) as pool:
                    runs = list(pool.map(one_run, *args))
            else:
                runs = list(map(one_run, *args))
            for found, spent in runs:
                seconds.append(spent)
                for c in checkpoints:
                    params, values = zip(*found[:c])
                    scores[c].append(problem.score(list(params), list(values)))
            cells = " | ".join(f"{statistics.median(s):.3f} ({min(s):.3f}–{max(s):.3f})" for s in scores.values())
            print(f"| {label} | {cells} | {statistics.median(seconds):.1f} |", flush=True)
            if diagnose and name == "LLM":
                diagnoses.append((label, [[p for p, _ in found[:n]] for found, _ in runs]))
        for label, found_params in diagnoses:
            print(diagnosis(label, found_params, n), flush=True)


def diagnosis(label: str, found_params: list[list[dict[str, Any]]], n: int) -> str:
    """One line per sampler: each strategy's share of the trials and the median score it would add
    if the true front's configurations of that strategy were added to each run (LLM problem)."""
    missing = [llm_missing_by_strategy(run) for run in found_params]  # once per run: four hypervolumes each
    cells = []
    for strategy in STRATEGIES:
        share = statistics.mean(sum(p["strategy"] == strategy for p in run) / len(run) for run in found_params)
        gain = statistics.median(m[strategy] for m in missing)
        cells.append(f"{strategy} {share:.0%} of trials, +{gain:.3f}")
    return f"- {label} at {n} trials: " + "; ".join(cells)


def overhead(samplers: list[str], points: list[int]) -> None:
    problem = PROBLEMS["LLM"]
    fast = PROBLEMS["LLM"].__class__(**{**problem.__dict__, "evaluate": lambda p, seed: llm_truth(p)[:3]})
    n = max(points)
    print("\n### Overhead: ms per trial (LLM space, 3 objectives), mean over the last 10% of trials before each count")
    print(f"\n{load()} at start")
    print("cells: wall ms per trial (llmopt: of which inside Sampler.sample) / process CPU ms per trial\n")
    print("| sampler | storage | " + " | ".join(f"at {p}" for p in points) + " |")
    print("|---|---|" + "---|" * len(points))
    with tempfile.TemporaryDirectory() as tmp:
        for label in samplers:
            for storage_name in ("memory", "SQLite file"):
                stamps: list[float] = []
                cpu: list[float] = []
                llm_side = label in LLMOPT_CLASSES
                storage = None if storage_name == "memory" else f"sqlite:///{os.path.join(tmp, label.replace(' ', '_') + '.db')}"
                if storage is None and llm_side:
                    storage = ":memory:"
                run = SAMPLERS[label]
                if llm_side:
                    run = llmopt_runner(timed(LLMOPT_CLASSES[label]))

                def tick() -> None:
                    stamps.append(time.perf_counter())
                    cpu.append(time.process_time())

                SAMPLE_SECONDS.clear()
                tick()
                run(fast, 0, n, storage, tick)
                cells = []
                for p in points:
                    lo = p - max(1, p // 10)
                    cell = f"{1000 * (stamps[p] - stamps[lo]) / (p - lo):.1f}"
                    if SAMPLE_SECONDS:
                        cell += f" ({1000 * sum(SAMPLE_SECONDS[lo:p]) / (p - lo):.1f})"
                    cell += f" / {1000 * (cpu[p] - cpu[lo]) / (p - lo):.1f}"
                    cells.append(cell)
                print(f"| {label} | {storage_name} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds per problem and sampler (default 5)")
    parser.add_argument("--quick", action="store_true", help="2 seeds, 100 trials, overhead up to 300 trials")
    parser.add_argument("--problems", default="ZDT1,DTLZ2,LLM", help="comma-separated subset of ZDT1,DTLZ2,LLM")
    parser.add_argument("--samplers", default=",".join(SAMPLERS), help="comma-separated labels (see SAMPLERS)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds run from this one (held-out seeds for a second look)")
    parser.add_argument("--trials", default="100,300", help="comma-separated trial counts at which quality is read")
    parser.add_argument("--jobs", type=int, default=1, help="quality runs in this many processes (seeds in parallel; set OMP_NUM_THREADS=1)")
    parser.add_argument("--no-overhead", action="store_true", help="skip the overhead table")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality tables")
    parser.add_argument(
        "--diagnose", action="store_true",
        help="LLM problem: per strategy, its share of trials and the score its true-front configurations would add",
    )
    args = parser.parse_args()
    seeds = 2 if args.quick else args.seeds
    checkpoints = [100] if args.quick else [int(c) for c in args.trials.split(",")]
    chosen = [s for s in args.samplers.split(",") if s]
    import numpy, optuna  # noqa: E401  (versions for the write-up)

    print(f"llmopt {llmopt.__version__}, Optuna {optuna.__version__}, numpy {numpy.__version__}, Python {sys.version.split()[0]}")
    print(f"llmopt default sampler: {type(default_sampler()).__name__}")
    if not args.no_quality:
        quality([p for p in args.problems.split(",") if p], chosen, seeds, checkpoints, args.jobs, args.first_seed, args.diagnose)
    if not args.no_overhead:
        overhead([s for s in OVERHEAD if s in chosen], [100, 300] if args.quick else [100, 500, 1000])


if __name__ == "__main__":
    main()
