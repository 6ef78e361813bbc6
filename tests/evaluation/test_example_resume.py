"""Per-example persistence: an interrupted or killed trial resumes at its next unscored example and pays nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Space, acomplete
from llmopt.evaluation.stub_server import StubLLMServer
from llmopt.trial import TrialState
from tests.evaluation.conftest import STUB_MODEL, STUB_PRICE, echo_last_word

DATA = [{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(12)]


def ctrl_c_pipeline(server: StubLLMServer, state: dict[str, int]):
    """Presses Ctrl-C `state["presses"]` times (really: SIGINT to this process) while the 6th example's call is out."""
    async def pipeline(config, example):
        call = asyncio.ensure_future(acomplete(STUB_MODEL, example.question, api_base=server.api_base, api_key="k"))
        if state["n"] == 0:
            await asyncio.sleep(0.1)  # the request is at the server (it answers after 0.4 s)
            for _ in range(state["presses"]):
                signal.raise_signal(signal.SIGINT)
                await asyncio.sleep(0.05)
        state["n"] -= 1
        return (await call).text
    return pipeline


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_mid_trial_requeues_and_resume_skips_scored_examples(tmp_path: Path, presses: int) -> None:
    state = {"n": 5, "presses": presses}
    url = str(tmp_path / "r.db")
    with StubLLMServer(answer=echo_last_word, delay=0.4) as server:
        ev = Evaluation(Dataset(DATA), ctrl_c_pipeline(server, state), prices=STUB_PRICE, max_concurrent_examples=1,
                        cache=False, overlap_trials=False)
        study = llmopt.create_study("r", Space({"x": ChoiceVar([1])}), ev.objectives, storage=url, seed=0)
        with pytest.raises(KeyboardInterrupt):
            study.optimize(ev, n_trials=1)
        (trial,) = study.trials
        assert trial.state == TrialState.WAITING
        # one Ctrl-C: the call in flight finishes and its example is stored; two: it is cancelled, paid for nothing
        stored = 6 if presses == 1 else 5
        assert len(study.storage.get_example_results(trial.trial_id)) == stored and len(server.requests) == 6
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C means KeyboardInterrupt again

        state["n"] = 10**6
        study = llmopt.load_study("r", storage=url)
        study.optimize(ev, n_trials=1)
        (trial,) = study.trials
        assert trial.state == TrialState.COMPLETE and trial.values["accuracy"] == 1.0
        assert trial.system_attrs["resumed_examples"] == stored
        assert len(server.requests) == 12 + (6 - stored)  # the cache is off: stored examples were not run again
        order = ev.dataset.order(study.seed)
        assert [r.example_id for r in study.storage.get_example_results(trial.trial_id)][:stored] == order[:stored]


WORKER = textwrap.dedent(
    """
    import sys, llmopt
    from llmopt import ChoiceVar, Dataset, Evaluation, Space, acomplete, Price
    url, api_base = sys.argv[1], sys.argv[2]
    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(12)])
    async def pipeline(config, example):
        return (await acomplete("openai/stub", example.question, api_base=api_base, api_key="k")).text
    ev = Evaluation(data, pipeline, prices={"openai/stub": Price(prompt=1e-6, completion=2e-6)}, max_concurrent_examples=1)
    study = llmopt.create_study("k", Space({"x": ChoiceVar([1])}), ev.objectives, storage=url, seed=0,
                                load_if_exists=True, heartbeat_interval=0.2, stale_after=1.0)
    study.optimize(ev, n_trials=1)
    """
)


@pytest.mark.slow
def test_killed_worker_resumes_at_the_next_unscored_example(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with StubLLMServer(answer=echo_last_word, delay=0.3) as server:
        worker = subprocess.Popen([sys.executable, str(script), url, server.api_base], env=env)
        deadline = time.monotonic() + 60
        while len(server.requests) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        study = llmopt.load_study("k", storage=url)
        (trial,) = study.trials
        scored = len(study.storage.get_example_results(trial.trial_id))
        paid_before = len(server.requests)
        assert trial.state == TrialState.RUNNING and 4 <= scored < 12
        time.sleep(1.2)  # the heartbeat goes stale: the next worker re-queues and resumes the trial
        subprocess.run([sys.executable, str(script), url, server.api_base], env=env, check=True, timeout=120)
        (trial,) = llmopt.load_study("k", storage=url).trials
        assert trial.state == TrialState.COMPLETE and trial.values["accuracy"] == 1.0
        assert trial.system_attrs["resumed_examples"] == scored
        # only the example in flight at the kill (paid, never written) is paid again
        assert len(server.requests) - paid_before == 12 - scored  # scored examples are not run again
        assert paid_before - scored <= 1  # at most the one example in flight at the kill is paid twice
