"""Studies release their heartbeat thread and connections: on close, with `with`, and when garbage-collected."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import time
from pathlib import Path

import llmopt
from llmopt import FloatVar, RandomSampler, Space

SPACE = Space({"x": FloatVar(0, 1)})


def heartbeats() -> int:
    return sum(t.name == "llmopt-heartbeat" and t.is_alive() for t in threading.enumerate())


def _run(url: str, name: str) -> None:
    study = llmopt.create_study(name, SPACE, {"y": "minimize"}, storage=url, seed=0, sampler=RandomSampler(),
                                load_if_exists=True, heartbeat_interval=0.05, stale_after=1.0)
    study.optimize(lambda t: t.config["x"], n_trials=2)  # starts the heartbeat thread


def test_with_block_closes_the_study(tmp_path: Path) -> None:
    base = heartbeats()
    with llmopt.create_study("w", SPACE, {"y": "minimize"}, storage=str(tmp_path / "w.db"), seed=0,
                             sampler=RandomSampler(), heartbeat_interval=0.05, stale_after=1.0) as study:
        study.optimize(lambda t: t.config["x"], n_trials=2)
        assert heartbeats() == base + 1
    assert heartbeats() == base


def settled_heartbeats() -> int:
    """Heartbeat threads left once every unreachable study (of earlier tests too) is collected."""
    gc.collect()
    count, deadline = heartbeats(), time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if heartbeats() == count:
            return count
        count = heartbeats()
    return count


def test_an_unclosed_study_stops_its_thread_when_collected(tmp_path: Path) -> None:
    base = settled_heartbeats()
    for i in range(5):
        _run(str(tmp_path / "gc.db"), "gc")
    assert settled_heartbeats() == base


def test_an_unclosed_study_does_not_block_interpreter_exit(tmp_path: Path) -> None:
    script = (
        "import llmopt\n"
        "from llmopt import FloatVar, RandomSampler, Space\n"
        f"s = llmopt.create_study('e', Space({{'x': FloatVar(0, 1)}}), {{'y': 'minimize'}}, storage={str(tmp_path / 'e.db')!r},"
        " seed=0, sampler=RandomSampler(), heartbeat_interval=0.05, stale_after=1.0)\n"
        "s.optimize(lambda t: t.config['x'], n_trials=2)\n"
        "print('done')\n"
    )
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "done", done.stderr
    assert "Traceback" not in done.stderr and "Exception" not in done.stderr
    assert time.monotonic() - started < 60
