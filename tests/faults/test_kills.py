"""kill -9 of an evaluation-study worker at seeded random points, then resume with a fresh process.

The points: before the first call (while importing or opening the study), mid-trial (after
the k-th call reached the server), inside a commit (the worker holds each commit open just
before the database commits) and during the proposal step (a slow sampler: the trial's row
exists, its configuration does not yet). After each kill and at the end the database must be
intact, keep every example row it held at the kill, never pay again for a stored example,
and end with exactly the asked number of finished trials: no RUNNING, no spurious FAILED.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from llmopt.evaluation.stub_server import StubLLMServer

ROOT = Path(__file__).resolve().parents[2]
WORKER = str(Path(__file__).with_name("worker.py"))
TOTAL = 6  # finished trials asked of the study
EXAMPLES = 6  # per trial (worker.EXAMPLES)
DELAY = 0.05  # the stub's answer time
STALE_WAIT = 1.4  # the worker's stale_after is 1.0 s and it heartbeats every 0.2 s
# One study per backend goes through every kind of kill, each worker killed in turn, then one
# that finishes: a worker spends ~5 s importing litellm, so one study per kind would cost minutes.
SCHEDULE = ("startup", "proposal", "mid_trial", "commit", "startup")
SLOW = {"commit": {"LLMOPT_FAULT_SLOW_COMMIT": "0.05"}, "proposal": {"LLMOPT_FAULT_SLOW_PROPOSE": "0.5"}}


def echo_last_word(messages: list[dict[str, Any]]) -> str:
    return str(messages[-1]["content"]).split()[-1]


class Worker:
    """A worker process whose stdout lines (markers like "commit", "proposing 3") are collected as they come."""

    def __init__(self, url: str, name: str, api_base: str, env: dict[str, str]) -> None:
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, WORKER, url, name, str(TOTAL), "eval", api_base],
            stdout=subprocess.PIPE, stderr=self.err, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def count(self, prefix: str) -> int:
        return sum(line.startswith(prefix) for line in list(self.lines))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stderr(self) -> str:
        self.err.seek(0)
        return self.err.read()

    def finish(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        finally:
            if self.alive():
                self.kill()
        self.reader.join(5)
        self.err.close()


@dataclass
class Snapshot:
    """What the database held right after a kill, and what the server had been asked by then."""

    at: float
    rows: set[tuple[int, str, str]]  # (trial id, example id, metrics json)
    pairs: dict[tuple[int, str], int]  # (trial id, example id) -> trial's x, for stored examples
    requested: Counter[tuple[int, str]]  # (x, example id) -> paid calls at the server


@dataclass
class Tally:
    kills: int = 0
    landed: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # kinds whose worker finished before the kill point
    rows_lost: int = 0
    repaid_at_server: int = 0
    repaid_in_calls_table: int = 0
    inflight_rerun: int = 0  # calls in flight at a kill (paid, never stored) and so run again: unavoidable, allowed
    integrity_errors: list[str] = field(default_factory=list)


def requested(server: StubLLMServer) -> Counter[tuple[int, str]]:
    """Paid calls per (x, example): the worker's message is 'x=<x> say <i>'."""
    counts: Counter[tuple[int, str]] = Counter()
    for body in list(server.requests):
        words = str(body["messages"][-1]["content"]).split()
        counts[(int(words[0].removeprefix("x=")), f"e{words[-1]}")] += 1
    return counts


def read_db(url: str, name: str) -> dict[str, Any]:
    """The study's rows, read with plain SQL (no llmopt code between the test and the file)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            out: dict[str, Any] = {"integrity": []}
            if engine.dialect.name == "sqlite":
                check = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                if check != ["ok"]:
                    out["integrity"].append(f"integrity_check: {check}")
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    out["integrity"].append(f"foreign_key_check: {broken}")
            has_tables = conn.execute(text(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'llmopt_studies'"
                if engine.dialect.name == "postgresql" else
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'llmopt_studies'"
            )).scalar()
            study_id = conn.execute(text("SELECT id FROM llmopt_studies WHERE name = :n"), {"n": name}).scalar() if has_tables else None
            if study_id is None:
                return {**out, "trials": [], "examples": [], "calls": []}
            out["trials"] = [dict(r._mapping) for r in conn.execute(text(
                "SELECT id, number, state, params_json, fingerprint, error FROM llmopt_trials WHERE study_id = :s ORDER BY number"),
                {"s": study_id})]
            out["examples"] = [tuple(r) for r in conn.execute(text(
                "SELECT e.trial_id, e.example_id, e.metrics_json FROM llmopt_examples e "
                "JOIN llmopt_trials t ON t.id = e.trial_id WHERE t.study_id = :s"), {"s": study_id})]
            out["calls"] = [tuple(r) for r in conn.execute(text(
                "SELECT trial_id, example_id, created_at FROM llmopt_calls WHERE study_id = :s"), {"s": study_id})]
            return out
    finally:
        engine.dispose()


def x_of(trials: list[dict[str, Any]]) -> dict[int, int]:
    return {t["id"]: json.loads(t["params_json"])["x"] for t in trials if t["params_json"]}


def snapshot(url: str, name: str, server: StubLLMServer, at: float) -> tuple[Snapshot, list[str]]:
    db = read_db(url, name)
    xs = x_of(db["trials"])
    rows = {(tid, eid, metrics) for tid, eid, metrics in db["examples"]}
    pairs = {(tid, eid): xs[tid] for tid, eid, _ in db["examples"]}
    return Snapshot(at, rows, pairs, requested(server)), db["integrity"]


def kill_at(worker: Worker, mode: str, rng: random.Random, server: StubLLMServer) -> str | None:
    """SIGKILL the worker at a seeded random point of `mode`; what it was doing then, or None if it finished first."""
    before = len(server.requests)
    start = time.monotonic()
    if mode == "startup":
        delay = rng.uniform(0.0, 2.5)
        ready = lambda: time.monotonic() - start >= delay or len(server.requests) > before  # noqa: E731
    elif mode == "mid_trial":
        k = rng.randint(1, 8)
        ready = lambda: len(server.requests) - before >= k  # noqa: E731
    elif mode == "commit":  # the k-th commit once calls have begun: heartbeats, stored examples, trial ends
        k = rng.randint(1, 12)
        seen: list[int] = []

        def ready() -> bool:
            if not seen and len(server.requests) > before:
                seen.append(worker.count("commit"))
            return bool(seen) and worker.count("commit") - seen[0] >= k
    else:
        k = rng.randint(1, 3)
        ready = lambda: worker.count("proposing") >= k  # noqa: E731
    deadline = time.monotonic() + 60
    while not ready():
        if not worker.alive() or time.monotonic() > deadline:
            return None
        time.sleep(0.002)
    if mode == "mid_trial":
        time.sleep(rng.uniform(0.0, DELAY))  # somewhere inside the call's answer time, or just after it
    calls = len(server.requests) - before
    opened = any(line.startswith("ready") for line in worker.lines)
    worker.kill()
    where = ("before the first call" if calls == 0 else f"after {calls} calls") + ("" if opened else ", before the study opened")
    return f"{mode}: {where}"


def run_kills(url: str, name: str, seed: str) -> tuple[Tally, dict[str, Any]]:
    rng = random.Random(seed)
    tally = Tally()
    snapshots: list[Snapshot] = []
    with StubLLMServer(answer=echo_last_word, delay=DELAY) as server:
        for mode in SCHEDULE:
            worker = Worker(url, name, server.api_base, SLOW.get(mode, {}))
            landed = kill_at(worker, mode, rng, server)
            killed_at = time.time()
            if landed is None:
                worker.finish(60)
                assert worker.proc.returncode == 0, worker.stderr()[-3000:]
                tally.missed.append(mode)
                continue
            tally.kills += 1
            tally.landed.append(landed)
            worker.finish(5)
            snap, problems = snapshot(url, name, server, killed_at)
            snapshots.append(snap)
            tally.integrity_errors += problems
            time.sleep(STALE_WAIT)  # the dead worker's trial goes stale, so the next worker re-queues it
        final = Worker(url, name, server.api_base, {})
        final.finish(120)
        assert final.proc.returncode == 0, f"the resuming worker failed:\n{final.stderr()[-3000:]}"
        paid = requested(server)

    db = read_db(url, name)
    tally.integrity_errors += db["integrity"]
    final_rows = {(tid, eid, metrics) for tid, eid, metrics in db["examples"]}
    first_stored: dict[tuple[int, str], tuple[Snapshot, int]] = {}  # (trial id, example id) -> first kill it survived, x
    for snap in snapshots:
        tally.rows_lost += len(snap.rows - final_rows)
        for pair, x in snap.pairs.items():
            first_stored.setdefault(pair, (snap, x))
    for (trial_id, example_id), (snap, x) in first_stored.items():
        tally.repaid_at_server += paid[(x, example_id)] - snap.requested[(x, example_id)]
    tally.repaid_in_calls_table = sum(
        1 for trial_id, example_id, created_at in db["calls"]
        if (trial_id, example_id) in first_stored and created_at > first_stored[(trial_id, example_id)][0].at
    )
    # every call paid more than once is either one of those or an example in flight at a kill (paid, never stored)
    tally.inflight_rerun = sum(n - 1 for n in paid.values() if n > 1) - tally.repaid_at_server
    report(url, tally, db)
    return tally, db


def report(url: str, tally: Tally, db: dict[str, Any]) -> None:
    """One line per test (pytest -s shows it); LLMOPT_FAULT_REPORT=path appends it as JSON for the suite's figures."""
    states = Counter(t["state"] for t in db["trials"])
    line = {"backend": url.split(":")[0], "kills": tally.kills, "landed": tally.landed, "missed": tally.missed,
            "rows_lost": tally.rows_lost, "repaid_at_server": tally.repaid_at_server,
            "repaid_in_calls_table": tally.repaid_in_calls_table, "inflight_rerun": tally.inflight_rerun,
            "states": dict(states), "integrity_errors": tally.integrity_errors}
    print("fault-suite:", json.dumps(line))
    target = os.environ.get("LLMOPT_FAULT_REPORT")
    if target:
        with open(target, "a") as fh:
            fh.write(json.dumps(line) + "\n")


def check(tally: Tally, db: dict[str, Any]) -> None:
    trials = db["trials"]
    summary = (f"{tally.kills} kills ({tally.landed}); trials: "
               f"{[(t['number'], t['state'], t['error']) for t in trials]}")
    assert tally.kills >= len(SCHEDULE) - 1, f"kill points missed (the worker finished first): {tally.missed}"
    assert not tally.integrity_errors, summary
    assert tally.rows_lost == 0, f"{tally.rows_lost} stored example rows lost; {summary}"
    assert tally.repaid_at_server == 0, f"{tally.repaid_at_server} calls paid again for stored examples; {summary}"
    assert tally.repaid_in_calls_table == 0, f"{tally.repaid_in_calls_table} calls stored again for stored examples; {summary}"
    numbers = [t["number"] for t in trials]
    assert sorted(numbers) == list(range(len(numbers))), f"trial numbers not unique and contiguous; {summary}"
    assert not [t for t in trials if t["state"] == "RUNNING"], f"a trial left RUNNING; {summary}"
    assert not [t for t in trials if t["state"] == "FAILED"], f"spurious FAILED trial; {summary}"
    assert len(trials) == TOTAL and all(t["state"] == "COMPLETE" for t in trials), f"expected {TOTAL} COMPLETE; {summary}"
    fingerprints = [t["fingerprint"] for t in trials]
    assert len(set(fingerprints)) == len(fingerprints), f"a configuration ran twice; {summary}"
    per_pair = Counter((tid, eid) for tid, eid, _ in db["examples"])
    assert max(per_pair.values()) == 1, "an example stored twice for one trial"
    per_trial = Counter(tid for tid, _ in per_pair)
    assert sorted(per_trial.values()) == [EXAMPLES] * TOTAL, f"every trial scores all {EXAMPLES} examples; {summary}"


@pytest.mark.slow
def test_sqlite_workers_killed_then_resumed(tmp_path: Path, unique_name: str) -> None:
    tally, db = run_kills(f"sqlite:///{tmp_path / 'faults.db'}", unique_name, seed="sqlite")
    check(tally, db)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_workers_killed_then_resumed(postgres_url: str, unique_name: str) -> None:
    tally, db = run_kills(postgres_url, unique_name, seed="postgres")
    check(tally, db)
