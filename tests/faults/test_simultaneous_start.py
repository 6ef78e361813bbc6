"""Workers that open one study at the same instant: 4 on PostgreSQL, 2 on one SQLite file.

Each calls `create_study(..., load_if_exists=True)` released by a barrier (every worker has
imported llmopt and waits for a start time written to a file), then runs its own N trials.
All must start without error, and the study must hold exactly workers x N trials, numbered
without gaps or repeats, with no configuration twice.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_ADMIN_URL

ROOT = Path(__file__).resolve().parents[2]
WORKER = str(Path(__file__).with_name("worker.py"))
N_TRIALS = 10  # per worker
# The race lost about 1 start in 10 rounds of 2 SQLite workers and 1 in 12 starts of 4 PostgreSQL
# workers before creation was made atomic: enough rounds that a regression shows in most runs.
SQLITE_ROUNDS = 8  # about 2 s each (4 s on a loaded machine)
POSTGRES_ROUNDS = 4  # about 6 s each


def start_together(url: str, name: str, workers: int, barrier: Path) -> tuple[list[tuple[int, str]], float]:
    """Launch the workers, release them at one instant once all are imported.

    Returns (exit code, stderr) of each and the spread of the moments they opened the study.
    """
    barrier.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, WORKER, url, name, str(N_TRIALS), "plain", "-", str(barrier)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(workers)
    ]
    try:
        deadline = time.monotonic() + 120
        while len(list(barrier.glob("ready-*"))) < workers:
            assert time.monotonic() < deadline, "the workers never got ready"
            assert all(p.poll() is None for p in procs), "a worker died before the barrier"
            time.sleep(0.01)
        staged = barrier / "start.tmp"
        staged.write_text(repr(time.time() + 0.3))
        os.replace(staged, barrier / "start")  # atomic: a worker reads the whole timestamp or nothing
        outputs = [p.communicate(timeout=180) for p in procs]
        starts = [float(line.split()[1]) for out, _ in outputs for line in out.splitlines() if line.startswith("starting")]
        spread = max(starts) - min(starts) if len(starts) == workers else float("inf")
        return [(p.returncode, err) for p, (_, err) in zip(procs, outputs)], spread
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def study_rows(url: str, name: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM llmopt_studies WHERE name = :n"), {"n": name})]
            assert len(ids) == 1, f"{len(ids)} studies named {name!r}"
            return [dict(r._mapping) for r in conn.execute(text(
                "SELECT number, state, params_json, fingerprint, error FROM llmopt_trials WHERE study_id = :s"), {"s": ids[0]})]
    finally:
        engine.dispose()


def run_rounds(urls: Iterator[str], workers: int, rounds: int, tmp_path: Path) -> dict[str, Any]:
    """`rounds` rounds of `workers` processes opening a new study; the figures of every round, checked at the end.

    Even rounds get a fresh database (the schema creation races too), odd ones reuse the
    previous round's (only the study's creation races).
    """
    figures: dict[str, Any] = {"workers": workers, "rounds": 0, "failed_starts": 0, "errors": [], "missing_trials": 0,
                               "duplicate_numbers": 0, "duplicate_configurations": 0, "not_complete": 0,
                               "max_start_spread_s": 0.0}
    url = ""
    for round_ in range(rounds):
        url = next(urls) if round_ % 2 == 0 else url
        name = f"together-{secrets.token_hex(3)}"
        results, spread = start_together(url, name, workers, tmp_path / f"barrier-{round_}")
        figures["rounds"] += 1
        figures["max_start_spread_s"] = round(max(figures["max_start_spread_s"], spread), 4)
        failed = [err.strip().splitlines()[-1] if err.strip() else f"exit {code}" for code, err in results if code != 0]
        figures["failed_starts"] += len(failed)
        figures["errors"] += failed
        trials = study_rows(url, name)
        numbers = Counter(t["number"] for t in trials)
        configs = Counter(t["fingerprint"] for t in trials if t["fingerprint"])
        figures["missing_trials"] += workers * N_TRIALS - len(trials)
        figures["duplicate_numbers"] += sum(n - 1 for n in numbers.values())
        figures["duplicate_configurations"] += sum(n - 1 for n in configs.values())
        figures["not_complete"] += sum(t["state"] != "COMPLETE" for t in trials)
        if sorted(numbers) != list(range(len(trials))):
            figures["errors"].append(f"round {round_}: trial numbers {sorted(numbers)}")
    print("fault-suite:", json.dumps(figures))
    target = os.environ.get("LLMOPT_FAULT_REPORT")
    if target:
        with open(target, "a") as fh:
            fh.write(json.dumps(figures) + "\n")
    return figures


def check(figures: dict[str, Any]) -> None:
    assert figures["failed_starts"] == 0, f"workers that failed to start: {figures['errors']}"
    assert figures["max_start_spread_s"] < 1.0, f"the barrier did not release the workers together: {figures}"
    assert figures["missing_trials"] == 0, figures
    assert figures["duplicate_numbers"] == 0 and figures["duplicate_configurations"] == 0, figures
    assert figures["not_complete"] == 0 and not figures["errors"], figures


@contextmanager
def fresh_postgres_databases() -> Iterator[Iterator[str]]:
    """A new, empty database per round (dropped afterwards), so workers race on creating the schema too."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]

    def databases() -> Iterator[str]:
        while True:
            name = f"llmopt_faults_{secrets.token_hex(4)}"
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            made.append(name)
            yield f"{base}/{name}"

    try:
        yield databases()
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.slow
def test_two_workers_start_together_on_one_sqlite_file(tmp_path: Path) -> None:
    files = (f"sqlite:///{tmp_path / f'together-{i}.db'}" for i in range(SQLITE_ROUNDS))
    check(run_rounds(files, workers=2, rounds=SQLITE_ROUNDS, tmp_path=tmp_path))


@pytest.mark.slow
@pytest.mark.postgres
def test_four_workers_start_together_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    del postgres_url  # requested for its skip rule (LLMOPT_SKIP_POSTGRES=1) and the server check
    with fresh_postgres_databases() as urls:
        check(run_rounds(urls, workers=4, rounds=POSTGRES_ROUNDS, tmp_path=tmp_path))
