"""Core overhead: `import llmopt` time and milliseconds per trial of RandomSampler, llmopt vs Optuna.

Run by hand (Optuna is a benchmark extra: pip install -e ".[bench]"):

    python benchmarks/bench_core.py [--trials 1000] [--repeats 3]

Both libraries run the same 2-objective problem on the same 6-variable space (floats, a log
float, an int, a choice), with a trivial objective, so the time is the library's own:
sampling, storage writes and reads. Results are written up in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable


def import_time_ms(repeats: int) -> float:
    """Median wall time of a fresh `python -c 'import llmopt'`, minus the bare interpreter start."""
    def run(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t0

    bare = statistics.median(run("pass") for _ in range(repeats))
    full = statistics.median(run("import llmopt") for _ in range(repeats))
    used = statistics.median(run("import llmopt; llmopt.create_study") for _ in range(repeats))
    return 1000 * (full - bare), 1000 * (used - bare)  # type: ignore[return-value]


def objective_values(x: float, y: float, lr: float, k: int, m: str) -> tuple[float, float]:
    return x * y + lr, (1 - x) + k / 10 + (m == "b")


def llmopt_run(storage: str, n: int) -> float:
    import llmopt
    from llmopt import ChoiceVar, FloatVar, IntVar, Space

    space = Space({
        "x": FloatVar(0, 1), "y": FloatVar(0, 1), "lr": FloatVar(1e-4, 1e-1, log=True),
        "k": IntVar(1, 10), "m": ChoiceVar(["a", "b", "c"]), "t": FloatVar(0, 1, step=0.1),
    })
    study = llmopt.create_study("bench", space, {"acc": "maximize", "cost": "minimize"}, storage=storage, seed=0)
    t0 = time.perf_counter()
    study.optimize(lambda tr: objective_values(tr.config["x"], tr.config["y"], tr.config["lr"], tr.config["k"], tr.config["m"]), n_trials=n)
    elapsed = time.perf_counter() - t0
    study.close()
    return 1000 * elapsed / n


def optuna_run(storage: str | None, n: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        directions=["maximize", "minimize"], storage=storage, sampler=optuna.samplers.RandomSampler(seed=0)
    )

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        k, m = trial.suggest_int("k", 1, 10), trial.suggest_categorical("m", ["a", "b", "c"])
        trial.suggest_float("t", 0, 1, step=0.1)
        return objective_values(x, y, lr, k, m)

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return 1000 * (time.perf_counter() - t0) / n


def median_of(fn: Callable[[], float], repeats: int) -> float:
    return statistics.median(fn() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    bare_import, with_study = import_time_ms(max(args.repeats, 5))
    print(f"import llmopt: {bare_import:.0f} ms; import + first use of create_study: {with_study:.0f} ms")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10**6))

        def sqlite_file(prefix: str) -> str:
            return f"sqlite:///{os.path.join(tmp, f'{prefix}{next(counter)}.db')}"

        lo_mem = median_of(lambda: llmopt_run(":memory:", args.trials), args.repeats)
        lo_sql = median_of(lambda: llmopt_run(sqlite_file("l"), args.trials), args.repeats)
        try:
            op_mem = median_of(lambda: optuna_run(None, args.trials), args.repeats)
            op_sql = median_of(lambda: optuna_run(sqlite_file("o"), args.trials), args.repeats)
        except ImportError:
            op_mem = op_sql = float("nan")
        rows.append(("in memory", lo_mem, op_mem))
        rows.append(("SQLite file", lo_sql, op_sql))

    print(f"\nRandomSampler, 2 objectives, {args.trials} trials, median of {args.repeats} runs (ms per trial)")
    print(f"{'storage':<12} {'llmopt':>8} {'optuna':>8} {'llmopt/optuna':>14}")
    for name, ours, theirs in rows:
        print(f"{name:<12} {ours:>8.2f} {theirs:>8.2f} {ours / theirs:>14.2f}")


if __name__ == "__main__":
    main()
