"""Several worker processes run one evaluation study (PostgreSQL and SQLite): no lost examples, calls or numbers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import llmopt
from llmopt.evaluation.stub_server import StubLLMServer
from llmopt.trial import Objective, TrialState
from tests.evaluation.conftest import echo_last_word

WORKER = textwrap.dedent(
    """
    import sys, llmopt
    from llmopt import Dataset, Evaluation, FloatVar, Price, Space, acomplete
    url, api_base, name, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(8)])
    async def pipeline(config, example):
        reply = await acomplete("openai/stub", example.question, api_base=api_base, api_key="k", temperature=config["t"])
        return reply.text
    ev = Evaluation(data, pipeline, prices={"openai/stub": Price(prompt=1e-6, completion=2e-6)}, concurrent_trials=2)
    study = llmopt.create_study(name, Space({"t": FloatVar(0, 1)}), ev.objectives, storage=url, seed=0, load_if_exists=True)
    study.optimize(ev, n_trials=n)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_workers_share_one_evaluation_study(backend: str, tmp_path: Path, request: pytest.FixtureRequest, unique_name: str) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else f"sqlite:///{tmp_path / 'w.db'}"
    llmopt.create_study(unique_name, llmopt.Space({"t": llmopt.FloatVar(0, 1)}),
                        [Objective("accuracy", "maximize"), Objective("cost", "minimize"),
                         Objective("latency_p95", "minimize")], storage=url, seed=0)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    workers = 3 if backend == "postgres" else 2
    with StubLLMServer(answer=echo_last_word, delay=0.02) as server:
        procs = [subprocess.Popen([sys.executable, str(script), url, server.api_base, unique_name, "4"], env=env,
                                  stderr=subprocess.PIPE, text=True) for _ in range(workers)]
        for proc in procs:
            _, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err[-3000:]
        study = llmopt.load_study(unique_name, storage=url)
        trials = study.trials
        assert len(trials) == 4 * workers and sorted(t.number for t in trials) == list(range(4 * workers))
        assert all(t.state == TrialState.COMPLETE and t.values["accuracy"] == 1.0 for t in trials)
        assert len({t.fingerprint for t in trials}) == len(trials)
        calls = sum(len(study.storage.get_calls(t.trial_id)) for t in trials)
        assert calls == len(server.requests) == 8 * len(trials)  # every call stored once, none lost
        assert study.storage.study_spent(study._record.study_id) > 0
