"""Servers give back what they take: threads, sockets and processes return to baseline on stop, GC and exit."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import llmopt
from llmopt import ChoiceVar, Dataset, Evaluation, Space, acomplete, complete
from llmopt.evaluation.stub_server import StubLLMServer
from tests.evaluation.conftest import STUB_MODEL, STUB_PRICE, echo_last_word

ROOT = Path(__file__).resolve().parents[2]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def usage() -> tuple[int, int]:
    gc.collect()  # litellm's SDK clients are reference cycles: dropped ones go at the next collection
    return threading.active_count(), open_fds()


def settled(threads: int, fds: int, patience: float = 5.0) -> tuple[int, int]:
    """Usage once it is back within the baseline, or after `patience` seconds: sockets closed by a
    finalizer or a thread still winding down (an earlier test's, on a loaded machine) are not leaks,
    what is still open then is."""
    deadline = time.monotonic() + patience
    now = usage()
    while (now[0] > threads or now[1] > fds + 2) and time.monotonic() < deadline:
        time.sleep(0.1)
        now = usage()
    return now


def talk(server: StubLLMServer) -> None:
    """Real requests through litellm: one sync call and 8 concurrent async ones (8 pooled keep-alive connections)."""
    assert complete(STUB_MODEL, "say one", api_base=server.api_base, api_key="k").text == "one"

    async def many() -> list[str]:
        replies = await asyncio.gather(*[acomplete(STUB_MODEL, f"say {i}", api_base=server.api_base, api_key="k") for i in range(8)])
        return [r.text for r in replies]

    assert asyncio.run(many()) == [str(i) for i in range(8)]


def test_ten_start_stop_cycles_leave_no_thread_and_no_socket() -> None:
    """Each cycle used to leave 9 handler threads and 18 sockets (9 server-side, 9 in litellm's pools)."""
    with StubLLMServer(answer=echo_last_word) as server:  # warm-up: litellm's import starts its own threads
        talk(server)
    threads, fds = usage()
    for _ in range(10):
        with StubLLMServer(answer=echo_last_word, delay=0.01) as server:
            talk(server)
            assert threading.active_count() > threads  # the connections really were held open meanwhile
    after_threads, after_fds = settled(threads, fds)
    assert after_threads <= threads, [t.name for t in threading.enumerate()]
    assert after_fds <= fds + 2, f"{after_fds - fds} file handles left open by 10 servers"


def test_evaluation_studies_against_fresh_servers_leave_nothing() -> None:
    """The reported case: study after study, each against its own stub (38 -> 683 handles over 20 before)."""
    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(6)])

    def run_study(index: int) -> None:
        with StubLLMServer(answer=echo_last_word) as server:
            async def pipeline(config, example):
                return (await acomplete(STUB_MODEL, example.question, api_base=server.api_base, api_key="k")).text

            ev = Evaluation(data, pipeline, prices=STUB_PRICE, max_concurrent_examples=6, cache=False)
            study = llmopt.create_study(f"leak-{index}", Space({"x": ChoiceVar([1, 2])}), ev.objectives, storage=":memory:", seed=0)
            try:
                study.optimize(ev, n_trials=2)
                assert [t.values["accuracy"] for t in study.trials] == [1.0, 1.0]
            finally:
                study.close()

    run_study(0)  # warm-up
    threads, fds = usage()
    for index in range(1, 6):
        run_study(index)
    after_threads, after_fds = settled(threads, fds)
    assert after_threads <= threads, [t.name for t in threading.enumerate()]
    assert after_fds <= fds + 2, f"{after_fds - fds} file handles left open by 5 studies"


def test_stop_is_idempotent_and_lets_an_answer_in_flight_finish() -> None:
    server = StubLLMServer(delay=0.4).start()
    reply: dict[str, str] = {}

    def call() -> None:
        body = json.dumps({"model": "stub", "messages": [{"role": "user", "content": "hi"}]}).encode()
        request = urllib.request.Request(server.api_base + "/chat/completions", body)
        reply["text"] = json.load(urllib.request.urlopen(request, timeout=5))["choices"][0]["message"]["content"]

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.1)  # the request is being answered
    port = int(server.api_base.split(":")[-1].split("/")[0])
    server.stop()
    caller.join(5)
    assert reply == {"text": "ok"}
    server.stop()  # a second stop does nothing
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_a_server_nobody_stopped_closes_when_collected() -> None:
    with StubLLMServer(answer=echo_last_word) as warm_up:  # litellm's import starts its own threads
        talk(warm_up)
    threads, fds = usage()
    server = StubLLMServer(answer=echo_last_word).start()
    talk(server)
    port = int(server.api_base.split(":")[-1].split("/")[0])
    del server
    assert usage() <= (threads, fds + 2)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


LOCAL_OWNER = textwrap.dedent(
    """
    import sys
    from llmopt import LocalModelServer
    server = LocalModelServer(n_ctx=256).start()
    print(server.process.pid, flush=True)
    if sys.argv[1] == "gc":
        del server
        import gc; gc.collect()
        print("collected", flush=True)
    # "exit": the interpreter exits with the server still referenced and never stopped
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["gc", "exit"])
def test_a_local_model_server_nobody_stopped_is_terminated(how: str, tmp_path: Path) -> None:
    """It used to keep running (with its log file open) after its owner forgot stop() or exited."""
    script = tmp_path / "owner.py"
    script.write_text(LOCAL_OWNER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(script), how], capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 15
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, 9)
        pytest.fail(f"the llama_cpp.server process {pid} outlived its owner ({how})")
