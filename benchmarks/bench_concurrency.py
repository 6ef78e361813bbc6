"""Several worker processes on one study: trials written, duplicate numbers/draws, throughput.

Run by hand:

    python benchmarks/bench_concurrency.py [--workers 2] [--trials 500] [--postgres URL]

Every worker is a separate process (multiprocessing, spawn) running `optimize` on the same
stored study; afterwards the study is read back and checked for lost or duplicated trials.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import secrets
import tempfile
import time
from collections import Counter


def worker(url: str, name: str, n: int) -> None:
    import llmopt

    study = llmopt.load_study(name, storage=url)

    def objective(trial: llmopt.Trial) -> tuple[float, float]:
        trial.record_example("e0", {"x": trial.config["x"]})
        return trial.config["x"], trial.config["y"]

    study.optimize(objective, n_trials=n)


def run(url: str, workers: int, trials: int) -> dict[str, float]:
    import llmopt
    from llmopt import FloatVar, Space

    name = f"conc-{secrets.token_hex(3)}"
    llmopt.create_study(name, Space({"x": FloatVar(0, 1), "y": FloatVar(0, 1)}), {"a": "maximize", "b": "minimize"}, storage=url, seed=0)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=worker, args=(url, name, trials)) for _ in range(workers)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    study = llmopt.load_study(name, storage=url)
    records = study.trials
    numbers = Counter(r.number for r in records)
    draws = Counter(r.sample_index for r in records)
    examples = sum(len(study.storage.get_example_results(r.trial_id)) for r in records)
    llmopt.delete_study(name, storage=url)  # leave a shared database as it was
    return {
        "expected": workers * trials,
        "written": len(records),
        "complete": sum(r.state.value == "COMPLETE" for r in records),
        "dup_numbers": sum(c - 1 for c in numbers.values()),
        "dup_draws": sum(c - 1 for c in draws.values()),
        "examples": examples,
        "trials_per_s": len(records) / elapsed,
        "exit_codes": sum(p.exitcode != 0 for p in procs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=500, help="per worker")
    parser.add_argument("--postgres", default=None, help="also run on this PostgreSQL URL")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("SQLite file", run(f"sqlite:///{os.path.join(tmp, 'c.db')}", args.workers, args.trials)))
    if args.postgres:
        rows.append(("PostgreSQL", run(args.postgres, args.workers, args.trials)))
    cols = ["expected", "written", "complete", "dup_numbers", "dup_draws", "examples", "exit_codes", "trials_per_s"]
    print(f"{args.workers} workers x {args.trials} trials")
    print(f"{'storage':<12} " + " ".join(f"{c:>12}" for c in cols))
    for name, r in rows:
        print(f"{name:<12} " + " ".join(f"{r[c]:>12.0f}" if c != "trials_per_s" else f"{r[c]:>12.1f}" for c in cols))


if __name__ == "__main__":
    main()
