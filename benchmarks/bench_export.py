"""`llmopt export` on a large study: wall time and peak memory of the exporting process.

Two studies are built into one SQLite file (or --storage URL) with a plain objective that
records every example (`trial.record_example`, one transaction each, as a real study writes
them) and one LLM call per example (`storage.add_calls`), each example then given a one-line
output (every 100th echoing a fake key, which the export must redact): a small one of N/10
examples and the large one of N (default 5,000 trials x 20 examples = 100,000).

Each export runs as its own process (`python -m llmopt export ... -o FILE`), R times. Peak
RSS is that child's maximum resident set, ru_maxrss from os.wait4 (what
getrusage(RUSAGE_CHILDREN) reports, but per child instead of the largest of all). Linux
carries the parent's resident set at fork into the child's high-water mark, so this script
never imports llmopt: the studies are built by a child too (`--build`). If memory stays flat,
the large study's peak equals the small one's, both close to the baseline: the same
interpreter running `llmopt studies`.

    python benchmarks/bench_export.py --trials 5000 --examples 20 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAKE_KEY = "sk-" + "b" * 24


# -- the studies (run in a child: `--build STORAGE NAME TRIALS EXAMPLES`) ------------------------------
def build(storage: str, name: str, trials: int, examples: int) -> None:
    sys.path.insert(0, str(ROOT))
    import llmopt
    from llmopt import ChoiceVar, FloatVar, IntVar, RandomSampler, Space
    from llmopt.trial import CallRecord

    space = Space({"model": ChoiceVar(["tiny", "small", "large"]), "temperature": FloatVar(0.0, 1.0),
                   "max_tokens": IntVar(32, 512, log=True)})

    def objective(trial):
        total = 0.0
        for i in range(examples):
            u = ((trial.number * 7919 + i * 104729) % 1000) / 1000
            score = float(u < 0.6)
            error = "RuntimeError: the pipeline timed out" if i % 50 == 49 else None
            trial.record_example(f"q{i:03d}", {"score": score, "f1": u}, cost=1e-5 * (1 + u), latency=0.2 + u,
                                 prompt_tokens=100 + i, completion_tokens=20, error=error)
            total += score
        trial.study.storage.add_calls(trial.trial_id, [  # one call per example, as an evaluation stores them
            CallRecord("openai/small", 100 + i, 20, 1e-5, 0.0 if i % 4 == 0 else 1e-5, 0.2, cache_hit=i % 4 == 0,
                       example_id=f"q{i:03d}") for i in range(examples)])
        return {"accuracy": total / examples}

    started = time.perf_counter()
    with llmopt.create_study(name, space, {"accuracy": "maximize"}, storage=storage, seed=0, sampler=RandomSampler()) as study:
        study.optimize(objective, n_trials=trials)
    add_outputs(study.storage, name)
    print(f"built {name}: {trials} trials x {examples} examples in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def add_outputs(store, name: str) -> None:
    """record_example stores no output: give each example its own one-line output, in one statement."""
    from sqlalchemy import case, cast, select, update
    from sqlalchemy.types import String

    from llmopt.storage.sql.tables import examples, trials

    ids = select(trials.c.id).where(trials.c.study_id == store.get_study(name).study_id).scalar_subquery()
    text = "the answer to question " + cast(examples.c.id, String) + " is Paris, the capital of France"
    with store.engine.begin() as conn:
        conn.execute(update(examples).where(examples.c.trial_id.in_(ids)).values(
            output=case((examples.c.id % 100 == 0, text + f" (api_key={FAKE_KEY})"), else_=text)))


# -- the measurements (this process imports no llmopt) ------------------------------------------------
#: For comparison: every example of the study read into one list (what an export must not do).
LOAD_ALL = """
import sys
from llmopt.storage import get_storage
storage = get_storage(sys.argv[1], readonly=True)
record = storage.get_study(sys.argv[2])
examples = storage.get_examples_of_trials(t.trial_id for t in storage.get_trials(record.study_id))
assert sum(map(len, examples.values())) == int(sys.argv[3])
"""


def run_child(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `python -m llmopt` process (or `python -c`, argv starting with "-c")."""
    started = time.perf_counter()
    command = [sys.executable, *argv] if argv[0] == "-c" else [sys.executable, "-m", "llmopt", *argv]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = child.stderr.read().decode() if child.stderr else ""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"llmopt {' '.join(argv)} failed: {err}")
    return wall, usage.ru_maxrss / 1024  # Linux: kilobytes


def measure(argv: list[str], repeats: int) -> tuple[float, float]:
    runs = [run_child(argv) for _ in range(repeats)]
    return statistics.median(w for w, _ in runs), max(r for _, r in runs)


def check(path: Path, what: str, fmt: str, rows: int) -> None:
    """The file holds every row, once; examples' outputs are redacted."""
    with open(path, encoding="utf-8") as f:
        lines = sum(1 for _ in f)
    assert lines == rows + (fmt == "csv"), (path, lines, rows)
    if what == "examples":
        text = path.read_text(encoding="utf-8")
        assert FAKE_KEY not in text and (rows < 100 or "[REDACTED]" in text), "outputs must be redacted"
        if fmt == "jsonl":
            assert set(json.loads(text.split("\n", 1)[0])["metrics"]) == {"score", "f1"}


def main() -> None:
    if sys.argv[1:2] == ["--build"]:
        storage, name, trials, examples = sys.argv[2:6]
        build(storage, name, int(trials), int(examples))
        return
    if sys.argv[1:2] == ["--analyze"]:
        from sqlalchemy import create_engine

        with create_engine(sys.argv[2]).begin() as conn:
            conn.exec_driver_sql("ANALYZE llmopt_trials, llmopt_examples, llmopt_calls")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=5000)
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--storage", default=None, help="a storage URL (default: a new SQLite file in a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database and exports)")
    parser.add_argument("--analyze", action="store_true",
                        help="PostgreSQL: ANALYZE the tables after building, as autovacuum would (off on a test server)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    storage = args.storage or f"sqlite:///{work / 'export.db'}"
    studies = {"small": (max(1, args.trials // 10), f"export-small-{os.getpid()}"),
               "large": (args.trials, f"export-large-{os.getpid()}")}
    try:
        for trials, name in studies.values():
            subprocess.run([sys.executable, __file__, "--build", storage, name, str(trials), str(args.examples)], check=True)
        if args.analyze:
            subprocess.run([sys.executable, __file__, "--analyze", storage], check=True)
        base_wall, base_rss = measure(["--storage", storage, "studies"], args.repeats)
        table = [f"| baseline: `llmopt studies` (start-up, imports) | - | - | {base_wall:.2f} s | {base_rss:.0f} MB | - |"]
        for size, (trials, name) in studies.items():
            for what, fmt in (("examples", "csv"), ("examples", "jsonl"), ("calls", "csv"), ("trials", "csv")):
                out = work / f"{size}.{what}.{fmt}"
                wall, rss = measure(["--storage", storage, "export", name, "--what", what, "--format", fmt, "-o", str(out)],
                                    args.repeats)
                count = trials if what == "trials" else trials * args.examples
                check(out, what, fmt, count)
                table.append(f"| `--what {what} --format {fmt}` | {size} | {count:,} | {wall:.2f} s | {rss:.0f} MB "
                             f"| {out.stat().st_size / 1e6:.1f} MB |")
            wall, rss = measure(["-c", LOAD_ALL, storage, name, str(trials * args.examples)], args.repeats)
            table.append(f"| for comparison: every example in one list (`get_examples_of_trials`) | {size} "
                         f"| {trials * args.examples:,} | {wall:.2f} s | {rss:.0f} MB | - |")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if args.storage:  # a shared database: take the studies out again
                for _, name in studies.values():
                    subprocess.run([sys.executable, "-m", "llmopt", "--storage", storage, "delete", name], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"\n{args.repeats} run(s) each: median wall time (start-up included), largest peak RSS\n")
    print("| export | study | rows | wall time | peak RSS | file |")
    print("|---|---|---|---|---|---|")
    print("\n".join(table))


if __name__ == "__main__":
    main()
