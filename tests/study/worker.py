"""A worker process for the concurrency and crash tests: joins a stored study and runs trials.

Usage: python worker.py STORAGE_URL STUDY N_TRIALS [SLEEP_SECONDS] [HANG_ON_TRIAL]
HANG_ON_TRIAL makes the objective block forever on that trial number (the test kills it).
"""

from __future__ import annotations

import sys
import time

import llmopt


def main() -> None:
    url, name, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sleep = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    hang_on = int(sys.argv[5]) if len(sys.argv) > 5 else -1
    study = llmopt.load_study(name, storage=url)

    def objective(trial: llmopt.Trial) -> tuple[float, float]:
        if trial.number == hang_on:
            print(f"hanging on trial {trial.number}", flush=True)
            time.sleep(3600)
        time.sleep(sleep)
        trial.record_example("e0", {"x": trial.config["x"]})
        return trial.config["x"], trial.config["y"]

    study.optimize(objective, n_trials=n_trials)
    print(f"done {n_trials}", flush=True)


if __name__ == "__main__":
    main()
