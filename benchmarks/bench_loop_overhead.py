"""llmopt's own CPU per trial and per scored example in an evaluation study (issue 19), before and after.

Run by hand, one heavy run at a time (results in docs/benchmarks.md, "Loop overhead"):

    python benchmarks/bench_loop_overhead.py --trials 100,1000 --storage sqlite,postgres
    python benchmarks/bench_loop_overhead.py --trials 5000 --storage sqlite --max-seconds 1200
    python benchmarks/bench_loop_overhead.py --only floor
    python benchmarks/bench_loop_overhead.py --only pruning-wall        # 100 trials x 200 examples, accuracy
    python benchmarks/bench_loop_overhead.py --only profile --trials 1000 --storage sqlite

The study: 20 examples per trial, `Stages.every(5)` (boundaries 5, 10, 15), the Evaluation's
defaults otherwise (pruner "auto" = the default ParetoPruner, objectives accuracy, cost and
latency_p95, cache on, 16 requests in flight, overlapping trials). The pipeline makes one
`acomplete` call per example to a stub OpenAI-compatible server that answers at once; each
configuration gets a deterministic share of wrong answers and a prompt length of its own, so
trials differ in accuracy and cost and the pruner has something to prune. Every trial has its
own temperature (a FloatVar, passed to the call), so no call is a cache hit.

**Why the stub runs in another process.** `StubLLMServer` normally runs in a thread of the
study's process, and then `time.process_time()` would count the server's HTTP parsing and JSON
encoding as llmopt's. Here the stub runs in a child process (`python -c`, it prints its
`api_base` and serves until its stdin closes), so the study process's CPU time (all its threads:
the event loop, storage writes in `asyncio.to_thread`, litellm's logging threads) is the client
side only: llmopt plus litellm's client work. Each measured run is itself a fresh process, so no
run inherits another's warm caches, meter or memory; litellm's import and first call happen before
the clock starts. That CPU still includes litellm's own per-call work (several ms, more than the
2 ms target): the `floor` rows measure it (bare `litellm.acompletion`, and `llmopt.acomplete`
outside a study, against the same stub process, at 1 and 16 in flight), plus one SQLite
insert of an example row; "above floor" in the table subtracts the litellm floor at 16 in flight
(the study's concurrency), which is the part llmopt's design controls.

**Sampler.** `RandomSampler()` by default, so the per-trial cost is the loop's bookkeeping and
not the default sampler's model fitting, which grows with the study by design (GP);
`--sampler default` runs the study's default sampler instead.

**Progress line.** On (`show_progress=True`, its stream sent to a log file): what a user at a
terminal runs, and it recomputes the front per trial today. `--no-progress` turns it off.

**Growth.** A callback stamps the process CPU clock as each trial finishes; "first 10%" and
"last 10%" are the mean CPU between consecutive trial ends over the first and last tenth of
the trials reached (the first trial, which carries the start-up, is left out). Flat bookkeeping
gives a ratio near 1. `--max-seconds` stops a run that bookkeeping makes too slow (the study's
own `timeout`): the row then says how many trials it reached, and "last 10%" is the per-trial cost
at that point.

**Pruning wall time** (`--only pruning-wall`): 100 trials x 200 examples, single objective
accuracy, the default pruner with its default stages against `pruner=None`, same sampler and
seed. Target: the pruned run takes less wall time, as it scores fewer examples. The issue's
534 s (pruned) against 47 s (unpruned) came from a pipeline whose calls were mostly cache hits
(47 s for 20,000 examples is less than litellm's CPU per paid call): `--pipeline cached` sends
no temperature, as tests/report/conftest.py does, so trials that share model, strategy and
right/wrong answer share requests; the default, `paid`, makes every call reach the stub.

**Profile** (`--only profile`): one run under cProfile with a per-thread CPU clock; the loop's
storage reads and stage checks run in `asyncio.to_thread`, which cProfile does not follow, so the
benchmark wraps `asyncio.to_thread` in its child process to profile each worker thread too and
merges the profiles. It lists llmopt's functions by cumulative CPU, as a share of all profiled CPU.

Only public names are used where they exist, with a fallback for the stub's location, so the
same file runs unchanged after the redesign.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

MODEL = "openai/stub"
POSTGRES_ADMIN_URL = os.environ.get("LLMOPT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PADDING = {"small": 5, "large": 40}  # prompt words: what a configuration costs

STUB_CODE = """
import sys
try:
    from llmopt.testing import StubLLMServer
except ImportError:
    from llmopt.evaluation.stub_server import StubLLMServer
def echo(messages):
    return str(messages[-1]["content"]).split()[-1]
with StubLLMServer(answer=echo) as server:
    print(server.api_base, flush=True)
    sys.stdin.read()
"""


# -- the stub server, in a process of its own ----------------------------------------------------
@contextmanager
def stub_process() -> Iterator[str]:
    """Start the stub in a child process; yields its api_base; stops it when its stdin closes."""
    proc = subprocess.Popen([sys.executable, "-c", STUB_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=str(Path(__file__).resolve().parents[1]))
    try:
        assert proc.stdout is not None
        api_base = proc.stdout.readline().strip()
        if not api_base.startswith("http"):
            raise RuntimeError(f"the stub server did not start (printed {api_base!r})")
        yield api_base
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def storage_url(kind: str) -> Iterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="llmopt-loop-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'study.db'}"
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"llmopt_loop_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# -- the study (run in a child process) ----------------------------------------------------------
def space() -> Any:
    from llmopt import ChoiceVar, FloatVar, IntVar, ModuleOption, ModuleVar, Space

    return Space({
        "model": ChoiceVar(["small", "large"]),
        "temperature": FloatVar(0.0, 1.0),
        "strategy": ModuleVar({"direct": None, "cot": ModuleOption(params={"steps": IntVar(1, 4)})}),
    })


def _wrong(config: Any, index: int) -> bool:
    """Large models and more steps answer more; temperature hurts (deterministic per configuration and example)."""
    skill = {"small": 0.45, "large": 0.75}[config["model"]] - 0.3 * config["temperature"]
    steps = config["strategy.cot.steps"] if config["strategy"] == "cot" else 0
    skill += 0.04 * steps
    key = f"{config['model']}|{round(config['temperature'], 2)}|{steps}|{index}"
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 16**8 > skill


def make_pipeline(api_base: str, counter: list[int], cached: bool = False) -> Any:
    """One call per example; the temperature is sent, so no two trials share a request. With
    `cached`, it is not (as in tests/report/conftest.py): trials that share model, strategy and
    right/wrong answer send the same request, and most calls become cache hits (a cheap pipeline)."""
    from llmopt import acomplete

    async def pipeline(config: Any, example: Any) -> str:
        index = int(example.id[1:])
        steps = config["strategy.cot.steps"] if config["strategy"] == "cot" else 0
        words = ["pad"] * (PADDING[config["model"]] + 10 * steps)
        words += [example.question, "nope" if _wrong(config, index) else example.answer]
        counter[0] += 1
        params = {} if cached else {"temperature": config["temperature"]}
        reply = await acomplete(MODEL, " ".join(words), api_base=api_base, api_key="k", max_tokens=8, **params)
        return reply.text
    return pipeline


def warm_up(api_base: str) -> None:
    """litellm's import and first call (its HTTP client), outside any clock."""
    from llmopt import acomplete

    async def go() -> None:
        for i in range(3):
            await acomplete(MODEL, f"warm up {i}", api_base=api_base, api_key="k", max_tokens=8)

    asyncio.run(go())


def profiled_threads(profilers: list[Any]) -> None:
    """Make every `asyncio.to_thread` call run under a cProfile of its worker thread (thread CPU clock)."""
    import cProfile

    original = asyncio.to_thread
    local = threading.local()
    lock = threading.Lock()

    def to_thread(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            prof = getattr(local, "prof", None)
            if prof is None:
                prof = local.prof = cProfile.Profile(time.thread_time)
                with lock:
                    profilers.append(prof)
            prof.enable()
            try:
                return func(*args, **kwargs)
            finally:
                prof.disable()
        return original(run)

    asyncio.to_thread = to_thread  # type: ignore[assignment]


def profile_top(profilers: list[Any], path: str | None, top: int) -> list[dict[str, Any]]:
    """llmopt functions by cumulative CPU over every profiled thread, with their share of all profiled CPU."""
    import pstats

    stats = pstats.Stats(profilers[0])
    for prof in profilers[1:]:
        stats.add(prof)
    if path:
        stats.dump_stats(path)
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in raw.values()) or 1.0
    rows = []
    for (filename, line, func), (_, ncalls, tt, ct, _) in raw.items():
        if "/llmopt/" in filename.replace("\\", "/"):
            short = filename.replace("\\", "/").split("/llmopt/", 1)[1]
            rows.append({"function": f"{short}:{line} {func}", "calls": ncalls, "cum_s": ct, "self_s": tt,
                         "share": ct / total})
    rows.sort(key=lambda r: -r["cum_s"])
    return [{"total_profiled_cpu_s": total}, *rows[:top]]


def run_study(spec: dict[str, Any]) -> dict[str, Any]:
    """One measured run; returns what the parent tabulates."""
    import llmopt
    from llmopt import Dataset, Evaluation, Price, RandomSampler, Stages

    api_base, n_examples = spec["api_base"], spec["examples"]
    warm_up(api_base)
    counter = [0]
    data = Dataset([{"id": f"q{i}", "question": f"say {i}", "answer": str(i)} for i in range(n_examples)])
    settings: dict[str, Any] = {}
    if spec["objectives"]:
        settings["objectives"] = spec["objectives"]
    if spec["pruner"] == "none":
        settings["pruner"] = None
    if spec["stage_every"]:
        settings["stages"] = Stages.every(spec["stage_every"])
    ev = Evaluation(data, make_pipeline(api_base, counter, spec.get("pipeline") == "cached"), "exact_match", prices={MODEL: Price(prompt=1e-6, completion=2e-6)},
                    models=[MODEL], **settings)
    sampler = RandomSampler() if spec["sampler"] == "random" else None
    study = llmopt.create_study(f"loop-{secrets.token_hex(3)}", space(), ev.objectives, storage=spec["storage"],
                                sampler=sampler, seed=spec["seed"])
    stamps: list[float] = []
    callbacks = [lambda _study, _record: stamps.append(time.process_time())]
    profilers: list[Any] = []
    main_prof = None
    if spec.get("profile"):
        import cProfile

        profiled_threads(profilers)
        main_prof = cProfile.Profile(time.thread_time)
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if main_prof is not None:
        main_prof.enable()
    study.optimize(ev, n_trials=spec["trials"], timeout=spec["max_seconds"], callbacks=callbacks,
                   show_progress=spec["progress"])
    if main_prof is not None:
        main_prof.disable()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    calls = counter[0]
    trials = study.trials
    states: dict[str, int] = {}
    for t in trials:
        states[t.state.value] = states.get(t.state.value, 0) + 1
    out: dict[str, Any] = {
        "wall_s": wall, "cpu_s": cpu,
        "user_s": usage1.ru_utime - usage0.ru_utime, "sys_s": usage1.ru_stime - usage0.ru_stime,
        "max_rss_mb": usage1.ru_maxrss / 1024, "trials_done": len(stamps), "states": states,
        "examples_scored": calls, "examples_total": len(stamps) * n_examples,
        "growth": growth(stamps),
    }
    if main_prof is not None:
        out["profile"] = profile_top([main_prof, *profilers], spec.get("profile_path"), 25)
    study.close()
    return out


def growth(stamps: list[float]) -> dict[str, Any]:
    """Mean CPU ms between consecutive trial ends: first and last 10% of trials, and each tenth."""
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]  # the first trial's start-up is left out
    if len(gaps) < 10:
        return {"first10_ms": None, "last10_ms": None, "ratio": None, "deciles_ms": []}
    tenth = len(gaps) // 10
    deciles = [1e3 * sum(gaps[i * tenth:(i + 1) * tenth]) / tenth for i in range(10)]
    first, last = deciles[0], 1e3 * sum(gaps[-tenth:]) / tenth
    return {"first10_ms": first, "last10_ms": last, "ratio": last / first if first else None, "deciles_ms": deciles}


# -- the floor (child process) -------------------------------------------------------------------
def floor(api_base: str, storages: list[tuple[str, str]], n: int) -> list[dict[str, Any]]:
    """What one stub call costs with no llmopt bookkeeping, and one example row's insert."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    from llmopt import acomplete

    def bare(i: int) -> Any:
        return litellm.acompletion(model=MODEL, messages=[{"role": "user", "content": f"say {i}"}], api_base=api_base,
                                   api_key="k", temperature=0.5, max_tokens=8, timeout=60.0, num_retries=0)

    def plain(i: int) -> Any:
        return acomplete(MODEL, f"say {i}", api_base=api_base, api_key="k", temperature=0.5, max_tokens=8)

    async def loop(make: Any, count: int, width: int) -> None:
        gate = asyncio.Semaphore(width)

        async def one(i: int) -> None:
            async with gate:
                await make(i)
        await asyncio.gather(*(one(i) for i in range(count)))

    def timed(what: str, make: Any, width: int) -> dict[str, Any]:
        asyncio.run(loop(make, 20, width))  # warm: client, connections
        cpu0, wall0 = time.process_time(), time.perf_counter()
        asyncio.run(loop(make, n, width))
        return {"what": what, "cpu_ms": 1e3 * (time.process_time() - cpu0) / n,
                "wall_ms": 1e3 * (time.perf_counter() - wall0) / n, "n": n}

    rounds: list[list[dict[str, Any]]] = []
    for _ in range(3):  # interleaved rounds, medians: the first kind timed does not carry the warm-up alone
        got = []
        for width in (1, 16):
            got.append(timed(f"bare litellm.acompletion, {width} in flight", bare, width))
            got.append(timed(f"llmopt.acomplete outside a study, {width} in flight", plain, width))
        for label, url in storages:
            got += insert_floor(label, url, n)
        rounds.append(got)
    return [{"what": row["what"], "n": row["n"], "rounds": len(rounds),
             "cpu_ms": statistics.median(r[i]["cpu_ms"] for r in rounds),
             "wall_ms": statistics.median(r[i]["wall_ms"] for r in rounds)} for i, row in enumerate(rounds[0])]


def insert_floor(label: str, url: str, n: int) -> list[dict[str, Any]]:
    """One example row stored through the public ask/record_example path, in a loop."""
    import llmopt
    from llmopt import ChoiceVar, RandomSampler, Space

    study = llmopt.create_study(f"floor-{secrets.token_hex(3)}", Space({"x": ChoiceVar([1])}), {"accuracy": "maximize"},
                                storage=url, sampler=RandomSampler(), seed=0)
    trial = study.ask()
    for i in range(20):
        trial.record_example(f"warm{i}", {"score": 1.0}, cost=5e-6, latency=0.01, prompt_tokens=9, completion_tokens=1)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(n):
        trial.record_example(f"e{i}", {"score": 1.0}, cost=5e-6, latency=0.01, prompt_tokens=9, completion_tokens=1)
    row = {"what": f"one example row insert (trial.record_example), {label}", "cpu_ms": 1e3 * (time.process_time() - cpu0) / n,
           "wall_ms": 1e3 * (time.perf_counter() - wall0) / n, "n": n}
    study.tell(trial, 1.0)
    study.close()
    return [row]


# -- the parent: runs children, prints tables ----------------------------------------------------
def child(payload: dict[str, Any], log: Path, timeout: float) -> dict[str, Any]:
    """Run one measurement in a fresh process; its stderr (progress line, warnings) goes to `log`."""
    cmd = [sys.executable, __file__, "--child", json.dumps(payload)]
    with log.open("a") as err:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"child failed ({payload.get('kind')}):\n{tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_spec(args: argparse.Namespace, api_base: str, storage_kind: str, trials: int, **overrides: Any) -> dict[str, Any]:
    spec = {"kind": "study", "api_base": api_base, "examples": args.examples, "stage_every": args.stage_every,
            "objectives": None, "pruner": "auto", "sampler": args.sampler, "seed": args.seed, "trials": trials,
            "max_seconds": args.max_seconds, "progress": not args.no_progress, "pipeline": args.pipeline}
    spec.update(overrides)
    with storage_url(storage_kind) as url:
        spec["storage"] = url
        started = time.strftime("%H:%M:%S")
        out = child(spec, args.log, timeout=(spec["max_seconds"] or 36000) * 2 + 600)
    out.update(storage=storage_kind, trials_asked=trials, sampler=spec["sampler"], pruner=spec["pruner"], pipeline=spec["pipeline"],
               examples=spec["examples"], started=started, load=os.getloadavg()[0])
    print(f"# {storage_kind} {trials} trials: {json.dumps(out)}", file=sys.stderr, flush=True)
    return out


def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def loop_table(rows: list[dict[str, Any]], floor_ms: float | None) -> str:
    head = ("| storage | sampler | trials (done/asked) | examples scored / total | pruned trials | wall s | CPU s "
            "| CPU ms / trial | CPU ms / scored example | above litellm floor, ms / example "
            "| CPU ms / trial, first 10% → last 10% (ratio) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        done, scored, total = r["trials_done"], r["examples_scored"], r["examples_total"]
        per_example = 1e3 * r["cpu_s"] / scored if scored else None
        above = per_example - floor_ms if per_example is not None and floor_ms is not None else None
        g = r["growth"]
        guard = " (time guard)" if done < r["trials_asked"] else ""
        share = f"{scored:,} / {total:,} ({100 * (1 - scored / total):.0f}% skipped)" if total else "–"
        lines.append(
            f"| {r['storage']} | {r['sampler']} | {done:,}/{r['trials_asked']:,}{guard} | {share} "
            f"| {r['states'].get('PRUNED', 0)} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {fmt(1e3 * r['cpu_s'] / done if done else None, 1)} "
            f"| {fmt(per_example)} | {fmt(above)} | {fmt(g['first10_ms'], 1)} → {fmt(g['last10_ms'], 1)} ({fmt(g['ratio'])}x) |")
    return "\n".join(lines)


def floor_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| what | CPU ms / op | wall ms / op | ops x rounds (median) |", "|---|---|---|---|"]
    lines += [f"| {r['what']} | {r['cpu_ms']:.3f} | {r['wall_ms']:.3f} | {r['n']} x {r['rounds']} |" for r in rows]
    return "\n".join(lines)


def pruning_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| pruner | trials | examples scored / total | pruned trials | wall s | CPU s | CPU ms / scored example |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        scored, total = r["examples_scored"], r["examples_total"]
        name = "default (ParetoPruner, its stages)" if r["pruner"] == "auto" else "none (pruner=None)"
        lines.append(f"| {name} | {r['trials_done']} | {scored:,} / {total:,} ({100 * (1 - scored / total):.0f}% skipped) "
                     f"| {r['states'].get('PRUNED', 0)} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {1e3 * r['cpu_s'] / scored:.2f} |")
    return "\n".join(lines)


def profile_table(profile: list[dict[str, Any]]) -> str:
    total = profile[0]["total_profiled_cpu_s"]
    lines = [f"Profiled CPU, all threads: {total:.1f} s", "",
             "| llmopt function | calls | cumulative CPU s | share |", "|---|---|---|---|"]
    lines += [f"| `{r['function']}` | {r['calls']:,} | {r['cum_s']:.1f} | {100 * r['share']:.0f}% |" for r in profile[1:]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--only", default="loop", help="loop (default), floor, pruning-wall, profile, or a comma list")
    parser.add_argument("--trials", default="100,1000", help="comma list of study sizes, e.g. 100,1000,5000")
    parser.add_argument("--storage", default="sqlite", help="comma list: sqlite, postgres")
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--stage-every", type=int, default=5)
    parser.add_argument("--sampler", choices=["random", "default"], default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=None, help="stop a run after this many seconds (study timeout)")
    parser.add_argument("--no-progress", action="store_true", help="run without the progress line")
    parser.add_argument("--pipeline", choices=["paid", "cached"], default="paid",
                        help="paid: every call reaches the stub; cached: configurations share requests (cache hits)")
    parser.add_argument("--floor-n", type=int, default=300)
    parser.add_argument("--profile-out", default=None, help="also dump the merged pstats here")
    parser.add_argument("--log", type=Path, default=Path(tempfile.gettempdir()) / "bench_loop_overhead.log")
    parser.add_argument("--json", type=Path, default=None, help="append every result as a JSON line here")
    args = parser.parse_args()

    if args.child:
        payload = json.loads(args.child)
        if payload["kind"] == "floor":
            result: Any = floor(payload["api_base"], payload["storages"], payload["n"])
        else:
            result = run_study(payload)
        print(json.dumps(result))
        return

    what = set(args.only.split(","))
    sizes = [int(s) for s in args.trials.split(",") if s]
    kinds = [s for s in args.storage.split(",") if s]
    results: dict[str, Any] = {}
    with stub_process() as api_base:
        if "floor" in what or "loop" in what:
            with storage_url("sqlite") as sqlite_url:
                storages = [("SQLite file", sqlite_url)]
                if "postgres" in kinds:
                    with storage_url("postgres") as pg_url:
                        storages.append(("PostgreSQL", pg_url))
                        results["floor"] = child({"kind": "floor", "api_base": api_base, "storages": storages,
                                                  "n": args.floor_n}, args.log, 1800)
                else:
                    results["floor"] = child({"kind": "floor", "api_base": api_base, "storages": storages,
                                              "n": args.floor_n}, args.log, 1800)
            print("\n### Floor: one call with no llmopt bookkeeping, one example row\n")
            print(floor_table(results["floor"]))
        if "loop" in what:
            floor_ms = next((r["cpu_ms"] for r in results["floor"] if r["what"].startswith("bare litellm") and "16" in r["what"]), None)
            rows = [run_spec(args, api_base, kind, n) for kind in kinds for n in sizes]
            results["loop"] = rows
            print(f"\n### Loop: {args.examples} examples per trial, stages every {args.stage_every}, default pruner\n")
            print(loop_table(rows, floor_ms))
            for r in rows:
                print(f"\n{r['storage']} {r['trials_done']} trials, CPU ms per trial by tenth of the study: "
                      + ", ".join(f"{d:.0f}" for d in r["growth"]["deciles_ms"]))
        if "pruning-wall" in what:
            rows = [run_spec(args, api_base, kinds[0], 100, examples=200, stage_every=None, objectives=["accuracy"],
                             pruner=pruner, max_seconds=None) for pruner in ("auto", "none")]
            results["pruning_wall"] = rows
            print(f"\n### Pruning wall time: 100 trials x 200 examples, single objective accuracy, "
                  f"{args.sampler} sampler, {args.pipeline} pipeline\n")
            print(pruning_table(rows))
        if "profile" in what:
            out = run_spec(args, api_base, kinds[0], sizes[0], profile=True, profile_path=args.profile_out)
            results["profile"] = out
            print(f"\n### Profile: {kinds[0]}, {out['trials_done']} trials (cProfile, thread CPU clock)\n")
            print(profile_table(out["profile"]))
    if args.json:
        with args.json.open("a") as f:
            f.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
