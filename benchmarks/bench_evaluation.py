"""Evaluation studies against a slow OpenAI-style server (issue 3): wall time, per-call overhead, resume.

Run by hand (one heavy process at a time on a small machine; results in docs/benchmarks-evaluation.md):

    python benchmarks/bench_evaluation.py [--quick] [--postgres URL] [--only server,throughput,overhead,resume]

0. **Server**: the stub alone (aiohttp, no litellm), so a slow stub is not blamed on llmopt.
   `StubLLMServer` is used as shipped, and also with TCP_NODELAY (the one change this file
   makes to it, in rows that say so): as shipped, each response waits ~44 ms for a delayed ACK.
1. **Throughput**: 20 trials x 50 examples, every call answered after 0.5 s, at most 16
   requests in flight (`Limits(max_in_flight=16)`), against the ideal calls x latency /
   concurrency = 1000 x 0.5 / 16 = 31.25 s, for several `concurrent_trials`.
   `max_concurrent_examples` is the number of examples per trial, so only the 16 request
   slots bound the run; every trial has its own temperature (a FloatVar), so no call can hit
   the cache. Pruning is off, plus rows with the default pruner (its stages are barriers).
2. **Overhead**: N calls at delay 0, one at a time, (a) through `acomplete` in a study
   (metering, cache lookup, per-example write, ask/tell) and (b) through `litellm.acompletion`
   directly; (a - b) / N is what llmopt adds per call. Then the same trial again: all cache
   hits, no HTTP. Every measurement runs in a fresh process, in interleaved rounds; storage
   calls are also timed alone. SQLite file, and PostgreSQL with `--postgres` (a throwaway
   database on that server, dropped afterwards), as configured and with the session option
   `synchronous_commit=off` (commits do not wait for the server's disk flush; see `no_fsync`).
3. **Resume**: a study runs in a subprocess, is killed (SIGKILL, or SIGINT = Ctrl-C) mid-trial
   and resumed with `load_study` + `optimize`. The server logs every request: a request
   beyond the distinct (configuration, example) pairs is a call paid twice.

litellm's one-time import and first call happen before anything is timed and are printed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import llmopt  # noqa: E402
from llmopt import ChoiceVar, Dataset, Evaluation, FloatVar, Limits, Price, Space, acomplete  # noqa: E402
from llmopt.evaluation import _litellm  # noqa: E402
from llmopt.evaluation.stub_server import StubLLMServer  # noqa: E402
from llmopt.trial import CallRecord, ExampleResult, TrialState  # noqa: E402

MODEL = "openai/stub"
PRICES = {MODEL: Price(prompt=1e-6, completion=2e-6)}
Row = dict[str, Any]


def echo_last_word(messages: list[dict[str, Any]]) -> str:
    """The stub's answer: the question's last word, so every example scores 1.0."""
    return str(messages[-1]["content"]).split()[-1]


def dataset(n: int) -> Dataset:
    """n examples with distinct questions, so distinct examples make distinct requests."""
    return Dataset([{"id": f"q{i}", "question": f"please repeat {i}", "answer": str(i)} for i in range(n)])


class CountingStub(StubLLMServer):
    """StubLLMServer, plus how many requests it serves at once (peak), has answered, and busy seconds.

    If the server were the bottleneck at 16 in flight, its peak would stay below 16. The
    counters are the benchmark's own (`bench_*`), whatever StubLLMServer counts itself.
    `nodelay=True` is the one change the benchmark makes to the server, and only where a
    table says so: StubLLMServer writes a response's headers and body in two sends, so with
    Nagle's algorithm on, the body waits for the client's delayed ACK (40 ms on Linux) and
    every request takes ~44 ms longer than `delay`. TCP_NODELAY removes that artefact.
    """

    def __init__(self, *args: Any, nodelay: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nodelay = nodelay
        self.bench_in_flight = 0
        self.bench_answered = 0  # handler returned: the response is on its way
        self.bench_peak = 0
        self.bench_busy = 0.0  # sum over requests of seconds spent inside the handler
        self._bench_lock = threading.Lock()

    def _handle(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._bench_lock:
            self.bench_in_flight += 1
            self.bench_peak = max(self.bench_peak, self.bench_in_flight)
        started = time.perf_counter()
        try:
            return super()._handle(body)
        finally:
            with self._bench_lock:
                self.bench_in_flight -= 1
                self.bench_answered += 1
                self.bench_busy += time.perf_counter() - started

    def start(self) -> CountingStub:
        super().start()
        assert self._server is not None
        # read in StreamRequestHandler.setup() for every new connection; none is open yet
        self._server.RequestHandlerClass.disable_nagle_algorithm = self.nodelay  # type: ignore[attr-defined]
        quiet = self._server.handle_error

        def handle_error(request: Any, address: Any) -> None:  # a killed worker's sockets: expected, not news
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                quiet(request, address)

        self._server.handle_error = handle_error  # type: ignore[method-assign]
        return self

    @property
    def label(self) -> str:
        return "StubLLMServer + TCP_NODELAY" if self.nodelay else "StubLLMServer (as shipped)"

    def reset(self) -> None:
        """Forget the requests so far (between runs, when nothing is in flight)."""
        with self._lock, self._bench_lock:
            self.requests.clear()
            self.bench_answered = 0
            self.bench_peak = 0
            self.bench_busy = 0.0


def warm_litellm() -> float:
    """Import litellm through llmopt (offline price map); returns the seconds it took (0 if already imported)."""
    started = time.perf_counter()
    _litellm.litellm()
    return time.perf_counter() - started


def async_pipeline(api_base: str) -> Callable[[Any, Any], Any]:
    """One `acomplete` call per example; the configuration's temperature makes each trial's calls distinct."""
    async def pipeline(config: Any, example: Any) -> str:
        reply = await acomplete(MODEL, [{"role": "user", "content": example.question}], api_base=api_base,
                                api_key="k", temperature=config["temperature"], max_tokens=8)
        return reply.text
    return pipeline


def evaluation(n: int, api_base: str, **settings: Any) -> Evaluation:
    """The benchmark's Evaluation: n examples, the async pipeline, the stub's price.

    Pruning is off (`pruner=None`) unless asked: every trial must make all its calls. (The
    throughput table has rows with the default pruner too: its stage boundaries cost slots.)
    """
    settings.setdefault("pruner", None)
    return Evaluation(dataset(n), async_pipeline(api_base), "exact_match", prices=PRICES, **settings)


def first_call_seconds(api_base: str) -> float:
    """One plain litellm call (outside a study): litellm builds its HTTP client on the first call."""
    started = time.perf_counter()
    asyncio.run(_litellm.acompletion(MODEL, [{"role": "user", "content": "warm up"}], 60.0, api_base=api_base, api_key="k"))
    return time.perf_counter() - started


class Clock:
    """Wall and CPU seconds of this process (all its threads: storage writes, litellm's logging),
    and CPU seconds of the calling thread alone (where `optimize` runs its event loop)."""

    def __init__(self) -> None:
        self.wall, self.cpu, self.thread = time.perf_counter(), time.process_time(), time.thread_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu

    def read_all(self) -> tuple[float, float, float]:
        return (*self.read(), time.thread_time() - self.thread)


# -- 0. the stub server's own capacity -----------------------------------------------------------
def server_capacity(nodelay: bool, delay: float, concurrency: int, n: int) -> Row:
    """n requests straight to the stub (aiohttp, no litellm, no llmopt) with `concurrency` in flight."""
    import aiohttp

    body = json.dumps({"model": "stub", "messages": [{"role": "user", "content": "please repeat 1"}]})

    async def go(url: str) -> tuple[float, int, float]:
        gate = asyncio.Semaphore(concurrency)
        slowest = [0.0]
        timeout = aiohttp.ClientTimeout(total=10 + 2 * delay)  # a stuck connection is a failure, not a hang
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as session:
            async def one() -> None:
                async with gate:
                    started = time.perf_counter()
                    async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                        await r.read()
                    slowest[0] = max(slowest[0], time.perf_counter() - started)
            await asyncio.gather(*(one() for _ in range(concurrency)), return_exceptions=True)  # open connections
            slowest[0] = 0.0
            started = time.perf_counter()
            done = await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)
            return time.perf_counter() - started, sum(isinstance(d, BaseException) for d in done), slowest[0]

    with CountingStub(answer=echo_last_word, delay=delay, nodelay=nodelay) as server:
        server.reset()
        wall, failed, slowest = asyncio.run(go(server.api_base + "/chat/completions"))
        label, peak = server.label, server.bench_peak
    ideal = -(-n // concurrency) * delay
    return {"server": label, "delay_s": delay, "concurrency": concurrency, "requests": n, "failed": failed,
            "slowest_s": slowest, "wall_s": wall,
            "ms_per_request": 1e3 * wall / n, "ideal_s": ideal, "ratio": wall / ideal if ideal else "",
            "server_peak": peak}


# -- 1. throughput at 16 in flight ---------------------------------------------------------------
def throughput(server: CountingStub, storage: str, trials: int, examples: int, in_flight: int,
               concurrent_trials: int, pruner: str | None = None) -> Row:
    """Wall time of `optimize` for trials x examples calls with `in_flight` request slots."""
    server.reset()
    ev = evaluation(examples, server.api_base, limits=Limits(max_in_flight=in_flight),
                    max_concurrent_examples=examples, concurrent_trials=concurrent_trials, pruner=pruner)
    name = f"thr-{secrets.token_hex(3)}"
    study = llmopt.create_study(name, Space({"temperature": FloatVar(0.0, 1.0)}), ev.objectives, storage=storage, seed=0)
    load = os.getloadavg()[0]  # the machine is shared: other processes' load slows the event loop down
    clock = Clock()
    study.optimize(ev, n_trials=trials, show_progress=False)
    wall, cpu = clock.read()
    records = study.trials
    calls = len(server.requests)
    ideal = calls * server.delay / in_flight  # 1000 x 0.5 / 16 = 31.25 s when no trial is pruned
    hits = sum(sum(e.cache_hits or 0 for e in ex) for ex in study.storage.get_examples_of_trials(
        [r.trial_id for r in records if r.trial_id is not None]).values())
    study.close()
    return {
        "server": server.label, "pruner": pruner or "off", "concurrent_trials": concurrent_trials,
        "trials": trials, "examples": examples, "in_flight": in_flight,
        "complete": sum(r.state == TrialState.COMPLETE for r in records),
        "pruned": sum(r.state == TrialState.PRUNED for r in records),
        "distinct_configs": len({r.fingerprint for r in records}), "server_calls": calls, "cache_hits": hits,
        "wall_s": wall, "ideal_s": ideal, "ratio": wall / ideal, "server_peak": server.bench_peak,
        "slot_use": server.bench_busy / (in_flight * wall), "cpu_ms_per_call": 1e3 * cpu / max(calls, 1),
        "load_before": load,
        "mean_accuracy": statistics.fmean(r.values["accuracy"] for r in records if r.values),
    }


# -- 2. per-call overhead --------------------------------------------------------------------------
def direct_calls(api_base: str, n: int) -> tuple[float, float, float]:
    """n sequential litellm.acompletion calls with the arguments llmopt passes; (wall, cpu, loop cpu) seconds."""
    lib = _litellm.litellm()

    async def go() -> tuple[float, float, float]:
        clock = Clock()
        for i in range(n):
            await lib.acompletion(model=MODEL, messages=[{"role": "user", "content": f"please repeat {i}"}],
                                  api_base=api_base, api_key="k", temperature=0.5, max_tokens=8,
                                  timeout=60.0, num_retries=0)
        return clock.read_all()

    return asyncio.run(go())


async def canned_acompletion(model: str, messages: list[dict[str, Any]], timeout: float, **params: Any) -> Any:
    """Stands in for `_litellm.acompletion` in the "canned" kinds: a litellm ModelResponse with a
    real usage block, built at once, no HTTP and no litellm call path (so none of its cost or noise)."""
    lib = _litellm.litellm()
    return lib.ModelResponse(model=model, choices=[{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": echo_last_word(messages)}}],
        usage=lib.Usage(prompt_tokens=9, completion_tokens=1, total_tokens=10))


def canned_direct_calls(n: int) -> tuple[float, float, float]:
    """(b) of the canned kinds: n awaits of `canned_acompletion` with the arguments llmopt passes."""
    async def go() -> tuple[float, float, float]:
        clock = Clock()
        for i in range(n):
            await canned_acompletion(MODEL, [{"role": "user", "content": f"please repeat {i}"}], 60.0,
                                     api_base="http://unused", api_key="k", temperature=0.5, max_tokens=8)
        return clock.read_all()

    return asyncio.run(go())


def study_calls(api_base: str, storage: str, n: int, cache: bool = True) -> dict[str, tuple[float, float, float]]:
    """The same n calls through `acomplete` in a one-trial study, then that trial again (all cache hits).

    Returns (wall, cpu, loop cpu) seconds of the paid trial and of the all-hits trial (with the cache on).
    """
    ev = evaluation(n, api_base, limits=Limits(max_in_flight=1), max_concurrent_examples=1, cache=cache)
    name = f"ovh-{secrets.token_hex(3)}"
    study = llmopt.create_study(name, Space({"temperature": ChoiceVar([0.5])}), ev.objectives, storage=storage,
                                seed=0, allow_repeats=True)
    clock = Clock()
    study.optimize(ev, n_trials=1, show_progress=False)
    out = {"paid": clock.read_all()}
    if cache:
        clock = Clock()
        study.optimize(ev, n_trials=1, show_progress=False)
        out["hits"] = clock.read_all()
    trials = study.trials
    assert all(t.state == TrialState.COMPLETE for t in trials), trials
    examples = study.storage.get_examples_of_trials([t.trial_id for t in trials if t.trial_id is not None])
    hits = [sum(e.cache_hits or 0 for e in examples[t.trial_id]) for t in trials if t.trial_id is not None]
    assert hits == ([0, n] if cache else [0]), hits
    study.close()
    llmopt.delete_study(name, storage=storage)
    return out


#: What each overhead subprocess measures. "nometer" and "nocache" are diagnostics that switch one
#: llmopt feature off to attribute the overhead; the headline number is "study" vs "direct".
#: "canned" kinds replace litellm by `canned_acompletion`: llmopt's own cost without litellm's noise.
CHILD_KINDS = ("direct", "direct+noop-callback", "direct+meter", "study", "study-nocache", "study-nometer",
               "canned-direct", "study-canned")
#: The (b) each kind's (a) is paired with, within its round.
BASELINE = {"study-canned": "canned-direct"}


def overhead_child(args: argparse.Namespace) -> None:
    """Subprocess: warm up, then time one measurement of `args.overhead_child` kind; prints JSON."""
    warm, kind = 20, args.overhead_child
    if kind.startswith("study"):
        if kind == "study-nometer":
            import llmopt.study.eval_loop as eval_loop

            eval_loop.install_meter = lambda: None  # diagnostic only: calls by other routes go unmetered
        if kind == "study-canned":
            _litellm.acompletion = canned_acompletion  # type: ignore[assignment]
        cache = kind != "study-nocache"
        study_calls(args.api_base, args.storage, warm, cache)  # litellm client, SQLAlchemy statement caches
        out: dict[str, Any] = study_calls(args.api_base, args.storage, args.n, cache)
    elif kind == "canned-direct":
        canned_direct_calls(warm)
        out = {"paid": canned_direct_calls(args.n)}
    else:
        if kind == "direct+meter":
            from llmopt.evaluation.meter import install_meter

            install_meter()  # what every litellm call in the process pays once a study ran
        elif kind == "direct+noop-callback":  # is it the meter's code, or litellm's work for any callback?
            _litellm.register_callback(_litellm.custom_logger_base()())
        direct_calls(args.api_base, warm)
        out = {"paid": direct_calls(args.api_base, args.n)}
    print(json.dumps(out))


def child_measure(kind: str, api_base: str, storage: str, n: int) -> dict[str, tuple[float, ...]]:
    """Run one overhead measurement in a fresh process: no llmopt meter left over, no shared warm state."""
    cmd = [sys.executable, __file__, "--overhead-child", kind, "--api-base", api_base, "--storage", storage, "--n", str(n)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} measurement failed:\n{done.stderr[-3000:]}")
    return {k: tuple(v) for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}  # type: ignore[misc]


def storage_ops(storage: str, n: int) -> tuple[float, float, float]:
    """Seconds per per-example write (example + call + cache entry), per cache lookup that misses, per hit."""
    name = f"ops-{secrets.token_hex(3)}"
    study = llmopt.create_study(name, Space({"x": ChoiceVar([1])}), {"a": "maximize"}, storage=storage, seed=0)
    store, study_id = study.storage, study._record.study_id
    trial = study.ask()
    entry = json.dumps({"text": "7", "prompt_tokens": 3, "completion_tokens": 1, "latency": 0.5})
    started = time.perf_counter()
    for i in range(n):
        call = CallRecord(MODEL, 3, 1, 5e-6, 5e-6, 0.5, False, None, f"e{i}")
        result = ExampleResult(f"e{i}", {"score": 1.0}, 5e-6, 0.5, 3, 1, None, None, 5e-6, "7", 1, 0, (call,))
        store.add_example_result(trial.trial_id, result, {f"key-{name}-{i}": entry})
    write = (time.perf_counter() - started) / n
    started = time.perf_counter()
    for i in range(n):
        store.cache_get(study_id, f"missing-{i}")
    miss = (time.perf_counter() - started) / n
    started = time.perf_counter()
    for i in range(n):
        store.cache_get(study_id, f"key-{name}-{i}")
    hit = (time.perf_counter() - started) / n
    study.tell(trial, 1.0)
    study.close()
    llmopt.delete_study(name, storage=storage)
    return write, miss, hit


def overhead(server: CountingStub, storages: Sequence[tuple[str, str]], n: int, repeats: int) -> list[Row]:
    """Per-call cost of llmopt on top of litellm: medians over `repeats` interleaved rounds of fresh processes.

    Each round runs every kind once, each in a fresh process (no meter left over from a study,
    no shared warm state); a study kind's overhead is paired with the direct run of its own
    round, which keeps a shared machine's drifting load out of the difference.
    """
    def ms(values: Sequence[float]) -> tuple[float, ...]:
        return tuple(1e3 * v / n for v in values)

    def row(what: str, storage: str, values: list[tuple[float, ...]]) -> Row:
        return {"what": what, "storage": storage, "wall_ms": statistics.median(v[0] for v in values),
                "cpu_ms": statistics.median(v[1] for v in values),
                "loop_cpu_ms": statistics.median(v[2] for v in values), "runs": len(values)}

    plan = [(kind, label, url) for label, url in storages[:1] for kind in CHILD_KINDS]
    plan += [(kind, label, url) for label, url in storages[1:] for kind in ("study", "study-canned")]
    got: dict[tuple[str, str, str], list[tuple[float, ...]]] = {}
    for _ in range(repeats):
        baselines: dict[str, tuple[float, ...]] = {}
        for kind, label, url in plan:
            out = child_measure(kind, server.api_base, url, n)
            for part, value in out.items():
                per_call = ms(value)
                got.setdefault((kind, label, part), []).append(per_call)
                if kind in ("direct", "canned-direct"):
                    baselines[kind] = per_call
                elif part == "paid":
                    base = baselines[BASELINE.get(kind, "direct")]
                    got.setdefault((kind, label, "diff"), []).append(tuple(a - b for a, b in zip(per_call, base)))
    first = storages[0][0]
    rows = [
        row("(b) litellm.acompletion directly", "-", got[("direct", first, "paid")]),
        row("(b') the same, llmopt's litellm meter installed", "-", got[("direct+meter", first, "paid")]),
        row("    the meter's cost on every litellm call (b' - b)", "-", got[("direct+meter", first, "diff")]),
        row("    diagnostic: a no-op litellm CustomLogger instead, minus (b)", "-", got[("direct+noop-callback", first, "diff")]),
    ]
    for label, url in storages:
        rows += [
            row("(a) acomplete in a study, paid", label, got[("study", label, "paid")]),
            row("**llmopt's overhead per paid call (a - b)**", label, got[("study", label, "diff")]),
            row("    litellm replaced by a canned response: study minus direct", label, got[("study-canned", label, "diff")]),
        ]
        if ("study-nocache", label, "diff") in got:
            rows += [
                row("    diagnostic: study with cache=False, minus (b)", label, got[("study-nocache", label, "diff")]),
                row("    diagnostic: study without the litellm meter, minus (b)", label, got[("study-nometer", label, "diff")]),
            ]
        rows.append(row("cache hit: a whole example, no HTTP", label, got[("study", label, "hits")]))
        ops = [storage_ops(url, n) for _ in range(repeats)]
        for i, what in enumerate(("per-example write (example + call + cache entry)", "cache lookup, miss (every paid call)",
                                  "cache lookup, hit")):
            rows.append({"what": f"    storage alone: {what}", "storage": label,
                         "wall_ms": 1e3 * statistics.median(o[i] for o in ops), "cpu_ms": "", "loop_cpu_ms": "",
                         "runs": repeats})
    return rows


# -- 3. resume after a kill ----------------------------------------------------------------------
def worker(args: argparse.Namespace) -> None:
    """Subprocess: create or reopen the study and run it until `--trials` trials are finished."""
    ev = evaluation(args.examples, args.api_base, limits=Limits(max_in_flight=args.in_flight),
                    max_concurrent_examples=args.examples, concurrent_trials=args.concurrent_trials)
    if args.resume:
        study = llmopt.load_study(args.name, storage=args.storage)
    else:
        study = llmopt.create_study(args.name, Space({"temperature": FloatVar(0.0, 1.0)}), ev.objectives,
                                    storage=args.storage, seed=0, heartbeat_interval=0.5, stale_after=2.0)
    finished = sum(r.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED) for r in study.trials)
    try:
        study.optimize(ev, n_trials=args.trials - finished, show_progress=False)
    except KeyboardInterrupt:  # the SIGINT case: llmopt re-queued the running trials; exit like Ctrl-C does
        sys.exit(130)


def resume(server: CountingStub, storage: str, trials: int, examples: int, in_flight: int,
           concurrent_trials: int, kill_at: int, sig: signal.Signals) -> Row:
    """Run the study in a subprocess, send `sig` once the server saw `kill_at` requests, resume, count calls."""
    server.reset()
    name = f"res-{secrets.token_hex(3)}"
    cmd = [sys.executable, __file__, "--worker", "--storage", storage, "--name", name, "--api-base", server.api_base,
           "--trials", str(trials), "--examples", str(examples), "--in-flight", str(in_flight),
           "--concurrent-trials", str(concurrent_trials)]
    proc = subprocess.Popen(cmd)
    deadline = time.monotonic() + 120
    while len(server.requests) < kill_at and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(0.2)  # mid-wave: some requests are in flight, some answered but not yet written
    answered = server.bench_answered
    proc.send_signal(sig)
    proc.wait()
    paid_before = len(server.requests)
    study = llmopt.load_study(name, storage=storage)
    ids = [r.trial_id for r in study.trials if r.trial_id is not None]
    written = sum(len(v) for v in study.storage.get_examples_of_trials(ids).values())
    states = [r.state.value for r in study.trials]
    study.close()
    if sig == signal.SIGKILL:
        time.sleep(2.5)  # stale_after=2: the killed worker's RUNNING trials are re-queued by the next ask()
    started = time.perf_counter()
    subprocess.run([*cmd, "--resume"], check=True, timeout=600)
    resume_wall = time.perf_counter() - started
    study = llmopt.load_study(name, storage=storage)
    records = study.trials
    per_trial = study.storage.get_examples_of_trials([r.trial_id for r in records if r.trial_id is not None])
    pairs = {(b.get("temperature"), json.dumps(b.get("messages"), sort_keys=True)) for b in server.requests}
    total = len(server.requests)
    expected_pairs = trials * examples
    row = {
        "signal": sig.name, "kill_at_requests": paid_before, "examples_written_before": written,
        "in_flight_at_kill": paid_before - written, "answered_not_written": answered - written,
        "states_after_kill": ",".join(sorted(set(states))),
        "server_calls": total, "distinct_pairs": len(pairs), "expected_pairs": expected_pairs,
        "repaid": total - len(pairs),
        "repaid_of_written": total - len(pairs) - (paid_before - written),
        "complete": sum(r.state == TrialState.COMPLETE for r in records),
        "examples_stored": sum(len(v) for v in per_trial.values()),
        "resumed_examples": sum(int(r.system_attrs.get("resumed_examples", 0)) for r in records),
        "resume_wall_s": resume_wall,
    }
    study.close()
    llmopt.delete_study(name, storage=storage)
    return row


# -- output ---------------------------------------------------------------------------------------
def table(title: str, rows: list[Row], cols: Sequence[str]) -> None:
    """Print a Markdown table (pasted as is into docs/benchmarks-evaluation.md)."""
    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    print(f"\n### {title}\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |")
    sys.stdout.flush()


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{os.path.join(tmp, 'bench.db')}"


@contextmanager
def throwaway_postgres(url: str | None) -> Iterator[str | None]:
    """A fresh database on the server of `url`, dropped afterwards: a shared database stays as it was."""
    if url is None:
        yield None
        return
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"llmopt_bench_{secrets.token_hex(4)}"
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def no_fsync(url: str) -> str:
    """`url` with `synchronous_commit=off` for its sessions (a libpq option, no llmopt setting).

    A commit then returns before the server has flushed its WAL to disk: a killed worker still
    loses nothing it committed; a crash of the database server's machine may lose the last
    fraction of a second of commits (examples that are then paid again on resume).
    """
    from sqlalchemy.engine import make_url

    return make_url(url).update_query_dict({"options": "-csynchronous_commit=off"}).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in about a minute")
    parser.add_argument("--postgres", default=None, help="also time the overhead on this PostgreSQL URL")
    parser.add_argument("--only", default="server,throughput,overhead,resume")
    parser.add_argument("--concurrent-trials-list", default="1,2,4")
    parser.add_argument("--repeats", type=int, default=None, help="overhead rounds (default 5; --quick 2)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--overhead-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    for flag, kind in (("--storage", str), ("--name", str), ("--api-base", str), ("--trials", int),
                       ("--examples", int), ("--in-flight", int), ("--concurrent-trials", int)):
        parser.add_argument(flag, type=kind, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.overhead_child:
        overhead_child(args)
        return
    only = set(args.only.split(","))
    trials, examples, n_overhead, repeats = (6, 50, 100, 2) if args.quick else (20, 50, 500, 5)
    repeats = args.repeats or repeats
    print(f"python {sys.version.split()[0]}, litellm {_litellm.version()}, {os.cpu_count()} cpus, quick={args.quick}, "
          f"llmopt from {Path(llmopt.__file__).parent}, load average {os.getloadavg()[0]:.2f}")
    if "server" in only:
        rows = [server_capacity(nd, 0.0, 1, 200) for nd in (False, True)]
        rows += [server_capacity(nd, 0.5, c, n) for nd in (False, True) for c, n in ((16, 64), (32, 64), (64, 128))]
        table("the stub server alone (aiohttp client, no litellm, no llmopt)", rows,
              ["server", "delay_s", "concurrency", "requests", "failed", "slowest_s", "wall_s", "ms_per_request",
               "ideal_s", "ratio", "server_peak"])
    imported = warm_litellm()
    print(f"\nlitellm import (once per process, not timed below): {imported:.2f} s")
    if "throughput" in only:
        rows = []
        cts = [int(x) for x in args.concurrent_trials_list.split(",")]
        for nodelay, pruner in ((False, None), (True, None), (False, "auto")):
            with CountingStub(answer=echo_last_word, delay=0.5, nodelay=nodelay) as server, sqlite_url() as url:
                print(f"first litellm call (client set-up, not timed): {first_call_seconds(server.api_base):.3f} s")
                for ct in cts:
                    rows.append(throughput(server, url, trials, examples, 16, ct, pruner))
        table(f"{trials} trials x {examples} examples, delay 0.5 s, 16 in flight, SQLite file", rows,
              ["server", "pruner", "concurrent_trials", "complete", "pruned", "distinct_configs", "server_calls",
               "cache_hits", "server_peak", "slot_use", "cpu_ms_per_call", "load_before", "wall_s", "ideal_s", "ratio"])
    if "overhead" in only:
        # TCP_NODELAY: the shipped stub's 44 ms per request would bury a sub-millisecond difference
        with (CountingStub(answer=echo_last_word, delay=0.0, nodelay=True) as server, sqlite_url() as url,
              throwaway_postgres(args.postgres) as pg_url):
            storages = [("SQLite file", url)]
            if pg_url:
                storages += [("PostgreSQL", pg_url), ("PostgreSQL, synchronous_commit=off", no_fsync(pg_url))]
            rows = overhead(server, storages, n_overhead, repeats)
        table(f"per-call overhead, delay 0, concurrency 1, N={n_overhead} calls, median of {repeats} fresh processes", rows,
              ["what", "storage", "wall_ms", "cpu_ms", "loop_cpu_ms", "runs"])
    if "resume" in only:
        r_trials, r_examples = (3, 20) if args.quick else (6, 50)
        rows = []
        with CountingStub(answer=echo_last_word, delay=0.5) as server, sqlite_url() as url:
            for sig in (signal.SIGKILL, signal.SIGINT):
                rows.append(resume(server, url, r_trials, r_examples, 16, 2, r_trials * r_examples * 2 // 5, sig))
        table(f"resume: {r_trials} trials x {r_examples} examples, 16 in flight, 2 concurrent trials, killed mid-trial",
              rows, ["signal", "kill_at_requests", "examples_written_before", "in_flight_at_kill", "answered_not_written",
                     "server_calls", "distinct_pairs", "expected_pairs", "repaid", "repaid_of_written", "complete",
                     "examples_stored", "resumed_examples"])


if __name__ == "__main__":
    main()
